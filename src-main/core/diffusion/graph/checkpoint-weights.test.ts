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
import { toHalf, fromHalf } from '../float16.js';
import { encodeSafetensors } from '../safetensors.js';
import { tinyArchConfig } from '../testing/tiny-sd-arch.js';
import { buildPart, SD_PARTS } from './built-model.js';
import { CheckpointError, CheckpointWeights, detectCheckpoint, planCheckpoint } from './checkpoint-weights.js';
import { inferTextEncoder, inferUnet, inferVae, type SdConfig, type UnetConfig, type VaeConfig } from './configs.js';
import type { ParamSpec } from './graph-builder.js';
import type { SdPart } from './sd-graphs.js';
import { checkCoverage, randomTensor, RandomWeights, WeightMappingError, writeGraph, type WeightSource } from './weights.js';

const SEED = 7;
const OPTIONS = { precision: 'float32', attention: 'fused', loraBranches: false } as const;
const SD1 = tinyArchConfig();
/** SD 2.x-like: linear projections, a head count per block, GELU OpenCLIP, three levels with two layers each. */
const SD2: SdConfig = {
  unet: {
    ...SD1.unet,
    block_out_channels: [32, 64, 64],
    down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
    up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
    layers_per_block: 2,
    attention_head_dim: [2, 4, 4],
    cross_attention_dim: 48,
    use_linear_projection: true,
    upcast_attention: true,
  },
  vae: { ...SD1.vae, block_out_channels: [16, 32, 48], layers_per_block: 2, norm_num_groups: 8 },
  textEncoder: { ...SD1.textEncoder, hidden_size: 48, intermediate_size: 192, num_hidden_layers: 2, num_attention_heads: 3, hidden_act: 'gelu' },
};

type Dtype = 'F32' | 'F16' | 'BF16';
type Tensors = Record<string, { dtype: Dtype; shape: number[]; data: Float32Array }>;

// ---------------------------------------------------------------------------------------------
// LDM layouts, from the LDM modules' structure. Each pair: a diffusers module path, the LDM
// module path, and the kind of module (whose leaf names differ).

type Kind = 'same' | 'unetResnet' | 'vaeResnet' | 'vaeAttention';
type Pair = [diffusers: string, ldm: string, kind: Kind];

/** openaimodel.UNetModel: input_blocks (conv_in, per level L × [ResBlock, SpatialTransformer?] then Downsample), middle_block, output_blocks (deepest level first, L+1 × [ResBlock, SpatialTransformer?] then Upsample). */
function unetPairs(c: UnetConfig): Pair[] {
  const n = c.block_out_channels.length;
  const L = c.layers_per_block;
  const pairs: Pair[] = [
    ['time_embedding.linear_1', 'time_embed.0', 'same'],
    ['time_embedding.linear_2', 'time_embed.2', 'same'],
    ['conv_in', 'input_blocks.0.0', 'same'],
    ['conv_norm_out', 'out.0', 'same'],
    ['conv_out', 'out.2', 'same'],
  ];
  let input = 1;
  for (let level = 0; level < n; level++) {
    const attn = c.down_block_types[level]!.startsWith('CrossAttn');
    for (let j = 0; j < L; j++, input++) {
      pairs.push([`down_blocks.${level}.resnets.${j}`, `input_blocks.${input}.0`, 'unetResnet']);
      if (attn) pairs.push([`down_blocks.${level}.attentions.${j}`, `input_blocks.${input}.1`, 'same']);
    }
    if (level < n - 1) pairs.push([`down_blocks.${level}.downsamplers.0.conv`, `input_blocks.${input++}.0.op`, 'same']);
  }
  pairs.push(['mid_block.resnets.0', 'middle_block.0', 'unetResnet'], ['mid_block.attentions.0', 'middle_block.1', 'same'], ['mid_block.resnets.1', 'middle_block.2', 'unetResnet']);
  let output = 0;
  for (let level = n - 1; level >= 0; level--) {
    const up = n - 1 - level;
    const attn = c.up_block_types[up]!.startsWith('CrossAttn');
    for (let j = 0; j <= L; j++, output++) {
      pairs.push([`up_blocks.${up}.resnets.${j}`, `output_blocks.${output}.0`, 'unetResnet']);
      if (attn) pairs.push([`up_blocks.${up}.attentions.${j}`, `output_blocks.${output}.1`, 'same']);
      // The Upsample follows the block's last layer: index 1 without a transformer, 2 with one.
      if (level > 0 && j === L) pairs.push([`up_blocks.${up}.upsamplers.0.conv`, `output_blocks.${output}.${attn ? 2 : 1}.conv`, 'same']);
    }
  }
  return pairs.map(([d, l, k]) => [d, `model.diffusion_model.${l}`, k]);
}

