/**
 * The Onbrand API contract: every request (method) and every event, with its zod schema and type.
 *
 * The Electron main process, the browser host and the CLI validate inputs with these schemas; the
 * renderer imports only the types (`import type`). A request that is valid in one place is valid
 * in all, and bad input gets the same error everywhere.
 */
import { z } from 'zod';
import { MAX_BRAND_COLOURS, absolutePath, aspect, hexColour, id } from '../common/index.js';
import { generationEvents, generationRequests } from './generation.js';
import { referenceEvents, referenceRequests } from './references.js';
import { sectionRequests } from './sections.js';
import { exportEvents, exportRequests } from './export.js';
import { promptRequests } from './prompt.js';
import { modelEvents, modelRequests } from './models.js';
import { imageInfoRequests } from './image-info.js';
import { backendEvents, backendRequests } from './backends.js';

// ---- Shared shapes -------------------------------------------------------------------------

export const brandColourSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(40, 'must be at most 40 characters'),
  hex: hexColour,
});
export type BrandColour = z.infer<typeof brandColourSchema>;

/** The designers' own palette: the default for a new project. */
export const DEFAULT_PALETTE: readonly BrandColour[] = [
  { name: 'magenta', hex: '#FE2C54' },
  { name: 'teal', hex: '#00E0FF' },
  { name: 'yellow', hex: '#FFD500' },
];

const projectName = z
  .string({ error: 'must be text' })
  .trim()
  .min(1, 'must not be empty')
  .max(120, 'must be at most 120 characters')
  .refine(
    (s) => !/[\\/:*?"<>|]/.test(s) && ![...s].some((c) => c.charCodeAt(0) < 32),
    'must not contain / \\ : * ? " < > | or control characters',
  )
  .refine((s) => !/^\.+$/.test(s), 'must not be only dots (it would name the folder itself or the one above)');

export interface Project {
  id: number;
  name: string;
  /** Absolute path of the project folder, where its images live as ordinary files. */
  folder: string;
  palette: BrandColour[];
  mood: string;
  aspect: string;
  imageCount: number;
  createdAt: string;
  updatedAt: string;
}

export type ImageFlag = 'none' | 'pick' | 'reject';

/** Lightroom's colour labels (keys 6–9), one per image; 'none' when it has none. */
export const COLOUR_LABELS = ['none', 'red', 'yellow', 'green', 'blue'] as const;
export type ColourLabel = (typeof COLOUR_LABELS)[number];

/** One image as the grid needs it: small, so a 10,000-image project lists fast. */
export interface ImageSummary {
  id: number;
  projectId: number;
  /** Absolute path of the full-resolution file. */
  path: string;
  fileName: string;
  /** Absolute path of the cached thumbnail, or null while it is being made. */
  thumbPath: string | null;
  /**
   * Absolute path of the loupe rendition (a JPEG of at most 2048 px on the long side, fast to
   * decode), or null when there is none yet: the loupe then shows the full-resolution file.
   */
  previewPath: string | null;
  width: number;
  height: number;
  rating: number;
  flag: ImageFlag;
  /** The colour label (6 red, 7 yellow, 8 green, 9 blue). */
  label: ColourLabel;
  seed: number | null;
  createdAt: string;
  /** The generation job that made it (null for imports). */
  jobId: number | null;
  /** The prompt it was generated from, if known. */
  prompt: string | null;
  /** Focus score (variance of the Laplacian on the central region); null until computed. */
  sharpness: number | null;
  /** Colour analysis for the project's brand palette; null until computed. */
  colour: ImageColour | null;
}

/** One page of a project's images (capture order) and how many the project holds in all. */
export interface ImagePage {
  total: number;
  /** Where this page starts in capture order. */
  offset: number;
  images: ImageSummary[];
}

export interface ImageColour {
  dominant: { hex: string; share: number }[];
  /** Each brand colour's coverage (share of pixels within the CIEDE2000 threshold) and whether it is clearly present. */
  brand: { name: string; hex: string; coverage: number; present: boolean }[];
  /** The name used in file names: the dominant brand colour, else a plain colour name. */
  colourName: string;
}

/** One rating/flag/label change; absent fields stay as they are. */
export interface MarkChange {
  imageId: number;
  rating?: number | undefined;
  flag?: ImageFlag | undefined;
  label?: ColourLabel | undefined;
}

export type SkipReason = 'not_found' | 'not_an_image' | 'unsupported_format' | 'unreadable' | 'too_large' | 'duplicate';

export interface ImportSkip {
  /** The file as the user named it (or as found inside a folder). */
  path: string;
  reason: SkipReason;
  /** One line a designer can act on, naming the file. */
  message: string;
}

export interface ImportReport {
  importId: string;
  projectId: number;
  imported: ImageSummary[];
  /** Files that are already in the project (same content); not stored twice. */
  duplicates: ImportSkip[];
  /** Files that could not be imported, each with the reason. */
  skipped: ImportSkip[];
  elapsedMs: number;
}

export interface AppInfo {
  version: string;
  shell: 'electron' | 'browser' | 'cli';
  dataDir: string;
  projectsDir: string;
  catalogPath: string;
}

// ---- Requests ------------------------------------------------------------------------------

const empty = z.object({}).strict();

/**
 * Every method: its input schema and (as a phantom) its output type.
 * Add a method here, implement it in `core/rpc.ts`, and every shell exposes it.
 */
export const requests = {
  'app.info': { input: empty, output: null as unknown as AppInfo },
  'projects.list': { input: empty, output: null as unknown as Project[] },
  'projects.get': { input: z.object({ projectId: id }).strict(), output: null as unknown as Project },
  'projects.create': {
    input: z
      .object({
        name: projectName,
        /** Where the project's files go; defaults to `<projects dir>/<name>`. */
        folder: absolutePath.optional(),
        mood: z.string().max(500, 'must be at most 500 characters').optional(),
        aspect: aspect.optional(),
        palette: z
          .array(brandColourSchema)
          .min(1, 'must have at least one colour')
          .max(MAX_BRAND_COLOURS, `must have at most ${MAX_BRAND_COLOURS} colours`)
          .optional(),
      })
      .strict(),
    output: null as unknown as Project,
  },
  'projects.rename': {
    input: z.object({ projectId: id, name: projectName }).strict(),
    output: null as unknown as Project,
  },
  'images.list': { input: z.object({ projectId: id }).strict(), output: null as unknown as ImageSummary[] },
  /** One page of the project's images in capture order, with how many it holds: the grid paints the first at once. */
  'images.page': {
    input: z
      .object({
        projectId: id,
        offset: z.number().int('must be a whole number').min(0, 'must be 0 or more').max(10_000_000, 'must be at most 10,000,000'),
        limit: z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000, 'must be at most 10,000'),
      })
      .strict(),
    output: null as unknown as ImagePage,
  },
  'images.mark': {
    input: z
      .object({
        projectId: id,
        changes: z
          .array(
            z
              .object({
                imageId: id,
                rating: z.number().int('must be a whole number').min(0, 'must be 0 to 5').max(5, 'must be 0 to 5').optional(),
                flag: z.enum(['none', 'pick', 'reject'], { error: 'must be none, pick or reject' }).optional(),
                label: z.enum(COLOUR_LABELS, { error: 'must be none, red, yellow, green or blue' }).optional(),
              })
              .strict(),
          )
          .min(1, 'must change at least one image')
          .max(10_000, 'must change at most 10,000 images'),
      })
      .strict(),
    output: null as unknown as ImageSummary[],
  },
  'images.import': {
    input: z
      .object({
        projectId: id,
        paths: z.array(absolutePath).min(1, 'must name at least one file or folder').max(10_000, 'must name at most 10,000 paths'),
      })
      .strict(),
    output: null as unknown as ImportReport,
  },
  ...generationRequests,
  ...referenceRequests,
  ...sectionRequests,
  ...exportRequests,
  ...promptRequests,
  ...modelRequests,
  ...imageInfoRequests,
  ...backendRequests,
} as const;

