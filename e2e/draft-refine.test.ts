/**
 * Draft and Refine (issue 19) in Debian's Chromium through the browser host, with a tiny Stable
 * Diffusion model and a tiny LoRA named as the LCM-LoRA for SD 1.5: the Generate panel's sizes
 * follow the selected model's family (SDXL's buckets for an SDXL model, the Brand loop unchanged on
 * either); the Draft toggle, reached and switched from the keyboard, says the fast mode and its
 * settings and queues drafts, whose images are marked Draft in the grid and the loupe's info and
 * carry the fast settings in their parameters; R refines a picked draft from its seed at the form's
 * full settings, and the Refine panel's img2img refines it from the draft image at a strength.
 * Screenshots: e2e/artifacts/draft-toggle-on.png and refined-pair.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageInfo, ImageSummary, Job } from '../src-main/core/api/index.js';
import { encodeSafetensors } from '../src-main/core/diffusion/index.js';
import { writeTinySd } from '../src-main/core/diffusion/testing/tiny-sd.js';
import { writeSdxlOnnx } from '../src-main/core/diffusion/testing/tiny-sdxl.js';
import { callApi, createProjectByKeyboard, openHost, screenshot, tempDir, type RunningApp } from './support/app.js';

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let projectId: number;

const LCM = 'lcm-lora-sdv1-5';
const PROMPT = 'abstract shape, teal rim light';

/** A kohya LoRA for the tiny model (attention to_k), named as the LCM-LoRA for SD 1.5 is once renamed. */
function writeTinyLcmLora(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const values = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 0.3);
  const key = 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k';
  const tensors = {
    [`${key}.lora_down.weight`]: { dtype: 'F32' as const, shape: [2, 16], data: values(32, 1) },
    [`${key}.lora_up.weight`]: { dtype: 'F32' as const, shape: [4, 2], data: values(8, 2) },
    [`${key}.alpha`]: { dtype: 'F32' as const, shape: [], data: Float32Array.of(2) },
  };
  fs.writeFileSync(path.join(dir, `${LCM}.safetensors`), encodeSafetensors(tensors, { ss_network_module: 'networks.lora' }));
}

