import { describe, expect, it } from 'vitest';
import { generationSettingsSchema } from '../api/index.js';
import {
  BRAND_LOOP_PRESET,
  draftSettings,
  FAST_MODES,
  fastMode,
  fastModeOfName,
  isDraftLora,
  loraNameFamily,
  SAMPLER_NAMES,
  SCHEDULE_TYPES,
  type DraftInput,
} from './index.js';

const BRAND_LOOP = { sampler: BRAND_LOOP_PRESET.settings.sampler, steps: 25, cfg: 7 };

function draft(input: Partial<DraftInput>): ReturnType<typeof draftSettings> {
  return draftSettings({ family: 'sdxl', modelName: 'juggernautXL_v9', loras: [], settings: BRAND_LOOP, ...input });
}

describe('FAST_MODES', () => {
  it('holds one entry per mode with settings the contract accepts', () => {
    expect(FAST_MODES.map((m) => m.id)).toEqual(['lightning', 'hyper', 'lcm', 'turbo']);
    for (const mode of FAST_MODES) {
      expect(SAMPLER_NAMES).toContain(mode.sampler);
      expect(SCHEDULE_TYPES).toContain(mode.scheduleType);
      expect(mode.steps).toBeGreaterThanOrEqual(mode.stepRange[0]);
      expect(mode.steps).toBeLessThanOrEqual(mode.stepRange[1]);
      expect(mode.cfg).toBeGreaterThanOrEqual(mode.cfgRange[0]);
      expect(mode.cfg).toBeLessThanOrEqual(mode.cfgRange[1]);
      for (const family of mode.families) expect(mode.install[family]).toBeTruthy();
      const settings = {
        ...BRAND_LOOP_PRESET.settings,
        model: 'x',
        sampler: mode.sampler,
        scheduleType: mode.scheduleType,
        steps: mode.steps,
        cfg: mode.cfg,
      };
      expect(generationSettingsSchema.safeParse(settings).success).toBe(true);
    }
  });

  it('gives the model cards’ settings: LCM 6 steps CFG 1.5, Lightning 4 and Hyper-SD 8 on Euler SGM Uniform CFG 1, Turbo on Euler a CFG 1', () => {
    expect(fastMode('lcm')).toMatchObject({ sampler: 'LCM', steps: 6, stepRange: [4, 8], cfg: 1.5, cfgRange: [1, 2], needs: 'lora' });
    expect(fastMode('lightning')).toMatchObject({ sampler: 'Euler', scheduleType: 'SGM Uniform', steps: 4, cfg: 1, families: ['sdxl'] });
    expect(fastMode('hyper')).toMatchObject({ sampler: 'Euler', scheduleType: 'SGM Uniform', steps: 8, cfg: 1 });
    expect(fastMode('turbo')).toMatchObject({ sampler: 'Euler a', stepRange: [1, 4], cfg: 1, needs: 'model', families: ['sd2', 'sdxl'] });
  });

  it('recognises files by name', () => {
    expect(fastModeOfName('lcm-lora-sdxl')?.id).toBe('lcm');
    expect(fastModeOfName('LCM_Dreamshaper_v7')?.id).toBe('lcm');
    expect(fastModeOfName('sdxl_lightning_4step_lora')?.id).toBe('lightning');
    expect(fastModeOfName('Hyper-SDXL-8steps-lora')?.id).toBe('hyper');
    expect(fastModeOfName('sd_xl_turbo_1.0_fp16')?.id).toBe('turbo');
    expect(fastModeOfName('brand-style-v3')).toBeNull();
    expect(fastModeOfName('HyperSD15_4step')?.id).toBe('hyper');
    expect(fastModeOfName('juggernautXL_hyper')?.id).toBe('hyper');
    // Photo-real models are not Hyper-SD.
    for (const name of ['hyperrealism_v3', 'Hyper_Realistic_XL', 'HyperRealism', 'hyperdetailed'])
      expect(fastModeOfName(name), name).toBeNull();
    expect(isDraftLora('lcm-lora-sdv1-5')).toBe(true);
    expect(isDraftLora('sdxl_lightning_8step_lora')).toBe(true);
    expect(isDraftLora('brand-style-v3')).toBe(false);
  });

  it('reads a LoRA name’s family words', () => {
    expect(loraNameFamily('lcm-lora-sdxl')).toBe('sdxl');
    expect(loraNameFamily('sdxl_lightning_4step_lora')).toBe('sdxl');
    expect(loraNameFamily('Hyper-SDXL-8steps-lora')).toBe('sdxl');
    expect(loraNameFamily('lcm_lora_xl')).toBe('sdxl');
    expect(loraNameFamily('lcm-lora-sdv1-5')).toBe('sd1');
    expect(loraNameFamily('Hyper-SD15-8steps-lora')).toBe('sd1');
    expect(loraNameFamily('lcm-lora-v1')).toBe('sd1');
    expect(loraNameFamily('lcm-lora-sd21')).toBe('sd2');
    expect(loraNameFamily('lcm-lora-ssd-1b')).toBe('other');
    expect(loraNameFamily('lcm-lora')).toBeNull();
    // "xl" inside a word is not a family word.
    expect(loraNameFamily('pixel-lcm')).toBeNull();
  });
});

