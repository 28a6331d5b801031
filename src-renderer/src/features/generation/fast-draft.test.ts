import { describe, expect, it } from 'vitest';
import type { ImageSummary, InstalledModel, Job, ModelList } from '../../../../src-main/core/api/index';
import { BRAND_LOOP_PRESET } from '../../../../src-main/core/common/index';
import { applyPreset, familySize, initialDraft, matchesPreset, resolveSize, type Draft } from './draft';
import { asDraft, draftPlan, jobOrigin, refinePrompt, refineRequest, withLoraTag } from './fast-draft';

const model = (name: string, family: InstalledModel['family']): InstalledModel => ({
  name,
  dir: `/models/${name}`,
  layout: 'diffusers',
  family,
  bytes: 1,
  source: 'a folder placed in the models folder',
  licence: null,
  hash: null,
  installedAt: null,
});

const models = (loras: string[] = []): ModelList => ({
  modelsDir: '/models',
  loraDir: '/models/loras',
  models: [model('Stable Diffusion 1.5', 'sd1'), model('SDXL base', 'sdxl')],
  loras,
});

const form = (patch: Partial<Draft> = {}): Draft => ({
  ...initialDraft(),
  model: 'Stable Diffusion 1.5',
  prompt: 'portrait, teal',
  ...patch,
});

const job = (patch: Partial<Job> = {}): Job => ({
  id: 3,
  projectId: 1,
  state: 'done',
  prompt: 'portrait, teal, <lora:lcm-lora-sdv1-5:1>',
  negativePrompt: 'text',
  settings: {
    ...BRAND_LOOP_PRESET.settings,
    model: 'Stable Diffusion 1.5',
    sampler: 'LCM',
    scheduleType: 'SGM Uniform',
    steps: 6,
    cfg: 1.5,
    width: 64,
    height: 64,
    aspect: '1:1',
    batchSize: 4,
  },
  seed: 100,
  batchSize: 4,
  position: 1,
  imagesDone: 4,
  error: null,
  gpuSeconds: 1,
  createdAt: '',
  startedAt: null,
  finishedAt: null,
  draft: true,
  refines: null,
  init: null,
  ...patch,
});

const image = (patch: Partial<ImageSummary> = {}): ImageSummary => ({
  id: 41,
  projectId: 1,
  path: '/p/generations/job3_02_101.png',
  fileName: 'job3_02_101.png',
  thumbPath: null,
  previewPath: null,
  width: 64,
  height: 64,
  rating: 0,
  flag: 'pick',
  label: 'none',
  seed: 101,
  createdAt: '',
  jobId: 3,
  prompt: null,
  sharpness: null,
  colour: null,
  ...patch,
});

describe('the Draft toggle', () => {
  it('says which fast mode and settings it uses: LCM-LoRA on SD 1.5 when one is installed', () => {
    const plan = draftPlan(form(), models(['lcm-lora-sdv1-5', 'TypoTexture']));
    expect(plan.label).toBe('Draft · LCM-LoRA · 6 steps · CFG 1.5');
    expect(plan.choice.settings).toEqual({ sampler: 'LCM', scheduleType: 'SGM Uniform', steps: 6, cfg: 1.5 });
    expect(plan.choice.loraTag).toBe('<lora:lcm-lora-sdv1-5:1>');
  });

  it('without a fast LoRA, is a quick draft at 10 steps with the note saying what to install', () => {
    const plan = draftPlan(form(), models());
    expect(plan.label).toBe('Draft · quick · 10 steps · CFG 7');
    expect(plan.choice.note).toMatch(/No fast mode is installed for this SD 1\.x model.*lcm-lora-sdv1-5/);
    // An SDXL model gets SDXL's advice, and never the SD 1.5 LoRA.
    const xl = draftPlan(form({ model: 'SDXL base' }), models(['lcm-lora-sdv1-5']));
    expect(xl.choice.mode).toBe('quick');
    expect(xl.choice.note).toMatch(/SDXL.*lightning/i);
  });

  it('switches the queued settings and puts the fast LoRA in the prompt, before a final --ar', () => {
    const { choice } = draftPlan(form(), models(['lcm-lora-sdv1-5']));
    const full = { ...BRAND_LOOP_PRESET.settings, model: 'Stable Diffusion 1.5' };
    const drafted = asDraft(full, 'portrait, teal --ar 4:5', choice);
    expect(drafted.settings).toEqual({ ...full, sampler: 'LCM', scheduleType: 'SGM Uniform', steps: 6, cfg: 1.5 });
    expect(drafted.prompt).toBe('portrait, teal, <lora:lcm-lora-sdv1-5:1> --ar 4:5');
    expect(withLoraTag('portrait <lora:LCM-LoRA-SDv1-5:0.7>', '<lora:lcm-lora-sdv1-5:1>', 'lcm-lora-sdv1-5')).toBe(
      'portrait <lora:LCM-LoRA-SDv1-5:0.7>',
    );
    expect(withLoraTag('', '<lora:x:1>', 'x')).toBe('<lora:x:1>');
  });
});

