/** The generation part of the API contract: settings, presets, jobs, the queue, hints, time and cost. */
import { z } from 'zod';
import { id } from './schemas.js';

/** Sampler names as A1111 shows them (the engine's list; kept literal so the contract has no engine import). */
export const SAMPLER_NAMES = ['Euler', 'Euler a', 'DPM++ 2M', 'DPM++ 2M Karras', 'DPM++ SDE Karras', 'DDIM', 'LCM'] as const;
export type SamplerLabel = (typeof SAMPLER_NAMES)[number];

const dimension = (name: string) =>
  z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(64, `${name} must be at least 64`)
    .max(2048, `${name} must be at most 2048`)
    .refine((v) => v % 8 === 0, 'must be a multiple of 8');

export const generationSettingsSchema = z
  .object({
    /** A model folder's name in the models folder, or an absolute path. */
    model: z.string().trim().min(1, 'must name a model'),
    sampler: z.enum(SAMPLER_NAMES, { error: `must be one of ${SAMPLER_NAMES.join(', ')}` }),
    steps: z.number().int('must be a whole number').min(1, 'must be at least 1').max(150, 'must be at most 150'),
    cfg: z.number().min(0, 'must be at least 0').max(30, 'must be at most 30'),
    width: dimension('width'),
    height: dimension('height'),
    batchSize: z.number().int('must be a whole number').min(1, 'must be at least 1').max(16, 'must be at most 16'),
    /** The weight new LoRA tags get in the prompt composer. */
    loraWeight: z.number().min(-2).max(2),
    aspect: z.string().regex(/^\d{1,2}:\d{1,2}$/, 'must look like 9:16'),
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

/** The designers' starting values (WORKFLOW: "Dial the model settings"). */
export const BRAND_LOOP_PRESET: Preset = {
  id: null,
  name: 'Brand loop',
  builtIn: true,
  negativePrompt: 'text, watermark, extra limbs, mushy face',
  settings: { sampler: 'DPM++ 2M Karras', steps: 25, cfg: 7, width: 576, height: 1024, batchSize: 6, loraWeight: 0.8, aspect: '9:16' },
};

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
}

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
  family: 'sd1' | 'sd2' | null;
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
  mood: 'Unsplash pull',
  prompt: 'Prompt drafting',
  generate: 'Batch generation',
  curate: 'Curation + export',
  post: 'Post-treatment',
};

export interface TimeSnapshot {
  projectId: number;
  /** Money per GPU hour (settings). */
  gpuCostPerHour: number;
  phases: { phase: Phase; label: string; minutes: number; corrected: boolean; gpuSeconds: number; cost: number }[];
  totalMinutes: number;
  totalCost: number;
}

const seed = z.number().int('must be a whole number').min(0, 'must be at least 0').max(0xffffffff, 'must be at most 4294967295');
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
        batches: z.number().int('must be a whole number').min(1, 'must be at least 1').max(20, 'must be at most 20'),
        /** The first image's seed; absent picks a random one (recorded). */
        seed: seed.optional(),
      })
      .strict(),
    output: null as unknown as Job[],
  },
  'queue.list': { input: z.object({ projectId: id.optional() }).strict(), output: null as unknown as Job[] },
  'queue.cancel': { input: z.object({ jobId: id }).strict(), output: null as unknown as Job },
  'queue.retry': { input: z.object({ jobId: id }).strict(), output: null as unknown as Job },
  'queue.move': { input: z.object({ jobId: id, position: z.number().int().min(0) }).strict(), output: null as unknown as Job[] },
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
  'settings.setCost': { input: z.object({ gpuCostPerHour: z.number().min(0).max(1000) }).strict(), output: null as unknown as { gpuCostPerHour: number } },
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
  }),
  /** The engine loaded a model, started or stopped working, or the queue was paused. */
  'engine.status': z.custom<EngineStatus>(),
  /** The time log of a project changed. */
  'timelog.changed': z.object({ projectId: id }),
} as const;
