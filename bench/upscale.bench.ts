/**
 * ESRGAN ×4 on the CPU: megapixels (of output) per second for slim, medium and thick, beside the
 * TensorFlow.js reference (pure-JS CPU backend) on the same input; peak memory for a 1080×1920
 * input upscaled ×4 to 4320×7680 with slim.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { it } from 'vitest';
import { packageModelJson, Upscaler, type BuiltIn } from '../src-main/core/upscale/index.js';
import { loadReferenceModel } from '../src-main/core/upscale/testing/tfjs-reference.js';
import { measure, report } from './support.js';

it('upscale: ×4 throughput and memory', async () => {
  await measure('upscale', async () => {
    await tf.setBackend('cpu');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-bench-upscale-'));
    const upscaler = new Upscaler(dir, 'cpu');
    const side = 96;
    const data = Buffer.alloc(side * side * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) % 256;
    const image = { data, width: side, height: side };
    const outMp = (side * 4) ** 2 / 1e6;
    for (const name of ['esrgan-slim', 'esrgan-medium', 'esrgan-thick'] as BuiltIn[]) {
      await upscaler.upscaleImage(image, name, 4, { tile: 256 }); // converts and warms up
      const started = performance.now();
      await upscaler.upscaleImage(image, name, 4, { tile: 256 });
      const ours = outMp / ((performance.now() - started) / 1000);

      const m = await loadReferenceModel(packageModelJson(name, 4));
      const input = tf.tensor4d(
        Float32Array.from(data, (v) => (name === 'esrgan-thick' ? v / 255 : v)),
        [1, side, side, 3],
      );
      const t = performance.now();
      (m.predict(input) as tf.Tensor).dataSync();
      const theirs = outMp / ((performance.now() - t) / 1000);
      m.dispose();
      report(
        `upscale: ${name} ×4 on ${side}×${side} (CPU, ${os.cpus().length} cores): Onbrand/onnxruntime ${ours.toFixed(2)} MP/s, TensorFlow.js CPU ${theirs.toFixed(3)} MP/s → ratio ${(ours / theirs).toFixed(1)}`,
      );
    }
    const big = Buffer.alloc(1080 * 1920 * 3, 90);
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const started = performance.now();
    const result = await upscaler.upscaleImage({ data: big, width: 1080, height: 1920 }, 'esrgan-slim', 4, { tile: 192 });
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    report(
      `upscale: 1080×1920 → ${result.image.width}×${result.image.height} with esrgan-slim, tiles of 192: ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
        `peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (+${((peak - before) / 2 ** 20).toFixed(0)} MiB; the 8-bit result alone is ${(result.image.data.length / 2 ** 20).toFixed(0)} MiB, one float tensor of it would be ${((result.image.data.length * 4) / 2 ** 20).toFixed(0)} MiB)`,
    );
    await upscaler.dispose();
  });
});
