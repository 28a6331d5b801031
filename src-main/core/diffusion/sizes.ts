/** Image sizes: multiples of 8 for the model. The aspect presets per model family live in core/common (the UI offers them too). */

export { ASPECT_PRESETS, isAspectPreset, sizeForAspect, type AspectPreset, type ModelFamily } from '../common/index.js';

/** Throws a message naming the argument unless `value` is a positive multiple of 8 within limits. */
export function checkDimension(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 64 || value > 4096 || value % 8 !== 0) {
    throw new Error(`${name} must be a multiple of 8 from 64 to 4096, not ${value}`);
  }
}
