/**
 * Single-file checkpoints with the original LDM/CompVis key names, written from the graph
 * builder's parameters (seeded random values, `randomTensor(name, dims, SEED)`): the layouts come
 * from the LDM modules' structure (openaimodel.UNetModel, the autoencoder's Encoder/Decoder,
 * OpenAI CLIP / OpenCLIP text towers), independently of the mapping that reads them. Used by the
 * checkpoint tests, the import tests and the full-size import bench.
 */
import fs from 'node:fs';
import { float32ToFloat16, fromHalf, toHalf } from '../float16.js';
import { buildPart, partsOf } from '../graph/built-model.js';
import type { SdConfig, UnetConfig, VaeConfig } from '../graph/configs.js';
import type { ParamSpec } from '../graph/graph-builder.js';
import type { SdPart } from '../graph/sd-graphs.js';
import { randomTensor, type WeightSource } from '../graph/weights.js';
import { encodeSafetensors, writeSafetensorsFile } from '../safetensors.js';
import { tinyArchConfig } from './tiny-sd-arch.js';

export const SEED = 7;
export const OPTIONS = { precision: 'float32', attention: 'fused', loraBranches: false } as const;
export const SD1 = tinyArchConfig();
/** SD 2.x-like: linear projections, a head count per block, GELU OpenCLIP, three levels with two layers each. */
export const SD2: SdConfig = {
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
  textEncoder: {
    ...SD1.textEncoder,
    hidden_size: 48,
    intermediate_size: 192,
    num_hidden_layers: 2,
    num_attention_heads: 3,
    hidden_act: 'gelu',
  },
};

export type Dtype = 'F32' | 'F16' | 'BF16';
export type Tensors = Record<string, { dtype: Dtype; shape: number[]; data: Float32Array }>;

// ---------------------------------------------------------------------------------------------
// LDM layouts, from the LDM modules' structure. Each pair: a diffusers module path, the LDM
// module path, and the kind of module (whose leaf names differ).

type Kind = 'same' | 'unetResnet' | 'vaeResnet' | 'vaeAttention';
type Pair = [diffusers: string, ldm: string, kind: Kind];

/** openaimodel.UNetModel: input_blocks (conv_in, per level L × [ResBlock, SpatialTransformer?] then Downsample), middle_block, output_blocks (deepest level first, L+1 × [ResBlock, SpatialTransformer?] then Upsample). */
export function unetPairs(c: UnetConfig): Pair[] {
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
  pairs.push(
    ['mid_block.resnets.0', 'middle_block.0', 'unetResnet'],
    ['mid_block.attentions.0', 'middle_block.1', 'same'],
    ['mid_block.resnets.1', 'middle_block.2', 'unetResnet'],
  );
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
export function vaePairs(c: VaeConfig): Pair[] {
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
  unetResnet: {
    norm1: 'in_layers.0',
    conv1: 'in_layers.2',
    time_emb_proj: 'emb_layers.1',
    norm2: 'out_layers.0',
    conv2: 'out_layers.3',
    conv_shortcut: 'skip_connection',
  },
  vaeResnet: { norm1: 'norm1', conv1: 'conv1', norm2: 'norm2', conv2: 'conv2', conv_shortcut: 'nin_shortcut' },
  // AttnBlock: norm, q, k, v, proj_out (1×1 convolutions).
  vaeAttention: { group_norm: 'norm', to_q: 'q', to_k: 'k', to_v: 'v', 'to_out.0': 'proj_out' },
};

/** The LDM key of a diffusers UNet / VAE parameter, and whether its weight is a 1×1 convolution in LDM. */
export function ldmKey(pairs: Pair[], name: string): { key: string; conv1x1: boolean } {
  const hits = pairs.filter(([d]) => name.startsWith(`${d}.`));
  if (hits.length !== 1) throw new Error(`${name}: ${hits.length} LDM modules match`);
  const [d, l, kind] = hits[0]!;
  const rest = name.slice(d.length + 1);
  if (kind === 'same') return { key: `${l}.${rest}`, conv1x1: false };
  const leaf = rest.replace(/\.(weight|bias)$/, '');
  const ldmLeaf = LEAVES[kind][leaf];
  if (ldmLeaf === undefined) throw new Error(`${name}: no LDM leaf`);
  return {
    key: `${l}.${ldmLeaf}${rest.slice(leaf.length)}`,
    conv1x1: kind === 'vaeAttention' && leaf !== 'group_norm' && rest.endsWith('.weight'),
  };
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

export function openClipKey(name: string, prefix: string): { key: string; slot: number } {
  const hit = OPEN_CLIP_NAMES.find(([pattern]) => pattern.test(name));
  if (!hit) throw new Error(`${name}: no OpenCLIP name`);
  const slot = /self_attn\.([qkv])_proj/.exec(name)?.[1];
  return { key: prefix + name.replace(hit![0], hit![1]), slot: slot ? 'qkv'.indexOf(slot) : -1 };
}

// ---------------------------------------------------------------------------------------------
// Writing a checkpoint

export function roundTo(values: Float32Array, dtype: Dtype): Float32Array {
  if (dtype === 'F16') return values.map((v) => fromHalf(toHalf(v)));
  // encodeSafetensors keeps a float32's top 16 bits.
  if (dtype === 'BF16')
    return new Float32Array(
      new Uint32Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)).map((w) => w & 0xffff0000).buffer,
    );
  return values;
}

