/** The built-in settings preset, and the fast draft modes: what the core lists first and the Generate form starts from. */
import type { ModelFamily } from './aspects.js';
import type { SamplerLabel, ScheduleType } from './samplers.js';

/**
 * The designers' starting values (WORKFLOW: "Dial the model settings"): DPM++ 2M Karras, 25 steps,
 * CFG 7, a batch of 6 at 9:16. The contract types it as a `Preset` (api/generation.ts).
 */
export const BRAND_LOOP_PRESET = {
  id: null,
  name: 'Brand loop',
  builtIn: true,
  negativePrompt: 'text, watermark, extra limbs, mushy face',
  settings: {
    sampler: 'DPM++ 2M Karras' as SamplerLabel,
    steps: 25,
    cfg: 7,
    width: 576,
    height: 1024,
    batchSize: 6,
    loraWeight: 0.8,
    aspect: '9:16',
  },
};

/** The export name template when none is given: `20260101_hero_magenta_1234.jpg`. */
export const DEFAULT_NAME_TEMPLATE = '{yyyymmdd}_{section}_{colour}_{seed}.jpg';

/** The tokens a name template may use (the exporter fills each). */
export const NAME_TOKENS = ['yyyymmdd', 'section', 'colour', 'seed', 'rating', 'index', 'project'] as const;
export type NameToken = (typeof NAME_TOKENS)[number];

// ---- Fast draft modes ----------------------------------------------------------------------------

/** The distilled modes a draft can run in, fastest first among the LoRAs (see `draftSettings`). */
export type FastModeId = 'lightning' | 'hyper' | 'lcm' | 'turbo';

export interface FastMode {
  id: FastModeId;
  label: string;
  /** What makes the mode available: a LoRA in the LoRA folder, or a model distilled for it (a LoRA or a model for Lightning and Hyper-SD). */
  needs: 'lora' | 'model' | 'model or lora';
  /** What to install for each family the mode exists for: the file, and where it comes from. */
  install: Partial<Record<ModelFamily, string>>;
  sampler: SamplerLabel;
  scheduleType: ScheduleType;
  steps: number;
  /** The step counts the mode was distilled for; a file whose name says `4step` runs at 4. */
  stepRange: readonly [number, number];
  cfg: number;
  cfgRange: readonly [number, number];
  /** The model families the mode's files exist for. */
  families: readonly ModelFamily[];
  /** A model or LoRA whose file name matches is taken for this mode. */
  pattern: RegExp;
}

/**
 * The fast draft modes, as their model cards give them. CFG 1 runs no unconditional UNet pass, so
 * those modes cost half a step each. "SGM Uniform" is the "trailing" timestep spacing the distilled
 * models were trained on (their cards ask for it: Euler + sgm_uniform in ComfyUI, trailing in diffusers).
 */
export const FAST_MODES: readonly FastMode[] = [
  {
    id: 'lightning',
    label: 'SDXL-Lightning',
    needs: 'model or lora',
    install: { sdxl: 'sdxl_lightning_4step_lora.safetensors (ByteDance/SDXL-Lightning) in the LoRA folder' },
    sampler: 'Euler',
    scheduleType: 'SGM Uniform',
    steps: 4,
    stepRange: [1, 8],
    cfg: 1,
    cfgRange: [1, 1],
    families: ['sdxl'],
    pattern: /lightning/i,
  },
  {
    id: 'hyper',
    label: 'Hyper-SD',
    needs: 'model or lora',
    install: {
      sd1: 'Hyper-SD15-8steps-lora.safetensors (ByteDance/Hyper-SD) in the LoRA folder',
      sdxl: 'Hyper-SDXL-8steps-lora.safetensors (ByteDance/Hyper-SD) in the LoRA folder',
    },
    sampler: 'Euler',
    scheduleType: 'SGM Uniform',
    steps: 8,
    stepRange: [1, 12],
    cfg: 1,
    cfgRange: [1, 8],
    families: ['sd1', 'sdxl'],
    // Hyper-SD's files, or "hyper" as a word ("…XL_Hyper"); never "hyperrealism" or "Hyper Realistic".
    pattern: /hyper[-_ ]?sd|hyper(?![-_ ]?real)(?![a-z])/i,
  },
  {
    id: 'lcm',
    label: 'LCM-LoRA',
    needs: 'lora',
    install: {
      sd1: 'lcm-lora-sdv1-5.safetensors (latent-consistency/lcm-lora-sdv1-5: its pytorch_lora_weights.safetensors, renamed) in the LoRA folder',
      sdxl: 'lcm-lora-sdxl.safetensors (latent-consistency/lcm-lora-sdxl: its pytorch_lora_weights.safetensors, renamed) in the LoRA folder',
    },
    sampler: 'LCM',
    scheduleType: 'SGM Uniform',
    steps: 6,
    stepRange: [4, 8],
    cfg: 1.5,
    cfgRange: [1, 2],
    families: ['sd1', 'sdxl'],
    pattern: /lcm/i,
  },
  {
    id: 'turbo',
    label: 'SDXL-Turbo / SD-Turbo',
    needs: 'model',
    install: {
      sd2: 'SD-Turbo (stabilityai/sd-turbo) as a model',
      sdxl: 'SDXL-Turbo (stabilityai/sdxl-turbo) as a model',
    },
    sampler: 'Euler a',
    scheduleType: 'SGM Uniform',
    steps: 4,
    stepRange: [1, 4],
    cfg: 1,
    cfgRange: [1, 1],
    families: ['sd2', 'sdxl'],
    pattern: /turbo/i,
  },
];

