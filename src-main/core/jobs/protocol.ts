/** Messages between the queue (main thread) and the engine's worker thread. */
import type { GenerationSettings } from '../api/index.js';
import type { ProviderChoice } from '../common/index.js';

export interface RunRequest {
  type: 'run';
  jobId: number;
  modelDir: string;
  loraDir: string;
  /** Where Onbrand's graphs built for models are cached (in the app's data folder). */
  graphCacheDir: string;
  provider: ProviderChoice;
  prompt: string;
  negativePrompt: string;
  settings: GenerationSettings;
  /** The job's first seed; image i has seed + i. */
  seed: number;
  /** The batch indices still to make (all of them, or the missing ones when resuming). */
  indices: number[];
  /** img2img: the start image's file (inside the project folder) and the denoising strength. */
  init?: { path: string; strength: number };
  /** The app's data folder: the worker writes each image's thumbnail and loupe rendition into its cache. */
  dataDir: string;
}

/**
 * What the worker made of a finished image besides its PNG, so the main thread neither hashes nor
 * decodes it: the PNG's content hash and its cached renditions (relative to the data folder), or
 * null when they could not be written (the main thread then makes them itself).
 */
export interface ImageExtras {
  contentHash: string;
  renditions: { thumbRelative: string; previewRelative: string } | null;
}

export type ToWorker = RunRequest | { type: 'cancel'; jobId: number };

export type FromWorker =
  | { type: 'status'; state: 'loading' | 'running' | 'idle'; model: string | null; provider: string | null; fallbacks: string[] }
  | { type: 'progress'; jobId: number; index: number; step: number; steps: number; etaMs: number; preview: string | null }
  | {
      type: 'image';
      jobId: number;
      index: number;
      seed: number;
      png: Uint8Array;
      parameters: string;
      width: number;
      height: number;
      extras: ImageExtras;
    }
  | { type: 'warning'; jobId: number; message: string }
  | { type: 'done'; jobId: number; gpuSeconds: number }
  | { type: 'cancelled'; jobId: number; gpuSeconds: number }
  | { type: 'failed'; jobId: number; gpuSeconds: number; message: string };

/** Splits sorted indices into runs of consecutive ones: [0,1,2,5,6] → [[0,3],[5,2]] as [start, length]. */
export function contiguousRuns(indices: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const i of [...indices].sort((a, b) => a - b)) {
    const last = runs.at(-1);
    if (last && last[0] + last[1] === i) last[1]++;
    else runs.push([i, 1]);
  }
  return runs;
}
