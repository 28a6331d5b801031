/**
 * The queue as the designer sees it: latency from "image written" (the file's modification
 * time) to "its thumbnail decoded in the grid" (Chromium through the browser host), and the
 * queue's overhead per image against the bare engine on the same settings.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'vitest';
import { launchBrowser, startApp, tempDir } from '../e2e/support/app.js';
import { BRAND_LOOP_PRESET, type ImageSummary, type Job } from '../src-main/core/api/index.js';
import { DiffusionEngine } from '../src-main/core/diffusion/index.js';
import { writeTinySd } from '../src-main/core/diffusion/testing/tiny-sd.js';
import { measure, median, report } from './support.js';

const SIZE = 256;
const STEPS = 10;
const BATCH = 6;

it('queue: image written → thumbnail in grid, and overhead per image', async () => {
  await measure('queue', async () => {
    const root = tempDir('bench-queue');
    const models = path.join(root, 'models');
    writeTinySd(path.join(models, 'tiny-sd'), { dim: 32 });

    // Bare engine: the same work without queue, worker, files or catalogue.
    const engine = new DiffusionEngine();
    await engine.load(path.join(models, 'tiny-sd'), 'cpu');
    const base = {
      prompt: 'portrait',
      negativePrompt: 'text',
      steps: STEPS,
      cfg: 7,
      sampler: 'DPM++ 2M Karras' as const,
      width: SIZE,
      height: SIZE,
      batchSize: BATCH,
    };
    await engine.generate({ ...base, seed: 1 });
    const bare: number[] = [];
    for (let r = 0; r < 3; r++) {
      const started = performance.now();
      await engine.generate({ ...base, seed: 10 + r });
      bare.push((performance.now() - started) / BATCH);
    }
    await engine.dispose();

    const app = await startApp('dist/main/host/main.js', [
      '--port',
      '0',
      '--data-dir',
      path.join(root, 'data'),
      '--models-dir',
      models,
      '--provider',
      'cpu',
    ]);
    const browser = await launchBrowser();
    try {
      const call = async <T>(method: string, input: unknown): Promise<T> => {
        const response = await fetch(new URL(`/api/${method}`, app.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-onbrand-token': app.token },
          body: JSON.stringify(input),
        });
        const body = (await response.json()) as { result: T; error?: { message: string } };
        if (body.error) throw new Error(body.error.message);
        return body.result;
      };
      const project = await call<{ id: number; folder: string }>('projects.create', { name: 'Bench' });
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(app.urlWithToken);
      await page.locator('html[data-ready="true"]').waitFor();
      // Record when each grid thumbnail finishes decoding (wall clock, comparable with file times).
      await page.evaluate(() => {
        const seen = new Map<string, number>();
        (window as unknown as { __loaded: Map<string, number> }).__loaded = seen;
        const watch = (img: HTMLImageElement): void => {
          const id = img.closest('[data-image-id]')?.getAttribute('data-image-id');
          if (!id || seen.has(id)) return;
          const done = (): void => void (!seen.has(id) && seen.set(id, Date.now()));
          if (img.complete && img.naturalWidth > 0) done();
          else img.addEventListener('load', done, { once: true });
        };
        new MutationObserver(() => document.querySelectorAll<HTMLImageElement>('.cell img.thumb').forEach(watch)).observe(document.body, {
          subtree: true,
          childList: true,
          attributes: true,
        });
      });

      const settings = { ...BRAND_LOOP_PRESET.settings, model: 'tiny-sd', width: SIZE, height: SIZE, steps: STEPS, batchSize: BATCH };
      const queued = performance.now();
      const jobs = await call<Job[]>('queue.add', {
        projectId: project.id,
        prompt: 'portrait',
        negativePrompt: 'text',
        settings,
        batches: 3,
        seed: 100,
      });
      await page.waitForFunction((n) => (window as unknown as { __loaded: Map<string, number> }).__loaded.size >= n, BATCH * jobs.length, {
        timeout: 300_000,
      });
      const elapsed = performance.now() - queued;
      const loaded = new Map<string, number>(
        await page.evaluate(() => [...(window as unknown as { __loaded: Map<string, number> }).__loaded]),
      );
      const images = await call<ImageSummary[]>('images.list', { projectId: project.id });
      const latency = images.map((image) => loaded.get(String(image.id))! - fs.statSync(image.path).mtimeMs);
      const finished = await call<Job[]>('queue.list', { projectId: project.id });
      const gpu = finished.reduce((s, j) => s + j.gpuSeconds, 0);

      report(`queue: ${jobs.length} batches × ${BATCH} at ${SIZE}×${SIZE}, ${STEPS} steps, tiny model, CPU (${os.cpus().length} cores)`);
      report(
        `queue: image written → thumbnail decoded in the grid: median ${median(latency).toFixed(0)} ms, max ${Math.max(...latency).toFixed(0)} ms`,
      );
      report(
        `queue: ${(elapsed / images.length).toFixed(1)} ms per image through the queue (engine time in the worker ${((gpu * 1000) / images.length).toFixed(1)} ms) ` +
          `vs bare engine ${median(bare).toFixed(1)} ms → overhead ${(elapsed / images.length - median(bare)).toFixed(1)} ms per image`,
      );
    } finally {
      await browser.close();
      await app.stop();
    }
  });
});
