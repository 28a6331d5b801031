/**
 * Importing a full-size Stable Diffusion 1.5 single-file checkpoint (float16, LDM key names, 1.07 B
 * seeded random parameters, 2.1 GB, as model sites distribute them), then generating with it:
 * import time and peak RSS, the first load (Onbrand's graphs built from the imported weights) and
 * a 512×512 generation. Each step in its own process under the RSS watchdog.
 *
 *   npm run bench:import
 *
 * `ONBRAND_REALSIZE_DIR` keeps the files between runs (default: bench/out/realsize; 2.1 GB checkpoint,
 * 2.1 GB imported model, 4 GB of built graphs).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';
import { runIsolated, type Result } from './isolated.js';
import { BENCH_OUT, measure, report } from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const worker = path.join(root, 'dist', 'main', 'core', 'diffusion', 'testing', 'realsize.js');
const dir = process.env.ONBRAND_REALSIZE_DIR ?? path.join(BENCH_OUT, 'realsize');
const tokenizer = path.resolve(root, '..', 'shared', 'fixtures', 'clip-tokenizer');

const s = (v: unknown): string => (typeof v === 'number' ? v.toFixed(1) : String(v));
const gb = (mb: unknown): string => (typeof mb === 'number' ? `${(mb / 1024).toFixed(2)} GB` : '?');

async function step(name: string, task: string, args: Record<string, unknown>): Promise<Result | null> {
  const result = await runIsolated(worker, task, args);
  if (result.error) {
    report(`import ${name}: could not be measured: ${result.error}`);
    return null;
  }
  return result;
}

it('a full-size SD 1.5 checkpoint imports and generates', async () => {
  await measure('import', async () => {
    if (!fs.existsSync(worker)) throw new Error('run `npm run build` first (the measurements run the built code)');
    if (!fs.existsSync(tokenizer)) {
      report(
        `import: skipped: CLIP's tokenizer files are not at ${tokenizer} (a checkpoint carries none, and this bench does not download)`,
      );
      return;
    }
    fs.mkdirSync(dir, { recursive: true });
    const checkpoint = path.join(dir, 'sd15-ldm-fp16.safetensors');
    const written = await step('checkpoint', 'checkpoint', { model: '', cache: '', checkpoint });
    if (!written) return;
    report(
      `import: full-size SD 1.5 checkpoint (float16, LDM names, ${((written.bytes as number) / 1e9).toFixed(2)} GB) ready in ${s(written.seconds)} s (peak RSS ${gb(written.peakRssMb)})`,
    );
    const modelsDir = path.join(dir, 'imported-models');
    const cache = path.join(dir, 'imported-graph-cache');
    const imported = await step('import', 'import', { model: '', cache, checkpoint, modelsDir, tokenizer });
    if (!imported) return;
    report(
      `import: onbrand models import of it: ${s(imported.seconds)} s, peak RSS ${gb(imported.peakRssMb)}; ${imported.mapped} tensors mapped, ${imported.unexpected} unexpected; ` +
        `architecture from ${imported.architectureFrom}; ${((imported.bytes as number) / 1e9).toFixed(2)} GB written`,
    );
    fs.rmSync(cache, { recursive: true, force: true });
    const gen = await step('generate', 'generate', { model: imported.dir, cache, width: 512, height: 512, steps: 2, batch: 1 });
    if (gen) {
      report(
        `import: first generation with the imported model (builds Onbrand's float32 graphs, then 512×512, 2 steps): load ${s(gen.loadSeconds)} s, ` +
          `steps ${(gen.stepSeconds as number[]).map(s).join(' / ')} s, decode ${s(gen.decodeSeconds)} s; peak RSS ${gb(gen.peakRssMb)}`,
      );
    }
  });
}, 3600_000);
