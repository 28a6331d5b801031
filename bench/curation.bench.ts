/**
 * Culling speed in Chromium via the browser host: loupe latency on 1024×1792 and 576×1024 images
 * (key press → the selected image's decoded pixels painted), pressed one at a time and held down
 * (auto-repeat at ~30 Hz), the loupe's decode cache, rating persist time (key press →
 * `images.mark` answered) and grid scroll frame times on a 10,000-image project. Figures only.
 *
 * The images are imported as a designer would (`images.import`): the loupe shows the renditions the
 * import made, or the originals where it made none. ONBRAND_BENCH_RENDITIONS=seed writes renditions
 * for images imported without one (as e2e/loupe-speed.test.ts does).
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { it } from 'vitest';
import type { ImageSummary, Project } from '../src-main/core/api/index.js';
import { launchBrowser, startApp, tempDir, type RunningApp } from '../e2e/support/app.js';
import { posterSvg } from '../e2e/support/images.js';
import { makeRenditions } from '../e2e/support/renditions.js';
import { seedLargeProject } from '../e2e/support/seed.js';
import { measure, median, reportFigure } from './support.js';

const LOUPE_IMAGES = 24;
/** Presses one at a time (→ to the last image, ← back to the first, …). */
const PRESSES = 115;
/** The pause between presses at a glance's pace (a designer skimming), besides back to back. */
const GLANCE_MS = 150;
/** Held-key sweeps (→ to the last image, ← back, …): about 3 s of auto-repeat at ~30 Hz. */
const HELD_SWEEPS = 4;
const REPEAT_MS = 33;
/** Rating presses for the persist figure: enough for a p95 that is not the maximum. */
const RATINGS = 100;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}
const stats = (values: number[]): string =>
  values.length === 0
    ? 'none'
    : `p50 ${median(values).toFixed(1)} ms, p95 ${percentile(values, 95).toFixed(1)} ms, max ${Math.max(...values).toFixed(1)} ms`;
const fmt = (values: number[]): string => `${stats(values)} (n=${values.length})`;
/** The loupe's decode cache as the app shows it to benchmarks (src-renderer/src/features/loupe/decode-cache.ts). */
interface CacheWindow {
  __onbrandLoupeCache: {
    stats(): { count: number; bytes: number; maxCount: number; maxBytes: number; pending: number; decodeMs: number | null };
    setBounds(maxCount: number, maxBytes: number): void;
  };
}
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function call<T>(app: RunningApp, method: string, input: object): Promise<T> {
  const response = await fetch(new URL(`/api/${method}`, app.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-onbrand-token': app.token },
    body: JSON.stringify(input),
  });
  return ((await response.json()) as { result: T }).result;
}

interface LoupeSession {
  app: RunningApp;
  page: Page;
  /** Image ids in the grid's (and the loupe's) order. */
  ids: number[];
  /** What the loupe shows fit to the window: renditions or originals. */
  source: string;
}

