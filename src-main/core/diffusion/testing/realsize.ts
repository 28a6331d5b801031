/**
 * Measurements at Stable Diffusion 1.5's and SDXL's real sizes with seeded random weights (speed and memory do
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
import { branchFeeds } from '../lora-branches.js';
import { readModelFolder } from '../model-folder.js';
import { buildOptionsFor, graphsForFolder } from '../model-graphs.js';
import { FLOAT } from '../../util/index.js';
import { SD15, SDXL } from '../graph/configs.js';
import { GraphBuilder } from '../graph/graph-builder.js';
import { RandomWeights, writeGraph } from '../graph/weights.js';
import { sd15TextModules, sd15UnetModules } from './tiny-sd.js';
import { writeTinySdArch } from './tiny-sd-arch.js';
import { encodeSafetensors } from '../safetensors.js';
import { writeLdmCheckpointStreaming } from './ldm-checkpoint.js';
import { writeSdxlCheckpoint } from './tiny-sdxl.js';
import { importModel } from '../../models/index.js';

export interface RealsizeArgs {
  /** The SD 1.5-sized export folder (written by `prepare`). */
  model: string;
  /** `checkpoint` / `import` (`sdxl-checkpoint` / `sdxl-import`): the full-size float16 single-file checkpoint, and the models folder it is imported into. */
  checkpoint?: string;
  modelsDir?: string;
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

function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 1024 / 1024);
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
    const c = module.startsWith('mid_block')
      ? 1280
      : level
        ? [320, 640, 1280, 1280][level[1] === 'up_blocks' ? 3 - Number(level[2]) : Number(level[2])]!
        : 320;
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

/** The UNet session of Onbrand's graph (and its zero LoRA feeds), or of the export itself. */
async function bareUnet(a: RealsizeArgs): Promise<{ session: OnnxSession; feeds: Record<string, Feed> }> {
  const provider = a.provider === 'cuda' ? 'cuda' : 'cpu';
  if (a.graphs === 'exported')
    return { session: (await OnnxSession.load(path.join(a.model, 'unet', 'model.onnx'), [provider])).session, feeds: {} };
  // The cached build and its rank-1 zero LoRA feeds, without opening the whole engine.
  const { built } = await graphsForFolder(readModelFolder(a.model), a.cache, buildOptionsFor(provider));
  if (!built) throw new Error(`${a.model} cannot be mapped onto Onbrand's graphs`);
  const feeds = branchFeeds(
    { textEncoder: built.branches.text_encoder, unet: built.branches.unet },
    [],
    built.options.precision === 'float16',
    'model',
  ).feeds.unet;
  const file = built.files.unet!;
  return { session: (await OnnxSession.load(file, [provider])).session, feeds };
}

