/**
 * Importing one tiny model in its three source forms (an LDM single-file checkpoint, a diffusers
 * folder, a diffusers ONNX folder), all written by the tests from the same seeded weights: each
 * installs atomically, and all give the same image as each other and as the ONNX folder's own
 * graphs. Then what goes wrong: pickles, other families, missing tensors, names, cancelling.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DiffusionEngine,
  encodeSafetensors,
  readModelFolder,
  SafetensorsFile,
  type GeneratedImage,
  type GenerateSettings,
  type SdConfig,
} from '../diffusion/index.js';
import { tinyArchConfig } from '../diffusion/testing/tiny-sd-arch.js';
import { writeTinySdArch } from '../diffusion/testing/tiny-sd-arch.js';
import { writeTinyDiffusers } from '../diffusion/testing/tiny-diffusers.js';
import { mixedDtype, SD2, writeLdmCheckpoint } from '../diffusion/testing/ldm-checkpoint.js';
import { importModel, ModelImportError, sweepStaging } from './importer.js';
import { listModels, removeModel, verifyModel } from './library.js';
import { maxPixelDiff } from '../diffusion/testing/images.js';

const SEED = 7;
let root: string;
let modelsDir: string;
let onnxDir: string;
let configDir: string;
let checkpoint: string;
let config: SdConfig;
let engine: DiffusionEngine;
let exported: DiffusionEngine;

const base: GenerateSettings = {
  prompt: 'a portrait, magenta and teal light',
  negativePrompt: 'text',
  seed: 5,
  steps: 4,
  cfg: 7,
  sampler: 'DPM++ 2M Karras',
  width: 64,
  height: 64,
  batchSize: 1,
};

const sha = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** A diffusers-style config folder for the checkpoint: the parts' config.json, scheduler, tokenizer. */
function writeConfigDir(dir: string, from: string, c: SdConfig): string {
  for (const [part, value] of [
    ['unet', { _class_name: 'UNet2DConditionModel', ...c.unet }],
    ['vae', { _class_name: 'AutoencoderKL', ...c.vae }],
    ['text_encoder', { architectures: ['CLIPTextModel'], ...c.textEncoder }],
  ] as const) {
    fs.mkdirSync(path.join(dir, part), { recursive: true });
    fs.writeFileSync(path.join(dir, part, 'config.json'), JSON.stringify(value));
  }
  for (const sub of ['tokenizer', 'scheduler']) fs.cpSync(path.join(from, sub), path.join(dir, sub), { recursive: true });
  return dir;
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-import-'));
  modelsDir = path.join(root, 'models');
  onnxDir = writeTinySdArch(path.join(root, 'sources', 'tiny-onnx'), { seed: SEED });
  const vocab = Object.keys(JSON.parse(fs.readFileSync(path.join(onnxDir, 'tokenizer', 'vocab.json'), 'utf8')) as object).length;
  config = tinyArchConfig(vocab);
  checkpoint = path.join(root, 'sources', 'tiny.safetensors');
  writeLdmCheckpoint(checkpoint, config, 'sd1');
  configDir = writeConfigDir(path.join(root, 'sources', 'tiny-config'), onnxDir, config);
  engine = new DiffusionEngine({ graphCacheDir: path.join(root, 'graph-cache'), loraDir: path.join(root, 'loras') });
  exported = new DiffusionEngine({
    graphCacheDir: path.join(root, 'graph-cache'),
    loraDir: path.join(root, 'loras'),
    exportedGraphs: true,
  });
});

