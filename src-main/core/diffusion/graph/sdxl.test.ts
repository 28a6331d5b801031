/**
 * SDXL in the builder and the single-file reader: the graphs' inputs and outputs (two text
 * encoders, penultimate states, the pooled projection, the "text_time" embedding), and an SGM
 * checkpoint read back value for value, by diffusers names, with the second encoder's in_proj
 * split and its text_projection transposed. Values against PyTorch: sdxl-reference.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxSession, type Feed } from '../backend.js';
import { sdxlSource, sdxlSpecs, tinySdxlConfig, writeSdxlCheckpointF32 } from '../testing/tiny-sdxl.js';
import { buildPart, partsOf } from './built-model.js';
import { CheckpointWeights } from './checkpoint-weights.js';
import { inferTextEncoder, inferUnet, settleConfig, SDXL } from './configs.js';
import type { SdPart } from './sd-graphs.js';
import { writeGraph } from './weights.js';

const config = tinySdxlConfig();
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-sdxl-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const OPTIONS = { precision: 'float32', attention: 'fused', loraBranches: false } as const;

async function session(part: SdPart): Promise<OnnxSession> {
  const file = path.join(dir, `${part}.onnx`);
  if (!fs.existsSync(file)) writeGraph(file, part, buildPart(part, config, OPTIONS), sdxlSource(config, part));
  return (await OnnxSession.load(file, ['cpu'])).session;
}

function seeded(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.8);
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('SDXL graphs', () => {
  it('has SDXL base 1.0 configs: 2.6 B UNet parameters, 2048-wide text, 2816-wide add_embedding', () => {
    const count = (part: SdPart): number =>
      [...buildPart(part, SDXL, OPTIONS).params.values()].reduce((n, p) => n + p.torchDims.reduce((a, b) => a * b, 1), 0);
    // diffusers' SDXL base UNet has 2,567,463,684 parameters; CLIP ViT-L 123,060,480 (11 of 12
    // layers used here); OpenCLIP bigG with projection 694,659,840.
    expect(count('unet')).toBe(2_567_463_684);
    expect(count('text_encoder_2')).toBe(694_659_840);
    expect(buildPart('unet', SDXL, OPTIONS).params.get('add_embedding.linear_1.weight')!.torchDims).toEqual([1280, 2816]);
  });

  it('text encoders give the penultimate states, and the second its pooled projection at the end-of-text token', async () => {
    const ids = [49406 % 200, 5, 17, 42, 199, 0, 0];
    const first = await session('text_encoder');
    const out1 = await first.run({ input_ids: { data: ids, dims: [1, 7] } });
    expect(Object.keys(out1)).toEqual(['hidden_states']);
    expect(out1.hidden_states!.dims).toEqual([1, 7, 32]);
    const second = await session('text_encoder_2');
    const out2 = await second.run({ input_ids: { data: [...ids, ...ids.map((v, i) => (i === 2 ? 199 : v))], dims: [2, 7] } });
    expect(Object.keys(out2).sort()).toEqual(['hidden_states', 'text_embeds']);
    expect(out2.hidden_states!.dims).toEqual([2, 7, 48]);
    expect(out2.text_embeds!.dims).toEqual([2, 32]);
    // Row 1's largest id (199) is earlier: its pooled state is another token's.
    const pooled = out2.text_embeds!.data;
    expect(maxDiff(pooled.subarray(0, 32), pooled.subarray(32))).toBeGreaterThan(1e-4);
    // Tokens after the end-of-text token do not change the pooled output (causal attention).
    const padded = await second.run({ input_ids: { data: [...ids.slice(0, 5), 199, 199], dims: [1, 7] } });
    expect(maxDiff(padded.text_embeds!.data, pooled.subarray(0, 32))).toBeLessThan(1e-6);
    await Promise.all([first.dispose(), second.dispose()]);
  });

  it('the UNet takes text_embeds and time_ids, and both change its output', async () => {
    const unet = await session('unet');
    expect(unet.inputs.map((i) => i.name)).toEqual(['sample', 'timestep', 'encoder_hidden_states', 'text_embeds', 'time_ids']);
    const feeds = (pooled: number, size: number): Record<string, Feed> => ({
      sample: { data: seeded(4 * 8 * 8, 1), dims: [1, 4, 8, 8] },
      timestep: { data: [500], dims: [1] },
      encoder_hidden_states: { data: seeded(7 * 80, 2), dims: [1, 7, 80] },
      text_embeds: { data: seeded(32, pooled), dims: [1, 32] },
      time_ids: { data: [size, size, 0, 0, size, size], dims: [1, 6] },
    });
    const base = (await unet.run(feeds(3, 1024))).out_sample!.data;
    expect(base.every(Number.isFinite)).toBe(true);
    expect(maxDiff((await unet.run(feeds(4, 1024))).out_sample!.data, base)).toBeGreaterThan(1e-5);
    expect(maxDiff((await unet.run(feeds(3, 768))).out_sample!.data, base)).toBeGreaterThan(1e-5);
    await unet.dispose();
  });

  it('infers SDXL from the weights alone and settles the conventions', () => {
    const unetSpecs = new Map(
      sdxlSpecs(config)
        .get('unet')!
        .map((s) => [s.name, s.torchDims]),
    );
    const unet = inferUnet((n) => unetSpecs.get(n));
    expect(unet.addition_embed_type).toBe('text_time');
    expect(unet.transformer_layers_per_block).toEqual([1, 2]);
    expect(unet.cross_attention_dim).toBe(80);
    const te2Specs = new Map(
      sdxlSpecs(config)
        .get('text_encoder_2')!
        .map((s) => [s.name, s.torchDims]),
    );
    const te2 = inferTextEncoder((n) => te2Specs.get(n));
    expect(te2.projection_dim).toBe(32);
    const inferred = { ...config, unet, textEncoder2: te2, vae: { ...config.vae, scaling_factor: 0.18215, force_upcast: false } };
    const settled = settleConfig(inferred, null);
    expect(settled.unet.addition_time_embed_dim).toBe(8);
    expect([settled.textEncoder.layer, settled.textEncoder2!.layer]).toEqual(['penultimate', 'penultimate']);
    // No VAE config: SDXL's scale and float32 decoding; a config without force_upcast: still float32
    // (diffusers' default); only an explicit false (the fp16-fix VAE) decodes in float16.
    expect([settled.vae.scaling_factor, settled.vae.force_upcast]).toEqual([0.13025, true]);
    expect(settleConfig(inferred, { scaling_factor: 0.13025 }).vae.force_upcast).toBe(true);
    expect(settleConfig(inferred, { scaling_factor: 0.13025, force_upcast: false }).vae.force_upcast).toBe(false);
    expect(settleConfig({ ...config, textEncoder2: te2 }, null).vae.scaling_factor).toBe(0.13025);
    expect(() => settleConfig({ unet: config.unet, vae: config.vae, textEncoder: config.textEncoder }, null)).toThrow(
      /second text encoder/,
    );
  });

  it('float16 builds keep an upcast VAE in float32', () => {
    const half = { precision: 'float16', attention: 'fused', loraBranches: false } as const;
    expect(buildPart('vae_decoder', config, half).floatType).toBe(1);
    expect(buildPart('unet', config, half).floatType).toBe(10);
    expect(buildPart('vae_decoder', { ...config, vae: { ...config.vae, force_upcast: false } }, half).floatType).toBe(10);
  });
});

describe('SDXL single-file checkpoints', () => {
  it('reads every parameter of every part back by diffusers names, value for value', async () => {
    const file = path.join(dir, 'tiny-sdxl.safetensors');
    writeSdxlCheckpointF32(file, config);
    const weights = await CheckpointWeights.open(file);
    expect(weights.info.family).toBe('sdxl');
    expect(weights.info.unsupported).toBeNull();
    expect(weights.info.parts.textEncoder).toBe('clip+open_clip');
    expect(weights.report.unexpectedCount).toBe(0);
    for (const part of partsOf(config)) {
      const source = part === 'text_encoder_2' ? weights.part('text_encoder_2') : weights;
      const expected = sdxlSource(config, part);
      for (const spec of buildPart(part, config, OPTIONS).params.values()) {
        expect(source.shape(spec.name), `${part} ${spec.name}`).toEqual(spec.torchDims);
        expect(maxDiff(source.read(spec.name), expected.read(spec.name)), `${part} ${spec.name}`).toBe(0);
      }
    }
    // The first encoder's last layer is carried (an import keeps the whole CLIP), though unused.
    expect(weights.names()).toContain('text_model.encoder.layers.2.mlp.fc2.weight');
    expect(weights.names()).toContain('text_encoder_2.text_projection.weight');
  });
});
