/**
 * A large project opens from its first page and the rest streams in: the count and the grid's
 * height are right at once, the selection and the scroll stay put while pages arrive, the last
 * image is reachable once they are in, and opening another project mid-stream shows only its own.
 * The pages after the first are held back (and cut to 400 images) by the test, so each state is seen.
 */
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot, startApp, tempDir, type RunningApp } from './support/app.js';
import { seedLargeProject } from './support/seed.js';

const COUNT = 2000;
const SMALL = 30;
const PAGE = 400;
let app: RunningApp;
let browser: Browser;
let page: Page;
let smallId: number;
let streamId: number;
/** Pages after the first, held until the test lets them through. */
const held: Route[] = [];

beforeAll(async () => {
  const data = tempDir('stream');
  // Small first: the project made last (Stream) is the one the app opens.
  smallId = (await seedLargeProject(data, SMALL, 8, { name: 'Small', startAt: '2026-10-01T09:00:00Z' })).projectId;
  streamId = (await seedLargeProject(data, COUNT, 48, { name: 'Stream' })).projectId;
  app = await startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', data]);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.route('**/api/images.page', async (route) => {
    const input = route.request().postDataJSON() as { projectId: number; offset: number; limit: number };
    if (input.offset === 0) return route.continue();
    held.push(route);
    return undefined;
  });
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

/** Lets the oldest held page through, cut to PAGE images; resolves once the app has its answer. */
async function release(): Promise<void> {
  await expect.poll(() => held.length).toBeGreaterThan(0);
  const route = held.shift()!;
  const input = route.request().postDataJSON() as object;
  const answered = page.waitForResponse((r) => r.request() === route.request());
  await route.continue({ postData: JSON.stringify({ ...input, limit: PAGE }) });
  await answered;
}

const painted = (): boolean => {
  const imgs = Array.from(document.querySelectorAll<HTMLImageElement>('.cell img.thumb'));
  return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
};

/** The grid as the user sees it: the selected cell, the scroll, the canvas height and the rendered ids. */
const gridState = (p: Page) =>
  p.evaluate(() => {
    const grid = document.querySelector<HTMLElement>('[data-testid="grid"]')!;
    const canvas = grid.querySelector<HTMLElement>('.grid-canvas')!;
    const selected = grid.querySelector<HTMLElement>('.cell.selected');
    const cell = grid.querySelector<HTMLElement>('.cell')!;
    return {
      selectedIndex: selected?.dataset.index ?? null,
      selectedId: selected?.dataset.imageId ?? null,
      scrollTop: grid.scrollTop,
      height: canvas.offsetHeight,
      columns: Number(grid.dataset.columns),
      cellSize: cell.offsetWidth,
      ids: Array.from(grid.querySelectorAll<HTMLElement>('.cell')).map((c) => Number(c.dataset.imageId)),
    };
  });

describe('a large project streams in behind its first page', () => {
  it('paints the first page with the whole count and the whole height at once', async () => {
    await page.goto(app.urlWithToken);
    await page.waitForFunction(painted);
    expect(await page.getByTestId('image-count').textContent()).toBe('2,000 images');
    expect(await page.getByTestId('image-stream').textContent()).toBe('loading 200 of 2,000');
    const state = await gridState(page);
    // Every row of the 2,000 images, not only those of the 200 that arrived (6 px gaps).
    expect(state.height).toBe(Math.ceil(COUNT / state.columns) * (state.cellSize + 6) + 6);
    expect(state.ids.length).toBeGreaterThan(0);
    expect(state.ids.every((id) => id > SMALL)).toBe(true);
    await screenshot(page, 'stream-first-page');
  });

  it('keeps the selection and the scroll where they are while pages arrive', async () => {
    const grid = page.getByTestId('grid');
    await page.locator('.cell[data-index="9"]').click();
    await grid.evaluate((el) => (el.scrollTop = 120));
    await page.waitForFunction(() => document.querySelector('[data-testid="grid"]')!.scrollTop === 120);
    const before = await gridState(page);
    expect(before.selectedIndex).toBe('9');
    for (let arrived = 200 + PAGE; arrived < COUNT; arrived += PAGE) {
      await release();
      await expect.poll(() => page.getByTestId('image-stream').textContent()).toBe(`loading ${arrived.toLocaleString('en-US')} of 2,000`);
      const now = await gridState(page);
      expect(now.selectedIndex).toBe('9');
      expect(now.selectedId).toBe(before.selectedId);
      expect(now.scrollTop).toBe(120);
      expect(now.height).toBe(before.height);
    }
    await release();
    await page.getByTestId('image-stream').waitFor({ state: 'detached' });
    expect(await page.getByTestId('image-count').textContent()).toBe('2,000 images');
    expect((await gridState(page)).selectedIndex).toBe('9');
  });

  it('reaches the last image with End once every page is in', async () => {
    await page.keyboard.press('End');
    await expect.poll(() => page.locator('.cell.selected').getAttribute('data-index')).toBe(String(COUNT - 1));
    expect(await page.locator('.cell.selected').getAttribute('title')).toContain('gen_002000.png');
    await page.waitForFunction(painted);
    const state = await gridState(page);
    expect(state.height).toBe(Math.ceil(COUNT / state.columns) * (state.cellSize + 6) + 6);
    await screenshot(page, 'stream-end');
  });

  it('shows only the new project when another is opened mid-stream', async () => {
    const picker = page.getByLabel('Project');
    await picker.selectOption(String(smallId));
    await expect.poll(() => page.getByTestId('image-count').textContent()).toBe('30 images');
    // Back to the large one: its first page, then the rest held...
    await picker.selectOption(String(streamId));
    await expect.poll(() => page.getByTestId('image-stream').textContent()).toBe('loading 200 of 2,000');
    await expect.poll(() => held.length).toBe(1);
    // ...and the small one opened while the large one still streams.
    await picker.selectOption(String(smallId));
    await expect.poll(() => page.getByTestId('image-count').textContent()).toBe('30 images');
    // The large project's page comes after all: it is dropped, and no further page is asked for.
    await release();
    await page.waitForFunction(painted);
    const state = await gridState(page);
    expect(state.ids).toHaveLength(SMALL);
    expect(state.ids.every((id) => id <= SMALL)).toBe(true);
    expect(await page.getByTestId('image-count').textContent()).toBe('30 images');
    expect(await page.getByTestId('image-stream').count()).toBe(0);
    expect(held).toHaveLength(0);
  });
});
