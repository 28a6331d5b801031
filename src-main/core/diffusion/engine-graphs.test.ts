/**
 * The engine on Onbrand's own graphs, built from an export-shaped tiny SD with the real
 * architecture: the same images as the export's own graphs, batch image i == seed + i alone at
 * any memory budget, LoRA (and LoCon) as side-branch feeds equal to LoRA merged into the weights, the build
 * cached on disk, and folders that cannot be mapped running as they are.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffusionEngine, type GenerateSettings, type GeneratedImage } from './engine.js';
import { encodeSafetensors } from './safetensors.js';
import { writeTinySdArch } from './testing/tiny-sd-arch.js';
import { writeTinySd } from './testing/tiny-sd.js';
import { maxPixelDiff } from './testing/images.js';

let root: string;
let modelDir: string;
let loraDir: string;
let cacheDir: string;
const logs: string[] = [];
let engine: DiffusionEngine;
let exported: DiffusionEngine;

const base: GenerateSettings = {
  prompt: 'a portrait, magenta and teal light',
  negativePrompt: 'text, watermark',
  seed: 77,
  steps: 5,
  cfg: 7,
  sampler: 'DPM++ 2M Karras',
  width: 64,
  height: 96,
  batchSize: 1,
};

const values = (n: number, seed: number, scale = 0.4): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.3 + seed) * scale);

/** A kohya LoRA on attention, the 1×1 proj_in and the text encoder; optionally a LoCon conv module. */
function writeLora(name: string, seed: number, withConv = false): void {
  const t: Parameters<typeof encodeSafetensors>[0] = {};
  const add = (key: string, down: number[], up: number[]): void => {
    t[`${key}.lora_down.weight`] = {
      dtype: 'F32',
      shape: down,
      data: values(
        down.reduce((a, b) => a * b, 1),
        seed,
      ),
    };
    t[`${key}.lora_up.weight`] = {
      dtype: 'F32',
      shape: up,
      data: values(
        up.reduce((a, b) => a * b, 1),
        seed + 1,
      ),
    };
    t[`${key}.alpha`] = { dtype: 'F32', shape: [], data: Float32Array.of(1) };
  };
  add('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k', [2, 32], [32, 2]);
  add('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q', [2, 32], [32, 2]);
  add('lora_unet_down_blocks_0_attentions_0_proj_in', [2, 32, 1, 1], [32, 2, 1, 1]);
  add('lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_ff_net_2', [2, 128], [32, 2]);
  add('lora_te_text_model_encoder_layers_0_self_attn_q_proj', [2, 32], [32, 2]);
  if (withConv) add('lora_unet_down_blocks_0_resnets_0_conv1', [2, 32, 3, 3], [32, 2, 1, 1]);
  fs.writeFileSync(path.join(loraDir, `${name}.safetensors`), encodeSafetensors(t, {}));
}

async function pixels(image: GeneratedImage): Promise<Int16Array> {
  return Int16Array.from(await sharp(image.png).raw().toBuffer());
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-engine-graphs-'));
  modelDir = writeTinySdArch(path.join(root, 'tiny-arch'), { seed: 11 });
  loraDir = path.join(root, 'loras');
  cacheDir = path.join(root, 'graph-cache');
  fs.mkdirSync(loraDir);
  writeLora('style', 3);
  writeLora('style_conv', 3, true);
  engine = new DiffusionEngine({ loraDir, graphCacheDir: cacheDir, onLog: (m) => logs.push(m) });
  exported = new DiffusionEngine({ loraDir, graphCacheDir: cacheDir, exportedGraphs: true });
});