/** ldm.modules.diffusionmodules.model Encoder / Decoder: `up[i_level]` is level i_level (0 = full resolution), built deepest first. */
function vaePairs(c: VaeConfig): Pair[] {
  const n = c.block_out_channels.length;
  const L = c.layers_per_block;
  const pairs: Pair[] = [
    ['quant_conv', 'quant_conv', 'same'],
    ['post_quant_conv', 'post_quant_conv', 'same'],
  ];
  for (const side of ['encoder', 'decoder']) {
    pairs.push(
      [`${side}.conv_in`, `${side}.conv_in`, 'same'],
      [`${side}.conv_out`, `${side}.conv_out`, 'same'],
      [`${side}.conv_norm_out`, `${side}.norm_out`, 'same'],
      [`${side}.mid_block.resnets.0`, `${side}.mid.block_1`, 'vaeResnet'],
      [`${side}.mid_block.resnets.1`, `${side}.mid.block_2`, 'vaeResnet'],
      [`${side}.mid_block.attentions.0`, `${side}.mid.attn_1`, 'vaeAttention'],
    );
  }
  for (let level = 0; level < n; level++) {
    for (let j = 0; j < L; j++) pairs.push([`encoder.down_blocks.${level}.resnets.${j}`, `encoder.down.${level}.block.${j}`, 'vaeResnet']);
    if (level < n - 1) pairs.push([`encoder.down_blocks.${level}.downsamplers.0.conv`, `encoder.down.${level}.downsample.conv`, 'same']);
    const up = n - 1 - level;
    for (let j = 0; j <= L; j++) pairs.push([`decoder.up_blocks.${up}.resnets.${j}`, `decoder.up.${level}.block.${j}`, 'vaeResnet']);
    if (level > 0) pairs.push([`decoder.up_blocks.${up}.upsamplers.0.conv`, `decoder.up.${level}.upsample.conv`, 'same']);
  }
  return pairs.map(([d, l, k]) => [d, `first_stage_model.${l}`, k]);
}

const LEAVES: Record<Exclude<Kind, 'same'>, Record<string, string>> = {
  // ResBlock: in_layers = [GroupNorm, SiLU, conv], emb_layers = [SiLU, Linear], out_layers = [GroupNorm, SiLU, Dropout, conv].
  unetResnet: { norm1: 'in_layers.0', conv1: 'in_layers.2', time_emb_proj: 'emb_layers.1', norm2: 'out_layers.0', conv2: 'out_layers.3', conv_shortcut: 'skip_connection' },
  vaeResnet: { norm1: 'norm1', conv1: 'conv1', norm2: 'norm2', conv2: 'conv2', conv_shortcut: 'nin_shortcut' },
  // AttnBlock: norm, q, k, v, proj_out (1×1 convolutions).
  vaeAttention: { group_norm: 'norm', to_q: 'q', to_k: 'k', to_v: 'v', 'to_out.0': 'proj_out' },
};

/** The LDM key of a diffusers UNet / VAE parameter, and whether its weight is a 1×1 convolution in LDM. */
function ldmKey(pairs: Pair[], name: string): { key: string; conv1x1: boolean } {
  const hits = pairs.filter(([d]) => name.startsWith(`${d}.`));
  expect(hits.length, name).toBe(1);
  const [d, l, kind] = hits[0]!;
  const rest = name.slice(d.length + 1);
  if (kind === 'same') return { key: `${l}.${rest}`, conv1x1: false };
  const leaf = rest.replace(/\.(weight|bias)$/, '');
  const ldmLeaf = LEAVES[kind][leaf];
  expect(ldmLeaf, name).toBeDefined();
  return { key: `${l}.${ldmLeaf}${rest.slice(leaf.length)}`, conv1x1: kind === 'vaeAttention' && leaf !== 'group_norm' && rest.endsWith('.weight') };
}

