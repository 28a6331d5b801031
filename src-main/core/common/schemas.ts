/**
 * Zod building blocks that several parts of the contract share, so one rule has one message
 * everywhere. Each is marked pure: the renderer imports common's values, not these, and the
 * bundler then leaves zod out of it.
 */
import { z } from 'zod';
import { ASPECT_PATTERN } from './aspects.js';
import { SETTING_LIMITS } from './limits.js';

/** A database id. */
export const id = /* @__PURE__ */ z.number({ error: 'must be a number' }).int('must be a whole number').positive('must be positive');

/** A 0-based place in a list (a job in the queue, a reference on the board, a section on the page). */
export const position = /* @__PURE__ */ z.number().int().min(0);

/** True for POSIX (/…), Windows drive (C:\… or C:/…) and UNC (\\server\share) paths: never relative to a process's cwd. */
export function isAbsolutePath(path: string): boolean {
  return /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(path);
}

/** An absolute path (see `isAbsolutePath`), without NUL characters. */
export const absolutePath = /* @__PURE__ */ z
  .string({ error: 'must be a path' })
  .min(1, 'must not be empty')
  .max(4096, 'is too long')
  .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
  .refine(isAbsolutePath, 'must be an absolute path');

/** A colour as #RRGGBB. */
export const hexColour = /* @__PURE__ */ z.string().regex(/^#[0-9A-Fa-f]{6}$/, 'must be a colour like #FE2C54');

/** An aspect ratio such as 9:16. */
export const aspect = /* @__PURE__ */ z
  .string()
  .regex(ASPECT_PATTERN, 'must look like 9:16')
  .refine((s) => !/^0+:|:0+$/.test(s), 'must have both sides from 1 to 99, like 9:16');

/** A setting's whole number within its SETTING_LIMITS; the messages name the bounds. */
/* @__NO_SIDE_EFFECTS__ */
export function wholeNumber(setting: keyof typeof SETTING_LIMITS) {
  const { min, max } = SETTING_LIMITS[setting];
  return z.number().int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
}

/** A 32-bit seed. */
export const seed = wholeNumber('seed');

/** Batches queued at once. */
export const batches = wholeNumber('batches');

/** A side in pixels of an exported image or a section's slot. */
export const exportPixels = /* @__PURE__ */ z
  .number()
  .int('must be a whole number')
  .min(64, 'must be at least 64')
  .max(8192, 'must be at most 8192');