beforeAll(async () => {
  const data = tempDir('draft-refine');
  const modelsDir = path.join(data, 'models');
  writeTinySd(path.join(modelsDir, 'tiny-sd'));
  // A tiny SDXL (two text encoders, the text_time UNet), which the library tells by its UNet's config.
  writeSdxlOnnx(path.join(modelsDir, 'tiny-xl'));
  writeTinyLcmLora(path.join(modelsDir, 'loras'));
  ({ app, browser, page, errors } = await openHost(path.join(data, 'app'), { ONBRAND_MODELS_DIR: modelsDir }));
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const panel = () => page.getByTestId('side-panel');
const images = (): Promise<ImageSummary[]> => callApi<ImageSummary[]>(app, 'images.list', { projectId });
const info = (imageId: number) => callApi<ImageInfo>(app, 'images.info', { imageId });
const jobs = () => callApi<Job[]>(app, 'queue.list', { projectId });
const cell = (imageId: number) => page.locator(`.cell[data-image-id="${imageId}"]`);

describe('Draft and Refine', () => {
  it("sizes the aspects by the selected model's family: SDXL's buckets, the Brand loop on either", async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await createProjectByKeyboard(page, 'Drafts');
    projectId = (await callApi<{ id: number; name: string }[]>(app, 'projects.list', {})).find((p) => p.name === 'Drafts')!.id;
    await page.keyboard.press('Control+g');
    await panel().waitFor();
    const p = panel();
    const width = p.getByLabel('Width');
    const height = p.getByLabel('Height');
    await expect.poll(() => p.getByLabel('Model').inputValue()).toBe('tiny-sd');
    await expect.poll(() => p.getByLabel('Preset').inputValue()).toBe('Brand loop');
    await expect.poll(() => height.inputValue()).toBe('1024');

    await p.getByLabel('Model').selectOption('tiny-xl');
    await expect.poll(() => width.inputValue()).toBe('768');
    await expect.poll(() => height.inputValue()).toBe('1344');
    await expect.poll(() => p.getByTestId('size-family').textContent()).toBe('SDXL sizes · 9:16 is 768×1344');
    // Still the Brand loop: its 9:16 is SDXL's bucket on an SDXL model.
    await expect(p.getByText('(edited)').count()).resolves.toBe(0);
    await p.getByRole('button', { name: '4:5' }).click();
    await expect.poll(async () => `${await width.inputValue()}×${await height.inputValue()}`).toBe('896×1152');
    await p.getByLabel('Preset').selectOption('Brand loop');
    await expect.poll(async () => `${await width.inputValue()}×${await height.inputValue()}`).toBe('768×1344');

    await p.getByLabel('Model').selectOption('tiny-sd');
    await expect.poll(async () => `${await width.inputValue()}×${await height.inputValue()}`).toBe('576×1024');
    await expect(p.getByText('(edited)').count()).resolves.toBe(0);
  });

  it('Draft, switched from the keyboard, says its fast mode and settings and queues drafts marked Draft with the fast settings', async () => {
    const p = panel();
    await p.getByRole('textbox', { name: 'Prompt', exact: true }).fill(PROMPT);
    await p.getByLabel('Width').fill('64');
    await p.getByLabel('Height').fill('64');
    await p.getByLabel('Steps').fill('4');
    await p.getByLabel('Batch size').fill('2');
    await p.getByLabel('Batches').fill('1');
    await p.getByLabel('Seed').fill('500');

    const toggle = p.getByRole('switch');
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('false');
    await expect.poll(() => p.getByTestId('draft-label').textContent()).toBe('Draft · LCM-LoRA · 6 steps · CFG 1.5');
    // Reached with Tab from the seed, switched with Space.
    await p.getByLabel('Seed').focus();
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.getAttribute('role'))).resolves.toBe('switch');
    await page.keyboard.press('Space');
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('true');
    await expect
      .poll(() => p.getByTestId('draft-note').textContent())
      .toBe(`Drafts run with LCM-LoRA (${LCM}): LCM, SGM Uniform, 6 steps, CFG 1.5. The prompt gets <lora:${LCM}:1>.`);
    // The fields keep the full settings (Refine uses them).
    await expect.poll(() => p.getByLabel('Steps').inputValue()).toBe('4');
    await expect.poll(() => p.getByTestId('queue-summary').textContent()).toBe('Drafts: 1 × 2 = 2 images');
    await screenshot(page, 'draft-toggle-on');

    await p.getByRole('button', { name: 'Queue drafts' }).click();
    await expect.poll(async () => (await images()).length, { timeout: 60_000 }).toBe(2);
    const [job] = await jobs();
    expect(job).toMatchObject({ draft: true, refines: null, init: null, prompt: `${PROMPT}, <lora:${LCM}:1>` });
    expect(job!.settings).toMatchObject({ sampler: 'LCM', scheduleType: 'SGM Uniform', steps: 6, cfg: 1.5 });
    for (const image of await images()) {
      const g = (await info(image.id)).generation!;
      expect(g).toMatchObject({ sampler: 'LCM', steps: 6, cfg: 1.5, seed: image.seed, loras: [{ name: LCM, weight: 1 }] });
      await expect.poll(() => cell(image.id).getByTestId('draft-mark').textContent()).toBe('Draft');
    }
  });

  it('R refines the picked draft from its seed at the full settings, batch 1, marked Refined', async () => {
    const draft = (await images()).find((i) => i.seed === 501)!;
    await cell(draft.id).click();
    await page.keyboard.press('p');
    await page.keyboard.press('l');
    await page.getByTestId('loupe').waitFor();
    await page.keyboard.press('i');
    const facts = page.getByTestId('info-panel');
    await expect.poll(() => facts.locator('[data-field="draft"]').textContent()).toContain('Draft');
    await expect.poll(() => facts.locator('[data-field="steps"] dd').textContent()).toBe('6');
    // The draft's schedule type, as its parameters say (A1111's "Schedule type").
    await expect.poll(() => facts.locator('[data-field="schedule"] dd').textContent()).toBe('SGM Uniform');
    await expect.poll(() => page.getByTestId('refine-panel').locator('h3').textContent()).toContain(draft.fileName);

    await page.keyboard.press('r');
    await expect.poll(() => page.getByTestId('refine-message').textContent()).toBe('Refining 1 draft (same seed, full settings).');
    await expect.poll(async () => (await images()).length, { timeout: 60_000 }).toBe(3);
    const refined = (await images()).find((i) => i.jobId !== draft.jobId)!;
    const job = (await jobs()).find((j) => j.id === refined.jobId)!;
    expect(job).toMatchObject({ draft: false, refines: draft.id, init: null, batchSize: 1, prompt: PROMPT });
    const g = (await info(refined.id)).generation!;
    expect(g).toMatchObject({ sampler: 'DPM++ 2M Karras', steps: 4, cfg: 7, seed: 501, width: 64, height: 64, denoisingStrength: null });
    expect(g.loras).toEqual([]);
    await page.keyboard.press('g');
    await expect.poll(() => cell(refined.id).getByTestId('draft-mark').textContent()).toBe('Refined');
    // The loupe of the draft stays where it was: new images never move the selection.
    await expect.poll(() => page.locator('.cell.selected').getAttribute('data-image-id')).toBe(String(draft.id));
  });

  it('Refine as img2img starts from the draft at the strength chosen (a strength out of range is named first)', async () => {
    const draftJob = (await jobs()).find((j) => j.draft)!;
    const draft = (await images()).find((i) => i.seed === 501 && i.jobId === draftJob.id)!;
    const refine = page.getByTestId('refine-panel');
    await refine.getByRole('radio', { name: 'img2img' }).click();
    const strength = refine.getByLabel('Strength');
    await expect.poll(() => strength.inputValue()).toBe('0.5');
    await strength.fill('0.01');
    await expect.poll(() => refine.getByTestId('field-error').textContent()).toContain('Strength must be a number from 0.05 to 1');
    await expect(refine.getByRole('button', { name: 'Refine' }).isDisabled()).resolves.toBe(true);
    await strength.fill('0.35');
    await refine.getByRole('button', { name: 'Refine' }).click();
    await expect.poll(() => refine.getByTestId('refine-message').textContent()).toBe('Refining 1 draft (img2img at strength 0.35).');
    await expect.poll(async () => (await images()).length, { timeout: 60_000 }).toBe(4);
    const all = await images();
    const job = (await jobs()).find((j) => j.init !== null)!;
    expect(job).toMatchObject({ refines: draft.id, init: { imageId: draft.id, strength: 0.35 }, batchSize: 1 });
    const made = all.find((i) => i.jobId === job.id)!;
    const g = (await info(made.id)).generation!;
    expect(g).toMatchObject({ seed: 501, steps: 4, sampler: 'DPM++ 2M Karras', denoisingStrength: 0.35 });
    expect(g.parameters).toContain('Denoising strength: 0.35');

    // The refined pair, side by side: the draft and its img2img refine, with the info of the refine.
    await cell(draft.id).click();
    await cell(made.id).click({ modifiers: ['Control'] });
    await page.keyboard.press('c');
    await page.getByTestId('compare').waitFor();
    await expect.poll(() => page.getByTestId('compare').getByTestId('draft-mark').allTextContents()).toEqual(['Draft', 'Refined']);
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll<HTMLImageElement>('[data-testid="compare"] img')).every(
        (img) => img.complete && img.naturalWidth > 0,
      ),
    );
    // Fit to their panes, the images are drawn once decoded (the thumbnails show until then).
    await expect.poll(() => page.locator('[data-testid="compare-image"][data-loaded="true"]').count()).toBe(2);
    await screenshot(page, 'refined-pair');
    await page.keyboard.press('g');
    await cell(made.id).click();
    await page.keyboard.press('l');
    await expect
      .poll(() => page.getByTestId('info-panel').locator('[data-field="refined"] dd').textContent())
      .toBe(`${draft.fileName} (img2img at strength 0.35)`);
    const origins = page.getByTestId('side-panel').getByTestId('job-origin');
    await expect.poll(() => origins.allTextContents()).toEqual(['Refine · img2img 0.35', 'Refine', 'Draft']);
  });

  it('R in the grid with the panel closed says what it did in the notice, and names an image that is not a draft', async () => {
    await page.keyboard.press('g');
    await page.keyboard.press('Control+g');
    await page.getByTestId('side-panel').waitFor({ state: 'detached' });
    const all = await images();
    const draftJob = (await jobs()).find((j) => j.draft)!;
    const refined = all.find((i) => i.jobId !== draftJob.id)!;
    await cell(refined.id).click();
    await page.keyboard.press('r');
    await expect
      .poll(() => page.getByTestId('notice').textContent())
      .toContain(`${refined.fileName} is not a draft: Refine works on images made with Draft on.`);
    const first = all.find((i) => i.jobId === draftJob.id && i.seed === 500)!;
    await cell(first.id).click();
    await page.keyboard.press('r');
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('Refining 1 draft (img2img at strength 0.35).');
    await expect.poll(async () => (await images()).length, { timeout: 60_000 }).toBe(5);
    const job = (await jobs()).find((j) => j.refines === first.id)!;
    expect(job).toMatchObject({ init: { imageId: first.id, strength: 0.35 }, seed: 500 });
    expect(errors).toEqual([]);
  });

  it('generates with an SDXL model from the Generate panel: both text encoders, its own sizes, the image says its model', async () => {
    await page.keyboard.press('g');
    await page.keyboard.press('Control+g');
    const p = panel();
    await p.waitFor();
    await p.getByLabel('Model').selectOption('tiny-xl');
    await expect.poll(() => p.getByTestId('size-family').textContent()).toContain('SDXL sizes');
    const toggle = p.getByRole('switch');
    if ((await toggle.getAttribute('aria-checked')) === 'true') await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('false');
    await p.getByRole('textbox', { name: 'Prompt', exact: true }).fill('device close-up, (magenta neon:1.2), yellow accent');
    await p.getByLabel('Width').fill('64');
    await p.getByLabel('Height').fill('64');
    await p.getByLabel('Steps').fill('3');
    await p.getByLabel('Batch size').fill('1');
    await p.getByLabel('Batches').fill('1');
    await p.getByLabel('Seed').fill('900');
    const before = (await images()).length;
    await p.getByRole('button', { name: /^Queue/ }).click();
    await expect.poll(async () => (await images()).length, { timeout: 120_000 }).toBe(before + 1);
    const made = (await images()).find((i) => i.seed === 900)!;
    const g = (await info(made.id)).generation!;
    expect(g).toMatchObject({ seed: 900, steps: 3, width: 64, height: 64 });
    expect(g.parameters).toContain('Model: tiny-xl');
    await expect.poll(() => page.getByTestId('engine-status').textContent()).toContain('tiny-xl');
    expect(errors).toEqual([]);
  });
});
