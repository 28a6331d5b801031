/** The mood board part of the API contract: references with attribution and palettes, Unsplash. */
import { z } from 'zod';
import { MAX_BRAND_COLOURS, hexColour, id, isAbsolutePath, position } from '../common/index.js';
import type { Project } from './contract.js';

export interface PaletteEntry {
  hex: string;
  share: number;
}

export interface Reference {
  id: number;
  projectId: number;
  /** Absolute path of the cached copy in `<project>/references/`. */
  path: string;
  fileName: string;
  width: number;
  height: number;
  sourceUrl: string | null;
  author: string | null;
  authorUrl: string | null;
  licence: string | null;
  palette: PaletteEntry[];
  position: number;
  createdAt: string;
}

export type ReferenceSkipReason =
  | 'bad_url'
  | 'not_found'
  /** A device, a pipe or a socket given as a file, or a file that cannot be read. */
  | 'unreadable'
  | 'unreachable'
  | 'timeout'
  /** A page or a redirect led to an internal address (loopback, link-local, a private network) that the user did not type. */
  | 'refused'
  | 'no_image'
  | 'not_an_image'
  | 'unsupported_format'
  | 'too_large'
  | 'duplicate';

export interface ReferenceSkip {
  item: string;
  reason: ReferenceSkipReason;
  message: string;
}

export interface ReferenceReport {
  added: Reference[];
  skipped: ReferenceSkip[];
}

export interface UnsplashPhoto {
  id: string;
  description: string | null;
  thumbUrl: string;
  width: number;
  height: number;
  author: string;
  authorUrl: string;
  pageUrl: string;
  /** The thumbnail, fetched by the core into its cache and served by the image route; null when it could not be had. */
  thumbPath: string | null;
}

const item = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(4096, 'is too long')
  .refine((s) => /^https?:\/\//i.test(s) || isAbsolutePath(s), 'must be an http(s) URL or an absolute path');

export const referenceRequests = {
  'refs.list': { input: z.object({ projectId: id }).strict(), output: null as unknown as Reference[] },
  'refs.add': {
    input: z
      .object({
        projectId: id,
        items: z.array(item).min(1, 'must name at least one file, folder or URL').max(500, 'must name at most 500 items'),
      })
      .strict(),
    output: null as unknown as ReferenceReport,
  },
  'refs.remove': {
    input: z.object({ projectId: id, refIds: z.array(id).min(1).max(500) }).strict(),
    output: null as unknown as { removed: number },
  },
  'refs.move': { input: z.object({ refId: id, position }).strict(), output: null as unknown as Reference[] },
  'refs.palette': { input: z.object({ projectId: id }).strict(), output: null as unknown as PaletteEntry[] },
  'projects.update': {
    input: z
      .object({
        projectId: id,
        mood: z.string().max(500, 'must be at most 500 characters').optional(),
        palette: z
          .array(z.object({ name: z.string().trim().min(1, 'must not be empty').max(40), hex: hexColour }).strict())
          .min(1, 'must have at least one colour')
          .max(MAX_BRAND_COLOURS, `must have at most ${MAX_BRAND_COLOURS} colours`)
          // Badges and file names tell brand colours apart by hex and by name: each once.
          .superRefine((palette, ctx) => {
            const hexes = new Set<string>();
            const names = new Set<string>();
            palette.forEach((c) => {
              const hex = c.hex.toUpperCase();
              const name = c.name.trim().toLowerCase();
              if (hexes.has(hex)) ctx.addIssue({ code: 'custom', message: `has ${hex} twice` });
              if (names.has(name)) ctx.addIssue({ code: 'custom', message: `has two colours named "${c.name.trim()}"` });
              hexes.add(hex);
              names.add(name);
            });
          })
          .optional(),
      })
      .strict(),
    output: null as unknown as Project,
  },
  'unsplash.search': {
    input: z
      .object({ query: z.string().trim().min(1, 'must not be empty').max(200), page: z.number().int().min(1).max(50).optional() })
      .strict(),
    output: null as unknown as { results: UnsplashPhoto[]; total: number },
  },
  'unsplash.import': {
    input: z.object({ projectId: id, photoId: z.string().regex(/^[\w-]{1,64}$/, 'must be an Unsplash photo id') }).strict(),
    output: null as unknown as ReferenceReport,
  },
  'settings.setUnsplashKey': {
    input: z.object({ key: z.string().trim().max(200).nullable() }).strict(),
    output: null as unknown as { configured: boolean },
  },
  'settings.get': { input: z.object({}).strict(), output: null as unknown as { unsplashConfigured: boolean; gpuCostPerHour: number } },
  /** Checks an Unsplash access key: the one given (before saving it), else the stored one. */
  'settings.testUnsplash': {
    input: z.object({ key: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').optional() }).strict(),
    output: null as unknown as { ok: true; message: string },
  },
} as const;

export const referenceEvents = {
  /** The mood board of a project changed (added, removed, reordered). */
  'refs.changed': z.object({ projectId: id }),
} as const;
