/**
 * Measurements at Stable Diffusion 1.5's real size with seeded random weights (speed and memory do
 * not depend on the values), one per process so each peak RSS is its own:
 *
 *   node dist/main/core/diffusion/testing/realsize.js TASK '{"json":"args"}'
 *
 * prints one JSON line with the figures. `bench/realsize.bench.ts` runs the tasks under an RSS
 * watchdog and prints the table; `bench/gpu.bench.ts` runs `gpu` where CUDA is installed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnnxSession, type Feed, type ProviderChoice } from '../backend.js';
import { DiffusionEngine, type GenerateSettings } from '../engine.js';
import { SD15 } from '../graph/configs.js';
import { sd15TextModules, sd15UnetModules } from './tiny-sd.js';
import { writeTinySdArch } from './tiny-sd-arch.js';
import { encodeSafetensors } from '../safetensors.js';

export interface RealsizeArgs {
  /** The SD 1.5-sized export folder (written by `prepare`). */
  model: string;
  cache: string;
  loras?: string;
  width?: number;
  height?: number;
  batch?: number;
  steps?: number;
  provider?: ProviderChoice;
  /** `exported`: run the folder's own (plain attention) graphs. */
  graphs?: 'onbrand' | 'exported';
  tokenizer?: string;
  tiny?: boolean;
}

function peakRssMb(): number {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
  return hwm ? Math.round(Number(hwm[1]) / 1024) : Math.round(process.memoryUsage().rss / 1024 / 1024);
}

const settings = (a: RealsizeArgs): GenerateSettings => ({
  prompt: 'cinematic portrait, magenta and teal rim light, yellow accent, shallow depth of field',
  negativePrompt: 'text, watermark, blurry, extra limbs',
  seed: 1,
  steps: a.steps ?? 2,
  cfg: 7,
  sampler: 'DPM++ 2M Karras',
  width: a.width ?? 512,
  height: a.height ?? 512,
  batchSize: a.batch ?? 1,
});

function engineFor(a: RealsizeArgs): DiffusionEngine {
  return new DiffusionEngine({ graphCacheDir: a.cache, exportedGraphs: a.graphs === 'exported', ...(a.loras ? { loraDir: a.loras } : {}) });
}

/** A full-size LoRA: every one of SD 1.5's 264 LoRA layers at rank 16 (as kohya trains them). */
function writeFullLora(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'brand.safetensors');
  if (fs.existsSync(file)) return;
  const tensors: Parameters<typeof encodeSafetensors>[0] = {};
  const rank = 16;
  const widths = (module: string): [number, number] => {
    if (module.startsWith('text_model')) return module.endsWith('fc1') ? [768, 3072] : module.endsWith('fc2') ? [3072, 768] : [768, 768];
    const level = /^(down_blocks|up_blocks)\.(\d)/.exec(module);
    const c = module.startsWith('mid_block') ? 1280 : level ? [320, 640, 1280, 1280][level[1] === 'up_blocks' ? 3 - Number(level[2]) : Number(level[2])]! : 320;
    if (module.includes('attn2.to_k') || module.includes('attn2.to_v')) return [768, c];
    if (module.endsWith('ff.net.0.proj')) return [c, 8 * c];
    if (module.endsWith('ff.net.2')) return [4 * c, c];
    return [c, c];
  };
  const modules = [...sd15UnetModules().map((m) => ['lora_unet_', m] as const), ...sd15TextModules().map((m) => ['lora_te_', m] as const)];
  let seed = 1;
  for (const [prefix, nodePath] of modules) {
    const module = nodePath.replace(/\//g, '.');
    const [inDim, outDim] = widths(module);
    const key = prefix + module.replace(/\./g, '_');
    const fill = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + seed) * 0.01);
    tensors[`${key}.lora_down.weight`] = { dtype: 'F16', shape: [rank, inDim], data: fill(rank * inDim) };
    tensors[`${key}.lora_up.weight`] = { dtype: 'F16', shape: [outDim, rank], data: fill(outDim * rank) };
    tensors[`${key}.alpha`] = { dtype: 'F32', shape: [], data: Float32Array.of(8) };
    seed++;
  }
  fs.writeFileSync(file, encodeSafetensors(tensors, { ss_network_module: 'networks.lora' }));
}