/** Seconds for one UNet call of `n` items at the size. */
async function timeUnet(session: OnnxSession, n: number, a: RealsizeArgs, feeds: Record<string, Feed>): Promise<number> {
  const h = (a.height ?? 512) / 8;
  const w = (a.width ?? 512) / 8;
  const dim = Number(session.input('encoder_hidden_states')?.shape[2] ?? 768);
  const t = performance.now();
  await session.run({
    sample: { data: new Float32Array(n * 4 * h * w).fill(0.1), dims: [n, 4, h, w] },
    timestep: { data: new Array<number>(n).fill(500), dims: [n] },
    encoder_hidden_states: { data: new Float32Array(n * 77 * dim).fill(0.01), dims: [n, 77, dim] },
    ...feeds,
  });
  return (performance.now() - t) / 1000;
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
    case 'checkpoint': {
      // A full-size SD 1.5 single-file checkpoint as model sites distribute it: LDM key names, float16.
      const file = a.checkpoint!;
      const started = performance.now();
      let written = { bytes: fs.existsSync(file) ? fs.statSync(file).size : 0, tensors: 0 };
      if (!fs.existsSync(file)) {
        const tmp = `${file}.tmp`;
        written = await writeLdmCheckpointStreaming(tmp, SD15, 1);
        fs.renameSync(tmp, file);
      }
      return { seconds: (performance.now() - started) / 1000, bytes: written.bytes, tensors: written.tensors, peakRssMb: peakRssMb() };
    }
    case 'sdxl-checkpoint': {
      // A full-size SDXL base single-file checkpoint (SGM key names, float16, 3.5 B parameters, 6.9 GB), streamed.
      const file = a.checkpoint!;
      const started = performance.now();
      let written = { bytes: fs.existsSync(file) ? fs.statSync(file).size : 0, tensors: 0 };
      if (!fs.existsSync(file)) {
        const tmp = `${file}.tmp`;
        written = await writeSdxlCheckpoint(tmp, SDXL, 1);
        fs.renameSync(tmp, file);
      }
      return { seconds: (performance.now() - started) / 1000, bytes: written.bytes, tensors: written.tensors, peakRssMb: peakRssMb() };
    }
    case 'import':
    case 'sdxl-import': {
      // `onbrand models import` of that checkpoint (architecture from its shapes), timed, in a fresh models folder.
      const modelsDir = a.modelsDir!;
      fs.rmSync(modelsDir, { recursive: true, force: true });
      const started = performance.now();
      const report = await importModel({
        source: a.checkpoint!,
        name: task === 'sdxl-import' ? 'sdxl-imported' : 'sd15-imported',
        modelsDir,
        ...(a.tokenizer ? { tokenizerDir: a.tokenizer } : {}),
      });
      return {
        seconds: (performance.now() - started) / 1000,
        bytes: report.bytes,
        architectureFrom: report.architectureFrom,
        family: report.family,
        mapped: report.checkpoint?.mapped,
        unexpected: report.checkpoint?.unexpectedCount,
        dir: report.dir,
        peakRssMb: peakRssMb(),
      };
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
      // RSS while sampling and while decoding, polled (onnxruntime runs off the event loop).
      const loadedRss = rssMb();
      let phase: 'sampling' | 'decoding' = 'sampling';
      const peaks = { sampling: loadedRss, decoding: 0 };
      const timer = setInterval(() => (peaks[phase] = Math.max(peaks[phase], rssMb())), 50);
      await engine.generate(settings(a), {
        previewEvery: 0,
        onProgress: (p) => {
          const now = performance.now();
          stepTimes.push((now - last) / 1000);
          last = now;
          sampled = now;
          if (p.step === p.steps) phase = 'decoding';
        },
      });
      clearInterval(timer);
      const end = performance.now();
      return {
        graphs: model.graphs,
        provider: model.provider,
        loadSeconds,
        loadedRssMb: loadedRss,
        samplingPeakRssMb: peaks.sampling,
        decodingPeakRssMb: peaks.decoding,
        idleRssMb: rssMb(),
        stepSeconds: stepTimes,
        decodeSeconds: (end - sampled) / 1000,
        totalSeconds: (end - started) / 1000,
        peakRssMb: peakRssMb(),
      };
    }
    case 'bare': {
      // The UNet alone: one call with the guidance batch (2 × batch), no pipeline. Onbrand's built
      // graph (with rank-1 zero LoRA inputs, as the pipeline feeds it), or the export's own.
      const n = 2 * (a.batch ?? 1);
      const { session, feeds } = await bareUnet(a);
      const runs: number[] = [];
      for (let i = 0; i < (a.steps ?? 3); i++) runs.push(await timeUnet(session, n, a, feeds));
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
      const setChanged = await time([]);
      const again = await time([{ name: 'brand', weight: 0.8 }]);
      const memory = engine.memory();
      // The UNet call (guidance batch of 2) with the LoRA's factors fed, and with rank-1 zeros.
      const loaded = (engine as unknown as { loaded: { sessions: { unet: OnnxSession }; loraFeeds: { unet: Record<string, Feed> } } })
        .loaded;
      const withFactors = loaded.loraFeeds.unet;
      await engine.applyLoras([]);
      const zeros = loaded.loraFeeds.unet;
      await timeUnet(loaded.sessions.unet, 2, a, zeros); // warm-up
      const withLora = await timeUnet(loaded.sessions.unet, 2, a, withFactors);
      const withoutLora = await timeUnet(loaded.sessions.unet, 2, a, zeros);
      return {
        addedSeconds: added,
        weightChangedSeconds: weightChanged,
        removedSeconds: setChanged,
        addedAgainSeconds: again,
        unetWithLoraSeconds: withLora,
        unetWithoutSeconds: withoutLora,
        loraBytes: memory.loraBytes,
        peakRssMb: peakRssMb(),
      };
    }
    case 'attention': {
      // One self-attention of SD 1.5's first level (8 heads × 40, 320 channels) over the latent
      // pixels of the size, for the guidance batch of 2: fused or plain.
      const tokens = ((a.width ?? 576) / 8) * ((a.height ?? 1024) / 8);
      const b = new GraphBuilder({ precision: 'float32', attention: a.graphs === 'exported' ? 'plain' : 'fused', loraBranches: false });
      const [q, k, v] = ['q', 'k', 'v'].map((name) => b.input(name, FLOAT, ['batch', 'tokens', 320]));
      b.output(b.attention(q!, k!, v!, 8, 40, 'attn'), 'out', FLOAT, ['batch', 'tokens', 320]);
      const file = path.join(a.cache, `attention-${a.graphs === 'exported' ? 'plain' : 'fused'}.onnx`);
      fs.mkdirSync(a.cache, { recursive: true });
      writeGraph(file, 'attention', b, new RandomWeights([], 1));
      const { session } = await OnnxSession.load(file, ['cpu']);
      const data = Float32Array.from({ length: 2 * tokens * 320 }, (_, i) => Math.sin(i * 0.37));
      const feed = { data, dims: [2, tokens, 320] };
      const runs: number[] = [];
      for (let i = 0; i < 2; i++) {
        const t = performance.now();
        await session.run({ q: feed, k: feed, v: feed });
        runs.push((performance.now() - t) / 1000);
      }
      await session.dispose();
      return { tokens, runSeconds: runs, peakRssMb: peakRssMb() };
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
    case 'parity': {
      // The same seeded images on the CPU (float32 graphs) and on \`provider\` (float16 on a GPU):
      // how far apart their pixels are, on a tiny model of the real architecture.
      const dir = path.join(a.cache, 'tiny-arch');
      if (!fs.existsSync(path.join(dir, 'model_index.json'))) writeTinySdArch(dir, { seed: 3 });
      const run = async (provider: ProviderChoice): Promise<{ provider: string; rgb: Uint8Array[] }> => {
        const engine = engineFor({ ...a, model: dir });
        const model = await engine.load(dir, provider);
        const images = await engine.generate({ ...settings(a), width: 256, height: 256, batchSize: 2, steps: 10 }, { previewEvery: 0 });
        await engine.dispose();
        return { provider: model.provider, rgb: images.map((i) => i.rgb) };
      };
      const cpu = await run('cpu');
      const other = await run(a.provider ?? 'auto');
      let sum = 0;
      let max = 0;
      let n = 0;
      for (let i = 0; i < cpu.rgb.length; i++) {
        const x = cpu.rgb[i]!;
        const y = other.rgb[i]!;
        for (let j = 0; j < x.length; j++) {
          const d = Math.abs(x[j]! - y[j]!);
          sum += d;
          max = Math.max(max, d);
          n++;
        }
      }
      return { provider: other.provider, meanAbsDiff: sum / n, maxAbsDiff: max, values: n };
    }
    case 'gpu': {
      // The designers' loop on a GPU: 3 batches × 6 images queued at once, 576×1024 (SDXL: 768×1344), 25 steps.
      const engine = engineFor(a);
      const loadStarted = performance.now();
      const model = await engine.load(a.model, a.provider ?? 'cuda');
      const loadSeconds = (performance.now() - loadStarted) / 1000;
      const started = performance.now();
      const batches: number[] = [];
      for (let b = 0; b < 3; b++) {
        const t = performance.now();
        await engine.generate(
          { ...settings(a), width: a.width ?? 576, height: a.height ?? 1024, batchSize: 6, steps: 25, seed: 1 + 6 * b },
          { previewEvery: 0 },
        );
        batches.push((performance.now() - t) / 1000);
      }
      const seconds = (performance.now() - started) / 1000;
      return {
        provider: model.provider,
        graphs: model.graphs,
        loadSeconds,
        batchSeconds: batches,
        seconds,
        imagesPerSecond: 18 / seconds,
        peakRssMb: peakRssMb(),
      };
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
