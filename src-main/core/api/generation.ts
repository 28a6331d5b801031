/** The generation part of the API contract: settings, presets, jobs, the queue, hints, time and cost. */
import { z } from 'zod';
import {
  BRAND_LOOP_PRESET as BRAND_LOOP,
  REFINE_STRENGTH,
  SAMPLER_NAMES,
  SCHEDULE_TYPES,
  SETTING_LIMITS as L,
  aspect,
  batches,
  id,
  position,
  problemText,
  seed,
  sizeProblem,
  wholeNumber,
} from '../common/index.js';

export { SAMPLER_NAMES, SCHEDULE_TYPES, type SamplerLabel, type ScheduleType } from '../common/index.js';

/** A generated image's side: the rule and the nearest value the Generate form shows (core/common). */
const dimension = (label: string) =>
  z.number({ error: 'must be a number' }).superRefine((value, ctx) => {
    const problem = sizeProblem(label, value);
    if (problem) ctx.addIssue({ code: 'custom', message: problemText(problem) });
  });

export const generationSettingsSchema = z
  .object({
    /** A model folder's name in the models folder, or an absolute path. */
    model: z.string().trim().min(1, 'must name a model'),
    sampler: z.enum(SAMPLER_NAMES, { error: `must be one of ${SAMPLER_NAMES.join(', ')}` }),
    /**
     * Which sigmas the sampler walks (A1111's "Schedule type"). Absent means `Automatic`, the
     * sampler's own: settings saved before schedule types (presets, queued jobs) read as before.
     */
    scheduleType: z.enum(SCHEDULE_TYPES, { error: `must be one of ${SCHEDULE_TYPES.join(', ')}` }).optional(),
    steps: wholeNumber('steps'),
    cfg: z.number().min(L.cfg.min, `must be at least ${L.cfg.min}`).max(L.cfg.max, `must be at most ${L.cfg.max}`),
    width: dimension('Width'),
    height: dimension('Height'),
    batchSize: wholeNumber('batchSize'),
    /** The weight new LoRA tags get in the prompt composer. */
    loraWeight: z.number().min(L.loraWeight.min).max(L.loraWeight.max),
    aspect,
  })
  .strict();
export type GenerationSettings = z.infer<typeof generationSettingsSchema>;

export interface Preset {
  /** Null for the built-in preset. */
  id: number | null;
  name: string;
  settings: Omit<GenerationSettings, 'model'>;
  negativePrompt: string;
  builtIn: boolean;
}

/** The designers' starting values (common/presets.ts), as the contract's `Preset`. */
export const BRAND_LOOP_PRESET: Preset = BRAND_LOOP;

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface Job {
  id: number;
  projectId: number;
  state: JobState;
  prompt: string;
  negativePrompt: string;
  settings: GenerationSettings;
  /** Image i has seed + i. */
  seed: number;
  batchSize: number;
  position: number;
  imagesDone: number;
  error: string | null;
  gpuSeconds: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Queued with the Generate panel's Draft toggle (the fast settings of the model's family). */
  draft: boolean;
  /** Made by Refine: the draft image it refines (null otherwise, or once that image is gone). */
  refines: number | null;
  /** img2img: the image it starts from and the denoising strength (null for txt2img). */
  init: { imageId: number; strength: number } | null;
}

/**
 * What a job is besides its prompt and settings (issue 19): a draft, the refine of a draft image,
 * img2img from an image of the same project (by id: the core finds its file in the project folder).
 */
export const jobOriginSchema = {
  /** Queued with the Draft toggle on. */
  draft: z.boolean({ error: 'must be true or false' }).optional(),
  /** The draft image this job refines. */
  refines: id.optional(),
  init: z
    .object({
      imageId: id,
      strength: z
        .number({ error: 'must be a number' })
        .min(REFINE_STRENGTH.min, `must be from ${REFINE_STRENGTH.min} to ${REFINE_STRENGTH.max}`)
        .max(REFINE_STRENGTH.max, `must be from ${REFINE_STRENGTH.min} to ${REFINE_STRENGTH.max}`),
    })
    .strict()
    .optional(),
};
export type JobOrigin = { draft?: boolean; refines?: number; init?: { imageId: number; strength: number } };

export interface EngineStatus {
  state: 'idle' | 'loading' | 'running' | 'paused';
  model: string | null;
  provider: string | null;
  /** Providers that failed before the one in use, with the reason. */
  fallbacks: string[];
  /** Another process runs the queue (the CLI's `queue run`, another app): who, for the status bar; jobs added here run there. */
  elsewhere?: string | null;
}

/** A model in the models folder. */
export interface InstalledModel {
  name: string;
  dir: string;
  /** `diffusers`: safetensors weights (what Onbrand's imports and downloads install); `onnx`: a diffusers ONNX export. */
  layout: 'diffusers' | 'onnx';
  family: 'sd1' | 'sd2' | 'sdxl' | null;
  bytes: number;
  /** Where it came from: a repository, a URL, a file, or "a folder placed in the models folder". */
  source: string;
  licence: string | null;
  /** A1111's short model hash (null for a folder Onbrand did not install). */
  hash: string | null;
  installedAt: string | null;
}

export interface ModelList {
  modelsDir: string;
  loraDir: string;
  models: InstalledModel[];
  loras: string[];
}

