/**
 * Time from opening a 10,000- and a 100,000-image project to the first painted grid (every
 * thumbnail in view decoded), in Chromium via the browser host; and the API calls behind it.
 */
import type { Browser, Page } from 'playwright-core';
import { it } from 'vitest';
import { launchBrowser, startApp, tempDir, type RunningApp } from '../e2e/support/app.js';
import { seedLargeProject } from '../e2e/support/seed.js';
import { measure, median, report, reportFigure } from './support.js';

const RUNS = 5;

async function post(app: RunningApp, method: string, input: object): Promise<unknown> {
  const response = await fetch(new URL(`/api/${method}`, app.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-onbrand-token': app.token },
    body: JSON.stringify(input),
  });
  return ((await response.json()) as { result: unknown }).result;
}

/** Median and runs of `times` milliseconds, e.g. `median 412 ms (runs 380–455 ms)`. */
function figure(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const f = (t: number): string => Math.round(t).toLocaleString('en-US');
  return `median ${f(median(times))} ms (runs ${f(sorted[0]!)}–${f(sorted[sorted.length - 1]!)} ms)`;
}

/**
 * Watches every frame from the page's start: when every thumbnail in view first shows decoded (the
 * host's picture of the first screenful, boot-view.ts, or the app's grid), and when the app's own
 * grid has painted and taken over (the picture gone: the grid answers keys and clicks). Notes each
 * on the page's own clock (ms since its navigation started) and the wall clock.
 */
function watchPaint(): void {
  const w = window as unknown as Record<string, number | undefined>;
  const complete = (imgs: HTMLImageElement[]): boolean => imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  const frame = (): void => {
    const now = performance.now();
    if (
      w.__paintedAt === undefined &&
      complete(Array.from(document.querySelectorAll<HTMLImageElement>('.cell img.thumb, .boot-cell img.thumb')))
    ) {
      w.__paintedAt = now;
      w.__paintedWall = performance.timeOrigin + now;
    }
    if (
      !document.getElementById('boot-view') &&
      complete(Array.from(document.querySelectorAll<HTMLImageElement>('.grid-scroll .cell img.thumb')))
    ) {
      w.__appWall = performance.timeOrigin + now;
      return;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

/** Where the time of one opening went, from the page's own timeline (ms since navigation start). */
async function timeline(page: Page): Promise<string> {
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    const firstPage = resources.find((r) => r.name.includes('/api/images.page'));
    const thumbs = resources.filter((r) => r.name.includes('/media?'));
    const scripts = resources.filter((r) => r.initiatorType === 'script' || r.name.endsWith('.js'));
    const f = (t: number | undefined): string => (t === undefined ? '?' : `${Math.round(t)}`);
    return (
      `document ${f(nav?.responseEnd)} ms, DOMContentLoaded ${f(nav?.domContentLoadedEventEnd)} ms, ` +
      `scripts ${f(Math.max(0, ...scripts.map((s) => s.responseEnd)))} ms, ` +
      `first page asked ${f(firstPage?.startTime)} ms / answered ${f(firstPage?.responseEnd)} ms, ` +
      `${thumbs.length} thumbnails ${f(Math.min(...thumbs.map((t) => t.startTime)))}–${f(Math.max(...thumbs.map((t) => t.responseEnd)))} ms`
    );
  });
}

async function openings(
  browser: Browser,
  app: RunningApp,
  count: number,
): Promise<{ paint: number[]; inPage: number[]; appGrid: number[]; all: number[]; note: string }> {
  const paint: number[] = [];
  const appGrid: number[] = [];
  const inPage: number[] = [];
  const all: number[] = [];
  let note = '';
  for (let run = 0; run < RUNS; run++) {
    // A fresh context each run: nothing cached, as on the first opening of the day.
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addInitScript(watchPaint);
    const page = await context.newPage();
    const started = Date.now();
    await page.goto(app.urlWithToken, { waitUntil: 'commit' });
    await page.waitForFunction(() => (window as unknown as { __appWall?: number }).__appWall !== undefined, undefined, { timeout: 60_000 });
    const { paintedAt, paintedWall, appWall } = await page.evaluate(() => {
      const w = window as unknown as Record<string, number>;
      return { paintedAt: w.__paintedAt!, paintedWall: w.__paintedWall!, appWall: w.__appWall! };
    });
    paint.push(paintedWall - started);
    inPage.push(paintedAt);
    appGrid.push(appWall - started);
    const shown = await page.getByTestId('image-count').textContent();
    if (shown !== `${count.toLocaleString('en-US')} images`) throw new Error(`the status bar said "${shown}" at first paint`);
    if (run === Math.floor(RUNS / 2)) note = await timeline(page);
    // The rest streams in behind: every image in the grid.
    await page.getByTestId('image-stream').waitFor({ state: 'detached', timeout: 120_000 });
    all.push(Date.now() - started);
    await context.close();
  }
  return { paint, inPage, appGrid, all, note };
}

it('first painted grid of a 10,000- and a 100,000-image project', async () => {
  for (const count of [10_000, 100_000]) {
    const label = count === 10_000 ? '10k' : '100k';
    await measure(`grid ${label}`, async () => {
      const data = tempDir(`bench-grid-${label}`);
      const seeding = performance.now();
      await seedLargeProject(data, count);
      report(`grid ${label}: seeded ${count.toLocaleString('en-US')} images in ${Math.round(performance.now() - seeding)} ms`);
      const app = await startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', data]);
      const browser = await launchBrowser();
      try {
        // The API calls alone: the whole list, and the first page the grid paints from.
        const listTimes: number[] = [];
        const pageTimes: number[] = [];
        // The whole list of 100,000 takes seconds a call: three of those are enough.
        for (let i = 0; i < (count > 10_000 ? 3 : RUNS); i++) {
          let started = performance.now();
          const listed = (await post(app, 'images.list', { projectId: 1 })) as unknown[];
          if (listed.length !== count) throw new Error(`listed ${listed.length} images`);
          listTimes.push(performance.now() - started);
          started = performance.now();
          const first = (await post(app, 'images.page', { projectId: 1, offset: 0, limit: 200 })) as { total: number; images: unknown[] };
          if (first.total !== count || first.images.length !== 200) throw new Error(`first page: ${first.images.length} of ${first.total}`);
          pageTimes.push(performance.now() - started);
        }
        reportFigure(
          `images.list ${label}`,
          `${figure(listTimes)} over HTTP (the whole list); first page of 200 with the count: ${figure(pageTimes)}`,
        );

        const { paint, inPage, appGrid, all, note } = await openings(browser, app, count);
        // From the bench's call to open the page (a new page of a fresh browser context, as before),
        // and on the page's own clock from its navigation start (without the browser making the page).
        reportFigure(`first paint ${label}`, `${figure(paint)}; on the page's clock from navigation start ${figure(inPage)}`);
        reportFigure(
          `app grid ${label}`,
          `${figure(appGrid)} from opening the page to the app's own grid painted (the picture gone, keys answered)`,
        );
        report(`grid ${label}: every image in the grid after ${figure(all)}; median run's timeline: ${note}`);
      } finally {
        await browser.close();
        await app.stop();
      }
    });
  }
});
