/**
 * Time + Cost tells the truth (issue 18, item 8), in Debian's Chromium through the browser host:
 * phases are wall-clock intervals that never overlap, so they add up to no more than the real
 * time, which the view shows beside them; references say where they came from.
 *
 * "Trial" holds the time log an earlier Onbrand recorded in the designer's trial (phases stacked
 * on each other: 38 minutes against 17 of real time, "Prompt drafting" 11.6 minutes, local
 * references under "Unsplash pull"). "Live" is worked in now: an import, a prompt typed, images
 * culled from the keyboard, references uploaded to the mood board.
 * Then GPU work on ComfyUI servers (issue 21) is recorded in Live through the core: the view splits
 * the GPU time by backend, each at its own rate.
 * Screenshots: e2e/artifacts/time-cost-truth.png, time-cost-backends.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PALETTE } from '../src-main/core/api/index.js';
import { AppSettings, openCatalog, ProjectRepository, RefRepository } from '../src-main/core/catalog/index.js';
import { EventBus } from '../src-main/core/events.js';
import { TimeLog } from '../src-main/core/timelog/index.js';
import { createProjectByKeyboard, importByKeyboard, openHost, screenshot, tempDir, type RunningApp } from './support/app.js';
import { makeImageFolder } from './support/images.js';

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let data: string;

const T0 = Date.parse('2026-11-24T09:00:00Z');
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

/** The trial's project as an earlier Onbrand left it in the catalogue. */
function seedTrial(dataDir: string): void {
  const db = openCatalog(path.join(dataDir, 'catalog.sqlite'));
  try {
    const folder = path.join(dataDir, 'projects', 'Trial');
    fs.mkdirSync(folder, { recursive: true });
    const project = new ProjectRepository(db).create({ name: 'Trial', folder, palette: DEFAULT_PALETTE, mood: '', aspect: '9:16' });
    const log = db.prepare('INSERT INTO time_log (project_id, phase, started_at, ended_at, gpu_seconds) VALUES (?, ?, ?, ?, ?)');
    log.run(project.id, 'mood', at(0), at(6), 0);
    log.run(project.id, 'prompt', at(2), at(13.6), 0);
    log.run(project.id, 'generate', at(5), at(16), 540);
    log.run(project.id, 'curate', at(7.5), at(17), 0);
    const refs = new RefRepository(db);
    const ref = (name: string, sourceUrl: string | null) =>
      refs.insert({
        projectId: project.id,
        path: `references/${name}.png`,
        contentHash: name,
        width: 10,
        height: 10,
        sourceUrl,
        author: null,
        authorUrl: null,
        licence: null,
        palette: [],
      });
    ref('local-1', null);
    ref('local-2', null);
    ref('og-page', 'https://brand.example/lookbook');
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  data = tempDir('timecost');
  seedTrial(path.join(data, 'app'));
  ({ app, browser, page, errors } = await openHost(path.join(data, 'app')));
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const view = (): Locator => page.getByTestId('time-cost');
const row = (phase: string): Locator => view().locator(`[data-testid="time-row"][data-phase="${phase}"]`);
const figure = async (locator: Locator, attribute: string): Promise<number> => Number(await locator.getAttribute(attribute));

async function openTimeCost(): Promise<void> {
  await page.getByRole('button', { name: 'Time + Cost' }).click();
  await view().getByTestId('time-elapsed').waitFor();
}

async function closeTimeCost(): Promise<void> {
  await view().getByRole('button', { name: 'Close Time + Cost' }).click();
  await view().waitFor({ state: 'detached' });
}

describe('Time + Cost', () => {
  it('resolves the trial’s stacked phases into one line: 17 minutes of real time, 17 minutes in the phases', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    // The only project: the app opens it.
    await expect.poll(() => page.getByRole('combobox', { name: 'Project' }).locator('option:checked').textContent()).toMatch(/^Trial/);
    await openTimeCost();
    // The phase that started last wins each moment: references 0–2, the prompt 2–7.5, curation 7.5–17.
    await expect.poll(() => figure(row('mood'), 'data-minutes')).toBe(2);
    expect(await figure(row('prompt'), 'data-minutes')).toBe(5.5);
    expect(await figure(row('curate'), 'data-minutes')).toBe(9.5);
    // The batches ran while the designer worked: no time of their own, their GPU time still costed.
    expect(await figure(row('generate'), 'data-minutes')).toBe(0);
    expect(await figure(row('generate'), 'data-gpu-seconds')).toBe(540);
    expect(await figure(view().getByTestId('time-total'), 'data-total-minutes')).toBe(17);
    const elapsed = view().getByTestId('time-elapsed');
    expect(await figure(elapsed, 'data-elapsed-minutes')).toBe(17);
    await expect.poll(() => elapsed.textContent()).toMatch(/^Real time17 min/);
    // Local references are not an "Unsplash pull".
    await expect.poll(() => row('mood').locator('.phase-label').textContent()).toBe('References');
    await expect.poll(() => row('mood').getByTestId('phase-detail').textContent()).toBe('2 local files, 1 web page');
    // All of its GPU time was this computer's: no split by backend.
    expect(await view().getByTestId('gpu-backends').count()).toBe(0);
    await screenshot(page, 'time-cost-truth');
    await closeTimeCost();
  });

  it('counts live work once: an import, a prompt, culling and uploaded references never add up to more than the real time', async () => {
    await createProjectByKeyboard(page, 'Live');
    const folder = await makeImageFolder(path.join(data, 'shots'), 4);
    await importByKeyboard(page, folder.dir, 'Imported 4 images');
    // A prompt typed in the Generate panel.
    await page.keyboard.press('Control+g');
    const prompt = page.locator('textarea[name="prompt"]');
    await prompt.click();
    await prompt.pressSequentially('portrait, rich teal light', { delay: 20 });
    // Culling from the keyboard.
    await page.locator('.cell').first().click();
    for (const key of ['ArrowRight', '3', 'ArrowRight', 'p', 'ArrowLeft']) await page.keyboard.press(key);
    // References from this machine, uploaded to the mood board.
    await page.keyboard.press('b');
    await page.getByRole('button', { name: 'Add…' }).click();
    const field = (hex: string) =>
      sharp({ create: { width: 60, height: 90, channels: 3, background: hex } })
        .png()
        .toBuffer();
    await page.getByTestId('upload-files-references').setInputFiles([
      { name: 'magenta.png', mimeType: 'image/png', buffer: await field('#FE2C54') },
      { name: 'teal.png', mimeType: 'image/png', buffer: await field('#00E0FF') },
    ]);
    await expect.poll(() => page.getByTestId('ref-card').count(), { timeout: 30_000 }).toBe(2);

    await openTimeCost();
    await expect.poll(() => row('mood').getByTestId('phase-detail').textContent()).toBe('2 local files; 4 images imported');
    const elapsed = await figure(view().getByTestId('time-elapsed'), 'data-elapsed-minutes');
    const recorded = await figure(view().getByTestId('time-elapsed'), 'data-recorded-minutes');
    const total = await figure(view().getByTestId('time-total'), 'data-total-minutes');
    // Each burst counts 30 s at most past its last input, and never into the next phase: the
    // earlier Onbrand counted 30 s for each of the three phases here, 1.5 minutes for a few seconds.
    expect(elapsed).toBeGreaterThan(0);
    expect(recorded).toBeLessThanOrEqual(elapsed);
    expect(total).toBeLessThanOrEqual(elapsed);
    const phases = await view()
      .locator('[data-testid="time-row"]')
      .evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.recordedMinutes)));
    expect(phases.reduce((s, m) => s + m, 0)).toBeLessThanOrEqual(elapsed + 0.2);
    await expect.poll(() => view().getByTestId('time-elapsed').textContent()).toMatch(/^Real time\d/);
    await closeTimeCost();
  });

  it('splits the GPU time by backend, each at its own rate as it was, in the view and the CSV', async () => {
    // GPU work as the queue records it, through the core, in the running app's catalogue: this
    // computer at the global rate, a rented cloud GPU at $2.50/h (then $5/h), a studio box at $0.
    const db = openCatalog(path.join(data, 'app', 'catalog.sqlite'));
    try {
      const live = new ProjectRepository(db).findByName('Live')!;
      const log = new TimeLog(db, new AppSettings(db), new EventBus());
      log.setGpuCostPerHour(0.4);
      log.jobFinished(live.id, 1800); // 0.5 h at $0.40 = $0.20
      log.backendWork(live.id, 'studio-box', 600, 0);
      log.backendWork(live.id, 'cloud-a100', 1800, 2.5); // $1.25
      log.backendWork(live.id, 'cloud-a100', 1800, 5); // the price doubled: $2.50, the first half hour still $1.25
    } finally {
      db.close();
    }

    await openTimeCost();
    const table = view().getByTestId('gpu-backends');
    await table.waitFor();
    const rows = await table.getByTestId('gpu-backend-row').evaluateAll((trs) =>
      trs.map((tr) =>
        Array.from(tr.querySelectorAll('th, td'))
          .map((cell) => cell.textContent)
          .concat((tr as HTMLElement).dataset.backend!),
      ),
    );
    expect(rows).toEqual([
      ['This computer', '30 min', '$0.40/h', '$0.20', 'local'],
      ['cloud-a100', '1 h 0 min', '$3.75/h', '$3.75', 'cloud-a100'],
      ['studio-box', '10 min', '$0.00/h', '—', 'studio-box'],
    ]);
    // The generate phase and the total cost what the backends cost together.
    expect(await figure(row('generate'), 'data-gpu-seconds')).toBe(6000);
    expect(await figure(row('generate'), 'data-cost')).toBeCloseTo(3.95, 4);
    await expect.poll(() => view().getByTestId('time-total').locator('td.cost').textContent()).toBe('$3.95');
    await screenshot(page, 'time-cost-backends');

    // A new global rate re-prices this computer's work only.
    await view().getByTestId('gpu-cost').fill('1');
    await view().getByTestId('gpu-cost').press('Enter');
    await expect.poll(() => table.locator('[data-backend="local"] td.cost').textContent()).toBe('$0.50');
    expect(await figure(table.locator('[data-backend="cloud-a100"]'), 'data-cost')).toBe(3.75);

    const [download] = await Promise.all([page.waitForEvent('download'), view().getByRole('button', { name: 'Download CSV' }).click()]);
    const csv = fs
      .readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n');
    expect(csv.slice(-4)).toEqual([
      expect.stringMatching(/^"Total",[\d.]+,6000,4\.2500$/),
      '"GPU: local",,1800,0.5000',
      '"GPU: cloud-a100",,3600,3.7500',
      '"GPU: studio-box",,600,0.0000',
    ]);
    await closeTimeCost();
  });

  it('had no console errors', () => {
    expect(errors).toEqual([]);
  });
});
