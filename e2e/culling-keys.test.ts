/**
 * Culling from the keyboard with the side panel open (issue 18), in Debian's Chromium through the
 * browser host, on a seeded project of 4 imports and two generation jobs of 4 images each:
 *
 * - the keyboard-only session with the mouse used once on a filter, and no key lost;
 * - no control keeps the keyboard: Esc leaves "Prompt contains…", Space after a clicked ⚑ Pick zooms;
 * - Esc clears a Ctrl+A selection; undoing a reject brings the loupe back to that image;
 * - zoom levels fit / 50 / 100 / 200 %; colour labels on 6–9 with a filter; stacks by job (K, Shift+K);
 * - the curation bar is one row at 1440×900 with the side panel open, the rest under More ▾.
 *
 * Screenshots: e2e/artifacts/culling-side-panel-1440.png, culling-more-menu.png, culling-stacks.png,
 * culling-labels-loupe.png.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRAND_LOOP_PRESET, DEFAULT_PALETTE, type ImageSummary } from '../src-main/core/api/index.js';
import { ImageRepository, ProjectRepository, openCatalog } from '../src-main/core/catalog/index.js';
import { thumbnailRelativePath, writeThumbnail } from '../src-main/core/images/index.js';
import { JobRepository } from '../src-main/core/jobs/index.js';
import { callApi, launchBrowser, screenshot, startApp, tempDir, watchErrors, type RunningApp } from './support/app.js';
import { posterSvg } from './support/images.js';

const IMPORTS = 4;
const PER_JOB = 4;
const COUNT = IMPORTS + 2 * PER_JOB;

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let projectId: number;
let jobIds: number[] = [];

/** A project of 4 imported images, then two finished jobs of 4 images each (real files and thumbnails). */
async function seed(dataDir: string): Promise<void> {
  const db = openCatalog(path.join(dataDir, 'catalog.sqlite'));
  try {
    const folder = path.join(dataDir, 'projects', 'Cull keys');
    fs.mkdirSync(path.join(folder, 'imports'), { recursive: true });
    fs.mkdirSync(path.join(folder, 'generations', '20261101'), { recursive: true });
    const project = new ProjectRepository(db).create({ name: 'Cull keys', folder, palette: DEFAULT_PALETTE, mood: '', aspect: '9:16' });
    projectId = project.id;
    const images = new ImageRepository(db, dataDir);
    const jobs = new JobRepository(db);
    const start = Date.parse('2026-11-01T09:00:00Z');
    const add = async (i: number, jobId: number | null, name: string, prompt: string | null): Promise<void> => {
      const bytes = await sharp(posterSvg(i, 288, 512))
        .png()
        .toBuffer();
      const relative = jobId === null ? path.join('imports', name) : path.join('generations', '20261101', name);
      fs.writeFileSync(path.join(folder, relative), bytes);
      const hash = crypto.createHash('sha256').update(bytes).digest('hex');
      const image = images.insert({
        projectId: project.id,
        path: relative,
        contentHash: hash,
        width: 288,
        height: 512,
        format: 'png',
        byteSize: bytes.length,
        seed: jobId === null ? null : 1000 + i,
        params: prompt === null ? undefined : { parameters: `${prompt}\nSteps: 25, Sampler: DPM++ 2M Karras, Seed: ${1000 + i}` },
        createdAt: new Date(start + i * 1000).toISOString(),
        jobId,
        batchIndex: jobId === null ? null : (i - IMPORTS) % PER_JOB,
      });
      const thumb = thumbnailRelativePath(hash);
      await writeThumbnail(bytes, path.join(dataDir, thumb));
      images.setThumbnail(image.id, thumb);
    };
    for (let i = 0; i < IMPORTS; i++) await add(i, null, `ref_${i + 1}.png`, null);
    for (const [j, prompt] of ['teal portrait, rim light', 'device close-up, yellow glow'].entries()) {
      const job = jobs.insert({
        projectId: project.id,
        prompt,
        negativePrompt: '',
        settings: { ...BRAND_LOOP_PRESET.settings, model: 'tiny', batchSize: PER_JOB },
        seed: 1000 + IMPORTS + j * PER_JOB,
      });
      db.prepare("UPDATE jobs SET state = 'done' WHERE id = ?").run(job.id);
      jobIds.push(job.id);
      for (let k = 0; k < PER_JOB; k++) {
        const i = IMPORTS + j * PER_JOB + k;
        await add(i, job.id, `job${job.id}_${k}_${1000 + i}.png`, prompt);
      }
    }
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  const data = tempDir('culling-keys');
  jobIds = [];
  await seed(data);
  app = await startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', data]);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  errors = watchErrors(page);
  // A failed request names its URL among the errors (the browser's console line does not).
  page.on('response', (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.request().method()} ${r.url()}`));
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const catalogue = (): Promise<ImageSummary[]> => callApi<ImageSummary[]>(app, 'images.list', { projectId });
const byId = async (id: number): Promise<ImageSummary> => (await catalogue()).find((i) => i.id === id)!;
const active = (): Promise<number> => page.locator('.cell.selected').getAttribute('data-image-id').then(Number);
const loupeId = (): Promise<number> => page.getByTestId('loupe').getAttribute('data-image-id').then(Number);
const shownIds = (): Promise<number[]> =>
  page.locator('.cell').evaluateAll((cells) => cells.map((c) => Number((c as HTMLElement).dataset.imageId)));
const cell = (id: number) => page.locator(`.cell[data-image-id="${id}"]`);
/** What has the keyboard: the focused element's tag and label, or BODY when nothing does. */
const focused = (): Promise<string> =>
  page.evaluate(() => {
    const el = document.activeElement;
    return !el || el === document.body ? 'BODY' : `${el.tagName}:${el.getAttribute('aria-label') ?? el.textContent ?? ''}`;
  });
const zoomLevel = (): Promise<string | null> => page.locator('.loupe .zoom-box').getAttribute('data-zoom');

/** Ids in capture order. */
let ids: number[] = [];

describe('culling keys with the side panel open', () => {
  it('opens the seeded project; Ctrl+G opens the side panel and Esc gives the keys back from its prompt', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await expect.poll(shownIds).toHaveLength(COUNT);
    ids = await shownIds();
    await page.keyboard.press('Control+g');
    await page.getByTestId('side-panel').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(focused).toBe('BODY');
  });

  it('shows the curation bar as one row at 1440×900 beside the side panel; the rest is under More ▾', async () => {
    const bar = page.getByTestId('curation-bar');
    await screenshot(page, 'culling-side-panel-1440');
    const layout = await bar.evaluate((el) => {
      const controls = Array.from(el.querySelectorAll<HTMLElement>('button, select, input')).map((c) => c.getBoundingClientRect());
      const box = el.getBoundingClientRect();
      const outside = Array.from(el.querySelectorAll<HTMLElement>('button, select, input'))
        .filter((c) => c.getBoundingClientRect().right > box.right + 0.5 || c.getBoundingClientRect().left < box.left - 0.5)
        .map((c) => c.getAttribute('aria-label') ?? c.textContent);
      return {
        rows: el.querySelectorAll('.curation-row').length,
        lowestTop: Math.max(...controls.map((r) => r.top)),
        highestBottom: Math.min(...controls.map((r) => r.bottom)),
        height: box.height,
        outside,
      };
    });
    expect(layout.rows).toBe(1);
    // Every control on one line (one horizontal line crosses them all), none cut off at the edge.
    expect(layout.lowestTop).toBeLessThan(layout.highestBottom);
    expect(layout.outside).toEqual([]);
    expect(layout.height).toBeLessThan(48);
    for (const name of ['Minimum rating', 'Flag filter', 'Label filter', 'Prompt contains'])
      await expect(page.getByLabel(name).isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: 'More ▾' }).click();
    const more = page.getByRole('group', { name: 'More culling controls' });
    await more.waitFor();
    for (const name of ['Job filter', 'Seed', 'Sort', 'Auto-advance', 'Stacks', 'Sharpness', 'Brand colour present'])
      await expect(more.getByLabel(name, { exact: true }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'culling-more-menu');
    // Esc closes the menu and leaves the keys with the grid (it does not also act on the view).
    await page.keyboard.press('Escape');
    await more.waitFor({ state: 'detached' });
    await expect.poll(focused).toBe('BODY');
    // Opened from the keyboard (Tab to it, Enter), the focus goes into the menu.
    await page.getByRole('button', { name: 'More ▾' }).focus();
    await page.keyboard.press('Enter');
    await more.waitFor();
    await expect.poll(focused).toBe('BUTTON:Unflag');
    await page.keyboard.press('Escape');
    await more.waitFor({ state: 'detached' });
    await expect.poll(focused).toBe('BODY');
  });

  it('culls from the keyboard with the mouse used once on the Rating filter, and no key is lost', async () => {
    const keys = async (...presses: string[]): Promise<void> => {
      for (const key of presses) await page.keyboard.press(key);
    };
    await keys('Home', '3', 'ArrowRight', '4', 'ArrowRight', 'p', 'ArrowRight', '2', 'ArrowRight', '5', 'Home');
    expect(await active()).toBe(ids[0]);

    // The mouse, once: a value chosen in the Rating filter.
    const rating = page.getByLabel('Minimum rating');
    await rating.click();
    await rating.selectOption('3');
    await expect.poll(shownIds).toEqual([ids[0], ids[1], ids[4]]);
    await expect.poll(focused).toBe('BODY');

    // The keys go on at once: → and 3 reach the grid (before, the select kept them).
    await keys('ArrowRight', '3', 'ArrowRight', 'x');
    await expect.poll(shownIds).toEqual([ids[0], ids[1]]);
    await keys('Control+0', 'End', '1', 'ArrowLeft', '8', 'Home', 'ArrowRight', 'ArrowRight', 'ArrowRight', 'u');

    const want: Record<number, Partial<ImageSummary>> = {
      [ids[0]!]: { rating: 3, flag: 'none' },
      [ids[1]!]: { rating: 3, flag: 'none' },
      [ids[2]!]: { rating: 0, flag: 'pick' },
      [ids[3]!]: { rating: 2, flag: 'none' },
      [ids[4]!]: { rating: 5, flag: 'reject' },
      [ids[COUNT - 1]!]: { rating: 1 },
      [ids[COUNT - 2]!]: { label: 'green' },
    };
    await expect
      .poll(async () => {
        const all = await catalogue();
        return Object.keys(want).map((id) => {
          const image = all.find((i) => i.id === Number(id))!;
          return Object.fromEntries(Object.keys(want[Number(id)]!).map((k) => [k, image[k as keyof ImageSummary]]));
        });
      })
      .toEqual(Object.values(want));
    // U on the 4th shown (ids[3]: the rejected ids[4] is hidden) unflags it: nothing to change, nothing lost.
    expect(await active()).toBe(ids[3]);
    await expect(page.getByTestId('side-panel').isVisible()).resolves.toBe(true);
  });

  it('a filter clicked with the mouse stays open to choose from the keyboard, then gives the keys back', async () => {
    const rating = page.getByLabel('Minimum rating');
    const before = await rating.inputValue();
    const box = (await rating.boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    // Past the page's own zero-delay timers: a select that let go on its click would have done so by now.
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 50)));
    expect(await focused()).toBe('SELECT:Minimum rating');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await expect.poll(() => rating.inputValue()).not.toBe(before);
    await expect.poll(focused).toBe('BODY');
    await rating.selectOption(before);
    await page.keyboard.press('Escape');
    await expect.poll(focused).toBe('BODY');
    await expect.poll(() => rating.inputValue()).toBe(before);
  });

  it('Esc in "Prompt contains…" gives the keys back to the grid', async () => {
    const field = page.getByLabel('Prompt contains');
    await field.click();
    await page.keyboard.type('teal');
    // Job A's images (its first, rejected above, is hidden).
    await expect.poll(shownIds).toEqual(ids.slice(IMPORTS + 1, IMPORTS + PER_JOB));
    await page.keyboard.press('Escape');
    await expect.poll(focused).toBe('BODY');
    const before = await active();
    await page.keyboard.press('ArrowRight');
    await expect.poll(active).toBe(ids[ids.indexOf(before) + 1]);
    await expect.poll(() => field.inputValue()).toBe('teal');
    await field.fill('');
    await page.keyboard.press('Escape');
    await expect.poll(shownIds).toHaveLength(COUNT - 1);
  });

  it('after ⚑ Pick is clicked, Space zooms the loupe and does not pick the next image', async () => {
    await page.keyboard.press('Home');
    await page.keyboard.press('l');
    await page.getByTestId('loupe').waitFor();
    const first = await loupeId();
    await page.getByRole('button', { name: '⚑ Pick' }).click();
    await expect.poll(async () => (await byId(first)).flag).toBe('pick');
    await page.keyboard.press('ArrowRight');
    const next = await loupeId();
    expect(next).not.toBe(first);
    await page.keyboard.press('Space');
    await expect.poll(zoomLevel).toBe('100');
    await page.keyboard.press('Space');
    await expect.poll(zoomLevel).toBe('fit');
    expect((await byId(next)).flag).toBe('none');
    await expect.poll(focused).toBe('BODY');
  });

  it('steps the loupe through fit / 50 / 100 / 200 % with = and - (and Ctrl+= / Ctrl+-), and with the zoom control', async () => {
    const image = page.getByTestId('loupe-image');
    await page.keyboard.press('=');
    await expect.poll(zoomLevel).toBe('50');
    await expect(image.evaluate((i) => i.style.transform)).resolves.toBe('scale(0.5)');
    await page.keyboard.press('=');
    await expect.poll(zoomLevel).toBe('100');
    await page.keyboard.press('=');
    await expect.poll(zoomLevel).toBe('200');
    // At 200 % the 288-pixel-wide image covers 576 pixels of the screen.
    const box = (await page.locator('.loupe .zoom-box').boundingBox())!;
    await expect(image.evaluate((i) => i.style.transform)).resolves.toBe('scale(2)');
    await expect(image.evaluate((i) => Math.round(i.getBoundingClientRect().width))).resolves.toBe(Math.round(box.width));
    await page.keyboard.press('=');
    await expect.poll(zoomLevel).toBe('200');
    await page.keyboard.press('-');
    await expect.poll(zoomLevel).toBe('100');
    await page.keyboard.press('Control+-');
    await expect.poll(zoomLevel).toBe('50');
    // Space (as Z) means 100 %: from 50 % it goes to 100 %, from 100 % back to fit, then 100 % again.
    await page.keyboard.press('Space');
    await expect.poll(zoomLevel).toBe('100');
    await page.keyboard.press('Space');
    await expect.poll(zoomLevel).toBe('fit');
    await page.keyboard.press('Space');
    await expect.poll(zoomLevel).toBe('100');
    const levels = page.getByTestId('zoom-levels');
    await levels.getByRole('button', { name: '200 %' }).click();
    await expect.poll(zoomLevel).toBe('200');
    await expect.poll(() => levels.getByRole('button', { name: '200 %' }).getAttribute('aria-pressed')).toBe('true');
    await levels.getByRole('button', { name: 'Fit' }).click();
    await expect.poll(zoomLevel).toBe('fit');
    await expect.poll(focused).toBe('BODY');
  });

  it('undoing a reject puts the loupe back on that image', async () => {
    const rejected = await loupeId();
    await page.keyboard.press('x');
    await expect.poll(loupeId).not.toBe(rejected);
    await expect.poll(async () => (await byId(rejected)).flag).toBe('reject');
    await page.keyboard.press('Control+z');
    await expect.poll(loupeId).toBe(rejected);
    await expect.poll(async () => (await byId(rejected)).flag).toBe('none');
    // The full-size file is loaded from where it is back, not from Maybe Later (no failed request).
    await expect.poll(() => page.getByTestId('loupe-image').getAttribute('data-src')).not.toContain('Rejected');
    await page.locator('[data-testid="loupe-image"][data-loaded="true"]').waitFor();
  });

  it('labels with 6–9 (again: off), shown on the loupe and the cells, undoable, with a filter', async () => {
    const id = await loupeId();
    await page.keyboard.press('6');
    await expect.poll(async () => (await byId(id)).label).toBe('red');
    await expect.poll(() => page.locator('.loupe-marks [data-testid="colour-label"]').getAttribute('data-label')).toBe('red');
    await screenshot(page, 'culling-labels-loupe');
    await page.keyboard.press('6');
    await expect.poll(async () => (await byId(id)).label).toBe('none');
    await expect(page.locator('.loupe-marks [data-testid="colour-label"]').count()).resolves.toBe(0);
    await page.keyboard.press('9');
    await expect.poll(async () => (await byId(id)).label).toBe('blue');
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await byId(id)).label).toBe('none');
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(async () => (await byId(id)).label).toBe('blue');
    await page.keyboard.press('7');
    await expect.poll(async () => (await byId(id)).label).toBe('yellow');
    await page.keyboard.press('g');
    await page.getByTestId('grid').waitFor();
    await expect(cell(id).locator('.colour-label.yellow').count()).resolves.toBe(1);
    // Ctrl+A, then 8: every image shown gets green (one step; the one green already stays).
    await page.keyboard.press('Control+a');
    await page.keyboard.press('8');
    await expect.poll(async () => (await catalogue()).filter((i) => i.label === 'green').length).toBe(COUNT - 1);
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await byId(id)).label).toBe('yellow');
    await expect.poll(async () => (await catalogue()).filter((i) => i.label === 'green').length).toBe(1);
    await page.getByLabel('Label filter').selectOption('green');
    await expect.poll(shownIds).toEqual([ids[COUNT - 2]]);
    await page.getByLabel('Label filter').selectOption('any');
    await expect.poll(shownIds).toHaveLength(COUNT - 1);
  });

  it('Esc clears a Ctrl+A selection and keeps the active image', async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    const was = await active();
    await page.keyboard.press('Control+a');
    await expect.poll(() => page.getByTestId('selection-count').textContent()).toBe(`${COUNT - 1} selected`);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('selection-count').textContent()).toBe('');
    await expect.poll(() => page.locator('.cell.in-selection').count()).toBe(0);
    expect(await active()).toBe(was);
  });

  it('stacks a job into one cell (Shift+K) and opens and closes a stack with K', async () => {
    expect(jobIds).toHaveLength(2);
    await page.keyboard.press('Shift+k');
    // The 4 imports, and one cell per job (job A's first image is rejected, hidden: its second is the top).
    const firstOfA = ids[IMPORTS + 1]!;
    await expect.poll(shownIds).toEqual([...ids.slice(0, IMPORTS), firstOfA, ids[IMPORTS + PER_JOB]]);
    await expect.poll(() => cell(firstOfA).getByTestId('stack-badge').textContent()).toContain(String(PER_JOB - 1));
    await expect(
      cell(ids[IMPORTS + PER_JOB]!)
        .getByTestId('stack-badge')
        .textContent(),
    ).resolves.toContain(String(PER_JOB));
    await screenshot(page, 'culling-stacks');

    await page.keyboard.press('End');
    expect(await active()).toBe(ids[IMPORTS + PER_JOB]);
    await page.keyboard.press('k');
    await expect.poll(shownIds).toEqual([...ids.slice(0, IMPORTS), firstOfA, ...ids.slice(IMPORTS + PER_JOB)]);
    await page.keyboard.press('End');
    expect(await active()).toBe(ids[COUNT - 1]);
    // Closing from a member selects the top.
    await page.keyboard.press('k');
    await expect.poll(shownIds).toEqual([...ids.slice(0, IMPORTS), firstOfA, ids[IMPORTS + PER_JOB]]);
    expect(await active()).toBe(ids[IMPORTS + PER_JOB]);
    await page.keyboard.press('Shift+k');
    await expect.poll(shownIds).toHaveLength(COUNT - 1);
  });

  it('lists the new keys on the cheat sheet', async () => {
    await page.keyboard.press('?');
    const sheet = page.getByTestId('cheat-sheet');
    await sheet.waitFor();
    await expect.poll(() => sheet.locator('tr[data-action="labelRed"] kbd').textContent()).toBe('6');
    await expect.poll(() => sheet.locator('tr[data-action="labelBlue"] kbd').textContent()).toBe('9');
    await expect.poll(() => sheet.locator('tr[data-action="toggleStack"] kbd').textContent()).toBe('K');
    await expect.poll(() => sheet.locator('tr[data-action="stacking"] kbd').textContent()).toBe('Shift+K');
    await expect.poll(() => sheet.locator('tr[data-action="zoomIn"] kbd').first().textContent()).toBe('Ctrl+=');
    await page.keyboard.press('Escape');
    await sheet.waitFor({ state: 'detached' });
  });

  it('had no console errors', () => {
    expect(errors).toEqual([]);
  });
});
