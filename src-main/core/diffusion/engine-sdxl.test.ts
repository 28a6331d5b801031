/**
 * SDXL end to end on tiny SDXL-shaped models written by the test (two text encoders, the text_time
 * embedding), from all three weight sources: a diffusers ONNX export, a diffusers folder and an
 * SGM single-file checkpoint imported by the model importer. The three give the same pixels; batch
 * image i equals seed + i alone; a CFG of 1 or less runs no unconditional pass.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importModel } from '../models/index.js';
import { encodeSafetensors } from './safetensors.js';
import { DiffusionEngine, type GenerateSettings, type GeneratedImage } from './engine.js';
import { parseParameters } from './parameters.js';
import { readPngText } from './png-text.js';
import { tinySdxlConfig, tokenizerVocab, writeSdxlCheckpointF32, writeSdxlDiffusers, writeSdxlOnnx } from './testing/tiny-sdxl.js';

let root: string;
let onnxDir: string;
let diffusersDir: string;
let importedDir: string;
let engine: DiffusionEngine;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-sdxl-engine-'));
  const loraDir = path.join(root, 'loras');
  fs.mkdirSync(loraDir);
  writeLora(path.join(loraDir, 'xl-style.safetensors'), [
    ['lora_te1_text_model_encoder_layers_0_self_attn_q_proj', 32, 32],
    ['lora_te2_text_model_encoder_layers_1_mlp_fc1', 48, 96],
    ['lora_unet_down_blocks_1_attentions_0_transformer_blocks_1_attn2_to_k', 80, 64],
    ['lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q', 64, 64],
  ]);
  writeLora(path.join(loraDir, 'v15-style.safetensors'), [
    ['lora_te_text_model_encoder_layers_0_self_attn_q_proj', 768, 768],
    ['lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k', 768, 320],
  ]);
  engine = new DiffusionEngine({ graphCacheDir: path.join(root, 'graphs'), loraDir });
  onnxDir = writeSdxlOnnx(path.join(root, 'tiny-sdxl-onnx'));
  const config = tinySdxlConfig(tokenizerVocab(onnxDir));
  diffusersDir = writeSdxlDiffusers(path.join(root, 'tiny-sdxl-diffusers'), config, onnxDir);
  const checkpoint = path.join(root, 'tiny-sdxl.safetensors');
  writeSdxlCheckpointF32(checkpoint, config);
  const modelsDir = path.join(root, 'models');
  // A toy architecture cannot be told from shapes alone (head counts, CLIP's activation follow SD's
  // real widths), so it comes with its configs, as `onbrand models import --config` takes them.
  const report = await importModel({ source: checkpoint, name: 'tiny-sdxl', modelsDir, configDir: diffusersDir });
  expect(report.family).toBe('sdxl');
  importedDir = report.dir;
}, 120_000);

afterAll(async () => {
  await engine.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

/** A kohya-style LoRA (lora_down, lora_up, alpha) of rank 2 over the given modules, with seeded values. */
function writeLora(file: string, modules: [string, number, number][]): void {
  const tensors: Parameters<typeof encodeSafetensors>[0] = {};
  const values = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + seed) * 0.3);
  modules.forEach(([key, inDim, outDim], i) => {
    tensors[`${key}.lora_down.weight`] = { dtype: 'F32', shape: [2, inDim], data: values(2 * inDim, i) };
    tensors[`${key}.lora_up.weight`] = { dtype: 'F32', shape: [outDim, 2], data: values(2 * outDim, i + 10) };
    tensors[`${key}.alpha`] = { dtype: 'F32', shape: [], data: Float32Array.of(2) };
  });
  fs.writeFileSync(file, encodeSafetensors(tensors));
}

const base: GenerateSettings = {
  prompt: 'a portrait, (magenta neon:1.3), teal rim light',
  negativePrompt: 'text, watermark',
  seed: 42,
  steps: 4,
  cfg: 7,
  sampler: 'DPM++ 2M Karras',
  width: 64,
  height: 96,
  batchSize: 1,
};

async function pixels(image: GeneratedImage): Promise<Buffer> {
  return sharp(image.png).raw().toBuffer();
}

async function generate(dir: string, settings: Partial<GenerateSettings> = {}): Promise<GeneratedImage[]> {
  await engine.load(dir, 'cpu');
  return engine.generate({ ...base, ...settings });
}

