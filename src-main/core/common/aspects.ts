/** Aspect ratios and their sizes per model family (the engine's table; the Generate form's aspect buttons). */

export type ModelFamily = 'sd1' | 'sd2' | 'sdxl';
export type AspectPreset = '9:16' | '4:5' | '1:1' | '16:9';
export const ASPECT_PRESETS: readonly AspectPreset[] = ['9:16', '4:5', '1:1', '16:9'];

/** What `--ar` and the contract's `aspect` accept: `W:H` with one- or two-digit sides. */
export const ASPECT_PATTERN = /^\d{1,2}:\d{1,2}$/;

/**
 * Sizes near each family's training resolution (512² for SD 1.x, 768² for SD 2.x), in multiples
 * of 64 and as close to the exact ratio as that allows.
 */
const SIZES: Record<ModelFamily, Record<AspectPreset, [number, number]>> = {
  sd1: { '9:16': [576, 1024], '4:5': [512, 640], '1:1': [512, 512], '16:9': [1024, 576] },
  sd2: { '9:16': [768, 1344], '4:5': [768, 960], '1:1': [768, 768], '16:9': [1344, 768] },
  // SDXL's training buckets (about 1024², sides in multiples of 64).
  sdxl: { '9:16': [768, 1344], '4:5': [896, 1152], '1:1': [1024, 1024], '16:9': [1344, 768] },
};

export function isAspectPreset(value: string): value is AspectPreset {
  return (ASPECT_PRESETS as readonly string[]).includes(value);
}

/** Width and height for `--ar W:H`: a preset, or any ratio scaled to the family's pixel count in multiples of 64. */
export function sizeForAspect(aspect: string, family: ModelFamily = 'sd1'): { width: number; height: number } {
  if (isAspectPreset(aspect)) {
    const [width, height] = SIZES[family][aspect];
    return { width, height };
  }
  const match = /^(\d{1,2}):(\d{1,2})$/.exec(aspect.trim());
  if (!match || Number(match[1]) === 0 || Number(match[2]) === 0) throw new Error(`--ar must look like 9:16, not "${aspect}"`);
  const ratio = Number(match[1]) / Number(match[2]);
  const base = family === 'sdxl' ? 1024 : family === 'sd2' ? 768 : 512;
  const area = base * base;
  const width = Math.max(64, Math.round(Math.sqrt(area * ratio) / 64) * 64);
  const height = Math.max(64, Math.round(Math.sqrt(area / ratio) / 64) * 64);
  return { width, height };
}