/** Steps of the quick draft when no fast mode is installed. */
export const QUICK_DRAFT_STEPS = 10;

/** A fast mode by id. */
export function fastMode(id: FastModeId): FastMode {
  return FAST_MODES.find((m) => m.id === id)!;
}

/** The fast mode a model or LoRA file name says it is for (`sdxl_lightning_4step_lora` → Lightning), or null. */
export function fastModeOfName(name: string): FastMode | null {
  return FAST_MODES.find((m) => m.pattern.test(name)) ?? null;
}

/** The LoRAs that make a draft fast (LCM, Lightning, Hyper-SD): the ones Refine takes out of a draft's prompt. */
export function isDraftLora(name: string): boolean {
  const mode = fastModeOfName(name);
  return mode !== null && mode.needs !== 'model';
}

/**
 * The family a LoRA's name says it is for: `xl`/`sdxl` → SDXL, `sd15`/`sdv1-5`/`v1` → SD 1.x,
 * `sd21`/`v2` → SD 2.x; `ssd-1b` and names with no family word say nothing we can use.
 */
export function loraNameFamily(name: string): ModelFamily | 'other' | null {
  const n = name.toLowerCase();
  if (/ssd[-_ ]?1b|vega/.test(n)) return 'other';
  if (/sd[-_ ]?xl|(?:^|[^a-z])xl(?:[^a-z]|$)/.test(n)) return 'sdxl';
  if (/sd[-_ ]?v?1[-_.]?5|(?:^|[^a-z0-9])v1(?:[^0-9]|$)|sd[-_ ]?1(?![0-9])/.test(n)) return 'sd1';
  if (/sd[-_ ]?v?2(?:[-_.]?[01])?(?![0-9])|(?:^|[^a-z0-9])v2(?:[^0-9]|$)/.test(n)) return 'sd2';
  return null;
}

/** The step count in a file's name (`sdxl_lightning_4step_lora`, `Hyper-SD15-8steps-lora`), or null. */
function stepsInName(name: string): number | null {
  const match = /(\d{1,2})[-_ ]?steps?(?![a-z])/i.exec(name);
  return match ? Number(match[1]) : null;
}

export interface DraftInput {
  /** The selected model's family; null when it is not known (a folder Onbrand did not install). */
  family: ModelFamily | null;
  modelName: string;
  /** The installed LoRAs (names as `<lora:name:…>` takes them). */
  loras: readonly string[];
  /** The full settings the draft starts from. */
  settings: { sampler: SamplerLabel; steps: number; cfg: number; scheduleType?: ScheduleType | undefined };
}

export interface DraftSettings {
  sampler: SamplerLabel;
  scheduleType: ScheduleType;
  steps: number;
  cfg: number;
}

export interface DraftChoice {
  /** The fast mode, or `quick`: the same settings at fewer steps, when no fast mode is installed. */
  mode: FastModeId | 'quick';
  settings: DraftSettings;
  /** The LoRA the draft needs, by name; null when the model is distilled itself or no LoRA is used. */
  lora: string | null;
  /** `<lora:NAME:1>` for the draft's prompt, or null. */
  loraTag: string | null;
  /** One sentence for the designer: what the draft runs with, or what to install for 4-step drafts. */
  note: string;
}