export const PHASES = ['mood', 'prompt', 'generate', 'curate', 'post'] as const;
export type Phase = (typeof PHASES)[number];
export const PHASE_LABELS: Record<Phase, string> = {
  /** Gathering material: mood-board references (from files, pages, Unsplash) and images imported into the grid. */
  mood: 'References',
  prompt: 'Prompt drafting',
  generate: 'Batch generation',
  curate: 'Curation + export',
  post: 'Post-treatment',
};

export interface TimeSnapshot {
  projectId: number;
  /** Money per GPU hour (settings). */
  gpuCostPerHour: number;
  phases: {
    phase: Phase;
    label: string;
    /** What the phase holds, in words (References: where they came from, "3 local files, 1 web page"); null when nothing to say. */
    detail: string | null;
    /** As shown: set by hand when `corrected`, else `recordedMinutes`. */
    minutes: number;
    /** Wall-clock minutes this phase owned (phases never overlap). */
    recordedMinutes: number;
    corrected: boolean;
    gpuSeconds: number;
    cost: number;
  }[];
  totalMinutes: number;
  /** The phases as recorded, without corrections: never more than `elapsedMinutes`. */
  recordedMinutes: number;
  /** Real time from the first recorded moment to the last, in minutes. */
  elapsedMinutes: number;
  firstAt: string | null;
  lastAt: string | null;
  totalCost: number;
  /**
   * GPU work per backend (issue 21): `local` (this computer, at `gpuCostPerHour`) first, then the
   * ComfyUI backends by name, each at the rates stored with its work (`ratePerHour` is their
   * average when a rate changed). Backends without GPU seconds are left out; their costs add up to
   * `totalCost`.
   */
  backends: { name: string; gpuSeconds: number; ratePerHour: number; cost: number }[];
}

const phase = z.enum(PHASES, { error: `must be one of ${PHASES.join(', ')}` });

export const generationRequests = {
  'models.list': { input: z.object({}).strict(), output: null as unknown as ModelList },
  'engine.status': { input: z.object({}).strict(), output: null as unknown as EngineStatus },
  'queue.add': {
    input: z
      .object({
        projectId: id,
        prompt: z.string().trim().min(1, 'must not be empty').max(4000, 'must be at most 4000 characters'),
        negativePrompt: z.string().max(4000, 'must be at most 4000 characters'),
        settings: generationSettingsSchema,
        /** Batches to queue at once ("three batches, ≈18 images"). */
        batches,
        /** The first image's seed; absent picks a random one (recorded). */
        seed: seed.optional(),
        ...jobOriginSchema,
      })
      .strict(),
    output: null as unknown as Job[],
  },
  'queue.list': { input: z.object({ projectId: id.optional() }).strict(), output: null as unknown as Job[] },
  'queue.cancel': { input: z.object({ jobId: id }).strict(), output: null as unknown as Job },
  'queue.retry': { input: z.object({ jobId: id }).strict(), output: null as unknown as Job },
  'queue.move': { input: z.object({ jobId: id, position }).strict(), output: null as unknown as Job[] },
  'queue.pause': { input: z.object({}).strict(), output: null as unknown as EngineStatus },
  'queue.resume': { input: z.object({}).strict(), output: null as unknown as EngineStatus },
  'presets.list': { input: z.object({ projectId: id }).strict(), output: null as unknown as Preset[] },
  'presets.save': {
    input: z
      .object({
        projectId: id,
        name: z.string().trim().min(1, 'must not be empty').max(60, 'must be at most 60 characters'),
        settings: generationSettingsSchema.omit({ model: true }),
        negativePrompt: z.string().max(4000),
      })
      .strict(),
    output: null as unknown as Preset,
  },
  'settings.hints': {
    input: z.object({ prompt: z.string().max(4000), settings: generationSettingsSchema.partial() }).strict(),
    output: null as unknown as string[],
  },
  'timelog.get': { input: z.object({ projectId: id }).strict(), output: null as unknown as TimeSnapshot },
  'timelog.activity': { input: z.object({ projectId: id, phase }).strict(), output: null as unknown as { ok: true } },
  'timelog.correct': {
    input: z.object({ projectId: id, phase, minutes: z.number().min(0).max(10_000).nullable() }).strict(),
    output: null as unknown as TimeSnapshot,
  },
  'timelog.export': {
    input: z.object({ projectId: id, format: z.enum(['markdown', 'csv']) }).strict(),
    output: null as unknown as { text: string; fileName: string },
  },
  'settings.setCost': {
    input: z.object({ gpuCostPerHour: z.number().min(0).max(1000) }).strict(),
    output: null as unknown as { gpuCostPerHour: number },
  },
} as const;

const jobSchema: z.ZodType<Job> = z.any();

export const generationEvents = {
  /** A job changed state or finished an image. */
  'job.updated': jobSchema,
  /** A sampling step of the running job; `preview` is a small PNG data URL of image `index`. */
  'job.progress': z.object({
    jobId: id,
    projectId: id,
    index: z.number().int().nonnegative(),
    step: z.number().int().nonnegative(),
    steps: z.number().int().positive(),
    etaMs: z.number().nonnegative(),
    preview: z.string().nullable(),
    /** The ComfyUI server making that image (issue 21); absent or null: this computer. */
    backend: z.string().nullable().optional(),
  }),
  /** The engine loaded a model, started or stopped working, or the queue was paused. */
  'engine.status': z.custom<EngineStatus>(),
  /** The time log of a project changed. */
  'timelog.changed': z.object({ projectId: id }),
} as const;
