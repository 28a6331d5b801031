/**
 * The Generate panel's form as the user edits it (text in fields), and its translation into the
 * contract's generation settings. Pure functions: no store, no client.
 */
import type { GenerationSettings, Preset, SamplerLabel } from '../../../../src-main/core/api/index';
import {
  ASPECT_PATTERN,
  ASPECT_PRESETS,
  BRAND_LOOP_PRESET,
  SETTING_LIMITS as L,
  isAspectPreset,
  loraProblem,
  sizeForAspect,
  sizeProblem,
  type ModelFamily,
} from '../../../../src-main/core/common/index';

/** The aspect buttons and their sizes for a model family (the engine's table): SD 1.x's unless the model is SD 2.x or SDXL. */
export function aspectsFor(family: ModelFamily | null): readonly { aspect: string; width: number; height: number }[] {
  return ASPECT_PRESETS.map((aspect) => ({ aspect, ...sizeForAspect(aspect, family ?? 'sd1') }));
}

/** The aspect buttons and their sizes: the engine's SD 1.x table. Multiples of 64, as close to the ratio as that allows. */
export const ASPECTS = aspectsFor('sd1');

const FAMILIES: readonly ModelFamily[] = ['sd1', 'sd2', 'sdxl'];

/**
 * The size an aspect button's size becomes on `family`: a size that is one family's bucket for the
 * aspect (the Brand loop's 576×1024 at 9:16) is the family's own bucket (768×1344 on SDXL); any
 * other size (a preset saved at 64×64) stays as it is. Null when nothing changes.
 */
export function familySize(
  aspect: string,
  width: number,
  height: number,
  family: ModelFamily | null,
): { width: number; height: number } | null {
  if (!isAspectPreset(aspect)) return null;
  const bucket = FAMILIES.some((f) => {
    const size = sizeForAspect(aspect, f);
    return size.width === width && size.height === height;
  });
  if (!bucket) return null;
  const own = sizeForAspect(aspect, family ?? 'sd1');
  return own.width === width && own.height === height ? null : own;
}

/** The form's size resolved for the selected model's family (familySize), as a patch of the form; null when it stays. */
export function resolveSize(draft: Draft, family: ModelFamily | null): Pick<Draft, 'width' | 'height'> | null {
  const size = familySize(draft.aspect, Number(draft.width), Number(draft.height), family);
  return size && { width: String(size.width), height: String(size.height) };
}

/** Three batches: "fire off three batches (≈18 images)". */
export const DEFAULT_BATCHES = 3;

/** The form's fields as typed: numbers stay text until queued, so a field can be cleared while editing. */
export interface Draft {
  prompt: string;
  negativePrompt: string;
  model: string;
  /** The preset the settings came from. */
  preset: string;
  sampler: SamplerLabel;
  steps: string;
  cfg: string;
  width: string;
  height: string;
  aspect: string;
  batchSize: string;
  loraWeight: string;
  batches: string;
  /** Blank: a random seed, recorded with the job. */
  seed: string;
  /** The Draft toggle: Queue sends the fast settings of the model's family (fast-draft.ts); the fields keep the full ones. */
  fastDraft: boolean;
}

export type DraftField = Exclude<keyof Draft, 'prompt' | 'negativePrompt' | 'model' | 'preset' | 'sampler' | 'aspect' | 'fastDraft'>;

/**
 * The form's fields with a preset's settings and negative prompt (the prompt and model stay). The
 * size follows the selected model's family (familySize): the Brand loop's 9:16 is 576×1024 on
 * SD 1.x and 768×1344 on SDXL.
 */
export function applyPreset(
  draft: Draft,
  preset: Pick<Preset, 'name' | 'settings' | 'negativePrompt'>,
  family: ModelFamily | null = null,
): Draft {
  const s = preset.settings;
  const size = familySize(s.aspect, s.width, s.height, family) ?? { width: s.width, height: s.height };
  return {
    ...draft,
    preset: preset.name,
    negativePrompt: preset.negativePrompt,
    sampler: s.sampler,
    steps: String(s.steps),
    cfg: String(s.cfg),
    width: String(size.width),
    height: String(size.height),
    aspect: s.aspect,
    batchSize: String(s.batchSize),
    loraWeight: String(s.loraWeight),
  };
}

export function initialDraft(): Draft {
  const empty: Draft = {
    prompt: '',
    negativePrompt: '',
    model: '',
    preset: '',
    sampler: 'DPM++ 2M Karras',
    steps: '',
    cfg: '',
    width: '',
    height: '',
    aspect: '',
    batchSize: '',
    loraWeight: '',
    batches: String(DEFAULT_BATCHES),
    seed: '',
    fastDraft: false,
  };
  // The built-in preset's values stand until `presets.list` answers.
  return applyPreset(empty, BRAND_LOOP_PRESET);
}

/** True when the draft's settings still equal the preset's (so the picker can say "edited"). */
export function matchesPreset(
  draft: Draft,
  preset: Pick<Preset, 'name' | 'settings' | 'negativePrompt'>,
  family: ModelFamily | null = null,
): boolean {
  const applied = applyPreset(draft, preset, family);
  return (Object.keys(applied) as (keyof Draft)[]).every((k) => k === 'preset' || applied[k] === draft[k]);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * The aspect a size has: one of the buttons' when the ratio is within 3 % of it (576×1024 is 9:16,
 * 512×640 is 4:5), else the reduced ratio when it fits the contract's `NN:NN`, else `fallback`.
 */