afterAll(async () => {
  await engine.dispose();
  await exported.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

describe("DiffusionEngine on Onbrand's graphs", () => {
  it('refuses a size the UNet cannot halve evenly, naming the nearest sizes', async () => {
    await engine.load(modelDir, 'cpu');
    // The tiny UNet halves once: sizes in multiples of 16 (SD's halves three times: 64).
    const error = await engine.generate({ ...base, width: 72 }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('width 72 does not suit this model: its sizes must be multiples of 16 (nearest: 64 or 80)');
  });

  it("builds Onbrand's graphs from an export's weights, once, into the cache", async () => {
    const model = await engine.load(modelDir, 'cpu');
    expect(model.graphs).toBe('onbrand');
    expect(model.graphsReason).toBeNull();
    expect(logs.some((l) => l.includes('Building'))).toBe(true);
    const entries = fs.readdirSync(cacheDir);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/^tiny-arch-float32-fused-[0-9a-f]{12}$/);
    expect(fs.readdirSync(path.join(cacheDir, entries[0]!)).sort()).toEqual(
      [
        'manifest.json',
        ...['text_encoder', 'unet', 'vae_decoder', 'vae_encoder'].flatMap((p) => [`${p}.onnx`, `${p}.onnx.weights`]),
      ].sort(),
    );
    // A second engine finds the build.
    const again = new DiffusionEngine({ loraDir, graphCacheDir: cacheDir, onLog: (m) => logs.push(`again: ${m}`) });
    expect((await again.load(modelDir, 'cpu')).graphs).toBe('onbrand');
    expect(logs.some((l) => l.startsWith('again: Building'))).toBe(false);
    await again.dispose();
  });

  it("gives the export's own images (max 1 level per channel)", async () => {
    await engine.load(modelDir, 'cpu');
    expect((await exported.load(modelDir, 'cpu')).graphs).toBe('exported');
    const [a] = await engine.generate(base);
    const [b] = await exported.generate(base);
    expect(await maxPixelDiff(a!, b!)).toBeLessThanOrEqual(1);
    // And not a blank image: the tiny model makes structure.
    const p = await pixels(a!);
    expect(Math.max(...p) - Math.min(...p)).toBeGreaterThan(20);
  });

  it('batch image i equals seed + i alone, whatever the memory budget splits the UNet call into', async () => {
    await engine.load(modelDir, 'cpu');
    const batch = await engine.generate({ ...base, batchSize: 3, cfg: 5 });
    const oneAtATime = new DiffusionEngine({ loraDir, graphCacheDir: cacheDir, memoryBudgetBytes: 1 });
    await oneAtATime.load(modelDir, 'cpu');
    const split = await oneAtATime.generate({ ...base, batchSize: 3, cfg: 5 });
    for (let i = 0; i < 3; i++) {
      const [alone] = await engine.generate({ ...base, cfg: 5, seed: base.seed + i });
      expect(await maxPixelDiff(batch[i]!, alone!)).toBeLessThanOrEqual(1);
      expect(await maxPixelDiff(split[i]!, alone!)).toBeLessThanOrEqual(1);
    }
    await oneAtATime.dispose();
  });

  it('LoRA as side-branch feeds equals LoRA merged into the weights; weight 0 is the base image; no new session', async () => {
    await engine.load(modelDir, 'cpu');
    await exported.load(modelDir, 'cpu');
    const [plain] = await engine.generate(base);
    const sessionBefore = (engine as unknown as { loaded: { sessions: { unet: unknown } } }).loaded.sessions.unet;
    const [branched] = await engine.generate({ ...base, prompt: `${base.prompt} <lora:style:0.8>` });
    const [merged] = await exported.generate({ ...base, prompt: `${base.prompt} <lora:style:0.8>` });
    expect(await maxPixelDiff(branched!, plain!)).toBeGreaterThan(3);
    expect(await maxPixelDiff(branched!, merged!)).toBeLessThanOrEqual(1);
    expect(branched!.parameters).toMatch(/Lora hashes: "style: [0-9a-f]{12}"/);

    const started = performance.now();
    const [other] = await engine.generate({ ...base, prompt: `${base.prompt} <lora:style:0.3>` });
    expect(performance.now() - started).toBeLessThan(5000);
    const [otherMerged] = await exported.generate({ ...base, prompt: `${base.prompt} <lora:style:0.3>` });
    expect(await maxPixelDiff(other!, otherMerged!)).toBeLessThanOrEqual(1);
    expect((engine as unknown as { loaded: { sessions: { unet: unknown } } }).loaded.sessions.unet).toBe(sessionBefore);

    const [zero] = await engine.generate({ ...base, prompt: `${base.prompt} <lora:style:0>` });
    expect(await maxPixelDiff(zero!, plain!)).toBe(0);
    expect(engine.memory().loraBytes).toBeGreaterThan(0);
  });

  it('applies LoCon convolution modules as side branches, as merged weights do', async () => {
    await engine.load(modelDir, 'cpu');
    await exported.load(modelDir, 'cpu');
    const warnings: string[] = [];
    const prompt = `${base.prompt} <lora:style_conv:1>`;
    const [branched] = await engine.generate({ ...base, prompt }, { onWarning: (w) => warnings.push(w) });
    const [merged] = await exported.generate({ ...base, prompt });
    const [withoutConv] = await engine.generate({ ...base, prompt: `${base.prompt} <lora:style:1>` });
    expect(warnings).toEqual([]);
    expect(await maxPixelDiff(branched!, withoutConv!)).toBeGreaterThan(3);
    expect(await maxPixelDiff(branched!, merged!)).toBeLessThanOrEqual(1);
  });

  it('runs a folder whose graphs cannot be mapped as it is, saying why once', async () => {
    const toy = writeTinySd(path.join(root, 'toy'));
    const said: string[] = [];
    const e = new DiffusionEngine({ loraDir, graphCacheDir: cacheDir, onLog: (m) => said.push(m) });
    const model = await e.load(toy, 'cpu');
    expect(model.graphs).toBe('exported');
    expect(model.graphsReason).toMatch(/not found|not a|weight/);
    const [image] = await e.generate(base);
    expect(image!.png.length).toBeGreaterThan(100);
    await e.dispose();
    const e2 = new DiffusionEngine({ loraDir, graphCacheDir: cacheDir, onLog: (m) => said.push(m) });
    await e2.load(toy, 'cpu');
    await e2.dispose();
    expect(said.filter((m) => m.includes('run as they are'))).toHaveLength(1);
  });
});