describe('draftSettings', () => {
  it('takes the model’s own mode when its name says it is distilled, with no LoRA', () => {
    const turbo = draft({ modelName: 'sdxl-turbo', loras: ['lcm-lora-sdxl'] });
    expect(turbo).toMatchObject({ mode: 'turbo', lora: null, loraTag: null });
    expect(turbo.settings).toEqual({ sampler: 'Euler a', scheduleType: 'SGM Uniform', steps: 4, cfg: 1 });
    expect(turbo.note).toBe('sdxl-turbo is distilled for SDXL-Turbo / SD-Turbo: drafts run at Euler a, SGM Uniform, 4 steps, CFG 1.');

    // A Lightning checkpoint made for 2 steps runs at 2.
    const lightning = draft({ modelName: 'sdxl_lightning_2step' });
    expect(lightning).toMatchObject({ mode: 'lightning', loraTag: null });
    expect(lightning.settings).toEqual({ sampler: 'Euler', scheduleType: 'SGM Uniform', steps: 2, cfg: 1 });

    expect(draft({ family: 'sd1', modelName: 'LCM_Dreamshaper_v7' }).settings).toEqual({
      sampler: 'LCM',
      scheduleType: 'SGM Uniform',
      steps: 6,
      cfg: 1.5,
    });
  });

  it('uses an installed LoRA of the family, tagged at weight 1 for the prompt', () => {
    const sd1 = draft({ family: 'sd1', modelName: 'dreamshaper_8', loras: ['brand-style', 'lcm-lora-sdxl', 'lcm-lora-sdv1-5'] });
    expect(sd1).toMatchObject({ mode: 'lcm', lora: 'lcm-lora-sdv1-5', loraTag: '<lora:lcm-lora-sdv1-5:1>' });
    expect(sd1.settings).toEqual({ sampler: 'LCM', scheduleType: 'SGM Uniform', steps: 6, cfg: 1.5 });

    const xl = draft({ loras: ['brand-style', 'lcm-lora-sdv1-5', 'lcm-lora-sdxl'] });
    expect(xl).toMatchObject({ mode: 'lcm', loraTag: '<lora:lcm-lora-sdxl:1>' });
    expect(xl.note).toBe('Drafts run with LCM-LoRA (lcm-lora-sdxl): LCM, SGM Uniform, 6 steps, CFG 1.5.');
  });

  it('prefers Lightning to Hyper-SD to LCM, the usual step count first, and reads the steps from the name', () => {
    const loras = ['lcm-lora-sdxl', 'Hyper-SDXL-8steps-lora', 'sdxl_lightning_8step_lora', 'sdxl_lightning_4step_lora'];
    const pick = draft({ loras });
    expect(pick).toMatchObject({ mode: 'lightning', lora: 'sdxl_lightning_4step_lora' });
    expect(pick.settings).toEqual({ sampler: 'Euler', scheduleType: 'SGM Uniform', steps: 4, cfg: 1 });

    expect(draft({ loras: ['sdxl_lightning_8step_lora'] }).settings.steps).toBe(8);
    const hyper = draft({
      family: 'sd1',
      modelName: 'realisticVision',
      loras: ['lcm-lora-sdv1-5', 'Hyper-SD15-4steps-lora', 'Hyper-SDXL-8steps-lora'],
    });
    expect(hyper).toMatchObject({ mode: 'hyper', lora: 'Hyper-SD15-4steps-lora' });
    expect(hyper.settings).toEqual({ sampler: 'Euler', scheduleType: 'SGM Uniform', steps: 4, cfg: 1 });
    // Hyper-SD's CFG LoRAs keep guidance.
    expect(draft({ loras: ['Hyper-SDXL-8steps-CFG-lora'] }).settings).toMatchObject({ steps: 8, cfg: 5 });
  });

  it('never takes a LoRA named for another family, nor a mode the family does not have', () => {
    // SD 1.x: the SDXL LCM LoRA and a Lightning LoRA without family words are both out.
    const sd1 = draft({ family: 'sd1', modelName: 'dreamshaper_8', loras: ['lcm-lora-sdxl', 'lightning_4step_lora', 'lcm-lora-ssd-1b'] });
    expect(sd1.mode).toBe('quick');
    // A name with no family words is taken when nothing names the family.
    expect(draft({ family: 'sd1', modelName: 'dreamshaper_8', loras: ['lcm-lora'] })).toMatchObject({ mode: 'lcm', lora: 'lcm-lora' });
    // The one naming the family comes first.
    expect(draft({ loras: ['lcm-lora', 'lcm-lora-sdxl'] }).lora).toBe('lcm-lora-sdxl');
    // Family unknown: any of them.
    expect(draft({ family: null, modelName: 'my-folder', loras: ['lcm-lora-sdv1-5'] }).lora).toBe('lcm-lora-sdv1-5');
  });

  it('falls back to a quick draft at 10 steps with the same sampler and CFG, saying which file to install', () => {
    const quick = draft({ loras: ['brand-style'], settings: { ...BRAND_LOOP, scheduleType: 'Karras' } });
    expect(quick).toMatchObject({ mode: 'quick', lora: null, loraTag: null });
    expect(quick.settings).toEqual({ sampler: 'DPM++ 2M Karras', scheduleType: 'Karras', steps: 10, cfg: 7 });
    expect(quick.note).toContain('sdxl_lightning_4step_lora.safetensors (ByteDance/SDXL-Lightning)');
    expect(quick.note).toContain('SDXL model');

    const sd1 = draft({ family: 'sd1', modelName: 'dreamshaper_8', settings: { sampler: 'Euler a', steps: 8, cfg: 6 } });
    expect(sd1.settings).toEqual({ sampler: 'Euler a', scheduleType: 'Automatic', steps: 8, cfg: 6 });
    expect(sd1.note).toContain('lcm-lora-sdv1-5.safetensors');
    expect(draft({ family: 'sd2', modelName: 'sd21' }).note).toContain('SD-Turbo (stabilityai/sd-turbo)');
    expect(draft({ family: null, modelName: 'x' }).note).toContain('Lightning, Hyper-SD or LCM LoRA');
  });
});