describe('Refine', () => {
  it("takes the draft's fast LoRA out of its prompt and keeps the designer's own", () => {
    expect(refinePrompt('portrait, teal, <lora:lcm-lora-sdv1-5:1>')).toBe('portrait, teal');
    expect(refinePrompt('<lora:sdxl_lightning_4step_lora:1>, portrait <lora:TypoTexture:0.4>')).toBe('portrait <lora:TypoTexture:0.4>');
    expect(refinePrompt('portrait <lora:TypoTexture:0.4>')).toBe('portrait <lora:TypoTexture:0.4>');
  });

  it("queues the draft's seed at the form's full settings, batch 1, in the draft's model and size", () => {
    const result = refineRequest(image(), job(), form({ steps: '30', cfg: '6.5' }), { mode: 'seed', strength: '0.5' }, 1);
    expect(result).toEqual({
      input: {
        projectId: 1,
        prompt: 'portrait, teal',
        negativePrompt: 'text',
        settings: {
          model: 'Stable Diffusion 1.5',
          sampler: 'DPM++ 2M Karras',
          steps: 30,
          cfg: 6.5,
          width: 64,
          height: 64,
          aspect: '1:1',
          loraWeight: 0.8,
          batchSize: 1,
        },
        batches: 1,
        seed: 101,
        refines: 41,
      },
    });
  });

  it('as img2img, starts from the draft image at the strength; a strength out of 0.05–1 is named', () => {
    const result = refineRequest(image(), job(), form(), { mode: 'img2img', strength: '0.35' }, 1);
    expect(result).toMatchObject({ input: { init: { imageId: 41, strength: 0.35 }, refines: 41, seed: 101 } });
    expect(refineRequest(image(), job(), form(), { mode: 'img2img', strength: '0.01' }, 1)).toEqual({
      error: 'Strength must be a number from 0.05 to 1',
    });
  });

  it('refuses an image that is not a draft, and a form with a wrong field, by name', () => {
    expect(refineRequest(image(), job({ draft: false }), form(), { mode: 'seed', strength: '0.5' }, 1)).toEqual({
      error: 'job3_02_101.png is not a draft: Refine works on images made with Draft on.',
    });
    expect(refineRequest(image(), job(), form({ steps: '0' }), { mode: 'seed', strength: '0.5' }, 1)).toEqual({
      error: 'Generate form: Steps must be from 1 to 150',
    });
  });

  it('marks the images of draft jobs and of refine jobs', () => {
    const jobs = [job(), job({ id: 4, draft: false, refines: 41 }), job({ id: 5, draft: false })];
    expect([3, 4, 5, null].map((id) => jobOrigin(jobs, id))).toEqual(['draft', 'refined', null, null]);
  });
});

describe('sizes by model family', () => {
  it("turns a family's bucket into the selected family's, and leaves a size typed by hand", () => {
    expect(familySize('9:16', 576, 1024, 'sdxl')).toEqual({ width: 768, height: 1344 });
    expect(familySize('9:16', 768, 1344, 'sd1')).toEqual({ width: 576, height: 1024 });
    expect(familySize('4:5', 512, 640, 'sdxl')).toEqual({ width: 896, height: 1152 });
    expect(familySize('1:1', 64, 64, 'sdxl')).toBeNull();
    expect(familySize('9:16', 576, 1024, 'sd1')).toBeNull();
    expect(resolveSize(form(), 'sdxl')).toEqual({ width: '768', height: '1344' });
  });

  it('applies the Brand loop at 576×1024 on SD 1.x and 768×1344 on SDXL, unedited either way', () => {
    const sd1 = applyPreset(form(), BRAND_LOOP_PRESET, 'sd1');
    const xl = applyPreset(form(), BRAND_LOOP_PRESET, 'sdxl');
    expect([sd1.width, sd1.height, xl.width, xl.height]).toEqual(['576', '1024', '768', '1344']);
    expect(matchesPreset(xl, BRAND_LOOP_PRESET, 'sdxl')).toBe(true);
    expect(matchesPreset(xl, BRAND_LOOP_PRESET, 'sd1')).toBe(false);
  });
});
