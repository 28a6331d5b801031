/**
 * Engine overhead: a tiny UNet at 64×64 and 25 steps, the whole pipeline (text encoder, sampler,
 * guidance, VAE, PNG) against 25 bare `session.run` calls of the same UNet; images per second;
 * peak memory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { it } from 'vitest';
import { DiffusionEngine, type GenerateSettings } from '../src-main/core/diffusion/index.js';
import { writeTinySd } from '../src-main/core/diffusion/testing/tiny-sd.js';
import { measure, median, report } from './support.js';

const STEPS = 25;

it('engine overhead against bare UNet runs', async () => {
  await measure('engine', async () => {
    const dir = writeTinySd(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-bench-engine-')), 'tiny-sd'), { dim: 64 });
    const engine = new DiffusionEngine();
    let peakRss = process.memoryUsage().rss;
    const sampleRss = (): void => void (peakRss = Math.max(peakRss, process.memoryUsage().rss));
    try {
      const model = await engine.load(dir, 'cpu');
      const settings: GenerateSettings = {
        prompt: 'portrait, device close-up, magenta and teal light',
        negativePrompt: 'text, watermark, extra limbs, mushy face',
        seed: 1,
        steps: STEPS,
        cfg: 7,
        sampler: 'DPM++ 2M Karras',
        width: 64,
        height: 64,
        batchSize: 1,
      };
      await engine.generate(settings); // warm-up
      const pipeline: number[] = [];
      for (let i = 0; i < 15; i++) {
        const started = performance.now();
        await engine.generate({ ...settings, seed: i }, { onProgress: sampleRss });
        pipeline.push(performance.now() - started);
      }

      // The same UNet, alone: 25 runs with the guidance batch of 2.
      const session = await ort.InferenceSession.create(path.join(dir, 'unet', 'model.onnx'), {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
      });
      const feeds = {
        sample: new ort.Tensor('float32', new Float32Array(2 * 4 * 8 * 8).fill(0.1), [2, 4, 8, 8]),
        timestep: new ort.Tensor('float32', Float32Array.of(500, 500), [2]),
        encoder_hidden_states: new ort.Tensor('float32', new Float32Array(2 * 77 * 64).fill(0.01), [2, 77, 64]),
      };
      for (let i = 0; i < 5; i++) await session.run(feeds);
      const bare: number[] = [];
      for (let r = 0; r < 15; r++) {
        const started = performance.now();
        for (let i = 0; i < STEPS; i++) await session.run(feeds);
        bare.push(performance.now() - started);
      }
      await session.release();

      const batchStarted = performance.now();
      await engine.generate({ ...settings, batchSize: 6 }, { onProgress: sampleRss });
      const batchSeconds = (performance.now() - batchStarted) / 1000;
      sampleRss();

      const p = median(pipeline);
      const b = median(bare);
      report(
        `engine: tiny UNet (dim 64) 64×64, ${STEPS} steps, DPM++ 2M Karras, CFG 7, on ${model.provider.toUpperCase()} (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'})`,
      );
      report(
        `engine: pipeline ${p.toFixed(1)} ms per image vs ${STEPS} bare UNet runs ${b.toFixed(1)} ms: overhead ratio ${(p / b).toFixed(2)}`,
      );
      report(
        `engine: batch of 6 in ${batchSeconds.toFixed(2)} s = ${(6 / batchSeconds).toFixed(1)} images/s; single images ${(1000 / p).toFixed(1)} images/s`,
      );
      report(
        `engine: peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (process max RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)`,
      );
    } finally {
      await engine.dispose();
    }
  });
});
