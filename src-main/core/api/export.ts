/** The export part of the API contract: one-click export into the Framer, Sora and other folders. */
import { z } from 'zod';
import { DEFAULT_NAME_TEMPLATE, absolutePath, exportPixels as px, id, nameTemplateProblem, problemText } from '../common/index.js';

export const EXPORT_TARGETS = ['framer', 'sora', 'folder', 'maybe-later'] as const;
export type ExportTarget = (typeof EXPORT_TARGETS)[number];

export { DEFAULT_NAME_TEMPLATE };

export interface ExportedFile {
  imageId: number;
  path: string;
  fileName: string;
  bytes: number;
  width: number;
  height: number;
  upscaled: boolean;
  section: string | null;
}

export interface ExportSkip {
  imageId: number | null;
  reason: 'already_exported' | 'unpaired' | 'unreadable' | 'write_failed';
  message: string;
}

export interface ExportReport {
  target: ExportTarget;
  dir: string;
  files: ExportedFile[];
  skipped: ExportSkip[];
  elapsedMs: number;
}

export const exportRequests = {
  'export.run': {
    input: z
      .object({
        projectId: id,
        target: z.enum(EXPORT_TARGETS, { error: `must be one of ${EXPORT_TARGETS.join(', ')}` }),
        /** Which images: the picks, ⭐N and up, or these ids (ignored for framer, which exports each section's paired image). */
        selection: z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('picks') }).strict(),
          z.object({ kind: z.literal('min-rating'), rating: z.number().int().min(1).max(5) }).strict(),
          z.object({ kind: z.literal('images'), imageIds: z.array(id).min(1).max(1000) }).strict(),
        ]),
        /** Where to write; defaults to the target folder set for the project, else `<project>/exports/<target>`. */
        dir: absolutePath.optional(),
        /** Size for the folder and sora targets (sora defaults to 1080×1920, folder to the source size). */
        width: px.optional(),
        height: px.optional(),
        /** Apply the brand palette-snap LUT. */
        paletteSnap: z.boolean().optional(),
        /** Tokens from NAME_TOKENS only: an unknown one is refused, naming the known ones. */
        nameTemplate: z
          .string()
          .trim()
          .max(200)
          .superRefine((template, ctx) => {
            const problem = nameTemplateProblem(template);
            if (problem) ctx.addIssue({ code: 'custom', message: problemText(problem) });
          })
          .optional(),
        /** Export again images already exported to this target. */
        again: z.boolean().optional(),
      })
      .strict(),
    output: null as unknown as ExportReport,
  },
  'export.targets': { input: z.object({ projectId: id }).strict(), output: null as unknown as Record<ExportTarget, string> },
  'export.setTarget': {
    input: z.object({ projectId: id, target: z.enum(EXPORT_TARGETS), dir: absolutePath }).strict(),
    output: null as unknown as Record<ExportTarget, string>,
  },
} as const;

export const exportEvents = {
  'export.progress': z.object({ projectId: id, done: z.number().int(), total: z.number().int(), current: z.string() }),
} as const;
