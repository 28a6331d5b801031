/** The built-in settings preset: what the core lists first and the Generate form starts from. */
import type { SamplerLabel } from './samplers.js';

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
