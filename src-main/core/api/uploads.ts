/**
 * The browser host's upload route (`POST /api/upload`, see core/common/uploads.ts for the wire
 * format): its query and its list of files, validated like every other input of the contract.
 * Not an RPC method: the bytes are a stream, not JSON, and the Electron app reads dropped files
 * from their paths instead.
 */
import { z } from 'zod';
import { UPLOAD_KINDS, UPLOAD_LIMITS, id, type UploadKind } from '../common/index.js';
import type { ImportReport } from './contract.js';
import type { ReferenceReport } from './references.js';

/** The query of `POST /api/upload`: the project and what the files become (grid images or mood-board references). */
export const uploadQuery = z
  .object({
    projectId: z
      .string({ error: 'must be a project id' })
      .regex(/^\d{1,15}$/, 'must be a project id')
      .transform(Number)
      .pipe(id),
    kind: z.enum(UPLOAD_KINDS, { error: `must be ${UPLOAD_KINDS.join(' or ')}` }),
  })
  .strict();

/** The JSON line that starts the body: each file's name (a folder upload's relative path) and size, in body order. */
export const uploadManifest = z
  .object({
    files: z
      .array(
        z
          .object({
            name: z
              .string()
              .min(1, 'must not be empty')
              .max(1024, 'is too long')
              .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters'),
            size: z.number().int('must be a whole number').min(0, 'must not be negative').max(Number.MAX_SAFE_INTEGER),
          })
          .strict(),
      )
      .min(1, 'must list at least one file')
      .max(UPLOAD_LIMITS.files, `must list at most ${UPLOAD_LIMITS.files} files`),
  })
  .strict();

export type UploadQuery = z.output<typeof uploadQuery>;
export type UploadManifest = z.output<typeof uploadManifest>;

/** What an upload did: the import's report (kind images) or the mood board's (kind references), with names as the user sent them. */
export type UploadResult = { kind: 'images'; report: ImportReport } | { kind: 'references'; report: ReferenceReport };

export type { UploadKind };