/** Photo-sized PNGs (a few MB: noise over a poster), imported into a new project, the loupe open on the first. */
async function openLoupe(browser: Browser, width: number, height: number): Promise<LoupeSession> {
  const data = tempDir(`bench-loupe-${width}`);
  const incoming = path.join(data, 'incoming');
  fs.mkdirSync(incoming, { recursive: true });
  for (let i = 0; i < LOUPE_IMAGES; i++) {
    const noise = await sharp({
      create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 }, noise: { type: 'gaussian', mean: 128, sigma: 40 } },
    })
      .png()
      .toBuffer();
    await sharp(posterSvg(i, width, height))
      .composite([{ input: noise, blend: 'overlay' }])
      .png()
      .toFile(path.join(incoming, `shot_${String(i).padStart(2, '0')}.png`));
  }
  const dataDir = path.join(data, 'app');
  const app = await startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', dataDir]);
  const project = await call<Project>(app, 'projects.create', { name: 'Bench' });
  await call(app, 'images.import', { projectId: project.id, paths: [incoming] });
  let images = await call<ImageSummary[]>(app, 'images.list', { projectId: project.id });
  const bare = images.filter((i) => i.previewPath === null);
  let source =
    bare.length === 0 ? 'renditions made at import' : `originals (${bare.length} of ${images.length} imported without a rendition)`;
  if (bare.length > 0 && process.env.ONBRAND_BENCH_RENDITIONS === 'seed') {
    await makeRenditions(dataDir, bare);
    images = await call<ImageSummary[]>(app, 'images.list', { projectId: project.id });
    source = 'JPEG renditions seeded by the benchmark';
  }
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(app.urlWithToken);
  await page.waitForFunction((n) => document.querySelectorAll('.cell').length === n, images.length);
  const ids = await page.locator('.cell').evaluateAll((cells) => cells.map((c) => Number((c as HTMLElement).dataset.imageId)));
  await page.keyboard.press('l');
  await page.locator(`[data-testid="loupe-image"][data-image-id="${ids[0]}"][data-loaded="true"]`).waitFor();
  return { app, page, ids, source };
}

/** The loupe on the first image, at rest: its neighbours decoded. */
async function atRestOnFirst(page: Page, ids: number[]): Promise<void> {
  await page.keyboard.press('Home');
  await page.locator(`[data-testid="loupe-image"][data-image-id="${ids[0]}"][data-loaded="true"]`).waitFor();
  await page.waitForFunction(() => (window as unknown as CacheWindow).__onbrandLoupeCache.stats().pending === 0);
}

/**
 * Presses → (← on the way back) one at a time, each after the last one's image was painted:
 * key press (its event's time stamp) → the selected image's decoded pixels drawn, measured at the
 * next animation frame. A thumbnail shown meanwhile does not count.
 */
async function pressLatency({ page, ids }: LoupeSession, pauseMs = 0): Promise<number[]> {
  await atRestOnFirst(page, ids);
  const latencies: number[] = [];
  let index = 0;
  let direction = 1;
  for (let press = 0; press < PRESSES; press++) {
    if (index + direction < 0 || index + direction >= ids.length) direction = -direction;
    index += direction;
    await page.evaluate((id) => {
      (window as unknown as { __latency: Promise<number> }).__latency = new Promise<number>((resolve) => {
        let t0 = 0;
        window.addEventListener('keydown', (event) => (t0 = event.timeStamp), { once: true, capture: true });
        const check = (): void => {
          const el = document.querySelector<HTMLElement>('[data-testid="loupe-image"]');
          if (t0 > 0 && el && el.dataset.imageId === String(id) && el.dataset.loaded === 'true') {
            observer.disconnect();
            requestAnimationFrame((now) => resolve(now - t0));
          }
        };
        const observer = new MutationObserver(check);
        observer.observe(document.body, { subtree: true, childList: true, attributes: true });
      });
    }, ids[index]!);
    await page.keyboard.press(direction > 0 ? 'ArrowRight' : 'ArrowLeft');
    if (pauseMs > 0) await sleep(pauseMs);
    latencies.push(await page.evaluate(() => (window as unknown as { __latency: Promise<number> }).__latency));
  }
  return latencies;
}

interface HeldPress {
  t: number;
  id: number;
  /** Frames (animation-frame callbacks) seen after the press until its image showed: at its thumbnail or better, and decoded. */
  flipFrames?: number;
  shownFrames?: number;
  shown?: number;
}

/**
 * Holds → (then ←) across the images, a key-down with repeat every ~33 ms, and records on every
 * animation frame what the loupe shows: whether each press's image was on screen in the frame
 * after it (thumbnail or decoded: no backlog), whether its decoded pixels ever showed, and the time
 * from each release to the landed image's decoded pixels.
 */
