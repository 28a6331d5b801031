/**
 * The queue's own cost per image, measured honestly: the bare engine against the queue in steady
 * state (worker started, model loaded and a warm-up job run before the clock starts), on the same
 * settings, at 64×64 and 512×512 on the tiny model. Then, as the designer sees it, the latency
 * from "image written" (the file given its name: its ctime) to "its thumbnail decoded in the grid"
 * (Chromium through the browser host).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'vitest';
import { launchBrowser, startApp, tempDir } from '../e2e/support/app.js';
import { BRAND_LOOP_PRESET, type GenerationSettings, type ImageSummary, type Job } from '../src-main/core/api/index.js';
import { resolveConfig } from '../src-main/core/config.js';
import { DiffusionEngine } from '../src-main/core/diffusion/index.js';
import { writeTinySd } from '../src-main/core/diffusion/testing/tiny-sd.js';
import { createServices } from '../src-main/core/services.js';
import { measure, median, report, reportFigure } from './support.js';

const SIZES = [64, 512] as const;
/** A fast draft mode's step count (LCM, Lightning, Turbo): where the queue's cost shows. */
const STEPS = 4;
const BATCH = 6;
const BATCHES = 3;
const PROMPT = 'portrait, teal light';
const NEGATIVE = 'text';

const settingsAt = (size: number): GenerationSettings => ({
  ...BRAND_LOOP_PRESET.settings,
  model: 'tiny-sd',
  width: size,
  height: size,
  steps: STEPS,
  batchSize: BATCH,
});

it('queue: overhead per image against the bare engine, steady state', async () => {
  await measure('queue overhead', async () => {
    const root = tempDir('bench-queue-overhead');
    const models = path.join(root, 'models');
    writeTinySd(path.join(models, 'tiny-sd'), { dim: 32 });

    // Bare engine: the same work (sampling, decoding, PNG with parameters) without worker, files or catalogue.
    const bare = new Map<number, number>();
    const engine = new DiffusionEngine({ graphCacheDir: path.join(root, 'graph-cache') });
    await engine.load(path.join(models, 'tiny-sd'), 'cpu');
    for (const size of SIZES) {
      const s = settingsAt(size);
      const base = {
        prompt: PROMPT,
        negativePrompt: NEGATIVE,
        steps: s.steps,
        cfg: s.cfg,
        sampler: s.sampler,
        ...(s.scheduleType ? { scheduleType: s.scheduleType } : {}),
        width: size,
        height: size,
        batchSize: BATCH,
      };
      await engine.generate({ ...base, seed: 1 });
      const perImage: number[] = [];
      for (let r = 0; r < BATCHES; r++) {
        const started = performance.now();
        await engine.generate({ ...base, seed: 10 + r * BATCH });
        perImage.push((performance.now() - started) / BATCH);
      }
      bare.set(size, median(perImage));
    }
    await engine.dispose();

    // The queue in this process (events, catalogue, files) with the built engine worker.
    const dataDir = path.join(root, 'data');
    const services = createServices(resolveConfig({ dataDir, modelsDir: models }), { provider: 'cpu' });
    try {
      const project = services.projects.create({ name: 'Bench' });
      const added: number[] = [];
      services.events.subscribe((e) => {
        if (e.type === 'images.added') for (let i = 0; i < e.payload.images.length; i++) added.push(performance.now());
      });
      services.queue.start();
      for (const size of SIZES) {
        // Warm-up: the worker, the model and this size's decoder are ready before the clock starts.
        services.queue.add(project.id, PROMPT, NEGATIVE, settingsAt(size), 1, 1);
        await services.queue.whenIdle();
        added.length = 0;
        const started = performance.now();
        const jobs = services.queue.add(project.id, PROMPT, NEGATIVE, settingsAt(size), BATCHES, 1000 + size);
        await services.queue.whenIdle();
        const images = BATCHES * BATCH;
        if (added.length !== images) throw new Error(`${added.length} of ${images} images were recorded at ${size}×${size}`);
        const queue = (added[added.length - 1]! - started) / images;
        const gpu = jobs.map((j) => services.queue.list(project.id).find((f) => f.id === j.id)!.gpuSeconds).reduce((a, b) => a + b, 0);
        const engineInWorker = (gpu * 1000) / images;
        const b = bare.get(size)!;
        // Spacing between images within a batch: the queue's pace once a batch is under way.
        const gaps = added.slice(1).map((t, i) => t - added[i]!);
        reportFigure(
          `queue overhead ${size}×${size}`,
          `${(queue - b).toFixed(1)} ms per image (queue ${queue.toFixed(1)} ms vs bare engine ${b.toFixed(1)} ms per image; ` +
            `engine in the worker ${engineInWorker.toFixed(1)} ms, so ${(queue - engineInWorker).toFixed(1)} ms of the queue's own beyond it ` +
            `(the rest is the engine slowed by the queue's work on the other core); median spacing ${median(gaps).toFixed(1)} ms; ` +
            `${BATCHES} batches × ${BATCH}, ${STEPS} steps, tiny model, CPU, ${os.cpus().length} cores, warm)`,
        );
      }
    } finally {
      await services.close();
    }
  });
});

it('queue: image written → thumbnail decoded in the grid', async () => {
  await measure('queue latency', async () => {
    const size = 512;
    const root = tempDir('bench-queue');
    const models = path.join(root, 'models');
    writeTinySd(path.join(models, 'tiny-sd'), { dim: 32 });
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

      const jobs = await call<Job[]>('queue.add', {
        projectId: project.id,
        prompt: PROMPT,
        negativePrompt: NEGATIVE,
        settings: settingsAt(size),
        batches: 2,
        seed: 100,
      });
      await page.waitForFunction((n) => (window as unknown as { __loaded: Map<string, number> }).__loaded.size >= n, BATCH * jobs.length, {
        timeout: 300_000,
      });
      const loaded = new Map<string, number>(
        await page.evaluate(() => [...(window as unknown as { __loaded: Map<string, number> }).__loaded]),
      );
      const images = await call<ImageSummary[]>('images.list', { projectId: project.id });
      // When the file got its name (a rename or link changes its ctime): the queue writes it ahead under a temporary one.
      const latency = images.map((image) => loaded.get(String(image.id))! - fs.statSync(image.path).ctimeMs);
      report(
        `queue: image written → thumbnail decoded in the grid at ${size}×${size}: median ${median(latency).toFixed(0)} ms, ` +
          `max ${Math.max(...latency).toFixed(0)} ms (${images.length} images, ${STEPS} steps, tiny model, CPU)`,
      );
    } finally {
      await browser.close();
      await app.stop();
    }
  });
});