afterAll(async () => {
  await engine.dispose();
  await exported.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

async function generate(dir: string, which = engine): Promise<GeneratedImage> {
  await which.load(dir, 'cpu');
  return (await which.generate(base))[0]!;
}

describe('importModel: three source forms, one image', () => {
  let fromCheckpoint: GeneratedImage;

  it('imports an LDM single-file checkpoint with --config into a diffusers folder, atomically, leaving the source untouched', async () => {
    const before = sha(checkpoint);
    const phases = new Set<string>();
    const report = await importModel({
      source: checkpoint,
      name: 'tiny ckpt',
      modelsDir,
      configDir,
      onProgress: (p) => phases.add(p.phase),
    });
    expect(sha(checkpoint)).toBe(before);
    expect(report).toMatchObject({
      name: 'tiny ckpt',
      layout: 'diffusers',
      family: 'sd1',
      sourceKind: 'checkpoint',
      architectureFrom: 'config',
      predictionType: 'epsilon',
    });
    expect(report.hash).toBe(before.slice(0, 10));
    expect(report.checkpoint!.unexpectedCount).toBe(0);
    expect([...phases]).toEqual(expect.arrayContaining(['checking', 'hashing', 'writing', 'finishing']));
    // Only the finished model is there: no staging folder left.
    expect(fs.readdirSync(path.join(modelsDir, '.staging'))).toEqual([]);
    const folder = readModelFolder(path.join(modelsDir, 'tiny ckpt'));
    expect(folder.layout).toBe('diffusers');
    expect(folder.manifest?.source.sha256).toBe(before);
    const verified = await verifyModel(folder.dir);
    expect(verified).toMatchObject({ ok: true, problems: [] });
    expect(verified.files).toBeGreaterThan(8);
    fromCheckpoint = await generate(folder.dir);
  });

  it('the same weights as a diffusers folder (float32, old VAE attention names) give the same image', async () => {
    const source = writeTinyDiffusers(path.join(root, 'sources', 'tiny-diffusers'), config, { seed: SEED, legacyVae: true, from: onnxDir });
    const report = await importModel({ source, name: 'tiny-diffusers', modelsDir });
    expect(report).toMatchObject({ layout: 'diffusers', sourceKind: 'diffusers', architectureFrom: 'folder' });
    const image = await generate(report.dir);
    expect(await maxPixelDiff(image, fromCheckpoint)).toBeLessThanOrEqual(1);
  });

  it("and as a diffusers ONNX folder: the same image on Onbrand's graphs and on the folder's own graphs", async () => {
    const report = await importModel({ source: onnxDir, name: 'tiny-onnx', modelsDir });
    expect(report).toMatchObject({ layout: 'onnx', sourceKind: 'onnx' });
    expect(await maxPixelDiff(await generate(report.dir), fromCheckpoint)).toBeLessThanOrEqual(1);
    expect(await maxPixelDiff(await generate(report.dir, exported), fromCheckpoint)).toBeLessThanOrEqual(1);
  });

  it('lists installed models with layout, family, size, source and hash; verify finds a damaged file; rm removes', async () => {
    const list = listModels(modelsDir, path.join(modelsDir, 'loras'));
    expect(list.models.map((m) => m.name)).toEqual(['tiny ckpt', 'tiny-diffusers', 'tiny-onnx']);
    const ckpt = list.models[0]!;
    expect(ckpt).toMatchObject({ layout: 'diffusers', family: 'sd1', source: checkpoint });
    expect(ckpt.bytes).toBeGreaterThan(100_000);
    const file = path.join(modelsDir, 'tiny-diffusers', 'unet', 'diffusion_pytorch_model.safetensors');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 3] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const damaged = await verifyModel(path.join(modelsDir, 'tiny-diffusers'));
    expect(damaged.ok).toBe(false);
    expect(damaged.problems[0]).toMatch(/unet\/diffusion_pytorch_model\.safetensors has SHA-256/);
    removeModel(modelsDir, 'tiny-diffusers', null);
    expect(listModels(modelsDir, path.join(modelsDir, 'loras')).models.map((m) => m.name)).toEqual(['tiny ckpt', 'tiny-onnx']);
  });
});

describe('importModel: architecture sources', () => {
  it('without a config: from the shapes, with a tokenizer from an installed model of the same vocabulary', async () => {
    const report = await importModel({ source: checkpoint, name: 'from-shapes', modelsDir });
    expect(report.architectureFrom).toBe('shapes');
    expect(report.tokenizerFrom).toMatch(/installed model/);
    const unet = JSON.parse(fs.readFileSync(path.join(report.dir, 'unet', 'config.json'), 'utf8')) as {
      block_out_channels: number[];
      layers_per_block: number;
      cross_attention_dim: number;
    };
    expect(unet).toMatchObject({ block_out_channels: [32, 64], layers_per_block: 1, cross_attention_dim: 32 });
    // The tiny model's 2 heads are not SD's convention (heads of 64 channels → 1 here): another
    // architecture, another image; so the equal images above are not equal by accident.
    const other = await generate(report.dir);
    const configured = await generate(path.join(modelsDir, 'tiny ckpt'));
    expect(await maxPixelDiff(other, configured)).toBeGreaterThan(8);
  });

  it('from an LDM YAML beside the checkpoint (A1111 convention): heads, v-prediction, schedule', async () => {
    const dir = path.join(root, 'sources', 'yaml');
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(checkpoint, path.join(dir, 'tiny-v.safetensors'));
    fs.writeFileSync(
      path.join(dir, 'tiny-v.yaml'),
      [
        'model:',
        '  target: ldm.models.diffusion.ddpm.LatentDiffusion',
        '  params:',
        '    parameterization: "v"',
        '    linear_start: 0.00085',
        '    linear_end: 0.0120',
        '    timesteps: 1000',
        '    scale_factor: 0.18215',
        '    unet_config:',
        '      params:',
        '        in_channels: 4',
        '        out_channels: 4',
        '        model_channels: 32',
        '        attention_resolutions: [ 1 ]',
        '        num_res_blocks: 1',
        '        channel_mult: [ 1, 2 ]',
        '        num_heads: 2',
        '        context_dim: 32',
        '    first_stage_config:',
        '      params:',
        '        embed_dim: 4',
        '        ddconfig:',
        '          z_channels: 4',
        '          ch: 32',
        '          ch_mult: [1,2]',
        '          num_res_blocks: 1',
        '    cond_stage_config:',
        '      target: ldm.modules.encoders.modules.FrozenCLIPEmbedder',
      ].join('\n'),
    );
    const report = await importModel({ source: path.join(dir, 'tiny-v.safetensors'), name: 'from-yaml', modelsDir });
    expect(report).toMatchObject({ architectureFrom: 'yaml', predictionType: 'v_prediction' });
    const folder = readModelFolder(report.dir);
    expect(folder.predictionType).toBe('v_prediction');
    const unet = JSON.parse(fs.readFileSync(path.join(report.dir, 'unet', 'config.json'), 'utf8')) as {
      attention_head_dim: number;
      down_block_types: string[];
    };
    expect(unet.attention_head_dim).toBe(2);
    expect(unet.down_block_types).toEqual(['CrossAttnDownBlock2D', 'DownBlock2D']);
  });

  it('keeps each tensor in its stored precision (float32, float16, bfloat16): nothing converted, nothing rounded twice', async () => {
    const file = path.join(root, 'sources', 'mixed.safetensors');
    const written = writeLdmCheckpoint(file, config, 'sd1', { dtype: mixedDtype });
    const report = await importModel({ source: file, name: 'mixed', modelsDir, configDir });
    const unet = await SafetensorsFile.open(path.join(report.dir, 'unet', 'diffusion_pytorch_model.safetensors'));
    const dtypes = new Set<string>();
    for (const [name, info] of unet.tensors) {
      expect(info.dtype, name).toBe(written.dtypeOf(written.keyOf.get(name)!));
      dtypes.add(info.dtype);
    }
    expect([...dtypes].sort()).toEqual(['BF16', 'F16', 'F32']);
    const name = 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight';
    expect(await unet.readFloat32(name)).toEqual(written.stored.read(name));
  });

  it('a folder whose files are symbolic links (a Hugging Face cache snapshot) is imported whole; its prediction type can be set', async () => {
    const blobs = path.join(root, 'sources', 'blobs');
    const snapshot = path.join(root, 'sources', 'snapshot');
    const source = path.join(root, 'sources', 'tiny-diffusers');
    for (const relative of fs.readdirSync(source, { recursive: true }) as string[]) {
      const from = path.join(source, relative);
      if (!fs.statSync(from).isFile()) continue;
      const blob = path.join(blobs, relative.replace(/[\\/]/g, '_'));
      fs.mkdirSync(blobs, { recursive: true });
      fs.copyFileSync(from, blob);
      fs.mkdirSync(path.dirname(path.join(snapshot, relative)), { recursive: true });
      fs.symlinkSync(blob, path.join(snapshot, relative));
    }
    const report = await importModel({ source: snapshot, name: 'from-cache', modelsDir, predictionType: 'v_prediction' });
    expect(report.predictionType).toBe('v_prediction');
    const folder = readModelFolder(report.dir);
    expect(folder.predictionType).toBe('v_prediction');
    expect(fs.existsSync(path.join(report.dir, 'tokenizer', 'vocab.json'))).toBe(true);
    expect(fs.lstatSync(path.join(report.dir, 'tokenizer', 'vocab.json')).isSymbolicLink()).toBe(false);
    await expect(importModel({ source: snapshot, name: 'with-config', modelsDir, configDir })).rejects.toThrow(
      /A config folder applies to single-file checkpoints/,
    );
  });

  it('an SD 2.x checkpoint (OpenCLIP, in_proj split into q/k/v) is told apart and imported', async () => {
    const file = path.join(root, 'sources', 'tiny-sd2.safetensors');
    const sd2: SdConfig = { ...SD2, textEncoder: { ...SD2.textEncoder, vocab_size: config.textEncoder.vocab_size } };
    writeLdmCheckpoint(file, sd2, 'sd2');
    const dir = writeConfigDir(path.join(root, 'sources', 'sd2-config'), onnxDir, sd2);
    const report = await importModel({ source: file, name: 'tiny-sd2', modelsDir, configDir: dir, predictionType: 'epsilon' });
    expect(report).toMatchObject({ family: 'sd1', predictionType: 'epsilon' }); // 48-wide text: SD 2.x-shaped, not 1024
    expect(report.checkpoint!.ignored.map((i) => i.reason).join(' ')).toMatch(/penultimate/);
    await generate(report.dir);
  });
});

describe('importModel: what cannot be imported is named, and nothing is installed', () => {
  const attempt = async (options: Partial<Parameters<typeof importModel>[0]>): Promise<ModelImportError> => {
    const error = await importModel({ source: checkpoint, name: 'x', modelsDir, configDir, ...options }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelImportError);
    expect(fs.existsSync(path.join(modelsDir, options.name ?? 'x'))).toBe(false);
    return error as ModelImportError;
  };

  it('a .ckpt pickle is refused with the reason and the way to a .safetensors', async () => {
    const ckpt = path.join(root, 'sources', 'model.ckpt');
    fs.writeFileSync(ckpt, Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00]));
    const error = await attempt({ source: ckpt });
    expect(error.reason).toBe('pickle');
    expect(error.message).toMatch(/pickle.*execute any code/s);
    expect(error.message).toMatch(/\.safetensors/);
  });

  it('an SDXL refiner checkpoint is named as such (SDXL base models and fine-tunes import: engine-sdxl.test.ts)', async () => {
    const file = path.join(root, 'sources', 'sdxl-refiner.safetensors');
    fs.writeFileSync(
      file,
      encodeSafetensors({
        'conditioner.embedders.0.model.ln_final.weight': { dtype: 'F32', shape: [4], data: new Float32Array(4) },
        'model.diffusion_model.label_emb.0.0.weight': { dtype: 'F32', shape: [4, 4], data: new Float32Array(16) },
        'model.diffusion_model.input_blocks.0.0.weight': { dtype: 'F32', shape: [4, 4, 3, 3], data: new Float32Array(144) },
      }),
    );
    const error = await attempt({ source: file });
    expect(error.reason).toBe('family');
    expect(error.message).toMatch(/SDXL refiner/);
  });

  it('missing tensors are named (first few and the count)', async () => {
    const file = path.join(root, 'sources', 'incomplete.safetensors');
    writeLdmCheckpoint(file, config, 'sd1', {
      omit: ['model.diffusion_model.out.2.weight', 'model.diffusion_model.middle_block.1.proj_in.weight'],
    });
    const error = await attempt({ source: file });
    expect(error.reason).toBe('weights');
    expect(error.message).toMatch(/unet: 2 weights not found/);
    expect(error.message).toMatch(/conv_out\.weight|mid_block\.attentions\.0\.proj_in\.weight/);
  });

  it('a name that exists, a bad name, a missing file, a cancelled import', async () => {
    const installed = sha(path.join(modelsDir, 'tiny ckpt', 'unet', 'diffusion_pytorch_model.safetensors'));
    const exists = await importModel({ source: checkpoint, name: 'tiny ckpt', modelsDir, configDir }).catch(
      (e: unknown) => e as ModelImportError,
    );
    expect(exists).toMatchObject({ reason: 'exists', code: 'conflict' });
    expect((exists as Error).message).toMatch(/already exists.*onbrand models rm/);
    expect(sha(path.join(modelsDir, 'tiny ckpt', 'unet', 'diffusion_pytorch_model.safetensors'))).toBe(installed); // untouched
    expect((await attempt({ name: '../escape' })).reason).toBe('bad_name');
    expect((await attempt({ source: path.join(root, 'nope.safetensors') })).reason).toBe('not_found');
    const controller = new AbortController();
    const error = await attempt({
      name: 'cancelled',
      signal: controller.signal,
      onProgress: (p) => p.phase === 'writing' && controller.abort(),
    });
    expect(error.reason).toBe('cancelled');
    expect(fs.readdirSync(path.join(modelsDir, '.staging'))).toEqual([]);
  });

  it('a LoRA or a lone VAE picked by mistake is named, with where a LoRA goes', async () => {
    const lora = path.join(root, 'sources', 'style.safetensors');
    fs.writeFileSync(
      lora,
      encodeSafetensors({
        'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight': { dtype: 'F32', shape: [2, 32], data: new Float32Array(64) },
      }),
    );
    const error = await attempt({ source: lora });
    expect(error.reason).toBe('unsupported');
    expect(error.message).toMatch(
      /style\.safetensors is a LoRA, not a model: copy it into .*loras and use it in a prompt as <lora:style:0\.8>/,
    );
    const vae = path.join(root, 'sources', 'vae.safetensors');
    fs.writeFileSync(
      vae,
      encodeSafetensors({ 'decoder.conv_in.weight': { dtype: 'F32', shape: [4, 4, 3, 3], data: new Float32Array(144) } }),
    );
    expect((await attempt({ source: vae })).message).toMatch(/a VAE on its own/);
  });

  it("names of the models folder's own folders are refused", async () => {
    expect((await attempt({ name: 'loras' })).message).toMatch(/loras\/ folder/);
  });

  it('a shard index that points out of its folder is refused', async () => {
    const dir = path.join(root, 'sources', 'sharded');
    fs.cpSync(path.join(root, 'sources', 'tiny-diffusers'), dir, { recursive: true });
    fs.renameSync(path.join(dir, 'unet', 'diffusion_pytorch_model.safetensors'), path.join(root, 'sources', 'outside.safetensors'));
    fs.writeFileSync(
      path.join(dir, 'unet', 'diffusion_pytorch_model.safetensors.index.json'),
      JSON.stringify({ weight_map: { 'conv_in.weight': '../../outside.safetensors' } }),
    );
    const error = await attempt({ source: dir, configDir: undefined as unknown as string });
    expect(error.message).toMatch(/names the shard "\.\.\/\.\.\/outside\.safetensors": not a \.safetensors file beside the index/);
  });

  it('a full disk is refused before writing', async () => {
    const error = await attempt({ name: 'full', freeSpace: () => 1000 });
    expect(error.reason).toBe('disk_full');
    expect(error.message).toMatch(/Not enough free space/);
  });

  it('sweeps staging folders of imports whose process died', () => {
    const stale = path.join(modelsDir, '.staging', 'dead-999999-abcdef');
    fs.mkdirSync(stale, { recursive: true });
    sweepStaging(modelsDir);
    expect(fs.existsSync(stale)).toBe(false);
  });
});