/** OpenCLIP's state dict names (open_clip.CLIP text tower) for transformers' CLIPTextModel names; q/k/v go into in_proj. */
const OPEN_CLIP_NAMES: [RegExp, string][] = [
  [/^text_model\.embeddings\.token_embedding\.weight$/, 'token_embedding.weight'],
  [/^text_model\.embeddings\.position_embedding\.weight$/, 'positional_embedding'],
  [/^text_model\.final_layer_norm\.(weight|bias)$/, 'ln_final.$1'],
  [/^text_model\.encoder\.layers\.(\d+)\.layer_norm1\.(weight|bias)$/, 'transformer.resblocks.$1.ln_1.$2'],
  [/^text_model\.encoder\.layers\.(\d+)\.layer_norm2\.(weight|bias)$/, 'transformer.resblocks.$1.ln_2.$2'],
  [/^text_model\.encoder\.layers\.(\d+)\.mlp\.fc1\.(weight|bias)$/, 'transformer.resblocks.$1.mlp.c_fc.$2'],
  [/^text_model\.encoder\.layers\.(\d+)\.mlp\.fc2\.(weight|bias)$/, 'transformer.resblocks.$1.mlp.c_proj.$2'],
  [/^text_model\.encoder\.layers\.(\d+)\.self_attn\.out_proj\.(weight|bias)$/, 'transformer.resblocks.$1.attn.out_proj.$2'],
  [/^text_model\.encoder\.layers\.(\d+)\.self_attn\.[qkv]_proj\.(weight|bias)$/, 'transformer.resblocks.$1.attn.in_proj_$2'],
];

function openClipKey(name: string, prefix: string): { key: string; slot: number } {
  const hit = OPEN_CLIP_NAMES.find(([pattern]) => pattern.test(name));
  expect(hit, name).toBeDefined();
  const slot = /self_attn\.([qkv])_proj/.exec(name)?.[1];
  return { key: prefix + name.replace(hit![0], hit![1]), slot: slot ? 'qkv'.indexOf(slot) : -1 };
}

// ---------------------------------------------------------------------------------------------
// Writing a checkpoint

function roundTo(values: Float32Array, dtype: Dtype): Float32Array {
  if (dtype === 'F16') return values.map((v) => fromHalf(toHalf(v)));
  // encodeSafetensors keeps a float32's top 16 bits.
  if (dtype === 'BF16') return new Float32Array(new Uint32Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)).map((w) => w & 0xffff0000).buffer);
  return values;
}

/** A third of the keys F16, a third BF16, by a hash of the name. */
function mixedDtype(key: string): Dtype {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return (['F32', 'F16', 'BF16'] as const)[h % 3]!;
}

interface Written {
  file: string;
  specs: Map<string, ParamSpec>;
  /** Where each diffusers parameter went. */
  keyOf: Map<string, string>;
  dtypeOf: (key: string) => Dtype;
  /** The parameters' values as stored (rounded to their key's dtype). */
  stored: WeightSource;
}

interface WriteOptions {
  dtype?: (key: string) => Dtype;
  /** SD 1.x text encoder keys without `text_model.` (as some checkpoints have them). */
  flatClip?: boolean;
  openClipPrefix?: string;
  omit?: string[];
  extra?: Tensors;
  ema?: number;
  parts?: readonly SdPart[];
}

function specsOf(config: SdConfig, parts: readonly SdPart[] = SD_PARTS): Map<string, ParamSpec> {
  const specs = new Map<string, ParamSpec>();
  for (const part of parts) for (const spec of buildPart(part, config, OPTIONS).params.values()) specs.set(spec.name, spec);
  return specs;
}

