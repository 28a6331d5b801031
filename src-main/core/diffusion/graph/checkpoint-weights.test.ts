/**
 * Single-file LDM checkpoints read by diffusers names. The test writes tiny SD 1.x and SD 2.x-like
 * checkpoints with the ORIGINAL key names, laid out here from the LDM modules' own structure
 * (openaimodel.UNetModel's input/middle/output blocks, the autoencoder's Encoder/Decoder, CLIP /
 * OpenCLIP state dicts) walked beside diffusers' module names — not by running
 * checkpoint-weights.ts's string rules backwards — then checks that every parameter of Onbrand's
 * graphs comes back with its shape and values, and that graphs written from the checkpoint compute
 * what graphs written from the same weights directly compute.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OnnxSession, type Feed } from '../backend.js';
import { encodeSafetensors } from '../safetensors.js';
import { buildPart, partsOf } from './built-model.js';
import { CheckpointError, CheckpointWeights, detectCheckpoint, planCheckpoint } from './checkpoint-weights.js';
import { inferTextEncoder, inferUnet, inferVae, type SdConfig } from './configs.js';
import type { SdPart } from './sd-graphs.js';
import { checkCoverage, randomTensor, RandomWeights, WeightMappingError, writeGraph } from './weights.js';

import { mixedDtype, OPTIONS, SD1, SD2, SEED, writeLdmCheckpoint, type Tensors, type Written } from '../testing/ldm-checkpoint.js';

// ---------------------------------------------------------------------------------------------
// Running graphs

function seeded(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.8);
}

function feeds(part: SdPart, config: SdConfig): Record<string, Feed> {
  const scale = 2 ** (config.vae.block_out_channels.length - 1);
  switch (part) {
    case 'text_encoder':
    case 'text_encoder_2':
      return { input_ids: { data: [198, 5, 17, 42, 199, 199, 199], dims: [1, 7] } };
    case 'unet': {
      const cross = config.unet.cross_attention_dim;
      return {
        sample: { data: seeded(2 * 4 * 8 * 12, 1), dims: [2, 4, 8, 12] },
        timestep: { data: [981, 981], dims: [2] },
        encoder_hidden_states: { data: seeded(2 * 7 * cross, 2), dims: [2, 7, cross] },
      };
    }
    case 'vae_decoder':
      return { latent_sample: { data: seeded(4 * 8 * 12, 3), dims: [1, 4, 8, 12] } };
    case 'vae_encoder':
      return { sample: { data: seeded(3 * 8 * scale * 12 * scale, 4), dims: [1, 3, 8 * scale, 12 * scale] } };
  }
}

async function outputOf(file: string, part: SdPart, config: SdConfig): Promise<Float32Array> {
  const { session } = await OnnxSession.load(file, ['cpu']);
  try {
    return Object.values(await session.run(feeds(part, config)))[0]!.data as Float32Array;
  } finally {
    await session.dispose();
  }
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-checkpoint-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every parameter found with its shape; values as stored (exactly), F32 ones exactly the random ones. */
async function expectAllParameters(written: Written, options: { extractEma?: boolean } = {}): Promise<CheckpointWeights> {
  const weights = await CheckpointWeights.open(written.file, options);
  for (const spec of written.specs.values()) {
    expect(weights.shape(spec.name), spec.name).toEqual(spec.torchDims);
    const values = weights.read(spec.name);
    const original = randomTensor(spec.name, spec.torchDims, SEED);
    expect(maxDiff(values, written.stored.read(spec.name)), spec.name).toBe(0);
    const dtype = written.dtypeOf(written.keyOf.get(spec.name)!);
    // Relative rounding: 2^-11 for float16 (rounded to nearest, plus its subnormal step), 2^-7 for bfloat16 (truncated).
    const tolerance = dtype === 'F32' ? 0 : dtype === 'F16' ? 2 ** -11 : 2 ** -7;
    for (let i = 0; i < values.length; i++) {
      if (Math.abs(values[i]! - original[i]!) > tolerance * Math.abs(original[i]!) + (dtype === 'F16' ? 2 ** -24 : 0)) {
        expect.fail(`${spec.name}[${i}] (${dtype}) is ${values[i]}, expected ${original[i]}`);
      }
    }
  }
  return weights;
}

