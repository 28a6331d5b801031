/**
 * Stable Diffusion 1.5 at its real size (UNet 320/640/1280/1280, CLIP ViT-L/14, VAE 128/256/512/512;
 * 1.07 B parameters) with seeded random weights: written as a diffusers ONNX export, built into
 * Onbrand's graphs, then measured on this machine's CPU, each measurement in its own process
 * under an RSS watchdog (a runaway allocation is killed before it takes the machine down):
 *   load time; seconds per UNet step at 512×512 and 576×1024; the pipeline against bare
 *   `session.run` calls of the same graph; peak RSS at 576×1024 for batch 1 and batch 6;
 *   LoRA switch time at full size; fused attention against the export's plain attention;
 *   and the Brand loop preset (576×1024 × 6, 25 steps) on a tiny model of the real architecture.
 *
 *   SDXL base at its real size: import of a float16 single-file checkpoint, then one step at
 *   768×1344 and 1024×1024 with peak RSS (`ONBRAND_REALSIZE_SDXL=0` skips it: 30 GB of files).
 *
 * `ONBRAND_REALSIZE_DIR` keeps the model files between runs (default: bench/out/realsize).
 * `ONBRAND_BENCH_RSS_LIMIT_MB` sets the watchdog (default 16,000; the SDXL steps get 22,000).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';
import { runIsolated, type Result } from './isolated.js';
import { BENCH_OUT, measure, median, report } from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const worker = path.join(root, 'dist', 'main', 'core', 'diffusion', 'testing', 'realsize.js');
const dir = process.env.ONBRAND_REALSIZE_DIR ?? path.join(BENCH_OUT, 'realsize');
const tokenizer = path.resolve(root, '..', 'shared', 'fixtures', 'clip-tokenizer');
const common = {
  model: path.join(dir, 'sd15'),
  cache: path.join(dir, 'graph-cache'),
  loras: path.join(dir, 'loras'),
  ...(fs.existsSync(tokenizer) ? { tokenizer } : {}),
};

const s = (v: unknown): string => (typeof v === 'number' ? v.toFixed(2) : String(v));
const ms = (v: unknown): string => (typeof v === 'number' ? `${Math.round(v * 1000)} ms` : String(v));
const gb = (mb: unknown): string => (typeof mb === 'number' ? `${(mb / 1024).toFixed(2)} GB` : '?');
const memoryLine = (r: Result): string =>
  `RSS loaded ${gb(r.loadedRssMb)}, peak while sampling ${gb(r.samplingPeakRssMb)}, while decoding ${gb(r.decodingPeakRssMb)}, idle after ${gb(r.idleRssMb)}; peak RSS ${gb(r.peakRssMb)}`;

async function step(name: string, task: string, args: Record<string, unknown>, rssLimitMb?: number): Promise<Result | null> {
  const result = await runIsolated(worker, task, { ...common, ...args }, rssLimitMb);
  if (result.error) {
    report(`realsize ${name}: could not be measured: ${result.error}`);
    return null;
  }
  return result;
}

it(
  'SD 1.5 at its real size on this CPU',
  async () => {
    await measure('realsize', async () => {
      if (!fs.existsSync(worker)) throw new Error('run `npm run build` first (the measurements run the built code)');
      const prepared = await step('prepare', 'prepare', {});
      if (!prepared) return;
      report(`realsize: SD 1.5-sized export with random weights written in ${s(prepared.seconds)} s (peak RSS ${gb(prepared.peakRssMb)})`);

      const load = await step('load', 'load', {});
      if (load)
        report(
          `realsize load: first load (builds Onbrand's float32 graphs from the export when not cached) ${s(load.firstLoadSeconds)} s; load from the cache ${s(load.loadSeconds)} s; peak RSS ${gb(load.peakRssMb)}`,
        );

      for (const [width, height] of [
        [512, 512],
        [576, 1024],
      ] as const) {
        // Steps after the first (which also encodes the prompt and grows the arena) against bare
        // runs after the first, medians of three.
        const gen = await step(`${width}×${height}`, 'generate', { width, height, steps: 4, batch: 1 });
        const bare = await step(`${width}×${height} bare`, 'bare', { width, height, batch: 1, steps: 4 });
        if (!gen) continue;
        const steps = gen.stepSeconds as number[];
        const bareSeconds = bare ? median((bare.runSeconds as number[]).slice(1)) : NaN;
        const pipelineSeconds = median(steps.slice(1));
        report(
          `realsize ${width}×${height} batch 1 (CFG: 2 UNet passes per step): ${steps.map(s).join(' / ')} s per step (median ${s(median(steps))}); VAE decode ${s(gen.decodeSeconds)} s; total ${s(gen.totalSeconds)} s; ${memoryLine(gen)}` +
            (bare
              ? `; bare session.run of the same UNet call ${s(bareSeconds)} s (median of runs 2–4) → pipeline overhead ${(((pipelineSeconds - bareSeconds) / bareSeconds) * 100).toFixed(1)} %`
              : ''),
        );
      }

      const b6 = await step('576×1024 batch 6', 'generate', { width: 576, height: 1024, steps: 2, batch: 6 });
      if (b6)
        report(
          `realsize 576×1024 batch 6, 2 steps: ${(b6.stepSeconds as number[]).map(s).join(' / ')} s per step; VAE decode of 6 ${s(b6.decodeSeconds)} s; total ${s(b6.totalSeconds)} s; ${memoryLine(b6)}`,
        );

      const lora = await step('LoRA', 'lora', { width: 512, height: 512 });
      if (lora) {
        report(
          `realsize LoRA (264 layers, rank 16, 32 MB fp16 file): added ${ms(lora.addedSeconds)} (reads the file), weight changed ${ms(lora.weightChangedSeconds)}, removed ${ms(lora.removedSeconds)}, added again ${ms(lora.addedAgainSeconds)}; ` +
            `one 512×512 UNet call (CFG batch 2) with its factors fed ${s(lora.unetWithLoraSeconds)} s, with rank-1 zeros ${s(lora.unetWithoutSeconds)} s; factors held ${((lora.loraBytes as number) / 1e6).toFixed(1)} MB; peak RSS ${gb(lora.peakRssMb)}`,
        );
      }

      // Fused attention against the export's own graph (plain attention, 1×1-convolution projections).
      const fused = await step('fused 512×512', 'bare', { width: 512, height: 512 });
      const plain = await step('plain 512×512', 'bare', { width: 512, height: 512, graphs: 'exported' });
      if (fused && plain) {
        report(
          `realsize attention, one 512×512 UNet call (CFG batch 2): Onbrand's graph (fused MultiHeadAttention) ${s(Math.min(...(fused.runSeconds as number[])))} s, peak RSS ${gb(fused.peakRssMb)}; ` +
            `the export's graph (plain attention) ${s(Math.min(...(plain.runSeconds as number[])))} s, peak RSS ${gb(plain.peakRssMb)}`,
        );
      }

      for (const [width, height] of [
        [512, 512],
        [576, 1024],
      ] as const) {
        const fusedLayer = await step(`attention ${width}×${height}`, 'attention', { width, height });
        const plainLayer = await step(`plain attention ${width}×${height}`, 'attention', { width, height, graphs: 'exported' });
        const line = (r: Result | null): string =>
          r ? `${s(Math.min(...(r.runSeconds as number[])))} s, peak RSS ${gb(r.peakRssMb)}` : 'not measured';
        report(
          `realsize one first-level self-attention (8 heads × 40, ${(width / 8) * (height / 8)} tokens, batch 2) at ${width}×${height}: fused ${line(fusedLayer)}; plain ${line(plainLayer)}`,
        );
      }

      // SDXL base at its real size (UNet 2.57 B, CLIP ViT-L + OpenCLIP bigG, 3.5 B parameters): a
      // float16 single-file checkpoint imported from its shapes, then one step at 1024×1024 and at
      // 768×1344 (the 9:16 bucket) in float32 on the CPU. About 30 GB of disk and 20 GB of RAM.
      if (process.env.ONBRAND_REALSIZE_SDXL !== '0') {
        const xl = { checkpoint: path.join(dir, 'sdxl-sgm-fp16.safetensors'), modelsDir: path.join(dir, 'sdxl-models') };
        const written = await step('SDXL checkpoint', 'sdxl-checkpoint', xl);
        const imported = written ? await step('SDXL import', 'sdxl-import', xl) : null;
        if (written && imported) {
          report(
            `realsize SDXL: checkpoint ${gb((written.bytes as number) / 1024 / 1024)} (${written.tensors || 'cached'} tensors); ` +
              `import (architecture from ${String(imported.architectureFrom)}, ${String(imported.family)}) ${s(imported.seconds)} s, peak RSS ${gb(imported.peakRssMb)}`,
          );
          for (const [width, height] of [
            [768, 1344],
            [1024, 1024],
          ] as const) {
            const gen = await step(
              `SDXL ${width}×${height}`,
              'generate',
              {
                model: imported.dir,
                cache: path.join(dir, 'sdxl-graph-cache'),
                width,
                height,
                steps: 1,
                batch: 1,
              },
              22_000,
            );
            if (gen)
              report(
                `realsize SDXL ${width}×${height} batch 1 (CFG: 2 UNet passes per step): load ${s(gen.loadSeconds)} s (first: builds the float32 graphs); ${(gen.stepSeconds as number[]).map(s).join(' / ')} s per step; VAE decode ${s(gen.decodeSeconds)} s; ${memoryLine(gen)}`,
              );
          }
        }
      }

      const tiny = await step('Brand loop on a tiny model', 'tiny', {});
      if (tiny)
        report(
          `realsize Brand loop preset on a tiny model of the real architecture (576×1024 × 6, 25 steps, DPM++ 2M Karras): ${tiny.images} images in ${s(tiny.seconds)} s; peak RSS ${gb(tiny.peakRssMb)}`,
        );
    });
  },
  4 * 3600_000,
);