export function aspectOf(width: number, height: number, fallback: string): string {
  if (!(width > 0 && height > 0)) return fallback;
  const ratio = width / height;
  for (const a of ASPECTS) if (Math.abs(ratio / (a.width / a.height) - 1) < 0.03) return a.aspect;
  const d = gcd(width, height);
  const [w, h] = [width / d, height / d];
  return w < 100 && h < 100 ? `${w}:${h}` : fallback;
}

/** What the form would queue, or a message per field that is not right yet. */
export interface ParsedDraft {
  settings: Partial<GenerationSettings>;
  batches: number | undefined;
  seed: number | undefined;
  errors: Partial<Record<DraftField | 'model' | 'prompt', string>>;
  /** The nearest value that passes, for a field whose error has one: what to offer and the field's new text. */
  fixes: Partial<Record<DraftField | 'prompt', { label: string; value: string }>>;
}

function parseNumber(
  text: string,
  label: string,
  { min, max }: { readonly min: number; readonly max: number },
  integer: boolean,
): number | string {
  const trimmed = text.trim();
  if (trimmed === '') return `${label} is empty`;
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return `${label} must be a number`;
  if (integer && !Number.isInteger(value)) return `${label} must be a whole number`;
  if (value < min || value > max) return `${label} must be from ${min} to ${max}`;
  return value;
}

/**
 * Checks each field as the core will (core/common's rules, so hints get only valid fields and
 * errors name the field, with the nearest value that passes). `loras`: the installed LoRAs, to
 * check the prompt's tags against (unchecked while they are not known yet).
 */
export function parseDraft(draft: Draft, loras?: readonly string[]): ParsedDraft {
  const settings: Partial<GenerationSettings> = { sampler: draft.sampler };
  const errors: ParsedDraft['errors'] = {};
  const fixes: ParsedDraft['fixes'] = {};
  const numeric = <K extends DraftField>(
    field: K,
    label: string,
    limits: { readonly min: number; readonly max: number },
    integer: boolean,
  ): number | undefined => {
    const result = parseNumber(draft[field], label, limits, integer);
    if (typeof result === 'string') {
      errors[field] = result;
      return undefined;
    }
    return result;
  };
  const side = (field: 'width' | 'height', label: string): number | undefined => {
    const problem = sizeProblem(label, draft[field]);
    if (!problem) return Number(draft[field]);
    errors[field] = problem.message;
    if (problem.fix) fixes[field] = problem.fix;
    return undefined;
  };
  const steps = numeric('steps', 'Steps', L.steps, true);
  const cfg = numeric('cfg', 'CFG', L.cfg, false);
  const width = side('width', 'Width');
  const height = side('height', 'Height');
  const batchSize = numeric('batchSize', 'Batch size', L.batchSize, true);
  const loraWeight = numeric('loraWeight', 'LoRA weight', L.loraWeight, false);
  if (steps !== undefined) settings.steps = steps;
  if (cfg !== undefined) settings.cfg = cfg;
  if (width !== undefined) settings.width = width;
  if (height !== undefined) settings.height = height;
  if (batchSize !== undefined) settings.batchSize = batchSize;
  if (loraWeight !== undefined) settings.loraWeight = loraWeight;
  if (ASPECT_PATTERN.test(draft.aspect)) settings.aspect = draft.aspect;
  if (draft.model.trim()) settings.model = draft.model.trim();
  else errors.model = 'Choose a model';
  if (!draft.prompt.trim()) errors.prompt = 'Write a prompt';
  else if (loras) {
    const problem = loraProblem('Prompt', draft.prompt, loras);
    if (problem) {
      errors.prompt = problem.message;
      if (problem.fix) fixes.prompt = problem.fix;
    }
  }
  const batches = numeric('batches', 'Batches', L.batches, true);
  let seed: number | undefined;
  if (draft.seed.trim() !== '') seed = numeric('seed', 'Seed', L.seed, true);
  return { settings, batches, seed, errors, fixes };
}

/** The full settings to queue, when every field is right. */
export function completeSettings(parsed: ParsedDraft): GenerationSettings | null {
  if (Object.keys(parsed.errors).length > 0 || parsed.settings.model === undefined) return null;
  const rest = modelFreeSettings(parsed.settings);
  return rest && { model: parsed.settings.model, ...rest };
}

/**
 * What a preset keeps (every setting but the model), or the first message of a field that is not
 * right; the prompt, model, batches and seed are no part of a preset.
 */
export function presetSettings(draft: Draft): Omit<GenerationSettings, 'model'> | string {
  const { settings, errors } = parseDraft(draft);
  const { model: _model, prompt: _prompt, batches: _batches, seed: _seed, ...own } = errors;
  const first = Object.values(own)[0];
  if (first) return first;
  return modelFreeSettings(settings) ?? 'Some settings are missing.';
}

function modelFreeSettings(s: Partial<GenerationSettings>): Omit<GenerationSettings, 'model'> | null {
  if (s.sampler === undefined || s.steps === undefined || s.cfg === undefined) return null;
  if (s.width === undefined || s.height === undefined || s.batchSize === undefined || s.loraWeight === undefined) return null;
  return {
    sampler: s.sampler,
    steps: s.steps,
    cfg: s.cfg,
    width: s.width,
    height: s.height,
    batchSize: s.batchSize,
    loraWeight: s.loraWeight,
    aspect: s.aspect ?? aspectOf(s.width, s.height, '1:1'),
  };
}
