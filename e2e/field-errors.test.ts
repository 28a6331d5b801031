/**
 * Every field says what is wrong before anything is queued or written, in the designer's words,
 * beside the field (aria-invalid, aria-describedby) with the nearest value that passes offered as
 * a button — in Debian's Chromium through the browser host, with a tiny Stable Diffusion model and
 * one installed LoRA (issue 18, items 2, 3 and 10):
 * - Generate form: width 99999 / 0 / −64 / 577 were clamped or rounded without a word; now named,
 *   kept as typed, and fixed only by the offered button; `<lora:nope:1>` is named at once (three
 *   jobs failed later); "Queued 1 batch (1 image)." (was "(1 images)").
 * - Composer: `--ar 9:0` previewed fine and failed when queued, `--ar 1:99` was an HTTP 500 that
 *   dropped jobs; now the template says where and offers `--ar 1:16`; the core refuses both too.
 * - Messages: "Give the project a name", "Slot width must be 64–8192 px" (were "projects.create:
 *   name: …", "sections.save: slotWidth: …").
 * - Export: `{nope}_{seed}.jpg` became `nope-_1247.jpg`; now an error naming the tokens, and a live
 *   preview of the first file's name, which is the name the export writes.
 * Screenshot: e2e/artifacts/field-errors.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportReport, ImageSummary, Job, Project } from '../src-main/core/api/index.js';
import { writeTinySd } from '../src-main/core/diffusion/testing/tiny-sd.js';
import { launchBrowser, screenshot, startApp, tempDir, watchErrors, type RunningApp } from './support/app.js';

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let project: Project;

beforeAll(async () => {
  const data = tempDir('field-errors');
  const modelsDir = path.join(data, 'models');
  writeTinySd(path.join(modelsDir, 'tiny-sd'));
  // One installed LoRA: the checks compare names with the folder's files.
  fs.mkdirSync(path.join(modelsDir, 'loras'), { recursive: true });
  fs.writeFileSync(path.join(modelsDir, 'loras', 'FluxPortraitTrainer.safetensors'), '');
  app = await startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', path.join(data, 'app')], { ONBRAND_MODELS_DIR: modelsDir });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  errors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

/** The API's answer, or its error as { code, message, field }, with the HTTP status. */
async function api<T>(
  method: string,
  input: object,
): Promise<{ status: number; result?: T; error?: { code: string; message: string; field?: string } }> {
  const response = await fetch(new URL(`/api/${method}`, app.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-onbrand-token': app.token },
    body: JSON.stringify(input),
  });
  return { status: response.status, ...((await response.json()) as object) };
}

const panel = () => page.getByTestId('side-panel');
const composer = () => page.getByTestId('composer');

/** The message a field points at (aria-describedby), once it is marked invalid. */
async function messageOf(field: Locator): Promise<string> {
  await expect.poll(() => field.getAttribute('aria-invalid')).toBe('true');
  const id = (await field.getAttribute('aria-describedby'))!.split(' ')[0]!;
  return (await page.locator(`[id="${id}"]`).textContent()) ?? '';
}

const settings = {
  model: 'tiny-sd',
  sampler: 'Euler',
  steps: 2,
  cfg: 7,
  width: 64,
  height: 64,
  batchSize: 1,
  loraWeight: 0.8,
  aspect: '1:1',
};