function writeLdmCheckpoint(file: string, config: SdConfig, family: 'sd1' | 'sd2', options: WriteOptions = {}): Written {
  const dtypeOf = options.dtype ?? ((): Dtype => 'F32');
  const specs = specsOf(config, options.parts);
  const unet = unetPairs(config.unet);
  const vae = vaePairs(config.vae);
  const openPrefix = options.openClipPrefix ?? 'cond_stage_model.model.';
  const tensors: Tensors = {};
  const keyOf = new Map<string, string>();
  const inProj = new Map<string, { shape: number[]; parts: Float32Array[] }>();
  for (const spec of specs.values()) {
    const values = randomTensor(spec.name, spec.torchDims, SEED);
    if (spec.name.startsWith('text_model.')) {
      if (family === 'sd1') {
        const key = `cond_stage_model.transformer.${options.flatClip ? spec.name.slice('text_model.'.length) : spec.name}`;
        tensors[key] = { dtype: dtypeOf(key), shape: spec.torchDims, data: values };
        keyOf.set(spec.name, key);
      } else {
        const { key, slot } = openClipKey(spec.name, openPrefix);
        keyOf.set(spec.name, key);
        if (slot < 0) tensors[key] = { dtype: dtypeOf(key), shape: spec.torchDims, data: values };
        else {
          const entry = inProj.get(key) ?? { shape: spec.torchDims, parts: [] };
          entry.parts[slot] = values;
          inProj.set(key, entry);
        }
      }
      continue;
    }
    const isVae = /^(encoder|decoder|quant_conv|post_quant_conv)/.test(spec.name);
    const { key, conv1x1 } = ldmKey(isVae ? vae : unet, spec.name);
    keyOf.set(spec.name, key);
    tensors[key] = { dtype: dtypeOf(key), shape: conv1x1 ? [...spec.torchDims, 1, 1] : spec.torchDims, data: values };
  }
  for (const [key, { shape, parts }] of inProj) {
    expect(parts.filter(Boolean)).toHaveLength(3);
    const data = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    parts.forEach((p, i) => data.set(p, i * p.length));
    tensors[key] = { dtype: dtypeOf(key), shape: [3 * shape[0]!, ...shape.slice(1)], data };
  }
  if (family === 'sd2') {
    // The last resblock (SD 2.x uses the penultimate layer), text_projection, logit_scale.
    const D = config.textEncoder.hidden_size;
    const last = `${openPrefix}transformer.resblocks.${config.textEncoder.num_hidden_layers}`;
    const shapes: Record<string, number[]> = {
      'ln_1.weight': [D], 'ln_1.bias': [D], 'attn.in_proj_weight': [3 * D, D], 'attn.in_proj_bias': [3 * D], 'attn.out_proj.weight': [D, D], 'attn.out_proj.bias': [D],
      'ln_2.weight': [D], 'ln_2.bias': [D], 'mlp.c_fc.weight': [4 * D, D], 'mlp.c_fc.bias': [4 * D], 'mlp.c_proj.weight': [D, 4 * D], 'mlp.c_proj.bias': [D],
    };
    for (const [leaf, shape] of Object.entries(shapes)) tensors[`${last}.${leaf}`] = { dtype: 'F32', shape, data: randomTensor(`${last}.${leaf}`, shape, SEED) };
    tensors[`${openPrefix}text_projection`] = { dtype: 'F32', shape: [D, D], data: randomTensor('text_projection', [D, D], SEED) };
    tensors[`${openPrefix}logit_scale`] = { dtype: 'F32', shape: [], data: Float32Array.of(4.6) };
  } else if (specs.has('text_model.embeddings.position_embedding.weight')) {
    const key = `cond_stage_model.transformer.${options.flatClip ? '' : 'text_model.'}embeddings.position_ids`;
    tensors[key] = { dtype: 'F32', shape: [1, 77], data: Float32Array.from({ length: 77 }, (_, i) => i) };
  }
  if (options.ema) {
    // A full training checkpoint: model_ema.<the UNet key without its first segment and dots>.
    for (const [key, t] of Object.entries(tensors)) {
      if (!key.startsWith('model.diffusion_model.')) continue;
      const flat = `model_ema.${key.split('.').slice(1).join('')}`;
      tensors[flat] = { ...t, data: t.data.map((v) => v + options.ema!) };
    }
    tensors['model_ema.decay'] = { dtype: 'F32', shape: [], data: Float32Array.of(0.9999) };
    tensors['model_ema.num_updates'] = { dtype: 'F32', shape: [], data: Float32Array.of(1000) };
  }
  for (const key of ['betas', 'alphas_cumprod', 'alphas_cumprod_prev', 'sqrt_alphas_cumprod', 'posterior_variance', 'posterior_mean_coef1', 'logvar']) {
    tensors[key] = { dtype: 'F32', shape: [1000], data: Float32Array.from({ length: 1000 }, (_, i) => i / 1000) };
  }
  for (const key of options.omit ?? []) delete tensors[key];
  Object.assign(tensors, options.extra ?? {});
  fs.writeFileSync(file, encodeSafetensors(tensors));
  const storedDtype = (name: string): Dtype => tensors[keyOf.get(name)!]!.dtype;
  const stored: WeightSource = {
    label: 'rounded random weights',
    shape: (name) => specs.get(name)?.torchDims,
    read: (name) => roundTo(randomTensor(name, specs.get(name)!.torchDims, SEED), storedDtype(name)),
  };
  return { file, specs, keyOf, dtypeOf: (key) => tensors[key]!.dtype, stored };
}