describe('SDXL on tiny models', () => {
  it('an imported SGM checkpoint is an SDXL diffusers folder with two tokenizers', () => {
    for (const f of ['text_encoder_2/model.safetensors', 'text_encoder_2/config.json', 'tokenizer_2/vocab.json', 'unet/config.json'])
      expect(fs.existsSync(path.join(importedDir, f)), f).toBe(true);
    const unet = JSON.parse(fs.readFileSync(path.join(importedDir, 'unet', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect([unet.addition_embed_type, unet.addition_time_embed_dim, unet.projection_class_embeddings_input_dim]).toEqual([
      'text_time',
      8,
      80,
    ]);
    const vae = JSON.parse(fs.readFileSync(path.join(importedDir, 'vae', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect([vae.scaling_factor, vae.force_upcast]).toEqual([0.13025, true]);
    const te2 = JSON.parse(fs.readFileSync(path.join(importedDir, 'text_encoder_2', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect([te2.architectures, te2.projection_dim]).toEqual([['CLIPTextModelWithProjection'], 32]);
    const special = JSON.parse(fs.readFileSync(path.join(importedDir, 'tokenizer_2', 'special_tokens_map.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(special.pad_token).toBe('!');
  });

  it('generates from all three sources with the same pixels, and says SDXL in the metadata', async () => {
    const fromOnnx = await generate(onnxDir);
    expect(engine.model!.family).toBe('sdxl');
    expect(engine.model!.graphs).toBe('onbrand');
    const fromDiffusers = await generate(diffusersDir);
    const fromCheckpoint = await generate(importedDir);
    const a = await pixels(fromOnnx[0]!);
    expect(new Set(a).size).toBeGreaterThan(8);
    expect((await pixels(fromDiffusers[0]!)).equals(a)).toBe(true);
    expect((await pixels(fromCheckpoint[0]!)).equals(a)).toBe(true);
    const parsed = parseParameters(readPngText(fromCheckpoint[0]!.png).parameters!);
    expect(parsed.values).toMatchObject({ Size: '64x96', Model: 'tiny-sdxl', Seed: '42' });
    expect(parsed.values['Model hash']).toMatch(/^[0-9a-f]{10}$/);
  });

  it('batch image i is seed + i alone', async () => {
    const batch = await generate(importedDir, { batchSize: 2 });
    const alone = await generate(importedDir, { seed: 43 });
    expect(batch[1]!.seed).toBe(43);
    expect((await pixels(batch[1]!)).equals(await pixels(alone[0]!))).toBe(true);
  });

  it('the negative prompt, the size ids and the pooled text condition the image', async () => {
    const a = await pixels((await generate(importedDir))[0]!);
    const otherNegative = await pixels((await generate(importedDir, { negativePrompt: 'blurry' }))[0]!);
    expect(otherNegative.equals(a)).toBe(false);
    // An empty negative prompt is zeros (A1111, diffusers); encoded like a prompt on request (ComfyUI).
    const zeros = await pixels((await generate(importedDir, { negativePrompt: '' }))[0]!);
    const encoded = await pixels((await generate(importedDir, { negativePrompt: '', encodeEmptyNegative: true }))[0]!);
    expect(encoded.equals(zeros)).toBe(false);
    // A LoRA tag alone is an empty negative prompt too (tags leave the text first).
    const tagOnly = await pixels((await generate(importedDir, { negativePrompt: '<lora:xl-style:0.5>' }))[0]!);
    expect(tagOnly.equals(zeros)).toBe(true);
  });

  it('a CFG of 1 or less runs the prompt alone: the negative prompt no longer matters', async () => {
    const one = await pixels((await generate(importedDir, { cfg: 1 }))[0]!);
    const oneOther = await pixels((await generate(importedDir, { cfg: 1, negativePrompt: 'blurry, dark' }))[0]!);
    const below = await pixels((await generate(importedDir, { cfg: 0.5, negativePrompt: 'blurry, dark' }))[0]!);
    expect(oneOther.equals(one)).toBe(true);
    expect(below.equals(one)).toBe(true);
  });

  it('prompts over 75 tokens are encoded in chunks by both encoders', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `word${i % 7} light`).join(', ');
    const images = await generate(importedDir, { prompt: long });
    expect(new Set(await pixels(images[0]!)).size).toBeGreaterThan(8);
    // The words past the first 75 tokens condition the image (the second chunk is encoded and used).
    const otherTail = await generate(importedDir, { prompt: `${long}, magenta teal yellow neon` });
    expect((await pixels(otherTail[0]!)).equals(await pixels(images[0]!))).toBe(false);
  });

  it('SDXL LoRAs (both text encoders and the UNet, kohya names in diffusers and LDM paths) change the image; another family is refused by name', async () => {
    const plain = await pixels((await generate(importedDir))[0]!);
    const styled = await generate(importedDir, { prompt: `${base.prompt} <lora:xl-style:0.8>` });
    expect((await pixels(styled[0]!)).equals(plain)).toBe(false);
    expect(parseParameters(readPngText(styled[0]!.png).parameters!).values['Lora hashes']).toMatch(/^"?xl-style: [0-9a-f]{12}/);
    const off = await pixels((await generate(importedDir, { prompt: `${base.prompt} <lora:xl-style:0>` }))[0]!);
    expect(off.equals(plain)).toBe(true);
    await expect(generate(importedDir, { prompt: `${base.prompt} <lora:v15-style:0.8>` })).rejects.toThrow(/SD 1\.x LoRA.*SDXL/);
  });

  it("an SDXL export can run its own graphs (opened from their files, the UNet never in one buffer); LoRAs then need Onbrand's", async () => {
    const exported = new DiffusionEngine({
      graphCacheDir: path.join(root, 'graphs'),
      exportedGraphs: true,
      loraDir: path.join(root, 'loras'),
    });
    try {
      const model = await exported.load(onnxDir, 'cpu');
      expect([model.family, model.graphs]).toEqual(['sdxl', 'exported']);
      const images = await exported.generate(base);
      expect(new Set(await pixels(images[0]!)).size).toBeGreaterThan(8);
      await expect(exported.generate({ ...base, prompt: `${base.prompt} <lora:xl-style:0.8>` })).rejects.toThrow(
        /LoRAs need Onbrand's graphs/,
      );
    } finally {
      await exported.dispose();
    }
  });
});