describe('field errors', () => {
  it('names an empty project name in the app’s words (was "projects.create: name: must not be empty")', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await page.getByRole('button', { name: '+ New project' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New project' });
    await dialog.getByLabel('Name').fill('   ');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toBe('Give the project a name');
    await dialog.getByLabel('Name').fill('Field checks');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('empty-project').waitFor();
    await dialog.waitFor({ state: 'detached' });
    project = (await api<Project[]>('projects.list', {})).result!.find((p) => p.name === 'Field checks')!;
  });

  it('says what is wrong with a size beside the field, keeps what was typed, and applies the offered nearest size', async () => {
    await page.keyboard.press('Control+g');
    await expect.poll(() => panel().getByLabel('Model').inputValue()).toBe('tiny-sd');
    const width = panel().getByLabel('Width');
    const height = panel().getByLabel('Height');
    const rule = 'Width must be a multiple of 64 from 64 to 2048 px';

    for (const [typed, nearest] of [
      ['99999', '2048'],
      ['0', '64'],
      ['-64', '64'],
      ['577', '576'],
    ] as const) {
      await width.fill(typed);
      expect(await messageOf(width)).toBe(`${rule} — Use ${nearest}`);
      // Leaving the field changes nothing: the old form clamped 99999 to 2048 and 577 to 576 here, without a word.
      await panel().getByLabel('Steps').click();
      await expect.poll(() => width.inputValue()).toBe(typed);
    }
    await panel().getByRole('button', { name: 'Use 576' }).click();
    await expect.poll(() => width.inputValue()).toBe('576');
    await expect.poll(() => width.getAttribute('aria-invalid')).toBeNull();

    await height.fill('-64');
    expect(await messageOf(height)).toBe('Height must be a multiple of 64 from 64 to 2048 px — Use 64');
    await panel().getByRole('button', { name: 'Use 64' }).click();
    await expect.poll(() => height.inputValue()).toBe('64');
  });

  it('names a LoRA that is not installed beside the prompt, offers the installed one, and queues nothing', async () => {
    const prompt = panel().getByRole('textbox', { name: 'Prompt', exact: true });
    await prompt.fill('<lora:FluxPortrait:0.8>, teal glass');
    expect(await messageOf(prompt)).toBe('Prompt: no LoRA named "FluxPortrait" is installed — Use FluxPortraitTrainer');
    await panel().getByRole('button', { name: 'Use FluxPortraitTrainer' }).click();
    await expect.poll(() => prompt.inputValue()).toBe('<lora:FluxPortraitTrainer:0.8>, teal glass');
    await expect.poll(() => prompt.getAttribute('aria-invalid')).toBeNull();

    await prompt.fill('<lora:nope:1>, teal glass');
    expect(await messageOf(prompt)).toBe('Prompt: no LoRA named "nope" is installed (installed: FluxPortraitTrainer)');
    await panel().getByLabel('Width').fill('99999');
    // The shot shows both messages beside their fields: a taller window for it, then back to 1440×900.
    await page.setViewportSize({ width: 1440, height: 1180 });
    await page.locator('#generate-width-error').scrollIntoViewIfNeeded();
    await screenshot(page, 'field-errors');
    await page.setViewportSize({ width: 1440, height: 900 });

    await prompt.focus();
    await page.keyboard.press('Control+Enter');
    await panel().getByTestId('generate-error').waitFor();
    expect((await api<Job[]>('queue.list', {})).result).toEqual([]);

    // The core refuses the same on its own, as invalid_input in the same words (it took it, and three jobs failed later).
    const refused = await api('queue.add', {
      projectId: project.id,
      prompt: '<lora:nope:1>, teal glass',
      negativePrompt: '',
      settings,
      batches: 3,
    });
    expect(refused).toEqual({
      status: 400,
      error: {
        code: 'invalid_input',
        message: 'Prompt: no LoRA named "nope" is installed (installed: FluxPortraitTrainer)',
        field: 'prompt',
      },
    });
    const clamped = await api('queue.add', {
      projectId: project.id,
      prompt: 'teal',
      negativePrompt: '',
      settings: { ...settings, width: 99999 },
      batches: 1,
    });
    expect(clamped.error).toEqual({
      code: 'invalid_input',
      message: 'Width must be a multiple of 64 from 64 to 2048 px — use 2048?',
      field: 'settings.width',
    });
    expect((await api<Job[]>('queue.list', {})).result).toEqual([]);
  });

  it('queues one image and says so in the singular', async () => {
    await panel().getByRole('textbox', { name: 'Prompt', exact: true }).fill('teal glass, soft light');
    await panel().getByLabel('Width').fill('64');
    await panel().getByLabel('Steps').fill('2');
    await panel().getByLabel('Batch size').fill('1');
    await panel().getByLabel('Batches').fill('1');
    await expect(panel().locator('[aria-invalid="true"]').count()).resolves.toBe(0);
    await panel().getByRole('button', { name: 'Queue', exact: true }).click();
    await expect.poll(() => panel().getByTestId('queue-summary').textContent()).toBe('Queued 1 batch (1 image).');
    await expect.poll(() => page.getByTestId('image-count').textContent(), { timeout: 60_000 }).toBe('1 image');
  });

  it('checks the template’s --ar and LoRAs in the composer as the queue would, offering the nearest --ar', async () => {
    await page.keyboard.press('Control+k');
    await composer().waitFor();
    const template = composer().getByRole('textbox', { name: 'Template', exact: true });
    const queueButton = composer().getByRole('button', { name: /^Queue expansions/ });

    await template.fill('{teal|magenta} glow --ar 9:0');
    expect(await messageOf(template)).toBe('Template, character 21: --ar must be W:H with both sides from 1 to 99 (like 9:16), not "9:0"');
    await expect(queueButton.isDisabled()).resolves.toBe(true);

    await template.fill('{teal|magenta} glow --ar 1:99');
    expect(await messageOf(template)).toBe(
      'Template, character 21: --ar 1:99 makes 64×5120 px; the height must be at most 2048 px — Use --ar 1:16',
    );
    await expect(queueButton.isDisabled()).resolves.toBe(true);
    await composer().getByRole('button', { name: 'Use --ar 1:16' }).click();
    await expect.poll(() => template.inputValue()).toBe('{teal|magenta} glow --ar 1:16');
    await expect
      .poll(() => composer().locator('[data-testid="expand-count"][data-fresh="true"]').textContent())
      .toMatch(/^2 prompts × 1 = 2 images · --ar 1:16/);
    await expect(queueButton.isDisabled()).resolves.toBe(false);

    await template.fill('<lora:nope:1>, {teal|magenta} glow');
    expect(await messageOf(template)).toBe('Template: no LoRA named "nope" is installed (installed: FluxPortraitTrainer)');
    await expect(queueButton.isDisabled()).resolves.toBe(true);

    // The core: a queued `--ar 1:99` is invalid_input naming the prompt (it was an HTTP 500 after queueing the ones before it).
    const before = (await api<Job[]>('queue.list', {})).result!.length;
    const refused = await api('prompt.queue', {
      projectId: project.id,
      prompts: ['teal glow --ar 1:16', 'magenta glow', 'amber glow --ar 1:99'],
      negativePrompt: '',
      settings,
      batches: 1,
    });
    expect(refused).toEqual({
      status: 400,
      error: {
        code: 'invalid_input',
        message: 'Prompt 3 ("amber glow --ar 1:99"): --ar 1:99 makes 64×5120 px; the height must be at most 2048 px — use --ar 1:16?',
        field: 'prompts.2',
      },
    });
    const preview = await api('prompt.expand', { projectId: project.id, template: '{teal|magenta} glow --ar 9:0' });
    expect(preview.error?.message).toBe('Template, character 21: --ar must be W:H with both sides from 1 to 99 (like 9:16), not "9:0"');
    expect((await api<Job[]>('queue.list', {})).result!.length).toBe(before);
  });

  it('refuses an unknown export name token, naming the known ones, and previews the first file’s name', async () => {
    await page.keyboard.press('Control+k');
    await panel().waitFor({ state: 'detached' });
    const image = (await api<ImageSummary[]>('images.list', { projectId: project.id })).result![0]!;
    await page.locator(`.cell[data-image-id="${image.id}"]`).click();
    await page.keyboard.press('p');
    await expect.poll(async () => (await api<ImageSummary[]>('images.list', { projectId: project.id })).result![0]!.flag).toBe('pick');

    await page.keyboard.press('Control+e');
    const dialog = page.getByTestId('export-dialog');
    await dialog.getByLabel('Target').selectOption('folder');
    const name = dialog.getByLabel('Name template');
    await name.fill('{nope}_{seed}.jpg');
    expect(await messageOf(name)).toBe(
      'Name template: {nope} is not a token; the tokens are {yyyymmdd}, {section}, {colour}, {seed}, {rating}, {index}, {project}',
    );
    await expect(dialog.getByTestId('export-name-preview').count()).resolves.toBe(0);
    // Export waits until the template is right: the message beside the field says why, once.
    await expect(dialog.getByRole('button', { name: 'Export', exact: true }).isDisabled()).resolves.toBe(true);
    await expect(dialog.getByText('{nope} is not a token').count()).resolves.toBe(1);
    await expect(dialog.getByTestId('export-report').count()).resolves.toBe(0);

    await name.fill('{project}_{color}_{seed}');
    expect(await messageOf(name)).toMatch(/is not a token; .* — Use \{colour\}$/);
    await dialog.getByRole('button', { name: 'Use {colour}' }).click();
    await expect.poll(() => name.inputValue()).toBe('{project}_{colour}_{seed}');
    await name.fill('{project}_{seed}_{index}.jpg');
    const expected = `Field-checks_${image.seed}_01.jpg`;
    await expect.poll(() => dialog.getByTestId('export-name-preview').textContent()).toBe(`First file: ${expected}`);

    await dialog.getByRole('button', { name: 'Export', exact: true }).click();
    await dialog.getByTestId('export-report').waitFor();
    await expect(dialog.getByTestId('export-file-name').allTextContents()).resolves.toEqual([expected]);
    // The core refuses an unknown token too, before writing anything.
    const refused = await api<ExportReport>('export.run', {
      projectId: project.id,
      target: 'folder',
      selection: { kind: 'picks' },
      nameTemplate: '{nope}_{seed}.jpg',
      again: true,
    });
    expect(refused.error?.field).toBe('nameTemplate');
    await dialog.getByRole('button', { name: 'Done' }).click();
  });

  it('names a slot width out of range as the app does (was "sections.save: slotWidth: …")', async () => {
    await page.keyboard.press('Shift+S');
    const form = page.getByRole('form', { name: 'New section' });
    await form.getByLabel('New section name').fill('hero');
    await form.getByLabel('New section width').fill('99999');
    await form.getByRole('button', { name: 'Add section' }).click();
    await expect.poll(() => page.getByTestId('section-error').textContent()).toBe('Slot width must be 64–8192 px');
    // An invalid_input answer is an HTTP 400, which Chromium logs as a failed resource: those lines are expected.
    expect(errors.filter((e) => !e.includes('status of 400'))).toEqual([]);
  });
});