export async function runTask(task: string, a: RealsizeArgs): Promise<Record<string, unknown>> {
  switch (task) {
    case 'prepare': {
      const started = performance.now();
      if (!fs.existsSync(path.join(a.model, 'model_index.json'))) {
        const tmp = `${a.model}.tmp`;
        fs.rmSync(tmp, { recursive: true, force: true });
        writeTinySdArch(tmp, { config: SD15, seed: 1, ...(a.tokenizer ? { tokenizerFrom: a.tokenizer } : {}) });
        fs.renameSync(tmp, a.model);
      }
      return { seconds: (performance.now() - started) / 1000, peakRssMb: peakRssMb() };
    }
    case 'load': {
      // First load builds Onbrand's graphs from the export (when not cached); the second reopens them.
      const first = performance.now();
      const engine = engineFor(a);
      const model = await engine.load(a.model, a.provider ?? 'cpu');
      const firstSeconds = (performance.now() - first) / 1000;
      await engine.dispose();
      const second = performance.now();
      const again = engineFor(a);
      await again.load(a.model, a.provider ?? 'cpu');
      const loadSeconds = (performance.now() - second) / 1000;
      await again.dispose();
      return { graphs: model.graphs, provider: model.provider, firstLoadSeconds: firstSeconds, loadSeconds, peakRssMb: peakRssMb() };
    }
    case 'generate': {
      const engine = engineFor(a);
      const loadStarted = performance.now();
      const model = await engine.load(a.model, a.provider ?? 'cpu');
      const loadSeconds = (performance.now() - loadStarted) / 1000;
      const stepTimes: number[] = [];
      let last = performance.now();
      const started = last;
      let sampled = 0;
      await engine.generate(settings(a), {
        previewEvery: 0,
        onProgress: () => {
          const now = performance.now();
          stepTimes.push((now - last) / 1000);
          last = now;
          sampled = now;
        },
      });
      const end = performance.now();
      return {
        graphs: model.graphs,
        provider: model.provider,
        loadSeconds,
        stepSeconds: stepTimes,
        decodeSeconds: (end - sampled) / 1000,
        totalSeconds: (end - started) / 1000,
        peakRssMb: peakRssMb(),
      };
    }
    case 'bare': {
      // The same built UNet, alone: one call with the guidance batch (2 × batch), no pipeline.
      const engine = engineFor(a);
      await engine.load(a.model, a.provider ?? 'cpu');
      const file = (engine as unknown as { loaded: { built: { files: { unet: string } } } }).loaded.built.files.unet;
      const feeds = (engine as unknown as { loaded: { loraFeeds: { unet: Record<string, Feed> } } }).loaded.loraFeeds.unet;
      await engine.dispose();
      const { session } = await OnnxSession.load(file, [a.provider === 'cuda' ? 'cuda' : 'cpu']);
      const n = 2 * (a.batch ?? 1);
      const h = (a.height ?? 512) / 8;
      const w = (a.width ?? 512) / 8;
      const run = async (): Promise<number> => {
        const t = performance.now();
        await session.run({
          sample: { data: new Float32Array(n * 4 * h * w).fill(0.1), dims: [n, 4, h, w] },
          timestep: { data: new Array<number>(n).fill(500), dims: [n] },
          encoder_hidden_states: { data: new Float32Array(n * 77 * 768).fill(0.01), dims: [n, 77, 768] },
          ...feeds,
        });
        return (performance.now() - t) / 1000;
      };
      const runs = [await run(), await run()];
      await session.dispose();
      return { runSeconds: runs, peakRssMb: peakRssMb() };
    }
    case 'lora': {
      writeFullLora(a.loras!);
      const engine = engineFor(a);
      await engine.load(a.model, a.provider ?? 'cpu');
      const time = async (loras: { name: string; weight: number }[]): Promise<number> => {
        const t = performance.now();
        await engine.applyLoras(loras);
        return (performance.now() - t) / 1000;
      };
      const added = await time([{ name: 'brand', weight: 0.8 }]);
      const weightChanged = await time([{ name: 'brand', weight: 0.6 }]);
      const removed = await time([]);
      const again = await time([{ name: 'brand', weight: 0.8 }]);
      const memory = engine.memory();
      // One UNet call (guidance batch of 2) at the size with and without the LoRA's factors fed.
      const bareRun = async (): Promise<number> => {
        const t = performance.now();
        await engine.generate({ ...settings(a), steps: 1 }, { previewEvery: 0 });
        return (performance.now() - t) / 1000;
      };
      const withLora = await bareRun();
      await engine.applyLoras([]);
      const withoutLora = await bareRun();
      return { addedSeconds: added, weightChangedSeconds: weightChanged, removedSeconds: removed, addedAgainSeconds: again, oneStepImageWithLoraSeconds: withLora, oneStepImageWithoutSeconds: withoutLora, loraBytes: memory.loraBytes, peakRssMb: peakRssMb() };
    }
    case 'tiny': {
      // The Brand loop preset on a tiny model of the real architecture.
      const dir = path.join(a.cache, 'tiny-arch');
      if (!fs.existsSync(path.join(dir, 'model_index.json'))) writeTinySdArch(dir, { seed: 3 });
      const engine = engineFor({ ...a, model: dir });
      await engine.load(dir, 'cpu');
      const started = performance.now();
      const images = await engine.generate({ ...settings(a), width: 576, height: 1024, batchSize: 6, steps: 25 }, { previewEvery: 1 });
      return { images: images.length, seconds: (performance.now() - started) / 1000, peakRssMb: peakRssMb() };
    }
    default:
      throw new Error(`unknown task ${task}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [task, json] = process.argv.slice(2);
  runTask(task ?? '', JSON.parse(json ?? '{}') as RealsizeArgs)
    .then((result) => {
      console.log(`RESULT ${JSON.stringify(result)}`);
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.log(`RESULT ${JSON.stringify({ error: (error as Error).message })}`);
      process.exit(1);
    });
}
