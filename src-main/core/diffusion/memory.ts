/**
 * How many images go through the UNet in one call: as many as a memory budget allows. A batch of
 * 6 with guidance is 12 UNet passes per step; on the CPU they cost the same time in one call or
 * in several, but one call holds every pass's activations at once. Images are the same either
 * way (each has its own noise; the UNet treats batch items independently).
 */
import os from 'node:os';
import type { ProviderName } from './backend.js';
import type { UnetConfig } from './graph/index.js';

const MB = 1024 * 1024;

/**
 * Activation bytes one image needs in one UNet pass: the widest tensors live at the first level
 * (latent pixels × first block's channels), and the feed-forward's GEGLU projection is 8 × that.
 * `FACTOR` covers what is alive at once there plus the skip connections held for the up path;
 * measured on SD 1.5 at 512×512 and 576×1024 with fused attention (bench:realsize).
 */
const FACTOR = 40;

export function unetBytesPerImage(
  config: Pick<UnetConfig, 'block_out_channels'> | null,
  width: number,
  height: number,
  bytesPerValue: 2 | 4,
  attention: 'fused' | 'plain' = 'fused',
): number {
  const channels = config?.block_out_channels[0] ?? 320;
  const tokens = (width / 8) * (height / 8);
  // A plain (exported) graph also holds the first level's attention scores and probabilities
  // for every head (8 in SD 1.x) at once: tokens² each.
  const attentionMatrices = attention === 'plain' ? tokens * tokens * 8 * 2 * bytesPerValue : 0;
  return Math.ceil(tokens * channels * bytesPerValue * FACTOR + attentionMatrices);
}

/**
 * The default budget for UNet activations. On the CPU, a sixteenth of the machine's memory (at
 * least 512 MB, at most 1 GB): the CPU is compute-bound, so more passes per call gain little (9.2
 * against 9.7 s a pass at 576×1024), while each holds another 0.4 GB; a 16 GB laptop keeps room for
 * the model and the rest of the desktop.
 * On a GPU the free memory is not known here: everything goes in one call, and an out-of-memory
 * error halves the call (remembered for the session).
 */
export function defaultMemoryBudget(provider: ProviderName): number {
  const env = Number(process.env.ONBRAND_MEMORY_BUDGET_MB);
  if (Number.isFinite(env) && env > 0) return env * MB;
  if (provider !== 'cpu') return Number.POSITIVE_INFINITY;
  return Math.min(1024 * MB, Math.max(512 * MB, os.totalmem() / 16));
}

/** Images per UNet call: at least 1, at most `total`. */
export function imagesPerCall(budget: number, perImage: number, total: number): number {
  if (!Number.isFinite(budget)) return total;
  return Math.max(1, Math.min(total, Math.floor(budget / Math.max(1, perImage))));
}

/**
 * Memory the VAE decoder's arena holds while decoding one image: about 12 full-resolution
 * 128-channel float32 tensors (measured: 3.5 GB at 576×1024, SD 1.5's VAE, onnxruntime CPU arena).
 */
export function vaeDecodeBytes(width: number, height: number): number {
  return width * height * 128 * 4 * 12;
}