/** The mode's settings, at the step count (and CFG, for Hyper-SD's CFG files) the file's name asks for. */
function modeSettings(mode: FastMode, file: string): DraftSettings {
  const named = stepsInName(file);
  const steps = named !== null && named >= mode.stepRange[0] && named <= mode.stepRange[1] ? named : mode.steps;
  // Hyper-SD's "CFG" LoRAs keep guidance (their card: 5–8); the others are distilled for CFG 1.
  const cfg = mode.id === 'hyper' && /cfg/i.test(file) ? 5 : mode.cfg;
  return { sampler: mode.sampler, scheduleType: mode.scheduleType, steps, cfg };
}

function settingsInWords(settings: DraftSettings): string {
  const schedule = settings.scheduleType === 'Automatic' ? '' : `, ${settings.scheduleType}`;
  return `${settings.sampler}${schedule}, ${settings.steps} steps, CFG ${settings.cfg}`;
}

const FAMILY_NAMES: Record<ModelFamily, string> = { sd1: 'SD 1.x', sd2: 'SD 2.x', sdxl: 'SDXL' };

/** What to install for 4-step drafts on a family, in words. */
function installAdvice(family: ModelFamily | null): string {
  switch (family) {
    case 'sdxl':
      return `For 4-step drafts install ${fastMode('lightning').install.sdxl}.`;
    case 'sd1':
      return `For 4–8-step drafts install ${fastMode('lcm').install.sd1}.`;
    case 'sd2':
      return `For 1–4-step drafts install ${fastMode('turbo').install.sd2}.`;
    default:
      return 'For 4-step drafts install a Lightning, Hyper-SD or LCM LoRA for this model’s family in the LoRA folder.';
  }
}

/**
 * The settings a draft of this prompt runs with:
 * 1. the model's own fast mode when its name says it is distilled (`…turbo…`, `…lightning…`, `…hyper…`, `…lcm…`);
 * 2. else an installed Lightning, Hyper-SD or LCM LoRA for the model's family: a LoRA whose name
 *    names that family first, then one whose name names none (never one naming another family);
 *    Lightning before Hyper-SD before LCM (CFG 1 halves the work), and the file made for the
 *    mode's usual step count before others;
 * 3. else a quick draft: the same sampler, schedule and CFG at 10 steps (fewer if the settings have
 *    fewer), with a note saying which file to install.
 */
export function draftSettings(input: DraftInput): DraftChoice {
  const own = fastModeOfName(input.modelName);
  if (own) {
    const settings = modeSettings(own, input.modelName);
    return {
      mode: own.id,
      settings,
      lora: null,
      loraTag: null,
      note: `${input.modelName} is distilled for ${own.label}: drafts run at ${settingsInWords(settings)}.`,
    };
  }

  const candidates: { name: string; mode: FastMode; rank: number[] }[] = [];
  for (const name of input.loras) {
    const mode = fastModeOfName(name);
    if (!mode || mode.needs === 'model') continue;
    const named = loraNameFamily(name);
    let familyRank: number;
    if (input.family === null) familyRank = named === null ? 1 : 0;
    else if (named === input.family) familyRank = 0;
    else if (named === null && mode.families.includes(input.family)) familyRank = 1;
    else continue;
    const steps = stepsInName(name);
    candidates.push({
      name,
      mode,
      rank: [familyRank, FAST_MODES.indexOf(mode), steps === null ? 0 : Math.abs(steps - mode.steps), /cfg/i.test(name) ? 1 : 0],
    });
  }
  candidates.sort((a, b) => compareRanks(a.rank, b.rank) || a.name.localeCompare(b.name));
  const pick = candidates[0];
  if (pick) {
    const settings = modeSettings(pick.mode, pick.name);
    return {
      mode: pick.mode.id,
      settings,
      lora: pick.name,
      loraTag: `<lora:${pick.name}:1>`,
      note: `Drafts run with ${pick.mode.label} (${pick.name}): ${settingsInWords(settings)}.`,
    };
  }

  const settings: DraftSettings = {
    sampler: input.settings.sampler,
    scheduleType: input.settings.scheduleType ?? 'Automatic',
    steps: Math.min(QUICK_DRAFT_STEPS, input.settings.steps),
    cfg: input.settings.cfg,
  };
  const family = input.family ? `${FAMILY_NAMES[input.family]} ` : '';
  return {
    mode: 'quick',
    settings,
    lora: null,
    loraTag: null,
    note: `No fast mode is installed for this ${family}model: drafts run at ${settings.steps} steps. ${installAdvice(input.family)}`,
  };
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
