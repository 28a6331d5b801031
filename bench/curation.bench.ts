/**
 * Culling speed in Chromium via the browser host: loupe latency (key press → next full-resolution
 * 1024×1792 PNG decoded, neighbours prefetched), rating persist time (key press → `images.mark`
 * answered) and grid scroll frame times on a 10,000-image project. Figures only.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { it } from 'vitest';
import type { ImageSummary, Project } from '../src-main/core/api/index.js';
import { launchBrowser, startApp, tempDir, type RunningApp } from '../e2e/support/app.js';
import { posterSvg } from '../e2e/support/images.js';
import { seedLargeProject } from '../e2e/support/seed.js';
import { measure, median, report } from './support.js';

const LOUPE_IMAGES = 24;
const STEPS = 20;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}
const fmt = (values: number[]): string =>
  `p50 ${median(values).toFixed(1)} ms, p95 ${percentile(values, 95).toFixed(1)} ms, max ${Math.max(...values).toFixed(1)} ms (n=${values.length})`;

async function call<T>(app: RunningApp, method: string, input: object): Promise<T> {
  const response = await fetch(new URL(`/api/${method}`, app.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-onbrand-token': app.token },
    body: JSON.stringify(input),
  });
  return ((await response.json()) as { result: T }).result;
}

it('loupe latency and rating persist time', async () => {
  await measure('curation', async () => {
    const data = tempDir('bench-curation');
    const incoming = path.join(data, 'incoming');
    fs.mkdirSync(incoming, { recursive: true });
    for (let i = 0; i < LOUPE_IMAGES; i++) {
      // Noise over the poster so the PNGs are photo-sized (a few MB), not flat colour.
      const noise = await sharp({
        create: {
          width: 1024,
          height: 1792,
          channels: 3,
          background: { r: 128, g: 128, b: 128 },
          noise: { type: 'gaussian', mean: 128, sigma: 40 },
        },
      })
        .png()
        .toBuffer();
      await sharp(posterSvg(i, 1024, 1792))
        .composite([{ input: noise, blend: 'overlay' }])
        .png()
        .toFile(path.join(incoming, `big_${String(i).padStart(2, '0')}.png`));
    }
    const app = await startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', path.join(data, 'app')]);
    const browser = await launchBrowser();
    try {
      const project = await call<Project>(app, 'projects.create', { name: 'Bench' });
      await call(app, 'images.import', { projectId: project.id, paths: [incoming] });
      const images = await call<ImageSummary[]>(app, 'images.list', { projectId: project.id });
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await page.goto(app.urlWithToken);
      await page.locator('.cell').first().waitFor();
      await page.keyboard.press('l');
      await page.locator('[data-testid="loupe-image"][data-loaded="true"]').waitFor();

      const loupe: number[] = [];
      for (let step = 1; step <= STEPS && step < images.length; step++) {
        const next = images[step]!;
        // Neighbours prefetched: wait until the next file has been fetched, as after a glance.
        await page.waitForFunction(
          (p) =>
            performance
              .getEntriesByType('resource')
              .some((e) => e.name.includes(encodeURIComponent(p)) && (e as PerformanceResourceTiming).responseEnd > 0),
          next.path,
        );
        await page.evaluate((id) => {
          (window as unknown as { __latency: Promise<number> }).__latency = new Promise<number>((resolve) => {
            let t0 = 0;
            window.addEventListener('keydown', () => (t0 = performance.now()), { once: true, capture: true });
            const check = (): void => {
              const img = document.querySelector<HTMLImageElement>('[data-testid="loupe-image"]');
              if (t0 > 0 && img && img.dataset.imageId === String(id) && img.complete && img.naturalWidth > 0) {
                observer.disconnect();
                void img.decode().then(() => resolve(performance.now() - t0));
              }
            };
            const observer = new MutationObserver(check);
            observer.observe(document.body, { subtree: true, childList: true, attributes: true });
          });
        }, next.id);
        await page.keyboard.press('ArrowRight');
        loupe.push(await page.evaluate(() => (window as unknown as { __latency: Promise<number> }).__latency));
      }
      report(`curation: loupe, key press → next 1024×1792 PNG decoded (neighbours prefetched, headless Chromium): ${fmt(loupe)}`);

      const persist: number[] = [];
      for (let i = 0; i < STEPS; i++) {
        await page.evaluate(() => {
          (window as unknown as { __persist: Promise<number> }).__persist = new Promise<number>((resolve) => {
            let t0 = 0;
            window.addEventListener('keydown', () => (t0 = performance.now()), { once: true, capture: true });
            const observer = new PerformanceObserver((list) => {
              const entry = list.getEntries().find((e) => e.name.includes('/api/images.mark') && e.startTime >= t0 && t0 > 0) as
                PerformanceResourceTiming | undefined;
              if (entry) {
                observer.disconnect();
                resolve(entry.responseEnd - t0);
              }
            });
            observer.observe({ type: 'resource' });
          });
        });
        await page.keyboard.press(String((i % 5) + 1));
        persist.push(await page.evaluate(() => (window as unknown as { __persist: Promise<number> }).__persist));
      }
      report(`curation: rating persist, key press → images.mark answered (stored in SQLite): ${fmt(persist)}`);
    } finally {
      await browser.close();
      await app.stop();
    }
  });
});

it('grid scroll frame times on a 10,000-image project', async () => {
  await measure('curation-scroll', async () => {
    const data = tempDir('bench-curation-scroll');
    await seedLargeProject(data, 10_000);
    const app = await startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', data]);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await page.goto(app.urlWithToken);
      await page.waitForFunction(() => {
        const imgs = Array.from(document.querySelectorAll<HTMLImageElement>('.cell img.thumb'));
        return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
      });
      const frames = await page.evaluate(
        () =>
          new Promise<number[]>((resolve) => {
            const grid = document.querySelector<HTMLElement>('[data-testid="grid"]')!;
            const times: number[] = [];
            let last = performance.now();
            let n = 0;
            const tick = (now: number): void => {
              times.push(now - last);
              last = now;
              grid.scrollTop += 90;
              if (++n < 300) requestAnimationFrame(tick);
              else resolve(times.slice(1));
            };
            requestAnimationFrame(tick);
          }),
      );
      report(`curation: grid scroll, 10,000 images, 90 px per frame for 300 frames (headless Chromium, no GPU): frame time ${fmt(frames)}`);
    } finally {
      await browser.close();
      await app.stop();
    }
  });
});