// ---------------------------------------------------------------------------------------------
// Running graphs

function seeded(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.8);
}

function feeds(part: SdPart, config: SdConfig): Record<string, Feed> {
  const scale = 2 ** (config.vae.block_out_channels.length - 1);
  switch (part) {
    case 'text_encoder':
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
    expect(weights.info).toMatchObject({ family: 'sd1', unsupported: null, parts: { unet: true, vae: true, textEncoder: 'clip' }, unetInChannels: 4, emaKeys: 0 });
    for (const part of SD_PARTS) checkCoverage(buildPart(part, SD1, OPTIONS).params.values(), weights, part);
    expect(weights.unusedBy(written.specs.values())).toEqual([]);
    expect(weights.report.unexpected).toEqual([]);
    expect(weights.report.mapped).toBe(written.specs.size);
    expect(Object.fromEntries(weights.report.ignored.map((g) => [g.reason, g.count]))).toEqual({ 'noise schedule buffers': 6, 'training log-variance (logvar)': 1, 'CLIP position_ids': 1 });
  });

  it('SD 1.x graphs written from the checkpoint compute exactly what graphs written from RandomWeights compute', async () => {
    const written = writeLdmCheckpoint(path.join(dir, 'sd1-f32.safetensors'), SD1, 'sd1');
    const weights = await expectAllParameters(written);
    for (const part of SD_PARTS) {
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
    expect(weights.origin('text_model.encoder.layers.1.self_attn.k_proj.weight')).toEqual({ key: 'cond_stage_model.model.transformer.resblocks.1.attn.in_proj_weight', offset: 48 * 48, count: 48 * 48 });

    // The architecture, inferred from the mapped names as from a diffusers folder.
    const shape = weights.shape.bind(weights);
    const unet = inferUnet(shape);
    expect([unet.block_out_channels, unet.down_block_types, unet.up_block_types, unet.layers_per_block, unet.cross_attention_dim, unet.use_linear_projection]).toEqual([
      SD2.unet.block_out_channels,
      SD2.unet.down_block_types,
      SD2.unet.up_block_types,
      2,
      48,
      true,
    ]);
    const vae = inferVae(shape);
    expect([vae.block_out_channels, vae.layers_per_block]).toEqual([SD2.vae.block_out_channels, 2]);
    const text = inferTextEncoder(shape);
    expect([text.hidden_size, text.num_hidden_layers, text.intermediate_size, text.vocab_size]).toEqual([48, 2, 192, 200]);

    for (const part of SD_PARTS) {
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
    const written = writeLdmCheckpoint(path.join(dir, 'sd2-text.safetensors'), SD2, 'sd2', { parts: ['text_encoder', 'unet'], dtype: () => 'F16' });
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
    const written = writeLdmCheckpoint(path.join(dir, 'sd2-turbo.safetensors'), SD2, 'sd2', { openClipPrefix: 'conditioner.embedders.0.model.' });
    const weights = await expectAllParameters(written);
    expect(weights.info).toMatchObject({ family: 'sd2', parts: { textEncoder: 'open_clip' } });
    expect(weights.report.unexpected).toEqual([]);
  });

  it('SD 1.x text encoders stored without text_model. (read as A1111 does)', async () => {
    const written = writeLdmCheckpoint(path.join(dir, 'sd1-flat-clip.safetensors'), SD1, 'sd1', { flatClip: true, parts: ['text_encoder', 'unet'] });
    const weights = await expectAllParameters(written);
    expect(written.keyOf.get('text_model.encoder.layers.1.mlp.fc2.weight')).toBe('cond_stage_model.transformer.encoder.layers.1.mlp.fc2.weight');
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
    expect(ema.origin('down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight')?.key).toBe('model_ema.diffusion_modelinput_blocks11transformer_blocks0attn2to_kweight');
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
      { group: 'first_stage_model.loss.discriminator.main.*', count: 2, examples: ['first_stage_model.loss.discriminator.main.0.weight', 'first_stage_model.loss.discriminator.main.0.bias'] },
      { group: 'cond_stage_model.*', count: 1, examples: ['cond_stage_model.model_extra'] },
      { group: 'model.diffusion_model.input_blocks.*', count: 1, examples: ['model.diffusion_model.input_blocks.1.2.weight'] },
    ]);
    // decoder.up.0 is the full-resolution level: diffusers' last up block.
    expect(() => checkCoverage(buildPart('vae_decoder', SD1, OPTIONS).params.values(), weights, 'vae_decoder')).toThrow(WeightMappingError);
    expect(() => checkCoverage(buildPart('vae_decoder', SD1, OPTIONS).params.values(), weights, 'vae_decoder')).toThrow(/decoder\.up_blocks\.1\.resnets\.1\.conv2\.weight/);
    checkCoverage(buildPart('unet', SD1, OPTIONS).params.values(), weights, 'unet');
  });

  it('names SDXL, SD3 and Flux checkpoints by their characteristic keys, and refuses them', async () => {
    const t = (shape: number[] = [2]): Tensors[string] => ({ dtype: 'F16', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const cases: [string, Tensors, string, RegExp][] = [
      ['sdxl', { 'model.diffusion_model.input_blocks.0.0.weight': t([4, 4, 1, 1]), 'model.diffusion_model.label_emb.0.0.weight': t(), 'conditioner.embedders.0.transformer.text_model.final_layer_norm.weight': t(), 'conditioner.embedders.1.model.positional_embedding': t() }, 'sdxl', /an SDXL checkpoint \(it has conditioner\.embedders\.1\.model\.positional_embedding\)/],
      ['sdxl-refiner', { 'model.diffusion_model.label_emb.0.0.weight': t(), 'conditioner.embedders.0.model.ln_final.weight': t() }, 'sdxl', /SDXL.*label_emb/],
      ['sd3', { 'model.diffusion_model.joint_blocks.0.context_block.adaLN_modulation.1.bias': t(), 'first_stage_model.decoder.conv_in.weight': t() }, 'sd3', /Stable Diffusion 3 checkpoint \(it has model\.diffusion_model\.joint_blocks\.0\.context_block/],
      ['flux', { 'double_blocks.0.img_attn.norm.key_norm.scale': t(), 'img_in.weight': t() }, 'flux', /a Flux checkpoint \(it has double_blocks\.0\.img_attn/],
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
        expect((error as Error).message).toMatch(/pickle checkpoint.*can execute any code.*does not open it.*\.safetensors version.*weights_only=True/);
      }
    }
    // A real safetensors file named .ckpt is read (the content decides).
    const named = path.join(dir, 'actually-safetensors.ckpt');
    fs.copyFileSync(writeLdmCheckpoint(path.join(dir, 'small.safetensors'), SD1, 'sd1', { parts: ['vae_decoder'] }).file, named);
    expect((await detectCheckpoint(named)).parts.vae).toBe(true);
  });

  it("ViT-H text encoders keep resblocks 0-22 as diffusers does (also when a file has only 23)", () => {
    const shapes = (blocks: number): Map<string, { shape: number[] }> => {
      const map = new Map<string, { shape: number[] }>([['cond_stage_model.model.token_embedding.weight', { shape: [49408, 1024] }]]);
      for (let i = 0; i < blocks; i++) map.set(`cond_stage_model.model.transformer.resblocks.${i}.attn.in_proj_weight`, { shape: [3072, 1024] });
      map.set('cond_stage_model.model.text_projection', { shape: [1024, 1024] });
      return map;
    };
    for (const blocks of [24, 23]) {
      const plan = planCheckpoint(shapes(blocks));
      expect(plan.entries.has('text_model.encoder.layers.22.self_attn.v_proj.weight'), `${blocks}`).toBe(true);
      expect(plan.entries.has('text_model.encoder.layers.23.self_attn.q_proj.weight'), `${blocks}`).toBe(false);
      expect(plan.entries.get('text_model.encoder.layers.22.self_attn.v_proj.weight')).toMatchObject({ shape: [1024, 1024], offset: 2 * 1024 * 1024, count: 1024 * 1024 });
    }
  });
});
