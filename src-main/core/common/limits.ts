/**
 * The ranges the contract accepts for generation settings. The Generate form checks a field
 * against the same numbers, so its message names the field before the call would fail.
 */
export const SETTING_LIMITS = {
  steps: { min: 1, max: 150 },
  cfg: { min: 0, max: 30 },
  /**
   * Width and height of a generated image: multiples of 64, as the SD 1.x/2.x UNet halves the
   * latent three times (the engine refuses other sizes); the form and the contract both check it.
   */
  size: { min: 64, max: 2048, step: 64 },
  batchSize: { min: 1, max: 16 },
  loraWeight: { min: -2, max: 2 },
  /** Batches queued at once ("three batches, ≈18 images"). */
  batches: { min: 1, max: 20 },
  /** A 32-bit seed; image i of a batch gets seed + i. */
  seed: { min: 0, max: 0xffffffff },
} as const;

/** The brand palette holds at most this many colours. */
export const MAX_BRAND_COLOURS = 16;

/** A LoRA tag's weight, `<lora:name:weight>`: the engine's range (A1111 allows more; beyond ±2 images break). */
export const LORA_WEIGHT_RANGE = { min: -2, max: 2 } as const;

/** A LoRA weight as written in a tag (`0.8`, `-.5`, `+1`): its value, or NaN when it is not a plain decimal. */
export function loraWeightValue(text: string): number {
  return /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/.test(text) ? Number(text) : NaN;
}
