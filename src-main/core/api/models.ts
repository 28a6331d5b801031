/**
 * The model library: the curated models to download, downloads and imports as tasks with
 * progress, and what is installed.
 */
import { z } from 'zod';
import { absolutePath } from '../common/index.js';
import type { InstalledModel } from './generation.js';

/** A model of the curated list. */
export interface CatalogEntry {
  id: string;
  title: string;
  description: string;
  /** `checkpoint`: one single-file .safetensors; `diffusers` / `onnx`: a model folder. */
  kind: 'checkpoint' | 'diffusers' | 'onnx';
  repo: string;
  revision: string;
  /** The one file of a checkpoint. */
  file: string | null;
  /** Approximate download size. */
  bytes: number;
  licence: string;
  licenceUrl: string;
  /** The name it is installed under. */
  name: string;
  installed: boolean;
}

export type ModelTaskState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** A download or an import, with its progress. Downloads survive a restart of the app. */
export interface ModelTask {
  id: string;
  kind: 'download' | 'import';
  /** The model's name once installed. */
  name: string;
  /** What is being fetched or imported (a catalogue title, REPO@REV, a URL, a file). */
  source: string;
  state: ModelTaskState;
  /** What it is doing now: "Downloading unet/…", "Verifying", "Converting", "Installed". */
  phase: string;
  bytesDone: number;
  bytesTotal: number;
  bytesPerSecond: number;
  etaSeconds: number | null;
  /** Why it failed, in words that say what to do. */
  error: string | null;
  /** A cancelled download keeps what it fetched and can be resumed. */
  resumable: boolean;
  createdAt: string;
  finishedAt: string | null;
  /** Notes of a finished import (guesses made, keys not used). */
  notes: string[];
}

const modelName = z
  .string({ error: 'must be text' })
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9][\w .()+-]*$/, 'must start with a letter or digit and use only letters, digits, spaces and _ . ( ) + -')
  .refine((s) => !s.endsWith('.'), 'must not end with a dot')
  .refine(
    (s) => !['loras', 'upscalers', 'lora', 'embeddings', 'vae'].includes(s.toLowerCase()),
    'is the name of a folder of the models folder',
  );

export const modelRequests = {
  'models.catalog': { input: z.object({}).strict(), output: null as unknown as CatalogEntry[] },
  'models.tasks': { input: z.object({}).strict(), output: null as unknown as ModelTask[] },
  /** Downloads a catalogue model (by id), a Hub repository (`owner/name[@rev][:file]`) or a `…/resolve/…` URL. */
  'models.pull': {
    input: z
      .object({
        source: z.string({ error: 'must be text' }).trim().min(1, 'must not be empty').max(2048, 'is too long'),
        name: modelName.optional(),
      })
      .strict(),
    output: null as unknown as ModelTask,
  },
  /** Imports a .safetensors checkpoint, a diffusers folder or a diffusers ONNX folder. */
  'models.import': {
    input: z
      .object({
        path: absolutePath,
        name: modelName,
        configDir: absolutePath.optional(),
        predictionType: z.enum(['epsilon', 'v_prediction']).optional(),
      })
      .strict(),
    output: null as unknown as ModelTask,
  },
  /** Stops a task; a download keeps its partial files unless `discard`. */
  'models.cancel': {
    input: z.object({ taskId: z.string().min(1).max(64), discard: z.boolean().optional() }).strict(),
    output: null as unknown as ModelTask,
  },
  /** Starts a cancelled or failed download again, from where it stopped. */
  'models.resume': { input: z.object({ taskId: z.string().min(1).max(64) }).strict(), output: null as unknown as ModelTask },
  /** Forgets a finished, failed or cancelled task. */
  'models.clear': { input: z.object({ taskId: z.string().min(1).max(64) }).strict(), output: null as unknown as { cleared: string } },
  /** Whether a Hugging Face token is set, and the Hub in use (never the token). */
  'models.hub': { input: z.object({}).strict(), output: null as unknown as { hasToken: boolean; endpoint: string } },
  'models.remove': { input: z.object({ name: modelName }).strict(), output: null as unknown as { removed: string } },
  /** The Hugging Face token for gated repositories (null removes it). */
  'models.setToken': {
    input: z
      .object({
        token: z
          .string()
          .trim()
          .max(200, 'is too long')
          .regex(/^[\w-]*$/, 'must be a Hugging Face token (letters, digits, _ and -)')
          .nullable(),
      })
      .strict(),
    output: null as unknown as { hasToken: boolean },
  },
} as const;

export type { InstalledModel };

export const modelEvents = {
  /** A download or import started, progressed, finished or failed. */
  'models.task': z.custom<ModelTask>(),
  /** The installed models changed (one was added or removed). */
  'models.changed': z.object({ name: z.string() }),
} as const;
