/**
 * The model library in Debian's Chromium through the browser host, from an EMPTY models folder:
 * the first-run choices (Generate panel, status bar), generating refused with its reason, the
 * import and models-folder dialogs, a catalogue download whose content is not the one Onbrand
 * knows refused in words, then a repository pasted in the library downloaded from a local
 * imitation of the Hugging Face Hub (throttled, so bytes, speed and time left show), carried
 * across a restart of the app, paused and resumed, installed and selected; one image generated
 * with it; and its removal. Screenshots: e2e/artifacts/models-first-run.png,
 * models-downloading.png, models-library.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLdmCheckpoint } from '../src-main/core/diffusion/testing/ldm-checkpoint.js';
import { tinyArchConfig, writeTinySdArch } from '../src-main/core/diffusion/testing/tiny-sd-arch.js';
import { startHubImitation, type HubImitation } from '../src-main/core/models/testing/hub-imitation.js';
import { createProjectByKeyboard, launchBrowser, screenshot, startApp, tempDir, watchErrors, type RunningApp } from './support/app.js';

let hub: HubImitation;
let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let dataDir: string;
let modelsDir: string;
let checkpointBytes: number;

/** The host on this run's data and (empty) models folder, downloading from the imitation. */
function startHost(): Promise<RunningApp> {
  return startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', dataDir], {
    ONBRAND_MODELS_DIR: modelsDir,
    HF_ENDPOINT: hub.url,
    HF_TOKEN: '',
  });
}

beforeAll(async () => {
  const root = tempDir('models');
  dataDir = path.join(root, 'app');
  modelsDir = path.join(root, 'models');
  fs.mkdirSync(modelsDir, { recursive: true });
  // A real tiny SD 1.x checkpoint (LDM key names, one .safetensors) and the CLIP tokenizer the
  // import fetches for it, served as the Hub serves them.
  const arch = writeTinySdArch(path.join(root, 'src', 'arch'), { seed: 3 });
  const vocabJson = fs.readFileSync(path.join(arch, 'tokenizer', 'vocab.json'));
  const config = tinyArchConfig(Object.keys(JSON.parse(vocabJson.toString('utf8')) as object).length);
  const file = path.join(root, 'src', 'tiny.safetensors');
  writeLdmCheckpoint(file, config, 'sd1');
  const checkpoint = fs.readFileSync(file);
  checkpointBytes = checkpoint.length;
  hub = await startHubImitation({
    repos: {
      'test/tiny': { revisions: { main: { 'tiny.safetensors': checkpoint, 'README.md': '# tiny' } } },
      'openai/clip-vit-large-patch14': {
        revisions: { main: { 'vocab.json': vocabJson, 'merges.txt': fs.readFileSync(path.join(arch, 'tokenizer', 'merges.txt')) } },
      },
      // The catalogue's SD 1.5 repository, holding a file that is not the real one.
      'Comfy-Org/stable-diffusion-v1-5-archive': { revisions: { main: { 'v1-5-pruned-emaonly-fp16.safetensors': checkpoint } } },
    },
  });
  app = await startHost();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url });
  errors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await hub?.close();
});

const panel = () => page.getByTestId('side-panel');
const firstRun = () => panel().getByTestId('first-run');
const library = () => page.getByTestId('model-library');
const focusInside = (testId: string): Promise<boolean> =>
  page.evaluate((id) => document.querySelector(`[data-testid="${id}"]`)?.contains(document.activeElement) ?? false, testId);

/** Leaves text fields, so that the app's single keys (Shift+M) work. */
async function leaveFields(): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
}