export type Requests = typeof requests;
export type Method = keyof Requests;
export type RequestInput<M extends Method> = z.input<Requests[M]['input']>;
export type ParsedInput<M extends Method> = z.output<Requests[M]['input']>;
export type RequestOutput<M extends Method> = Requests[M]['output'];

export const methods = Object.keys(requests) as Method[];

export function isMethod(value: unknown): value is Method {
  return typeof value === 'string' && Object.hasOwn(requests, value);
}

// ---- Events --------------------------------------------------------------------------------

const imageSummarySchema: z.ZodType<ImageSummary> = z.object({
  id,
  projectId: id,
  path: z.string(),
  fileName: z.string(),
  thumbPath: z.string().nullable(),
  previewPath: z.string().nullable(),
  width: z.number().int(),
  height: z.number().int(),
  rating: z.number().int().min(0).max(5),
  flag: z.enum(['none', 'pick', 'reject']),
  label: z.enum(COLOUR_LABELS),
  seed: z.number().int().nullable(),
  createdAt: z.string(),
  jobId: z.number().int().nullable(),
  prompt: z.string().nullable(),
  sharpness: z.number().nullable(),
  colour: z.any(),
});

/** Events pushed from the core to every window (IPC) and WebSocket client. */
export const events = {
  /** Import progress: one event per file handled. */
  'import.progress': z.object({
    importId: z.string(),
    projectId: id,
    done: z.number().int().nonnegative(),
    total: z.number().int().nonnegative(),
    current: z.string(),
  }),
  /** Images that became part of a project (imported or generated). */
  'images.added': z.object({ projectId: id, images: z.array(imageSummarySchema) }),
  /** Images whose rating, flag, file location or sharpness changed. */
  'images.updated': z.object({ projectId: id, images: z.array(imageSummarySchema) }),
  /** A thumbnail landed in the cache. */
  'thumbnail.ready': z.object({ projectId: id, imageId: id, thumbPath: z.string() }),
  /** A loupe rendition landed in the cache (made for an image catalogued before there were any). */
  'preview.ready': z.object({ projectId: id, imageId: id, previewPath: z.string() }),
  /** The project list changed (created, renamed). */
  'projects.changed': z.object({ projectId: id }),
  ...generationEvents,
  ...referenceEvents,
  /** The sections of a project changed. */
  'sections.changed': z.object({ projectId: id }),
  ...exportEvents,
  ...modelEvents,
  ...backendEvents,
} as const;

export type Events = typeof events;
export type EventType = keyof Events;
export type EventPayload<E extends EventType> = z.output<Events[E]>;
/** A tagged union of every event, as it travels over IPC and WebSocket. */
export type AppEvent = { [E in EventType]: { type: E; payload: EventPayload<E> } }[EventType];
