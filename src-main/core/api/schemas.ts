/** Input schemas shared by several parts of the contract. */
import { z } from 'zod';

/** A database id. */
export const id = z.number({ error: 'must be a number' }).int('must be a whole number').positive('must be positive');

/** An absolute path: POSIX (/…), Windows drive (C:\… or C:/…) or UNC (\\server\share); never relative to a process's cwd. */
export const absolutePath = z
  .string({ error: 'must be a path' })
  .min(1, 'must not be empty')
  .max(4096, 'is too long')
  .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
  .refine((s) => /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(s), 'must be an absolute path');
