/** A 10,000-image project in the browser host: the grid paints fast and stays virtualized. */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot, startApp, tempDir, type RunningApp } from './support/app.js';
import { seedLargeProject } from './support/seed.js';

const COUNT = 10_000;
let app: RunningApp;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const data = tempDir('large');
  await seedLargeProject(data, COUNT);
  app = await startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', data]);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

/** Cells in the DOM and whether every rendered thumbnail has decoded. */
const gridState = (p: Page) =>
  p.evaluate(() => {
    const imgs = Array.from(document.querySelectorAll<HTMLImageElement>('.cell img.thumb'));
    return {
      cells: document.querySelectorAll('.cell').length,
      loaded: imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0),
    };
  });

describe('a project with 10,000 images', () => {
  it('paints the first grid with real thumbnails', async () => {
    const started = Date.now();
    await page.goto(app.urlWithToken);
    await page.waitForFunction(() => {
      const imgs = Array.from(document.querySelectorAll<HTMLImageElement>('.cell img.thumb'));
      return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    });
    const elapsed = Date.now() - started;
    console.log(`10,000-image project: first painted grid after ${elapsed} ms`);
    await expect.poll(() => page.getByTestId('image-count').textContent()).toBe('10,000 images');
    // Far from the catalogue's size: only the rows in view (plus overscan) exist.
    const { cells } = await gridState(page);
    expect(cells).toBeGreaterThan(10);
    expect(cells).toBeLessThan(400);
  });

  it('jumps to the end and back with End/Home, rendering only what is in view', async () => {
    // The pages after the first have streamed in.
    await page.getByTestId('image-stream').waitFor({ state: 'detached' });
    await page.keyboard.press('End');
    await expect.poll(() => page.locator('.cell.selected').getAttribute('data-index')).toBe(String(COUNT - 1));
    await page.waitForFunction(() => {
      const imgs = Array.from(document.querySelectorAll<HTMLImageElement>('.cell img.thumb'));
      return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    });
    expect((await gridState(page)).cells).toBeLessThan(400);
    await screenshot(page, 'grid-10000-end');
    await page.keyboard.press('Home');
    await expect.poll(() => page.locator('.cell.selected').getAttribute('data-index')).toBe('0');
  });

  it('scrolls smoothly: frames stay short while scrolling through the grid', async () => {
    const frames = await page.evaluate(async () => {
      const scroller = document.querySelector<HTMLElement>('[data-testid="grid"]')!;
      const gaps: number[] = [];
      let last = performance.now();
      for (let i = 0; i < 120; i++) {
        scroller.scrollTop += 400;
        await new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
        const now = performance.now();
        gaps.push(now - last);
        last = now;
      }
      gaps.sort((a, b) => a - b);
      return { median: gaps[Math.floor(gaps.length / 2)]!, p95: gaps[Math.floor(gaps.length * 0.95)]! };
    });
    console.log(`10,000-image grid scroll: median frame ${frames.median.toFixed(1)} ms, p95 ${frames.p95.toFixed(1)} ms`);
    // Headless Chromium without a GPU on 2 cores: generous, but a non-virtualized grid fails it by far.
    expect(frames.median).toBeLessThan(100);
  });

  it('PageDown moves by a screenful of rows', async () => {
    await page.keyboard.press('Home');
    const columns = Number(await page.getByTestId('grid').getAttribute('data-columns'));
    await page.keyboard.press('PageDown');
    const index = Number(await page.locator('.cell.selected').getAttribute('data-index'));
    expect(index % columns).toBe(0);
    expect(index).toBeGreaterThanOrEqual(columns);
  });
});