/** A third of the keys F16, a third BF16, by a hash of the name. */
export function mixedDtype(key: string): Dtype {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return (['F32', 'F16', 'BF16'] as const)[h % 3]!;
}

export interface Written {
  file: string;
  specs: Map<string, ParamSpec>;
  /** Where each diffusers parameter went. */
  keyOf: Map<string, string>;
  dtypeOf: (key: string) => Dtype;
  /** The parameters' values as stored (rounded to their key's dtype). */
  stored: WeightSource;
}

export interface WriteOptions {
  dtype?: (key: string) => Dtype;
  /** SD 1.x text encoder keys without `text_model.` (as some checkpoints have them). */
  flatClip?: boolean;
  openClipPrefix?: string;
  omit?: string[];
  extra?: Tensors;
  ema?: number;
  parts?: readonly SdPart[];
}

export function specsOf(config: SdConfig, parts: readonly SdPart[] = partsOf(config)): Map<string, ParamSpec> {
  const specs = new Map<string, ParamSpec>();
  for (const part of parts) for (const spec of buildPart(part, config, OPTIONS).params.values()) specs.set(spec.name, spec);
  return specs;
}

export function writeLdmCheckpoint(file: string, config: SdConfig, family: 'sd1' | 'sd2', options: WriteOptions = {}): Written {
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
    if (parts.filter(Boolean).length !== 3) throw new Error(`${key}: q, k and v are not all there`);
    const data = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    parts.forEach((p, i) => data.set(p, i * p.length));
    tensors[key] = { dtype: dtypeOf(key), shape: [3 * shape[0]!, ...shape.slice(1)], data };
  }
  if (family === 'sd2') {
    // The last resblock (SD 2.x uses the penultimate layer), text_projection, logit_scale.
    const D = config.textEncoder.hidden_size;
    const last = `${openPrefix}transformer.resblocks.${config.textEncoder.num_hidden_layers}`;
    const shapes: Record<string, number[]> = {
      'ln_1.weight': [D],
      'ln_1.bias': [D],
      'attn.in_proj_weight': [3 * D, D],
      'attn.in_proj_bias': [3 * D],
      'attn.out_proj.weight': [D, D],
      'attn.out_proj.bias': [D],
      'ln_2.weight': [D],
      'ln_2.bias': [D],
      'mlp.c_fc.weight': [4 * D, D],
      'mlp.c_fc.bias': [4 * D],
      'mlp.c_proj.weight': [D, 4 * D],
      'mlp.c_proj.bias': [D],
    };
    for (const [leaf, shape] of Object.entries(shapes))
      tensors[`${last}.${leaf}`] = { dtype: 'F32', shape, data: randomTensor(`${last}.${leaf}`, shape, SEED) };
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
  for (const key of [
    'betas',
    'alphas_cumprod',
    'alphas_cumprod_prev',
    'sqrt_alphas_cumprod',
    'posterior_variance',
    'posterior_mean_coef1',
    'logvar',
  ]) {
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

/**
 * An SD 1.x single-file checkpoint at any size, in float16, streamed tensor by tensor (for the
 * full-size import measurement: 1.07 B parameters, 2.1 GB, never held in memory whole). The same
 * keys and values (rounded to float16) as `writeLdmCheckpoint(file, config, 'sd1')`.
 */
export async function writeLdmCheckpointStreaming(
  file: string,
  config: SdConfig,
  seed = SEED,
): Promise<{ bytes: number; sha256: string; tensors: number }> {
  const specs = specsOf(config);
  const unet = unetPairs(config.unet);
  const vae = vaePairs(config.vae);
  const entries: { key: string; name: string; shape: number[] }[] = [];
  for (const spec of specs.values()) {
    if (spec.name.startsWith('text_model.')) {
      entries.push({ key: `cond_stage_model.transformer.${spec.name}`, name: spec.name, shape: spec.torchDims });
      continue;
    }
    const isVae = /^(encoder|decoder|quant_conv|post_quant_conv)/.test(spec.name);
    const { key, conv1x1 } = ldmKey(isVae ? vae : unet, spec.name);
    entries.push({ key, name: spec.name, shape: conv1x1 ? [...spec.torchDims, 1, 1] : spec.torchDims });
  }
  const byKey = new Map(entries.map((e) => [e.key, e]));
  const written = await writeSafetensorsFile(
    file,
    entries.map((e) => ({ name: e.key, dtype: 'F16' as const, shape: e.shape })),
    (key) => {
      const entry = byKey.get(key)!;
      const half = float32ToFloat16(randomTensor(entry.name, specs.get(entry.name)!.torchDims, seed));
      return new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
    },
    { format: 'pt' },
  );
  return { ...written, tensors: entries.length };
}
