/**
 * Refine (issue 19): a draft image made again at the full settings, from the same seed, or as
 * img2img from the draft itself at a chosen strength. The strength's range is the contract's and
 * the Generate panel's, so the panel names a wrong value before the call would fail.
 */
import type { FieldProblem } from './fields.js';

/** How a draft is refined: the same seed at full settings, or img2img from the draft image. */
export const REFINE_MODES = ['seed', 'img2img'] as const;
export type RefineMode = (typeof REFINE_MODES)[number];

/** img2img's denoising strength for Refine: how much of the draft is repainted (0.05 keeps nearly all of it, 1 none). */
export const REFINE_STRENGTH = { min: 0.05, max: 1, default: 0.5 } as const;

/** What the strength field says about `text`, with the nearest value that passes; null when it passes. */
export function strengthProblem(text: string): FieldProblem | null {
  const trimmed = text.trim();
  const rule = `Strength must be a number from ${REFINE_STRENGTH.min} to ${REFINE_STRENGTH.max}`;
  if (trimmed === '') return { message: `${rule} (0.5 repaints half of the draft)` };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { message: rule };
  if (value >= REFINE_STRENGTH.min && value <= REFINE_STRENGTH.max) return null;
  const nearest = String(value < REFINE_STRENGTH.min ? REFINE_STRENGTH.min : REFINE_STRENGTH.max);
  return { message: rule, fix: { label: nearest, value: nearest } };
}
