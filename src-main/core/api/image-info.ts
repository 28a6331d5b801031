/** What the loupe's info panel shows about one image: its histogram and its generation parameters. */
import { z } from 'zod';
import { id } from '../common/index.js';

/** Bins per channel: one per 8-bit level. */
export const HISTOGRAM_BINS = 256;

/** Pixel counts per level (0–255) of the red, green and blue channels and of luminance (Rec. 709), over a copy at most 512 px on its long side. */
export interface Histogram {
  r: number[];
  g: number[];
  b: number[];
  luma: number[];
  /** Pixels counted (each channel's bins sum to it). */
  pixels: number;
}

/** The generation parameters stored with an image (made here, or imported from A1111, ComfyUI or InvokeAI). */
export interface ImageGeneration {
  prompt: string;
  negativePrompt: string;
  seed: number | null;
  sampler: string | null;
  /** A1111's `Schedule type` when it is not the sampler's own (`SGM Uniform`); null for `Automatic` or none. */
  scheduleType: string | null;
  steps: number | null;
  cfg: number | null;
  /** The size generated at, as the parameters say; null when they do not. */
  width: number | null;
  height: number | null;
  model: string | null;
  /** From the prompt's `<lora:name:weight>` tags, else names from `Lora hashes` (weight null). */
  loras: { name: string; weight: number | null }[];
  /** Img2img's denoising strength; null for txt2img. */
  denoisingStrength: number | null;
  /** The A1111 text as stored, for copying. */
  parameters: string;
}

export interface ImageInfo {
  imageId: number;
  histogram: Histogram;
  /** Null for an image without parameters (a photo, a file whose metadata could not be read). */
  generation: ImageGeneration | null;
}

export const imageInfoRequests = {
  'images.info': { input: z.object({ imageId: id }).strict(), output: null as unknown as ImageInfo },
} as const;