async function heldLatency({ page, ids }: LoupeSession): Promise<{ presses: HeldPress[]; landings: number[] }> {
  await page.evaluate(() => {
    const rec = {
      presses: [] as HeldPress[],
      landings: [] as number[],
      release: null as { t: number; id: number } | null,
      expected: [] as number[],
    };
    (window as unknown as { __held: typeof rec }).__held = rec;
    window.addEventListener(
      'keydown',
      (event) => {
        if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') rec.presses.push({ t: event.timeStamp, id: rec.expected.shift()! });
      },
      { capture: true },
    );
    const tick = (now: number): void => {
      const el = document.querySelector<HTMLElement>('[data-testid="loupe-image"]');
      const loupeId = Number(document.querySelector<HTMLElement>('[data-testid="loupe"]')?.dataset.imageId);
      const decodedId = el && el.dataset.loaded === 'true' ? Number(el.dataset.imageId) : null;
      const thumb = document.querySelector<HTMLImageElement>('.loupe .loupe-placeholder');
      const thumbShown = thumb !== null && thumb.complete && thumb.naturalWidth > 0;
      for (const [i, p] of rec.presses.entries()) {
        // A press counts until the next one: an image shown after it was flown past is not its showing.
        const next = rec.presses[i + 1];
        if (now <= p.t || (next && now > next.t && p.flipFrames !== undefined && p.shownFrames !== undefined)) continue;
        if (next && now > next.t) {
          // Superseded: whatever was not shown by then never was.
          p.flipFrames ??= -1;
          p.shownFrames ??= -1;
          continue;
        }
        const frames = ((p as HeldPress & { frames?: number }).frames = ((p as HeldPress & { frames?: number }).frames ?? 0) + 1);
        if (p.flipFrames === undefined && loupeId === p.id && (decodedId === p.id || thumbShown)) p.flipFrames = frames;
        if (p.shownFrames === undefined && decodedId === p.id) {
          p.shownFrames = frames;
          p.shown = now - p.t;
        }
      }
      if (rec.release && now > rec.release.t && decodedId === rec.release.id) {
        rec.landings.push(now - rec.release.t);
        rec.release = null;
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    window.addEventListener(
      'keyup',
      (event) => {
        if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
        const id = Number(document.querySelector<HTMLElement>('[data-testid="loupe"]')?.dataset.imageId);
        rec.release = { t: event.timeStamp, id };
      },
      { capture: true },
    );
  });
  await atRestOnFirst(page, ids);
  let index = 0;
  for (let sweep = 0; sweep < HELD_SWEEPS; sweep++) {
    const direction = sweep % 2 === 0 ? 1 : -1;
    const key = direction > 0 ? 'ArrowRight' : 'ArrowLeft';
    const expected: number[] = [];
    for (let i = 1; i < ids.length; i++) expected.push(ids[index + i * direction]!);
    await page.evaluate((e) => (window as unknown as { __held: { expected: number[] } }).__held.expected.push(...e), expected);
    await page.waitForFunction(() => (window as unknown as CacheWindow).__onbrandLoupeCache.stats().pending === 0);
    // Only the images decoded at rest where the hold starts stay (the current one and the next two
    // the key flies to), so the landing is on an image not decoded before, as on a long hold.
    await page.evaluate(() => {
      const cache = (window as unknown as CacheWindow).__onbrandLoupeCache;
      const { maxCount, maxBytes } = cache.stats();
      cache.setBounds(3, maxBytes);
      cache.setBounds(maxCount, maxBytes);
    });
    const start = Date.now();
    for (let i = 0; i < expected.length; i++) {
      await sleep(Math.max(0, start + i * REPEAT_MS - Date.now()));
      await page.keyboard.down(key); // the second and later carry repeat = true, as the OS's auto-repeat
    }
    await page.keyboard.up(key);
    index += (ids.length - 1) * direction;
    await page.locator(`[data-testid="loupe-image"][data-image-id="${ids[index]}"][data-loaded="true"]`).waitFor();
    await page.waitForFunction(() => (window as unknown as { __held: { release: unknown } }).__held.release === null);
  }
  return page.evaluate(() => {
    const rec = (window as unknown as { __held: { presses: HeldPress[]; landings: number[] } }).__held;
    return { presses: rec.presses, landings: rec.landings };
  });
}

async function loupeCacheFigure(page: Page): Promise<string> {
  const s = await page.evaluate(() => (window as unknown as CacheWindow).__onbrandLoupeCache.stats());
  const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  const decode = s.decodeMs === null ? '' : `, median decode ${s.decodeMs.toFixed(0)} ms (fetch + createImageBitmap, off the main thread)`;
  return `${s.count} images, ${mb(s.bytes)} (bound ${s.maxCount} images / ${mb(s.maxBytes)}) after stepping through 1024×1792 images${decode}`;
}

/** Presses back to back and at a glance's pace, reported as one figure. */
async function reportPresses(session: Parameters<typeof pressLatency>[0], label: 'loupe 576×1024' | 'loupe 1024×1792'): Promise<void> {
  const latencies = await pressLatency(session);
  const glance = await pressLatency(session, GLANCE_MS);
  reportFigure(
    label,
    `${fmt(latencies)} presses back to back; ${fmt(glance)} one press per ${GLANCE_MS} ms; key press → decoded image painted, ${session.source}`,
  );
}

it('loupe latency and rating persist time', async () => {
  const browser = await launchBrowser();
  try {
    await measure('loupe 576×1024', async () => {
      const session = await openLoupe(browser, 576, 1024);
      try {
        await reportPresses(session, 'loupe 576×1024');
      } finally {
        await session.page.close();
        await session.app.stop();
      }
    });
    await measure('loupe 1024×1792', async () => {
      const session = await openLoupe(browser, 1024, 1792);
      const { page } = session;
      try {
        await reportPresses(session, 'loupe 1024×1792');
        reportFigure('loupe cache', await loupeCacheFigure(page));

        const { presses, landings } = await heldLatency(session);
        const flipped = presses.filter((p) => p.flipFrames !== undefined && p.flipFrames > 0 && p.flipFrames <= 2).length;
        const shown = presses.filter((p) => p.shown !== undefined && p.shownFrames! > 0);
        const inFrame = shown.filter((p) => p.shownFrames! <= 2).length;
        reportFigure(
          'loupe 1024×1792 held',
          `${presses.length} repeat presses at ${Math.round(1000 / REPEAT_MS)} Hz: ${flipped} on the selected image in the next frame (its thumbnail or better, no backlog); ` +
            `${shown.length} with decoded pixels (${inFrame} in the next frame; ${stats(shown.map((p) => p.shown!))}), the rest flown past undecoded by design; ` +
            `release → landed image decoded and painted ${fmt(landings)}; ${session.source}`,
        );
        await page.locator('[data-testid="loupe-image"][data-loaded="true"]').waitFor();

        const persist: number[] = [];
        for (let i = 0; i < RATINGS; i++) {
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
        reportFigure('rating persist', `${fmt(persist)}, key press → images.mark answered (stored in SQLite)`);
      } finally {
        await page.close();
        await session.app.stop();
      }
    });
  } finally {
    await browser.close();
  }
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
      // Scrolling the whole project: its pages have all arrived (the focus and colour analysis of
      // the seeded, unanalysed images goes on in the background and sends its updates meanwhile).
      await page.getByTestId('image-stream').waitFor({ state: 'detached', timeout: 120_000 });
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
      reportFigure(
        'grid scroll 10k',
        `frame time ${fmt(frames)}, 90 px per frame for 300 frames, every page arrived, analysis running in the background (headless Chromium, no GPU)`,
      );
    } finally {
      await browser.close();
      await app.stop();
    }
  });
});