describe('single-file LDM checkpoints', () => {
  it('SD 1.x: every parameter of the four graphs, with F32, F16 and BF16 tensors', async () => {
    const written = writeLdmCheckpoint(path.join(dir, 'sd1-mixed.safetensors'), SD1, 'sd1', { dtype: mixedDtype });
    const dtypes = new Set([...written.keyOf.values()].map(written.dtypeOf));
    expect([...dtypes].sort()).toEqual(['BF16', 'F16', 'F32']);
    const weights = await expectAllParameters(written);
    expect(weights.info).toMatchObject({
      family: 'sd1',
      unsupported: null,
      parts: { unet: true, vae: true, textEncoder: 'clip' },
      unetInChannels: 4,
      emaKeys: 0,
    });
    for (const part of partsOf(SD1)) checkCoverage(buildPart(part, SD1, OPTIONS).params.values(), weights, part);
    expect(weights.unusedBy(written.specs.values())).toEqual([]);
    expect(weights.report.unexpected).toEqual([]);
    expect(weights.report.mapped).toBe(written.specs.size);
    expect(Object.fromEntries(weights.report.ignored.map((g) => [g.reason, g.count]))).toEqual({
      'noise schedule buffers': 6,
      'training log-variance (logvar)': 1,
      'CLIP position_ids': 1,
    });
  });

  it('SD 1.x graphs written from the checkpoint compute exactly what graphs written from RandomWeights compute', async () => {
    const written = writeLdmCheckpoint(path.join(dir, 'sd1-f32.safetensors'), SD1, 'sd1');
    const weights = await expectAllParameters(written);
    for (const part of partsOf(SD1)) {
      const builder = buildPart(part, SD1, OPTIONS);
      writeGraph(path.join(dir, `sd1-ckpt-${part}.onnx`), part, builder, weights);
      writeGraph(path.join(dir, `sd1-random-${part}.onnx`), part, builder, new RandomWeights(builder.params.values(), SEED));
      const a = await outputOf(path.join(dir, `sd1-ckpt-${part}.onnx`), part, SD1);
      const b = await outputOf(path.join(dir, `sd1-random-${part}.onnx`), part, SD1);
      expect(a.every(Number.isFinite), part).toBe(true);
      expect(maxDiff(a, b), part).toBe(0);
    }
  });

  it('SD 2.x (OpenCLIP, linear projections, three levels): parameters, the penultimate layer, and the same outputs', async () => {
    const written = writeLdmCheckpoint(path.join(dir, 'sd2-mixed.safetensors'), SD2, 'sd2', { dtype: mixedDtype });
    const weights = await expectAllParameters(written);
    expect(weights.info).toMatchObject({ family: 'sd2', unsupported: null, parts: { unet: true, vae: true, textEncoder: 'open_clip' } });
    expect(weights.unusedBy(written.specs.values())).toEqual([]);
    expect(weights.report.unexpected).toEqual([]);
    const ignored = Object.fromEntries(weights.report.ignored.map((g) => [g.reason, g.count]));
    expect(ignored['OpenCLIP layers after the penultimate (SD 2.x conditions on the penultimate layer)']).toBe(12);
    expect(ignored['OpenCLIP text_projection / logit_scale (not part of CLIPTextModel)']).toBe(2);
    // q, k and v are the three row blocks of in_proj_weight.
    expect(weights.origin('text_model.encoder.layers.1.self_attn.k_proj.weight')).toEqual({
      key: 'cond_stage_model.model.transformer.resblocks.1.attn.in_proj_weight',
      offset: 48 * 48,
      count: 48 * 48,
    });

    // The architecture, inferred from the mapped names as from a diffusers folder.
    const shape = weights.shape.bind(weights);
    const unet = inferUnet(shape);
    expect([
      unet.block_out_channels,
      unet.down_block_types,
      unet.up_block_types,
      unet.layers_per_block,
      unet.cross_attention_dim,
      unet.use_linear_projection,
    ]).toEqual([SD2.unet.block_out_channels, SD2.unet.down_block_types, SD2.unet.up_block_types, 2, 48, true]);
    const vae = inferVae(shape);
    expect([vae.block_out_channels, vae.layers_per_block]).toEqual([SD2.vae.block_out_channels, 2]);
    const text = inferTextEncoder(shape);
    expect([text.hidden_size, text.num_hidden_layers, text.intermediate_size, text.vocab_size]).toEqual([48, 2, 192, 200]);

    for (const part of partsOf(SD2)) {
      const builder = buildPart(part, SD2, OPTIONS);
      writeGraph(path.join(dir, `sd2-ckpt-${part}.onnx`), part, builder, weights);
      writeGraph(path.join(dir, `sd2-random-${part}.onnx`), part, builder, written.stored);
      const a = await outputOf(path.join(dir, `sd2-ckpt-${part}.onnx`), part, SD2);
      const b = await outputOf(path.join(dir, `sd2-random-${part}.onnx`), part, SD2);
      expect(a.every(Number.isFinite), part).toBe(true);
      expect(maxDiff(a, b), part).toBe(0);
    }
  });

  it('reads lazily: one positioned read of only the bytes of a tensor (v_proj: the last third of in_proj_weight)', async () => {
    const written = writeLdmCheckpoint(path.join(dir, 'sd2-text.safetensors'), SD2, 'sd2', {
      parts: ['text_encoder', 'unet'],
      dtype: () => 'F16',
    });
    const weights = await expectAllParameters(written);
    const spy = vi.spyOn(fs, 'readSync');
    try {
      weights.read('text_model.encoder.layers.0.self_attn.v_proj.weight');
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy.mock.results[0]!.value).toBe(48 * 48 * 2);
    } finally {
      spy.mockRestore();
    }
  });

  it('SD 2.1 Turbo (SGM layout: conditioner.embedders.0.model.*) reads its OpenCLIP text encoder', async () => {
    const written = writeLdmCheckpoint(path.join(dir, 'sd2-turbo.safetensors'), SD2, 'sd2', {
      openClipPrefix: 'conditioner.embedders.0.model.',
    });
    const weights = await expectAllParameters(written);
    expect(weights.info).toMatchObject({ family: 'sd2', parts: { textEncoder: 'open_clip' } });
    expect(weights.report.unexpected).toEqual([]);
  });

  it('SD 1.x text encoders stored without text_model. (read as A1111 does)', async () => {
    const written = writeLdmCheckpoint(path.join(dir, 'sd1-flat-clip.safetensors'), SD1, 'sd1', {
      flatClip: true,
      parts: ['text_encoder', 'unet'],
    });
    const weights = await expectAllParameters(written);
    expect(written.keyOf.get('text_model.encoder.layers.1.mlp.fc2.weight')).toBe(
      'cond_stage_model.transformer.encoder.layers.1.mlp.fc2.weight',
    );
    expect(weights.info.parts).toEqual({ unet: true, vae: false, textEncoder: 'clip' });
    expect(weights.report.unexpected).toEqual([]);
  });

  it("EMA: diffusers' default reads the non-EMA UNet weights; extractEma the model_ema.* ones", async () => {
    const written = writeLdmCheckpoint(path.join(dir, 'sd1-full-ema.safetensors'), SD1, 'sd1', { ema: 0.5, parts: ['unet'] });
    const unetKeys = [...written.keyOf.values()].length;
    expect(unetKeys).toBeGreaterThan(100); // diffusers extracts EMA weights only from more than 100 model_ema.* keys
    const plain = await expectAllParameters(written);
    expect(plain.info.emaKeys).toBe(unetKeys + 2);
    expect(plain.origin('conv_in.weight')?.key).toBe('model.diffusion_model.input_blocks.0.0.weight');
    const ignored = Object.fromEntries(plain.report.ignored.map((g) => [g.reason, g.count]));
    expect(ignored["EMA UNet weights (diffusers' default reads the non-EMA ones)"]).toBe(unetKeys);
    expect(ignored['EMA bookkeeping']).toBe(2);

    const ema = await CheckpointWeights.open(written.file, { extractEma: true });
    expect(ema.origin('down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight')?.key).toBe(
      'model_ema.diffusion_modelinput_blocks11transformer_blocks0attn2to_kweight',
    );
    for (const spec of written.specs.values()) {
      const expected = randomTensor(spec.name, spec.torchDims, SEED).map((v) => v + 0.5);
      expect(maxDiff(ema.read(spec.name), expected), spec.name).toBe(0);
    }
    expect(ema.report.ignored.find((g) => g.reason.startsWith('non-EMA'))?.count).toBe(unetKeys);
    expect(ema.report.unexpected).toEqual([]);
  });

  it('reports unexpected keys with counts, and missing ones through checkCoverage', async () => {
    const missing = 'first_stage_model.decoder.up.0.block.1.conv2.weight';
    const extra = (shape: number[]): Tensors[string] => ({ dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const written = writeLdmCheckpoint(path.join(dir, 'sd1-odd.safetensors'), SD1, 'sd1', {
      omit: [missing],
      extra: {
        'first_stage_model.loss.discriminator.main.0.weight': extra([2, 2]),
        'first_stage_model.loss.discriminator.main.0.bias': extra([2]),
        'model.diffusion_model.input_blocks.1.2.weight': extra([2]),
        'cond_stage_model.model_extra': extra([1]),
      },
    });
    const weights = await CheckpointWeights.open(written.file);
    expect(weights.report.unexpectedCount).toBe(4);
    expect(weights.report.unexpected).toEqual([
      {
        group: 'first_stage_model.loss.discriminator.main.*',
        count: 2,
        examples: ['first_stage_model.loss.discriminator.main.0.weight', 'first_stage_model.loss.discriminator.main.0.bias'],
      },
      { group: 'cond_stage_model.*', count: 1, examples: ['cond_stage_model.model_extra'] },
      { group: 'model.diffusion_model.input_blocks.*', count: 1, examples: ['model.diffusion_model.input_blocks.1.2.weight'] },
    ]);
    // decoder.up.0 is the full-resolution level: diffusers' last up block.
    expect(() => checkCoverage(buildPart('vae_decoder', SD1, OPTIONS).params.values(), weights, 'vae_decoder')).toThrow(WeightMappingError);
    expect(() => checkCoverage(buildPart('vae_decoder', SD1, OPTIONS).params.values(), weights, 'vae_decoder')).toThrow(
      /decoder\.up_blocks\.1\.resnets\.1\.conv2\.weight/,
    );
    checkCoverage(buildPart('unet', SD1, OPTIONS).params.values(), weights, 'unet');
  });

  it('names SDXL, SD3 and Flux checkpoints by their characteristic keys, and refuses them', async () => {
    const t = (shape: number[] = [2]): Tensors[string] => ({
      dtype: 'F16',
      shape,
      data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
    });
    const cases: [string, Tensors, string, RegExp][] = [
      [
        'sdxl-refiner',
        {
          'model.diffusion_model.input_blocks.0.0.weight': t([4, 4, 1, 1]),
          'model.diffusion_model.label_emb.0.0.weight': t(),
          'conditioner.embedders.0.model.ln_final.weight': t(),
        },
        'sdxl',
        /an SDXL refiner checkpoint/,
      ],
      ['sdxl-text-only', { 'conditioner.embedders.1.model.positional_embedding': t() }, 'sdxl', /an SDXL file without its UNet/],
      [
        'sd3',
        {
          'model.diffusion_model.joint_blocks.0.context_block.adaLN_modulation.1.bias': t(),
          'first_stage_model.decoder.conv_in.weight': t(),
        },
        'sd3',
        /Stable Diffusion 3 checkpoint \(it has model\.diffusion_model\.joint_blocks\.0\.context_block/,
      ],
      [
        'flux',
        { 'double_blocks.0.img_attn.norm.key_norm.scale': t(), 'img_in.weight': t() },
        'flux',
        /a Flux checkpoint \(it has double_blocks\.0\.img_attn/,
      ],
      ['diffusers-unet', { 'down_blocks.0.resnets.0.conv1.weight': t() }, 'unknown', /diffusers names.*not a single-file checkpoint/],
    ];
    for (const [name, tensors, family, message] of cases) {
      const file = path.join(dir, `${name}.safetensors`);
      fs.writeFileSync(file, encodeSafetensors(tensors));
      const info = await detectCheckpoint(file);
      expect(info.family, name).toBe(family);
      expect(info.unsupported, name).toMatch(message);
      const error = await CheckpointWeights.open(file).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(CheckpointError);
      expect((error as CheckpointError).reason).toBe('family');
      expect((error as Error).message).toMatch(message);
    }
  });

  it('refuses pickle checkpoints (.ckpt) and says why and how to get a .safetensors', async () => {
    const zip = path.join(dir, 'model.ckpt');
    fs.writeFileSync(zip, Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(60)]));
    const raw = path.join(dir, 'renamed.safetensors');
    fs.writeFileSync(raw, Buffer.concat([Buffer.from([0x80, 0x02, 0x7d, 0x71]), Buffer.alloc(60)]));
    for (const file of [zip, raw]) {
      for (const attempt of [detectCheckpoint(file), CheckpointWeights.open(file)]) {
        const error = await attempt.catch((e: unknown) => e);
        expect(error).toBeInstanceOf(CheckpointError);
        expect((error as CheckpointError).reason).toBe('pickle');
        expect((error as Error).message).toMatch(
          /pickle checkpoint.*can execute any code.*does not open it.*\.safetensors version.*weights_only=True/,
        );
      }
    }
    // A real safetensors file named .ckpt is read (the content decides).
    const named = path.join(dir, 'actually-safetensors.ckpt');
    fs.copyFileSync(writeLdmCheckpoint(path.join(dir, 'small.safetensors'), SD1, 'sd1', { parts: ['vae_decoder'] }).file, named);
    expect((await detectCheckpoint(named)).parts.vae).toBe(true);
  });

  it('ViT-H text encoders keep resblocks 0-22 as diffusers does (also when a file has only 23)', () => {
    const shapes = (blocks: number): Map<string, { shape: number[] }> => {
      const map = new Map<string, { shape: number[] }>([['cond_stage_model.model.token_embedding.weight', { shape: [49408, 1024] }]]);
      for (let i = 0; i < blocks; i++)
        map.set(`cond_stage_model.model.transformer.resblocks.${i}.attn.in_proj_weight`, { shape: [3072, 1024] });
      map.set('cond_stage_model.model.text_projection', { shape: [1024, 1024] });
      return map;
    };
    for (const blocks of [24, 23]) {
      const plan = planCheckpoint(shapes(blocks));
      expect(plan.entries.has('text_model.encoder.layers.22.self_attn.v_proj.weight'), `${blocks}`).toBe(true);
      expect(plan.entries.has('text_model.encoder.layers.23.self_attn.q_proj.weight'), `${blocks}`).toBe(false);
      expect(plan.entries.get('text_model.encoder.layers.22.self_attn.v_proj.weight')).toMatchObject({
        shape: [1024, 1024],
        offset: 2 * 1024 * 1024,
        count: 1024 * 1024,
      });
    }
  });
});
