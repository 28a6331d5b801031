/**
 * Sharpness on a scale a person reads. The core scores focus as the variance of the 4-neighbour
 * Laplacian of a grey copy (long side 512 px, central 60 %; curation/sharpness.ts): 0 for a flat
 * field, tens for a soft or smeared image, hundreds for a crisp one, thousands for fine detail
 * or grain. That spans orders of magnitude, so the 0–100 scale is logarithmic, and 100 is reached
 * at 1,000 (anything crisper reads the same: crisp).
 *
 * Measured on the core's own metric: a sharp photograph scores about 2,700; blurred by σ 1, 2 and
 * 4 px it scores about 780, 85 and 11; flat posters with clean edges 150; the trial's tiny-model
 * generations up to 392. The words follow the usual focus check (variance below ~100 is blurry):
 * soft below 50 on the scale (raw < ~90), crisp from 75 (raw ≥ ~310), ok between.
 */

export type SharpnessWord = 'soft' | 'ok' | 'crisp';

/** The raw score that reads 100. */
export const SHARPNESS_CEILING = 1000;
/** Below this (on the 0–100 scale) an image reads "soft"; from `CRISP_FROM`, "crisp". */
export const SOFT_BELOW = 50;
export const CRISP_FROM = 75;
/** The knee of the log curve: raw scores well below it are all near 0. */
const KNEE = 10;

export interface SharpnessReading {
  /** 0–100, whole. */
  score: number;
  word: SharpnessWord;
}

/** A raw focus score (variance of the Laplacian) as 0–100 and a word. Negative or not-a-number reads 0. */
export function readSharpness(variance: number): SharpnessReading {
  const v = Number.isFinite(variance) && variance > 0 ? variance : variance === Infinity ? SHARPNESS_CEILING : 0;
  const scaled = (100 * Math.log1p(v / KNEE)) / Math.log1p(SHARPNESS_CEILING / KNEE);
  const score = Math.max(0, Math.min(100, Math.round(scaled)));
  return { score, word: score < SOFT_BELOW ? 'soft' : score >= CRISP_FROM ? 'crisp' : 'ok' };
}

/** "72 ok", as the cells and the loupe show it; "…" while the score is not computed yet. */
export function formatSharpness(variance: number | null): string {
  if (variance === null) return '…';
  const { score, word } = readSharpness(variance);
  return `${score} ${word}`;
}
