/**
 * The whole pipeline on CPU with tiny models of the real layout (written by the test): shapes,
 * determinism, batch image i == seed + i alone, every sampler, float16/int64/external-data
 * variants, img2img, progress, cancel, PNG metadata and every bad-input path.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelPartError, webgpuUnavailable } from './backend.js';
import { DiffusionEngine, GenerationError, type GenerateSettings, type GeneratedImage } from './engine.js';
import { ModelFolderError } from './model-folder.js';
import { parseParameters } from './parameters.js';
import { readPngText } from './png-text.js';
import { SAMPLERS } from './samplers.js';
import { writeTinySd } from './testing/tiny-sd.js';

let root: string;
let modelDir: string;
const engine = new DiffusionEngine();

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-engine-'));
  modelDir = writeTinySd(path.join(root, 'tiny-sd'));
});

afterAll(async () => {
  await engine.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

const base: GenerateSettings = {
  prompt: 'a portrait, magenta and teal light',
  negativePrompt: 'text, watermark',
  seed: 1234,
  steps: 6,
  cfg: 7,
  sampler: 'DPM++ 2M Karras',
  width: 64,
  height: 96,
  batchSize: 1,
};

async function pixels(image: GeneratedImage): Promise<Buffer> {
  return sharp(image.png).raw().toBuffer();
}

describe('DiffusionEngine on a tiny model', () => {
  it('loads on the CPU here, reporting any provider that failed first', async () => {
    const model = await engine.load(modelDir);
    expect(model.folder.name).toBe('tiny-sd');
    expect(model.hash).toMatch(/^[0-9a-f]{10}$/);
    if (model.provider === 'cpu' && process.platform === 'linux') {
      // No CUDA binaries and no GPU on this machine: each fallback is explicit, with its reason.
      expect(model.attempts.map((a) => a.provider)).toEqual(['cuda', 'webgpu']);
      expect(model.attempts[0]!.error).toMatch(/CUDA binaries are not installed \(npm run setup:cuda\)|cuda/i);
      expect(model.attempts[1]!.error).toMatch(/^WebGPU cannot be used here \(.+\)$/);
    }
    // Loading the same folder again reuses the warm sessions.
    expect(await engine.load(modelDir)).toBe(model);
  });

  it('generates a batch: sizes, PNG metadata in A1111 format, seeds seed + i', async () => {
    await engine.load(modelDir);
    const images = await engine.generate({ ...base, batchSize: 2 });
    expect(images.map((i) => i.seed)).toEqual([1234, 1235]);
    for (const image of images) {
      const meta = await sharp(image.png).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 64, 96]);
      const parsed = parseParameters(readPngText(image.png).parameters!);
      expect(parsed.prompt).toBe(base.prompt);
      expect(parsed.negativePrompt).toBe(base.negativePrompt);
      expect(parsed.values).toMatchObject({
        Steps: '6',
        Sampler: 'DPM++ 2M Karras',
        'CFG scale': '7',
        Seed: String(image.seed),
        Size: '64x96',
        Model: 'tiny-sd',
        RNG: 'CPU',
      });
    }
    // Different seeds give different images.
    expect((await pixels(images[0]!)).equals(await pixels(images[1]!))).toBe(false);
  });

  it('is reproducible: the same seed gives the same pixels, and image i of a batch equals seed + i alone', async () => {
    await engine.load(modelDir);
    const batch = await engine.generate({ ...base, seed: 500, batchSize: 3 });
    const again = await engine.generate({ ...base, seed: 500, batchSize: 3 });
    for (let i = 0; i < 3; i++) expect((await pixels(batch[i]!)).equals(await pixels(again[i]!))).toBe(true);
    const alone = await engine.generate({ ...base, seed: 502, batchSize: 1 });
    const a = await pixels(batch[2]!);
    const b = await pixels(alone[0]!);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    expect(maxDiff).toBeLessThanOrEqual(1);
    expect(parseParameters(alone[0]!.parameters).values.Seed).toBe('502');
  });

  for (const sampler of SAMPLERS) {
    it(`runs the ${sampler} sampler`, async () => {
      await engine.load(modelDir);
      const steps: number[] = [];
      const [image] = await engine.generate({ ...base, sampler, steps: 4 }, { onProgress: (p) => steps.push(p.step) });
      expect(steps).toEqual([1, 2, 3, 4]);
      expect(parseParameters(image!.parameters).values.Sampler).toBe(sampler);
    });
  }

  it('reports progress with an ETA and a preview at latent resolution', async () => {
    await engine.load(modelDir);
    const progress: { step: number; etaMs: number; preview: { width: number; height: number; rgb: Uint8Array } | null }[] = [];
    await engine.generate({ ...base, steps: 3 }, { onProgress: (p) => progress.push(p) });
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3]);
    for (const p of progress) {
      expect(p.etaMs).toBeGreaterThanOrEqual(0);
      expect(p.preview).not.toBeNull();
      expect([p.preview!.width, p.preview!.height, p.preview!.rgb.length]).toEqual([8, 12, 8 * 12 * 3]);
    }
  });

  it('handles prompts over 75 tokens (chunks) and emphasis syntax', async () => {
    await engine.load(modelDir);
    const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(', ');
    const [plain] = await engine.generate({ ...base, prompt: long });
    const [weighted] = await engine.generate({ ...base, prompt: `(${long}:1.3)` });
    expect(plain!.png.length).toBeGreaterThan(0);
    expect((await pixels(plain!)).equals(await pixels(weighted!))).toBe(false);
  });

  it('runs prompt and negative prompt of different lengths in separate UNet calls, as A1111 does by default', async () => {
    await engine.load(modelDir);
    const long = Array.from({ length: 80 }, (_, i) => `w${i}`).join(' ');
    const [a] = await engine.generate({ ...base, prompt: long, negativePrompt: 'text' });
    const [b] = await engine.generate({ ...base, prompt: long, negativePrompt: 'text' });
    expect((await pixels(a!)).equals(await pixels(b!))).toBe(true);
    // Changing only the negative prompt changes the image: the uncond branch is used.
    const [c] = await engine.generate({ ...base, prompt: long, negativePrompt: 'blurry' });
    expect((await pixels(a!)).equals(await pixels(c!))).toBe(false);
  });

  it('cancels between steps, keeping nothing half-made', async () => {
    await engine.load(modelDir);
    const controller = new AbortController();
    const written: GeneratedImage[] = [];
    const run = engine.generate(
      { ...base, steps: 20 },
      { signal: controller.signal, onProgress: (p) => p.step === 2 && controller.abort(), onImage: (i) => void written.push(i) },
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(written).toEqual([]);
  });

  it('img2img starts from an init image and runs strength × steps steps', async () => {
    await engine.load(modelDir);
    const init = await sharp({ create: { width: 100, height: 150, channels: 3, background: '#FE2C54' } })
      .png()
      .toBuffer();
    const steps: number[] = [];
    const [image] = await engine.generate(
      { ...base, steps: 10, init: { image: init, strength: 0.5 } },
      { onProgress: (p) => steps.push(p.step) },
    );
    // As A1111: t_enc = floor(0.5 × 10) = 5, and sampling runs sigmas[steps - t_enc - 1:], i.e. t_enc + 1 steps.
    expect(steps.at(-1)).toBe(6);
    expect(parseParameters(image!.parameters).values['Denoising strength']).toBe('0.5');
    await expect(engine.generate({ ...base, init: { image: Buffer.from('not an image'), strength: 0.5 } })).rejects.toThrow(
      /init image cannot be read/,
    );
  });

  it('refuses bad settings with a message naming the setting', async () => {
    await engine.load(modelDir);
    const cases: [Partial<GenerateSettings>, RegExp][] = [
      [{ width: 100 }, /width must be a multiple of 8/],
      [{ height: 32 }, /height must be a multiple of 8/],
      [{ steps: 0 }, /steps must be/],
      [{ cfg: -1 }, /cfg must be/],
      [{ batchSize: 17 }, /batch must be/],
      [{ seed: -1 }, /seed must be/],
      [{ init: { image: Buffer.alloc(1), strength: 0 } }, /strength must be/],
      [{ prompt: 'x'.repeat(30_000) }, /the prompt is 30000 characters; at most 4000/],
      [{ negativePrompt: 'y'.repeat(4001) }, /the negative prompt is 4001 characters/],
    ];
    for (const [change, message] of cases) {
      const error = await engine.generate({ ...base, ...change }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GenerationError);
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe('model variants', () => {
  it('float16 weights, int64 timesteps, int32 input_ids, external weight files and an 8-channel VAE encoder', async () => {
    const dir = writeTinySd(path.join(root, 'variant'), {
      dtype: 'float16',
      timestep: 'int64',
      inputIds: 'int32',
      externalData: true,
      vaeEncoderChannels: 8,
    });
    const variant = new DiffusionEngine();
    try {
      await variant.load(dir, 'cpu');
      const [a] = await variant.generate({ ...base, steps: 4 });
      const [b] = await variant.generate({ ...base, steps: 4 });
      expect((await pixels(a!)).equals(await pixels(b!))).toBe(true);
      const init = await sharp({ create: { width: 64, height: 96, channels: 3, background: '#00E0FF' } })
        .png()
        .toBuffer();
      const [c] = await variant.generate({ ...base, steps: 4, init: { image: init, strength: 0.6 } });
      expect((await sharp(c!.png).metadata()).width).toBe(64);
    } finally {
      await variant.dispose();
    }
  });

  it('v-prediction models', async () => {
    const dir = writeTinySd(path.join(root, 'vpred'), { predictionType: 'v_prediction' });
    const variant = new DiffusionEngine();
    try {
      await variant.load(dir, 'cpu');
      const [image] = await variant.generate({ ...base, steps: 3 });
      expect(image!.png.length).toBeGreaterThan(100);
    } finally {
      await variant.dispose();
    }
  });
});

describe('bad model folders', () => {
  const broken = (name: string, damage: (dir: string) => void): string => {
    const dir = writeTinySd(path.join(root, name));
    damage(dir);
    return dir;
  };

  it('names the missing or malformed file', async () => {
    const e = new DiffusionEngine();
    const cases: [string, (dir: string) => void, RegExp][] = [
      ['no-unet', (d) => fs.rmSync(path.join(d, 'unet'), { recursive: true }), /unet[/\\]model\.onnx is missing/],
      ['bad-index', (d) => fs.writeFileSync(path.join(d, 'model_index.json'), '{oops'), /model_index\.json is not valid JSON/],
      ['no-index', (d) => fs.rmSync(path.join(d, 'model_index.json')), /model_index\.json is missing/],
      ['no-vocab', (d) => fs.rmSync(path.join(d, 'tokenizer', 'vocab.json')), /vocab\.json is missing/],
      [
        'bad-scheduler',
        (d) => fs.writeFileSync(path.join(d, 'scheduler', 'scheduler_config.json'), JSON.stringify({ beta_schedule: 'squaredcos_cap_v2' })),
        /beta_schedule "squaredcos_cap_v2" is not supported/,
      ],
    ];
    for (const [name, damage, message] of cases) {
      const error = await e.load(broken(name, damage)).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(ModelFolderError);
      expect((error as Error).message).toMatch(message);
    }
    await expect(e.load(path.join(root, 'nowhere'))).rejects.toThrow(/does not exist/);
  });

  it('a corrupt model.onnx is an error naming it, not a crash', async () => {
    const dir = broken('garbage', (d) =>
      fs.writeFileSync(path.join(d, 'vae_decoder', 'model.onnx'), Buffer.from('definitely not protobuf')),
    );
    const error = await new DiffusionEngine().load(dir, 'cpu').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ModelPartError);
    expect((error as Error).message).toMatch(/vae_decoder/);
  });

  it('an explicit provider that cannot load is reported by name', async () => {
    if (process.platform !== 'linux' || fs.existsSync('/usr/lib/x86_64-linux-gnu/libcudart.so.12')) return;
    const error = await new DiffusionEngine().load(modelDir, 'cuda').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ModelPartError);
    expect((error as Error).message).toMatch(/cuda/);
  });

  it('WebGPU asked for on a machine without a GPU adapter fails at once with the reason, building no float16 graphs', async () => {
    if (process.platform !== 'linux' || !(await webgpuUnavailable())) return; // a machine with a GPU: bench:gpu covers it
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-webgpu-'));
    const error = await new DiffusionEngine({ graphCacheDir: cache }).load(modelDir, 'webgpu').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ModelPartError);
    expect((error as Error).message).toMatch(/webgpu: WebGPU cannot be used here \(Failed to get a WebGPU adapter/);
    expect(fs.readdirSync(cache).filter((f) => f.includes('float16'))).toEqual([]);
    fs.rmSync(cache, { recursive: true, force: true });
  });
});
