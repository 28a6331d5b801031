/**
 * The designers' loop on a GPU: SD 1.5-sized graphs in float16 on CUDA and on WebGPU, 3 batches × 6
 * images at 576×1024, 25 steps of DPM++ 2M Karras; total seconds and images per second. CUDA needs
 * `npm run setup:cuda` and an NVIDIA GPU, WebGPU a GPU with Vulkan drivers; without them it says
 * why it did not run. The model is the SD 1.5-sized
 * export with random weights that `npm run bench:realsize` writes (it is written here when absent).
 */
import fs from 'node:fs';
import path from 'node:path';
import { it } from 'vitest';
import { cudaInstalled, webgpuUnavailable } from '../src-main/core/diffusion/index.js';
import { fileURLToPath } from 'node:url';
import { runIsolated } from './isolated.js';
import { BENCH_OUT, measure, report } from './support.js';

const dir = process.env.ONBRAND_REALSIZE_DIR ?? path.join(BENCH_OUT, 'realsize');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const worker = path.join(root, 'dist', 'main', 'core', 'diffusion', 'testing', 'realsize.js');
const tokenizer = path.resolve(root, '..', 'shared', 'fixtures', 'clip-tokenizer');

it('SD 1.5 at 576×1024 and SDXL at 768×1344 on the GPU (CUDA, else WebGPU): 3 batches of 6', async () => {
  await measure('gpu', async () => {
    // CUDA where `npm run setup:cuda` has installed it; WebGPU (onnxruntime-node's own build, Dawn
    // on Vulkan) wherever a GPU adapter answers. Each measured on its own.
    const providers: ('cuda' | 'webgpu')[] = [];
    if (cudaInstalled()) providers.push('cuda');
    else report('gpu CUDA: not measured: the CUDA execution provider is not installed (npm run setup:cuda)');
    const webgpu = await webgpuUnavailable();
    if (webgpu) report(`gpu WebGPU: not measured: ${webgpu}`);
    else providers.push('webgpu');
    if (providers.length === 0) return;
    const common = {
      model: path.join(dir, 'sd15'),
      cache: path.join(dir, 'graph-cache'),
      ...(fs.existsSync(tokenizer) ? { tokenizer } : {}),
    };
    const prepared = await runIsolated(worker, 'prepare', common);
    if (prepared.error) throw new Error(prepared.error);
    for (const provider of providers) {
      const name = provider === 'cuda' ? 'CUDA' : 'WebGPU';
      const result = await runIsolated(worker, 'gpu', { ...common, provider }, 64_000);
      if (result.error) throw new Error(result.error);
      if (result.provider !== provider) throw new Error(`ran on ${String(result.provider)}, not ${name}`);
      const batches = (result.batchSeconds as number[]).map((s) => s.toFixed(1)).join(' / ');
      report(
        `gpu (${name}, float16, ${String(result.graphs)} graphs): 18 images 576×1024, 25 steps DPM++ 2M Karras in ${(result.seconds as number).toFixed(1)} s (batches ${batches} s) = ${(result.imagesPerSecond as number).toFixed(2)} images/s; load ${(result.loadSeconds as number).toFixed(1)} s`,
      );

      // SDXL base at 768×1344 (its 9:16 bucket), 3 batches of 6: the checkpoint bench:realsize writes and imports.
      const xlModel = path.join(dir, 'sdxl-models', 'sdxl-imported');
      if (!fs.existsSync(xlModel)) {
        report(
          `gpu SDXL (${name}): not measured: run \`npm run bench:realsize\` first (it writes and imports the full-size SDXL checkpoint)`,
        );
        continue;
      }
      const xl = await runIsolated(
        worker,
        'gpu',
        { ...common, model: xlModel, cache: path.join(dir, 'sdxl-graph-cache'), provider, width: 768, height: 1344 },
        64_000,
      );
      if (xl.error) throw new Error(xl.error);
      report(
        `gpu SDXL (${name}, float16 UNet, float32 VAE): 18 images 768×1344, 25 steps in ${(xl.seconds as number).toFixed(1)} s (batches ${(xl.batchSeconds as number[]).map((s) => s.toFixed(1)).join(' / ')} s) = ${(xl.imagesPerSecond as number).toFixed(2)} images/s; load ${(xl.loadSeconds as number).toFixed(1)} s; peak RSS ${((xl.peakRssMb as number) / 1024).toFixed(1)} GB`,
      );
    }
  });
}, 3600_000);
