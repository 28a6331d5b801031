/**
 * Generation in the UI, in Debian's Chromium through the browser host, with a tiny Stable
 * Diffusion model: the Generate panel (Brand loop preset, 64×64, 4 steps, three batches of six),
 * the queue (pause, move, cancel, retry, progress and latent previews), images landing in the
 * grid without moving the user's selection or scroll position, the engine in the status bar, and
 * the Time + Cost view. Screenshots: e2e/artifacts/queue-panel.png and time-cost.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinySd } from '../src-main/core/diffusion/testing/tiny-sd.js';
import { launchBrowser, screenshot, startApp, tempDir, watchErrors, type RunningApp } from './support/app.js';

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];

/** The three jobs queued below, in the order queue.add made them. */
let jobIds: number[] = [];

beforeAll(async () => {
  const data = tempDir('generation');
  const modelsDir = path.join(data, 'models');
  writeTinySd(path.join(modelsDir, 'tiny-sd'));
  app = await startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', path.join(data, 'app')], { ONBRAND_MODELS_DIR: modelsDir });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url });
  errors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const imageCount = (): Promise<string | null> => page.getByTestId('image-count').textContent();
const jobRow = (id: number) => page.locator(`[data-testid="job"][data-job-id="${id}"]`);
const rowOrder = (): Promise<number[]> =>
  page.locator('[data-testid="job"]').evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.jobId)));
const selected = (): Promise<{ index: number; id: number } | null> =>
  page.evaluate(() => {
    const cell = document.querySelector<HTMLElement>('.cell.selected');
    return cell ? { index: Number(cell.dataset.index), id: Number(cell.dataset.imageId) } : null;
  });