describe('model library', () => {
  it('first run: with no model, the start screen, the status bar and the Generate panel offer the three ways', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await page.getByTestId('no-model-hint').waitFor();
    await expect.poll(() => page.getByTestId('engine-label').textContent()).toMatch(/^No model installed/);
    await expect.poll(() => page.getByTestId('model-status').textContent()).toBe('Get a model…');

    await createProjectByKeyboard(page, 'First run');
    await page.keyboard.press('Control+g');
    await firstRun().waitFor();
    await expect.poll(() => firstRun().getByRole('heading').textContent()).toBe('No Stable Diffusion model yet');
    const download = firstRun().getByRole('button', { name: 'Download Stable Diffusion 1.5' });
    await expect.poll(() => download.isEnabled()).toBe(true);
    const note = (await firstRun().locator('li').first().textContent()) ?? '';
    expect(note).toContain('2.1 GB');
    const licence = firstRun().getByRole('link', { name: 'CreativeML OpenRAIL-M licence' });
    await expect.poll(() => licence.getAttribute('href')).toMatch(/^https:\/\//);
    await firstRun().getByRole('button', { name: 'Import a checkpoint…' }).waitFor();
    await firstRun().getByRole('button', { name: 'Use a model folder…' }).waitFor();

    // Generating is off, with its reason, and Ctrl+Enter says the same instead of failing.
    const queue = panel().getByRole('button', { name: 'Queue', exact: true });
    await expect(queue.isDisabled()).resolves.toBe(true);
    await expect.poll(() => queue.getAttribute('title')).toMatch(/needs a Stable Diffusion model/);
    await panel().getByTestId('generate-blocked').waitFor();
    await panel().getByRole('textbox', { name: 'Prompt', exact: true }).fill('portrait, teal rim light');
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => panel().getByTestId('generate-error').textContent()).toMatch(/download or import one/);
    await expect(panel().locator('[data-testid="job"]').count()).resolves.toBe(0);
    await screenshot(page, 'models-first-run');
  });

  it('"Use a model folder…" shows where to put one; Esc closes and gives the focus back', async () => {
    const button = firstRun().getByRole('button', { name: 'Use a model folder…' });
    await button.click();
    const dialog = page.getByRole('dialog', { name: 'Use a model folder' });
    await expect.poll(() => dialog.getByTestId('folder-models-dir').textContent()).toBe(modelsDir);
    await dialog.getByRole('button', { name: 'Look again' }).click();
    await expect.poll(() => dialog.getByRole('status').textContent()).toMatch(/No model found yet/);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await expect(button.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
  });

  it('the import dialog refuses a .ckpt in words, names the model from the file, and keeps the focus inside', async () => {
    await firstRun().getByRole('button', { name: 'Import a checkpoint…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import a model' });
    const source = dialog.getByLabel('Checkpoint file or model folder');
    await expect(source.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await expect.poll(() => dialog.textContent()).toMatch(/\.ckpt.*refused/);

    await source.fill('/home/me/Downloads/v1-5-pruned.ckpt');
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => dialog.getByTestId('import-error').textContent()).toMatch(/pickled PyTorch file.*can run/);

    await source.fill('/home/me/Downloads/dreamshaper_8.safetensors');
    await expect.poll(() => dialog.getByLabel('Name', { exact: true }).inputValue()).toBe('dreamshaper_8');
    // A missing file is the core's to refuse: the task fails with its reason, here in the dialog.
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => dialog.locator('[data-testid="model-task"]').getAttribute('data-state')).toBe('failed');
    await expect.poll(() => dialog.getByTestId('model-task-detail').textContent()).toMatch(/does not exist/);
    await dialog.getByRole('button', { name: 'Clear dreamshaper_8 from the list' }).click();

    // Tab and Shift+Tab stay within the dialog.
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      expect(await focusInside('import-model')).toBe(true);
    }
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Shift+Tab');
      expect(await focusInside('import-model')).toBe(true);
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it("refuses the catalogue's SD 1.5 when the Hub's file is not the one Onbrand knows, in words", async () => {
    await firstRun().getByRole('button', { name: 'Download Stable Diffusion 1.5' }).click();
    const row = firstRun().locator('[data-testid="model-task"]');
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 30_000 }).toBe('failed');
    await expect
      .poll(() => row.getByTestId('model-task-detail').textContent())
      .toMatch(/SHA-256 [0-9a-f]+, not the e9476a13.*repository changed\. Nothing was installed\./);
    await expect.poll(() => page.getByTestId('engine-label').textContent()).toMatch(/^No model installed/);
    // Discard deletes what was fetched and takes it off the list.
    await row.getByRole('button', { name: 'Discard the download of Stable Diffusion 1.5' }).click();
    await row.waitFor({ state: 'detached' });
    expect(fs.readdirSync(modelsDir).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('downloads a repository pasted in the library (Shift+M), with bytes, speed and time left', async () => {
    hub.setFault({ file: 'tiny.safetensors', bytesPerSecond: Math.ceil(checkpointBytes / 20) });
    await leaveFields();
    await page.keyboard.press('Shift+M');
    await library().waitFor();
    await expect(focusInside('model-library')).resolves.toBe(true);
    await library().getByTestId('no-installed-models').waitFor();
    await expect.poll(() => library().locator('[data-testid="catalog-entry"]').count()).toBeGreaterThan(0);
    await library().getByLabel('Repository or link').fill('test/tiny');
    await library().getByRole('button', { name: 'Download', exact: true }).click();

    const row = library().locator('[data-testid="model-task"][data-kind="download"]');
    await expect.poll(() => row.getAttribute('data-state')).toBe('running');
    await expect
      .poll(() => row.getByTestId('model-task-detail').textContent(), { timeout: 20_000 })
      .toMatch(/^[\d.]+ (KB|MB) of [\d.]+ (KB|MB) · [\d.]+ (KB|MB)\/s · \d+ s left$/);
    await expect.poll(() => row.getByTestId('model-task-phase').textContent()).toBe('Downloading tiny.safetensors');
    await expect.poll(() => page.getByTestId('model-status').textContent()).toMatch(/^Downloading tiny · \d+ % · .*\/s · \d+ s left$/);
    await expect
      .poll(async () => Number(await row.getAttribute('data-bytes-done')), { timeout: 20_000 })
      .toBeGreaterThan(checkpointBytes / 6);
    await screenshot(page, 'models-downloading');
  });

  it('goes on after the app restarts; Cancel keeps what was fetched and Resume finishes; the model is selected', async () => {
    const row = (): ReturnType<Page['locator']> => library().locator('[data-testid="model-task"][data-kind="download"]');
    await expect
      .poll(async () => Number(await row().getAttribute('data-bytes-done')), { timeout: 20_000 })
      .toBeGreaterThan(checkpointBytes / 5);
    const taskId = await row().getAttribute('data-task-id');

    // The app quits midway and starts again: the download resumes by itself, and a fresh page shows
    // it. (The page leaves first, so that its event socket does not knock on a closed port.)
    await page.goto('about:blank');
    await app.stop();
    app = await startHost();
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await expect.poll(() => page.getByTestId('model-status').getAttribute('data-state')).toBe('busy');
    await page.getByTestId('model-status').click();
    await library().waitFor();
    await expect.poll(() => row().getAttribute('data-task-id')).toBe(taskId);
    await expect.poll(() => row().getAttribute('data-state')).toBe('running');
    await expect.poll(async () => Number(await row().getAttribute('data-bytes-done'))).toBeGreaterThan(checkpointBytes / 5);

    await row()
      .getByRole('button', { name: /^Cancel the download of/ })
      .click();
    await expect.poll(() => row().getAttribute('data-state')).toBe('cancelled');
    await expect.poll(() => row().getByTestId('model-task-detail').textContent()).toMatch(/^Paused at .* Resume goes on from there\.$/);
    expect(fs.readdirSync(path.join(modelsDir, '.downloads'))).toEqual([taskId]);

    hub.setFault(undefined);
    await row()
      .getByRole('button', { name: /^Resume the download of/ })
      .click();
    await expect.poll(() => row().getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    await expect.poll(() => row().getByTestId('model-task-detail').textContent()).toBe('Installed as “tiny”.');

    // Listed with what it is and where it came from, and selected for generation.
    const installed = library().locator('[data-testid="installed-model"][data-model="tiny"]');
    await installed.waitFor();
    const text = (await installed.textContent()) ?? '';
    expect(text).toContain('SD 1.x');
    expect(text).toMatch(/test\/tiny@[0-9a-f]{40}/);
    await installed.getByText('Selected').waitFor();
    await screenshot(page, 'models-library');
    await page.keyboard.press('Escape');
    await library().waitFor({ state: 'detached' });
    await expect.poll(() => page.getByTestId('model-status').count()).toBe(0);
  });

  it('generates with the downloaded model', async () => {
    if ((await panel().count()) === 0) {
      await leaveFields();
      await page.keyboard.press('Control+g');
    }
    await expect.poll(() => panel().getByLabel('Model', { exact: true }).inputValue()).toBe('tiny');
    await expect(panel().getByTestId('first-run').count()).resolves.toBe(0);
    await panel().getByRole('textbox', { name: 'Prompt', exact: true }).fill('abstract shape, teal rim light');
    await panel().getByLabel('Width').fill('64');
    await panel().getByLabel('Height').fill('64');
    await panel().getByLabel('Steps').fill('2');
    await panel().getByLabel('Batch size').fill('1');
    await panel().getByLabel('Batches').fill('1');
    await panel().getByRole('button', { name: 'Queue', exact: true }).click();
    await expect.poll(() => page.getByTestId('image-count').textContent(), { timeout: 60_000 }).toBe('1 image');
  });

  it('removes a model after a confirmation; the first-run choices come back', async () => {
    await page.getByRole('button', { name: 'Models', exact: true }).click();
    const installed = library().locator('[data-testid="installed-model"][data-model="tiny"]');
    await installed.getByRole('button', { name: 'Remove tiny…' }).click();
    // The confirmation takes the focus; Keep leaves the model.
    const confirm = installed.getByRole('button', { name: 'Remove tiny', exact: true });
    await expect(confirm.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await installed.getByRole('button', { name: 'Keep' }).click();
    await installed.getByRole('button', { name: 'Remove tiny…' }).click();
    await confirm.click();
    await library().getByTestId('no-installed-models').waitFor();
    expect(fs.existsSync(path.join(modelsDir, 'tiny'))).toBe(false);
    await page.keyboard.press('Escape');
    await panel().getByTestId('first-run').waitFor();
  });

  it('had no console errors and no CSP violations', () => {
    expect(errors).toEqual([]);
  });
});
