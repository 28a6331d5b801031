/**
 * Layout (issue 18, item 6), in Debian's Chromium at 1440×900 through the browser host, with a
 * tiny Stable Diffusion model: disabled buttons look disabled (the main action too); on first run
 * the empty queue is one line, so the whole Generate form stays above the fold; a queue card shows
 * its settings in full on hover; the side panel collapses to a rail (button, F8) and comes back as
 * it was left. Screenshots: e2e/artifacts/first-run-empty-queue.png, queue-card-hover.png,
 * side-panel-1440x900.png and side-panel-collapsed-1440x900.png.
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, Project } from '../src-main/core/api/index.js';
import { writeTinySd } from '../src-main/core/diffusion/testing/tiny-sd.js';
import {
  callApi,
  createProjectByKeyboard,
  launchBrowser,
  screenshot,
  startApp,
  tempDir,
  watchErrors,
  type RunningApp,
} from './support/app.js';
import { makeImageFolder, type ImageFolder } from './support/images.js';

const LONG_PROMPT =
  'abstract shape, teal rim light, brand colours weaving through scene, camera dollies past a glass prism, 35 mm, soft haze, magenta accents on the edges';

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let folder: ImageFolder;
let project: Project;
let job: Job;

beforeAll(async () => {
  const data = tempDir('layout');
  const modelsDir = path.join(data, 'models');
  writeTinySd(path.join(modelsDir, 'tiny-sd'));
  folder = await makeImageFolder(path.join(data, 'incoming'), 6);
  app = await startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', path.join(data, 'app')], { ONBRAND_MODELS_DIR: modelsDir });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  errors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const api = <T>(method: string, input: object): Promise<T> => callApi<T>(app, method, input);
const sidePanel = () => page.getByTestId('side-panel');
const styleOf = (locator: ReturnType<Page['locator']>) =>
  locator.evaluate((el) => {
    const s = getComputedStyle(el);
    return { background: s.backgroundColor, color: s.color, cursor: s.cursor, border: s.borderTopStyle };
  });

describe('layout', () => {
  it('paints a disabled button as disabled, the main action too', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await page.getByTestId('no-project').waitFor();
    const importButton = page.getByRole('button', { name: 'Import…' });
    await expect(importButton.isDisabled()).resolves.toBe(true);
    await expect.poll(() => importButton.getAttribute('class')).toBe('primary');
    const enabledPrimary = page.getByTestId('no-project').getByRole('button', { name: '+ New project' });
    const disabled = await styleOf(importButton);
    const enabled = await styleOf(enabledPrimary);
    // Not the main action's accent fill and white text: flat, muted, dashed, and the pointer says no.
    expect(disabled.background).not.toBe(enabled.background);
    expect(disabled.color).not.toBe(enabled.color);
    expect(disabled.background).toMatch(/rgba\(0, 0, 0, 0\)|transparent/);
    expect(disabled.border).toBe('dashed');
    expect(disabled.cursor).toBe('not-allowed');
    // An ordinary disabled button alike.
    const rename = await styleOf(page.getByRole('button', { name: 'Rename' }));
    expect(rename.border).toBe('dashed');
  });

  it('first run: the empty queue is one line, and the whole Generate form is above the fold', async () => {
    await createProjectByKeyboard(page, 'Layout');
    project = (await api<Project[]>('projects.list', {})).find((p) => p.name === 'Layout')!;
    await page.keyboard.press('Control+g');
    await sidePanel().waitFor();
    const queue = page.getByTestId('queue-panel');
    await expect.poll(() => queue.getAttribute('data-collapsed')).toBe('true');
    await expect.poll(() => page.getByTestId('queue-counts').textContent()).toBe('empty');
    expect((await queue.boundingBox())!.height).toBeLessThanOrEqual(48);
    // The form does not scroll: the prompt, its errors and the Queue button are all in view.
    const generate = sidePanel().locator('section.generate');
    await expect.poll(() => generate.evaluate((el) => el.scrollHeight - el.clientHeight)).toBeLessThanOrEqual(1);
    const queueButton = sidePanel().getByRole('button', { name: 'Queue', exact: true });
    const statusbar = (await page.getByTestId('statusbar').boundingBox())!;
    const button = (await queueButton.boundingBox())!;
    expect(button.y + button.height).toBeLessThanOrEqual(statusbar.y);
    await screenshot(page, 'first-run-empty-queue');
  });

  it('shows a queue card’s settings in full on hover, beside the panel', async () => {
    await api('queue.pause', {});
    [job] = await api<Job[]>('queue.add', {
      projectId: project.id,
      prompt: LONG_PROMPT,
      negativePrompt: 'text, watermark, extra limbs, mushy face',
      settings: {
        model: 'tiny-sd',
        sampler: 'Euler a',
        steps: 4,
        cfg: 6.5,
        width: 64,
        height: 64,
        batchSize: 3,
        loraWeight: 0.8,
        aspect: '1:1',
      },
      batches: 1,
      seed: 500,
    });
    const card = page.locator(`[data-testid="job"][data-job-id="${job!.id}"]`);
    await card.waitFor();
    await expect.poll(() => page.getByTestId('queue-panel').getAttribute('data-collapsed')).toBe('false');
    // The card itself cuts the prompt short…
    await expect(card.locator('.job-prompt').evaluate((el) => el.scrollWidth > el.clientWidth)).resolves.toBe(true);
    // …and the hover card has it all.
    await card.hover();
    const details = page.getByTestId('job-details');
    await details.waitFor();
    const field = (name: string) => details.locator(`.info-row[data-field="${name}"] dd`).textContent();
    await expect(field('prompt')).resolves.toBe(LONG_PROMPT);
    await expect(field('negative')).resolves.toBe('text, watermark, extra limbs, mushy face');
    await expect(field('size')).resolves.toBe('64 × 64 (1:1)');
    await expect(field('batch')).resolves.toBe('3 images, seeds 500–502');
    await expect(field('sampler')).resolves.toBe('Euler a');
    await expect(field('steps')).resolves.toBe('4');
    await expect(field('cfg')).resolves.toBe('6.5');
    await expect(field('seed')).resolves.toBe('500');
    await expect(field('model')).resolves.toBe('tiny-sd');
    await expect(field('loras')).resolves.toBe('none');
    await expect.poll(() => card.getAttribute('aria-describedby')).toBe(await details.getAttribute('id'));
    const shown = (await details.boundingBox())!;
    const panelBox = (await sidePanel().boundingBox())!;
    expect(shown.x + shown.width).toBeLessThanOrEqual(panelBox.x);
    expect(shown.y).toBeGreaterThanOrEqual(0);
    expect(shown.y + shown.height).toBeLessThanOrEqual(900);
    await screenshot(page, 'queue-card-hover');
    await page.mouse.move(200, 450);
    await details.waitFor({ state: 'detached' });

    // The list re-orders under the pointer (a job queued ahead of it, moved): the card that moved
    // away gets no mouseleave, and its details must still close once the pointer moves on.
    const [other] = await api<Job[]>('queue.add', {
      projectId: project.id,
      prompt: 'second job',
      negativePrompt: '',
      settings: {
        model: 'tiny-sd',
        sampler: 'Euler a',
        steps: 4,
        cfg: 7,
        width: 64,
        height: 64,
        batchSize: 1,
        loraWeight: 0.8,
        aspect: '1:1',
      },
      batches: 1,
      seed: 9,
    });
    const second = page.locator(`[data-testid="job"][data-job-id="${other!.id}"]`);
    await second.waitFor();
    await card.hover();
    await details.waitFor();
    await api('queue.move', { jobId: other!.id, position: 0 });
    await expect.poll(() => page.locator('[data-testid="job"]').first().getAttribute('data-job-id')).toBe(String(other!.id));
    await page.mouse.move(200, 450);
    await details.waitFor({ state: 'detached' });
    await api('queue.cancel', { jobId: other!.id });
  });

  it('collapses the side panel to a rail at 1440×900 (button and F8), and brings it back as it was left', async () => {
    await api('images.import', { projectId: project.id, paths: [folder.dir] });
    await expect.poll(() => page.locator('.cell').count()).toBe(folder.good.length);
    const content = page.locator('main.content');
    await expect.poll(async () => (await sidePanel().boundingBox())!.width).toBeGreaterThan(300);
    const openWidth = (await content.boundingBox())!.width;
    await screenshot(page, 'side-panel-1440x900');

    await sidePanel().getByRole('button', { name: 'Collapse the side panel' }).click();
    await expect.poll(() => sidePanel().getAttribute('data-collapsed')).toBe('true');
    expect((await sidePanel().boundingBox())!.width).toBeLessThanOrEqual(48);
    await expect.poll(async () => (await content.boundingBox())!.width).toBeGreaterThan(openWidth + 300);
    // The rail keeps the queue in view: one job waiting.
    await expect.poll(() => page.getByTestId('rail-queue').textContent()).toBe('1');
    await expect.poll(() => page.getByTestId('rail-queue').getAttribute('title')).toBe('Queue: 1 waiting · paused');
    await screenshot(page, 'side-panel-collapsed-1440x900');

    // Remembered: after a reload the rail is back, and the keyboard is with the images.
    await page.reload();
    await page.locator('html[data-ready="true"]').waitFor();
    await expect.poll(() => sidePanel().getAttribute('data-collapsed')).toBe('true');

    // F8 expands and collapses again; expanding leaves the keyboard with the images (a culling key
    // pressed next is never typed into the prompt).
    await page.keyboard.press('F8');
    await expect.poll(() => sidePanel().getAttribute('data-collapsed')).toBe('false');
    await expect.poll(() => page.evaluate(() => document.activeElement === document.body)).toBe(true);
    // F8 also works from the prompt.
    await sidePanel().locator('textarea[name="prompt"]').click();
    await page.keyboard.press('F8');
    await expect.poll(() => sidePanel().getAttribute('data-collapsed')).toBe('true');
    await sidePanel().getByRole('button', { name: 'Expand the side panel' }).click();
    await expect.poll(() => sidePanel().getAttribute('data-collapsed')).toBe('false');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('name') ?? 'none')).not.toBe('prompt');
    await page.keyboard.press('F8');
    await expect.poll(() => sidePanel().getAttribute('data-collapsed')).toBe('true');

    // Ctrl+G asks for the form: the rail expands on the Generate tab.
    await page.keyboard.press('Control+g');
    await expect.poll(() => sidePanel().getAttribute('data-collapsed')).toBe('false');
    await expect.poll(() => sidePanel().getByRole('tab', { name: 'Generate' }).getAttribute('aria-selected')).toBe('true');

    // Left open, it comes back open without taking the keyboard from the images; left closed, closed.
    await page.reload();
    await page.locator('html[data-ready="true"]').waitFor();
    await expect.poll(() => sidePanel().getAttribute('data-collapsed')).toBe('false');
    await expect.poll(() => page.evaluate(() => document.activeElement?.closest('.side-panel') === null)).toBe(true);
    await sidePanel().getByRole('button', { name: 'Close the Generate panel' }).click();
    await sidePanel().waitFor({ state: 'detached' });
    await page.reload();
    await page.locator('html[data-ready="true"]').waitFor();
    await expect.poll(() => page.locator('.cell').count()).toBe(folder.good.length);
    await expect(sidePanel().count()).resolves.toBe(0);
  });

  it('lists F8 in the cheat sheet, and logged no errors', async () => {
    await page.keyboard.press('?');
    const sheet = page.getByRole('dialog');
    await expect(sheet.locator('tr[data-action="sidePanel"] kbd').allTextContents()).resolves.toEqual(['F8']);
    await page.keyboard.press('Escape');
    expect(errors).toEqual([]);
  });
});
