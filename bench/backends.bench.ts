/**
 * Images per minute with 1, 2 and 3 ComfyUI servers (imitations on 127.0.0.1 rendering with the
 * tiny model), the local engine off, and with the local engine beside three: what the dispatch
 * gets out of more GPUs. Each server's "GPU time" is simulated by a delay per sampling step (this
 * machine has 2 cores and no GPU: three real engines would share them), so the figure measures the
 * queue's dispatch, the HTTP + WebSocket round trips and the writing and recording of each image.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'vitest';
import { BRAND_LOOP_PRESET, type GenerationSettings } from '../src-main/core/api/index.js';
import { startComfyImitation, type ComfyImitation } from '../src-main/core/backends/testing/comfy-imitation.js';
import { resolveConfig } from '../src-main/core/config.js';
import { writeTinySd } from '../src-main/core/diffusion/testing/tiny-sd.js';
import { createRpc } from '../src-main/core/rpc.js';
import { createServices } from '../src-main/core/services.js';
import { measure, reportFigure } from './support.js';

const STEPS = 10;
/** A server's sampling step: 10 steps ≈ 0.4 s an image, a fast GPU's draft. */
const STEP_MS = 40;
const BATCH = 6;
const JOBS = 6;

const settings: GenerationSettings = {
  ...BRAND_LOOP_PRESET.settings,
  model: 'tiny-sd',
  width: 64,
  height: 64,
  steps: STEPS,
  batchSize: BATCH,
};

async function run(models: string, servers: number, local: boolean): Promise<{ perMinute: number; seconds: number; images: number }> {
  const started: ComfyImitation[] = [];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-backends-'));
  const services = createServices(resolveConfig({ dataDir, modelsDir: models }), { provider: 'cpu' });
  try {
    const rpc = createRpc(services, 'cli');
    await rpc.invoke('backends.local', { enabled: local });
    for (let i = 0; i < servers; i++) {
      const server = await startComfyImitation({
        checkpoints: { 'tiny-sd.safetensors': path.join(models, 'tiny-sd') },
        stepDelayMs: STEP_MS,
      });
      started.push(server);
      await rpc.invoke('backends.save', { name: `gpu-${i + 1}`, url: server.url });
    }
    const project = services.projects.create({ name: 'Bench' });
    services.queue.start();
    // A warm-up image on each backend (model load, first graph), then the clock.
    services.queue.add(project.id, 'warm-up', '', { ...settings, batchSize: Math.max(1, servers + (local ? 1 : 0)) }, 1, 1);
    await services.queue.whenIdle();
    const t0 = performance.now();
    for (let j = 0; j < JOBS; j++) services.queue.add(project.id, `portrait, variation ${j}`, '', settings, 1, 100 + j * BATCH);
    await services.queue.whenIdle();
    const seconds = (performance.now() - t0) / 1000;
    const images = JOBS * BATCH;
    return { perMinute: (images / seconds) * 60, seconds, images };
  } finally {
    await services.close();
    for (const s of started) await s.close();
  }
}

it('backends: images per minute with 1, 2, 3 ComfyUI servers', async () => {
  await measure('backends', async () => {
    const models = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-backends-models-'));
    writeTinySd(path.join(models, 'tiny-sd'));
    let one = 0;
    for (const servers of [1, 2, 3]) {
      const r = await run(models, servers, false);
      if (servers === 1) one = r.perMinute;
      reportFigure(
        `backends ${servers} server${servers === 1 ? '' : 's'}`,
        `${r.perMinute.toFixed(0)} images/min (${r.images} images in ${r.seconds.toFixed(1)} s; ×${(r.perMinute / one).toFixed(2)} of one server)`,
      );
    }
    const mixed = await run(models, 3, true);
    reportFigure(
      'backends 3 servers + local',
      `${mixed.perMinute.toFixed(0)} images/min (${mixed.images} images in ${mixed.seconds.toFixed(1)} s)`,
    );
  });
}, 600_000);