describe('generation', () => {
  it('opens the Generate panel on a new project, with the models and the Brand loop preset first', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await page.getByRole('button', { name: '+ New project' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New project' });
    await dialog.getByLabel('Name').fill('Teal drop');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('empty-project').waitFor();
    // The app's keys are off while a dialog is open; it closes once the project is opened.
    await dialog.waitFor({ state: 'detached' });

    // Ctrl+G opens the panel and puts the cursor in the prompt; the top bar's button says it is open.
    await page.keyboard.press('Control+g');
    const panel = page.getByTestId('side-panel');
    await panel.waitFor();
    await expect.poll(() => page.getByRole('button', { name: 'Generate', exact: true }).getAttribute('aria-pressed')).toBe('true');
    await expect(page.evaluate(() => document.activeElement?.getAttribute('name'))).resolves.toBe('prompt');
    // Ctrl+G works from the prompt too, and the visible button does the same.
    await page.keyboard.press('Control+g');
    await panel.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await panel.waitFor();

    const model = panel.getByLabel('Model');
    await expect.poll(() => model.inputValue()).toBe('tiny-sd');
    const preset = panel.getByLabel('Preset');
    await expect.poll(() => preset.locator('option').first().textContent()).toBe('Brand loop (built-in)');
    await expect(panel.getByLabel('Sampler').locator('option').allTextContents()).resolves.toEqual([
      'Euler',
      'Euler a',
      'DPM++ 2M',
      'DPM++ 2M Karras',
      'DPM++ SDE Karras',
      'DDIM',
      'LCM',
    ]);
    // The engine is named in the status bar from the start.
    await expect.poll(() => page.getByTestId('engine-status').textContent()).toMatch(/No model loaded|tiny-sd/);
  });

  it('fills the form from the Brand loop, shows field notes while editing, and saves a preset', async () => {
    const panel = page.getByTestId('side-panel');
    await panel.getByLabel('Preset').selectOption('Brand loop');
    await expect.poll(() => panel.getByLabel('Width').inputValue()).toBe('576');
    await expect.poll(() => panel.getByLabel('Height').inputValue()).toBe('1024');
    await expect.poll(() => panel.getByLabel('Sampler').inputValue()).toBe('DPM++ 2M Karras');
    await expect.poll(() => panel.getByLabel('Negative prompt').inputValue()).toBe('text, watermark, extra limbs, mushy face');
    await expect.poll(() => panel.getByRole('button', { name: '9:16' }).getAttribute('aria-pressed')).toBe('true');

    // The aspect buttons give sizes in multiples of 64.
    await panel.getByRole('button', { name: '4:5' }).click();
    await expect.poll(() => panel.getByLabel('Width').inputValue()).toBe('512');
    await expect.poll(() => panel.getByLabel('Height').inputValue()).toBe('640');

    await panel
      .getByRole('textbox', { name: 'Prompt', exact: true })
      .fill('abstract shape, teal rim light, brand colours weaving through scene, 35 mm');
    await panel.getByLabel('CFG').fill('12');
    // Hints arrive as the user edits, debounced, without blocking the form.
    await expect.poll(() => panel.getByTestId('hints').textContent()).toContain('CFG 12');
    await expect.poll(() => panel.getByTestId('hints').textContent()).toContain('1:1');
    await panel.getByLabel('CFG').fill('7');
    await expect
      .poll(
        async () => (await panel.getByTestId('hints').count()) === 0 || !(await panel.getByTestId('hints').textContent())?.includes('CFG'),
      )
      .toBe(true);

    // The tiny model: 64×64 (a size off the grid of 64 is named and the nearest offered, never changed by itself), 4 steps.
    await panel.getByLabel('Width').fill('70');
    await panel.getByLabel('Steps').click();
    await expect.poll(() => panel.getByLabel('Width').inputValue()).toBe('70');
    await panel.getByRole('button', { name: 'Use 64' }).click();
    await panel.getByLabel('Height').fill('64');
    await expect.poll(() => panel.getByLabel('Width').inputValue()).toBe('64');
    await expect.poll(() => panel.getByRole('button', { name: '1:1' }).getAttribute('aria-pressed')).toBe('true');
    await panel.getByLabel('Steps').fill('4');
    await expect.poll(() => panel.getByLabel('Batch size').inputValue()).toBe('6');
    await expect.poll(() => panel.getByLabel('Batches').inputValue()).toBe('3');
    await expect.poll(() => panel.getByLabel('Seed').inputValue()).toBe('');
    await panel.getByText('(edited)').waitFor();

    await panel.getByRole('button', { name: 'Save as preset…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Save as preset' });
    await dialog.getByLabel('Preset name').fill('Tiny check');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => panel.getByLabel('Preset').inputValue()).toBe('Tiny check');
    await expect.poll(() => panel.getByLabel('Preset').locator('option').first().textContent()).toBe('Brand loop (built-in)');
  });

  it('queues three batches of six (Ctrl+Enter) while paused; move, cancel and pause are visible controls', async () => {
    const panel = page.getByTestId('side-panel');
    await panel.getByRole('button', { name: '❚❚ Pause' }).click();
    await expect.poll(() => page.getByTestId('engine-status').getAttribute('data-state')).toBe('paused');
    await panel.getByRole('button', { name: '▶ Resume' }).waitFor();

    await panel.getByRole('textbox', { name: 'Prompt', exact: true }).focus();
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => panel.locator('[data-testid="job"][data-state="queued"]').count()).toBe(3);
    // The jobs can arrive (as events) before the add request's answer updates the summary.
    await expect.poll(() => panel.getByTestId('queue-summary').textContent()).toBe('Queued 3 batches (18 images).');
    jobIds = (await rowOrder()).sort((a, b) => a - b);
    expect(await rowOrder()).toEqual(jobIds);
    await expect.poll(() => jobRow(jobIds[0]!).getByTestId('job-count').textContent()).toBe('6 images');

    // The third batch moves up past the second, then back down.
    const [a, b, c] = jobIds as [number, number, number];
    await panel.getByRole('button', { name: `Move job ${c} up` }).click();
    await expect.poll(rowOrder).toEqual([a, c, b]);
    await panel.getByRole('button', { name: `Move job ${c} down` }).click();
    await expect.poll(rowOrder).toEqual([a, b, c]);
    await expect(panel.getByRole('button', { name: `Move job ${a} up` }).isDisabled()).resolves.toBe(true);

    // Batches two and three wait as cancelled jobs, to be retried while the user curates.
    await panel.getByRole('button', { name: `Cancel job ${b}` }).click();
    await panel.getByRole('button', { name: `Cancel job ${c}` }).click();
    await expect.poll(() => jobRow(c).getAttribute('data-state')).toBe('cancelled');
    await expect.poll(() => jobRow(b).getAttribute('data-state')).toBe('cancelled');
    await panel.getByRole('button', { name: `Retry job ${b}` }).waitFor();
  });

  it('runs a batch with step progress and a latent preview, and names the engine in the status bar', async () => {
    // Progress and previews change every few milliseconds with the tiny model: record each state the panel shows.
    await page.evaluate(() => {
      const seen = { progress: false, preview: false, imageLine: false };
      (window as unknown as { seen: typeof seen }).seen = seen;
      const check = (): void => {
        const bar = document.querySelector<HTMLProgressElement>('[data-testid="job-progress"]');
        if (bar && bar.value > 0 && bar.getClientRects().length > 0) seen.progress = true;
        // A latent preview shows on the running job, and stays as the job's picture when it ends.
        const img = document.querySelector<HTMLImageElement>('[data-testid="job-preview"]');
        if (img && img.src.startsWith('data:image/png') && img.getClientRects().length > 0) seen.preview = true;
        if (/image \d of 6/.test(document.querySelector('[data-state="running"] [data-testid="job-count"]')?.textContent ?? ''))
          seen.imageLine = true;
      };
      new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    await page.getByRole('button', { name: '▶ Resume' }).click();
    await page.waitForFunction(() => {
      const seen = (window as unknown as { seen: { progress: boolean; preview: boolean; imageLine: boolean } }).seen;
      return seen.progress && seen.preview && seen.imageLine;
    });
    await expect.poll(imageCount, { timeout: 60_000 }).toBe('6 images');
    await expect.poll(() => jobRow(jobIds[0]!).getAttribute('data-state')).toBe('done');
    await expect.poll(() => jobRow(jobIds[0]!).getByTestId('job-count').textContent()).toBe('6 of 6 images');

    const engine = page.getByTestId('engine-status');
    // "tiny-sd · CPU"; a GPU provider tried first and failed (no CUDA here) is named, with its reason, in the tooltip.
    await expect.poll(() => engine.getByTestId('engine-label').textContent()).toBe('tiny-sd · CPU');
    const tooltip = (await engine.getAttribute('title')) ?? '';
    expect(tooltip).toContain('Execution provider: CPU');
    expect(tooltip).toMatch(Number(await engine.getAttribute('data-fallbacks')) > 0 ? /Fell back from:\n {2}\S/ : /No fallbacks/);
  });

  it('keeps the selection and the scroll position while the next batches land', async () => {
    // Big thumbnails, so the six images need scrolling; then pick the last one (below the fold) by keys.
    await page.locator('.cell[data-index="0"]').click();
    for (let i = 0; i < 4; i++) await page.keyboard.press('=');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('End');
    await expect.poll(async () => (await selected())?.index).toBe(5);
    const grid = page.getByTestId('grid');
    const scrollTop = await grid.evaluate((el) => el.scrollTop);
    expect(scrollTop).toBeGreaterThan(0);
    const before = (await selected())!.id;
    // Its left neighbour, in the same row: moving there needs no scrolling.
    const target = Number(await page.locator('.cell[data-index="4"]').getAttribute('data-image-id'));

    // From now on, record every selected image and scroll offset the grid shows.
    await page.evaluate(() => {
      const log: { id: number; scrollTop: number; cells: number; images: string }[] = [];
      (window as unknown as { selectionLog: typeof log }).selectionLog = log;
      const record = (): void => {
        const grid = document.querySelector('[data-testid="grid"]')!;
        const cell = document.querySelector<HTMLElement>('.cell.selected');
        const images = document.querySelector('[data-testid="image-count"]')?.textContent ?? '';
        log.push({
          id: Number(cell?.dataset.imageId),
          scrollTop: grid.scrollTop,
          cells: document.querySelectorAll('.cell').length,
          images,
        });
      };
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true });
      document.querySelector('[data-testid="grid"]')!.addEventListener('scroll', record);
    });

    const [, b, c] = jobIds as [number, number, number];
    await page.getByRole('button', { name: `Retry job ${b}` }).click();
    await page.getByRole('button', { name: `Retry job ${c}` }).click();
    // The user keeps culling while the batches run.
    await page.keyboard.press('ArrowLeft');
    await expect.poll(async () => (await selected())?.id).toBe(target);

    await expect.poll(imageCount, { timeout: 60_000 }).toBe('18 images');
    for (const id of jobIds) await expect.poll(() => jobRow(id).getAttribute('data-state')).toBe('done');
    // Finished jobs fold away (the queue then shows only what is to come) and come back; remembered.
    const finished = page.getByTestId('queue-finished-toggle');
    const doneRows = () => page.locator('[data-testid="job"][data-state="done"]').count();
    const doneCount = await doneRows();
    expect(doneCount).toBeGreaterThanOrEqual(jobIds.length);
    await expect.poll(() => finished.textContent()).toBe(`Hide ${doneCount} finished`);
    await finished.click();
    await expect.poll(doneRows).toBe(0);
    await expect.poll(() => finished.textContent()).toBe(`Show ${doneCount} finished`);
    await finished.click();
    await expect.poll(doneRows).toBe(doneCount);
    await expect(selected()).resolves.toEqual({ index: 4, id: target });
    await expect(grid.evaluate((el) => el.scrollTop)).resolves.toBe(scrollTop);

    const log = await page.evaluate(
      () => (window as unknown as { selectionLog: { id: number; scrollTop: number; cells: number; images: string }[] }).selectionLog,
    );
    const selectedIds = log.map((entry) => entry.id).filter((id, i, all) => i === 0 || all[i - 1] !== id);
    // One change only, the arrow key's (image 6 to image 5): images landing never moved the selection.
    expect([[before, target], [target]]).toContainEqual(selectedIds);
    // …while the retried batches landed under the watch.
    expect(new Set(log.map((entry) => entry.images)).size).toBeGreaterThan(1);
    expect(log.at(-1)!.cells).toBeGreaterThan(6);
    expect(new Set(log.map((entry) => entry.scrollTop))).toEqual(new Set([scrollTop]));

    for (let i = 0; i < 4; i++) await page.keyboard.press('-');
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll<HTMLImageElement>('.cell img.thumb')).every((img) => img.complete && img.naturalWidth > 0),
    );
    await screenshot(page, 'queue-panel');
  });

  it('shows the Time + Cost of the loop, takes corrections and the GPU rate, copies Markdown and downloads CSV', async () => {
    await page.getByRole('button', { name: 'Time + Cost' }).click();
    const view = page.getByTestId('time-cost');
    await view.waitFor();
    const generate = view.locator('[data-testid="time-row"][data-phase="generate"]');
    await generate.waitFor();
    await expect.poll(() => generate.locator('th').textContent()).toBe('Batch generation');
    const figures = async (): Promise<number[]> =>
      Promise.all(['data-minutes', 'data-gpu-seconds', 'data-cost'].map(async (a) => Number(await generate.getAttribute(a))));
    expect((await figures()).some((v) => v > 0)).toBe(true);
    await expect(view.locator('[data-testid="time-row"] th .phase-label').allTextContents()).resolves.toEqual([
      'References',
      'Prompt drafting',
      'Batch generation',
      'Curation + export',
      'Post-treatment',
    ]);

    // A phase's minutes set by hand count in the total; blank returns to automatic.
    const prompt = view.getByLabel('Prompt drafting minutes');
    await prompt.fill('5');
    await prompt.press('Enter');
    const promptRow = view.locator('[data-testid="time-row"][data-phase="prompt"]');
    await expect.poll(() => promptRow.getAttribute('data-minutes')).toBe('5');
    await expect.poll(() => promptRow.locator('.source').textContent()).toBe('set');
    const totalText = await view.getByTestId('time-total').textContent();
    expect(totalText).toMatch(/Total\s*\d/);

    // The GPU rate changes the cost.
    const rate = view.getByLabel('GPU cost per hour');
    await rate.fill('2.5');
    await rate.press('Enter');
    await expect.poll(() => rate.inputValue()).toBe('2.5');

    await view.getByRole('button', { name: 'Copy Markdown' }).click();
    await view.getByTestId('time-status').waitFor();
    const markdown = await page.evaluate(() => navigator.clipboard.readText());
    expect(markdown).toContain('|Batch generation|');
    expect(markdown).toContain('|Prompt drafting|5|');

    const [download] = await Promise.all([page.waitForEvent('download'), view.getByRole('button', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/time-cost\.csv$/);
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    expect(csv).toContain('"Batch generation"');

    await screenshot(page, 'time-cost');

    await prompt.fill('');
    await prompt.press('Enter');
    await expect.poll(() => promptRow.locator('.source').textContent()).toBe('auto');
    // The first Esc may still be dropping the field's edit (its save answers asynchronously);
    // Esc again closes the view.
    await expect
      .poll(async () => {
        if ((await view.count()) > 0) await page.keyboard.press('Escape');
        return view.count();
      })
      .toBe(0);
    // T opens it again from the keyboard.
    await page.locator('.cell[data-index="0"]').click();
    await page.keyboard.press('t');
    await view.waitFor();
    await page.keyboard.press('Escape');
    await view.waitFor({ state: 'detached' });
  });

  it('had no console errors and no CSP violations', () => {
    expect(errors).toEqual([]);
  });
});
