/**
 * Single-file Stable Diffusion 1.x / 2.x checkpoints: a `.safetensors` with the original
 * LDM/CompVis key names (`model.diffusion_model.*`, `first_stage_model.*`, `cond_stage_model.*`,
 * as A1111, ComfyUI and most model sites distribute them) read as a `WeightSource` by diffusers /
 * transformers parameter names, mapped as diffusers' single-file loader maps them
 * (`src/diffusers/loaders/single_file_utils.py`, diffusers 0.40.0.dev0 at commit 58eb52c0:
 * `convert_ldm_unet_checkpoint`, `convert_ldm_vae_checkpoint`, `convert_ldm_clip_checkpoint`,
 * `convert_open_clip_checkpoint`):
 *
 * - UNet `model.diffusion_model.*`: `input_blocks.i` (i ≥ 1) is down block (i-1)/(L+1), layer
 *   (i-1)%(L+1), with `.0` a resnet (`in_layers.0/2` → `norm1/conv1`, `emb_layers.1` →
 *   `time_emb_proj`, `out_layers.0/3` → `norm2/conv2`, `skip_connection` → `conv_shortcut`) or the
 *   downsampler `.0.op`, and `.1` the transformer; `middle_block.0/1/2` → `mid_block.resnets.0`,
 *   `attentions.0`, `resnets.1`; `output_blocks.i` is up block i/(L+1), layer i%(L+1), its
 *   upsampler `.1.conv` or `.2.conv`; `time_embed.0/2` → `time_embedding.linear_1/2`,
 *   `input_blocks.0.0` → `conv_in`, `out.0/2` → `conv_norm_out/conv_out`. L (layers per block)
 *   comes from the first downsampler's index, where diffusers reads it from the YAML config.
 * - EMA: like diffusers (`extract_ema=False` by default), the UNet is read from
 *   `model.diffusion_model.*`, whatever `model_ema.*` keys there are. An "EMA-only" checkpoint
 *   already holds the EMA weights under those names; a full training checkpoint holds both, and
 *   its non-EMA weights are used unless `extractEma` asks for the EMA ones (used, as in diffusers,
 *   only when more than 100 `model_ema.*` keys exist; `model_ema.` + the key without its first
 *   segment and without dots).
 * - VAE `first_stage_model.*` (or `vae.*`): `encoder.down.i.block.j` → `down_blocks.i.resnets.j`,
 *   `downsample.conv` → `downsamplers.0.conv`; the decoder's blocks reversed: `decoder.up.(n-1-i)`
 *   → `decoder.up_blocks.i`, `upsample.conv` → `upsamplers.0.conv`; `mid.block_1/2` →
 *   `mid_block.resnets.0/1`; `mid.attn_1.{norm,q,k,v,proj_out}` → `group_norm, to_q, to_k, to_v,
 *   to_out.0`, their 1×1 convolution weights [C, C, 1, 1] read as linear [C, C]; `nin_shortcut` →
 *   `conv_shortcut`, `norm_out` → `conv_norm_out`; quant_conv / post_quant_conv as they are.
 * - SD 1.x text encoder `cond_stage_model.transformer.text_model.*` → `text_model.*`; files that
 *   lack the `text_model.` level (`cond_stage_model.transformer.embeddings.*`, `.encoder.*`,
 *   `.final_layer_norm.*`) are read as A1111 does (`checkpoint_dict_replacements_sd1`); diffusers
 *   does not recognise those.
 * - SD 2.x OpenCLIP `cond_stage_model.model.*` (or, for SD 2.1 Turbo's SGM layout,
 *   `conditioner.embedders.0.model.*`, as A1111 reads it): `token_embedding.weight`,
 *   `positional_embedding`, `ln_final` → `final_layer_norm`; `transformer.resblocks.N` →
 *   `text_model.encoder.layers.N` with `ln_1/ln_2` → `layer_norm1/2`, `mlp.c_fc/c_proj` →
 *   `mlp.fc1/fc2`, `attn.out_proj` → `self_attn.out_proj`, and `attn.in_proj_weight/bias` split
 *   in three rows (`q_proj`, `k_proj`, `v_proj`, each `text_projection.shape[0]` rows, as diffusers
 *   does). SD 2.x conditions on the penultimate layer: diffusers ignores resblock 23 (of ViT-H's 24)
 *   and `text_projection` (`SD_2_TEXT_ENCODER_KEYS_TO_IGNORE`) and configures 23 layers; so here
 *   1024-wide (ViT-H) text encoders keep resblocks 0–22 and any other width (test models) drops its
 *   last resblock.
 *
 * - SDXL (SGM layout): the UNet as above plus `label_emb.0.0/0.2` → `add_embedding.linear_1/2`;
 *   the first text encoder `conditioner.embedders.0.transformer.text_model.*` (transformers'
 *   names, CLIP ViT-L); the second `conditioner.embedders.1.model.*` (OpenCLIP ViT-bigG) mapped as
 *   SD 2.x's OpenCLIP but with every resblock kept (the pooled output needs the last) and
 *   `text_projection` read transposed into `text_projection.weight` (diffusers'
 *   `convert_open_clip_checkpoint`); its names carry the prefix `text_encoder_2.` in this source
 *   (`CheckpointWeights.part('text_encoder_2')` is the view without it).
 *
 * Tensors are read lazily, one at a time, with one positioned read of only their bytes (a third of
 * an `in_proj_weight` for `q_proj`), converted from F32 / F16 / BF16 (/ F64) to float32: a 2 GB
 * checkpoint is never held in memory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OnbrandError } from '../../api/index.js';
import { fromHalf } from '../float16.js';
import { SafetensorsFile, type SafetensorsDtype } from '../safetensors.js';
import type { ParamSpec } from './graph-builder.js';
import { WeightMappingError, type WeightSource } from './weights.js';

export type CheckpointFamily = 'sd1' | 'sd2' | 'sdxl' | 'sd3' | 'flux' | 'unknown';

/** What a single-file checkpoint holds, told from its key names and a few shapes. */
export interface CheckpointInfo {
  family: CheckpointFamily;
  /** What the family was told by (a characteristic key, or a shape). */
  evidence: string;
  /** Why Onbrand cannot import it; null for an SD 1.x / 2.x / SDXL checkpoint with a UNet. */
  unsupported: string | null;
  parts: { unet: boolean; vae: boolean; textEncoder: 'clip' | 'open_clip' | 'clip+open_clip' | null };
  /** The UNet's input channels: 4 text-to-image, 9 inpainting, 8 instruct-pix2pix; null without a UNet. */
  unetInChannels: number | null;
  /** How many `model_ema.*` keys there are (a training checkpoint with EMA and non-EMA UNet weights). */
  emaKeys: number;
  /** A `v_pred` key: the file says it predicts v (SDXL v-prediction fine-tunes mark it so; ComfyUI reads it). */
  vPrediction?: true;
}

/** A file that is not an importable single-file checkpoint; `reason` says which kind of problem. */
export class CheckpointError extends OnbrandError {
  constructor(
    readonly file: string,
    readonly reason: 'pickle' | 'family',
    message: string,
  ) {
    super('internal', message);
    this.name = 'CheckpointError';
  }
}

export interface CheckpointOptions {
  /** Read the UNet's EMA weights (`model_ema.*`) of a full training checkpoint; diffusers' default (false) reads the non-EMA ones. */
  extractEma?: boolean;
}

/** Keys of a checkpoint that the mapping did not use. */
export interface CheckpointReport {
  /** Checkpoint keys mapped onto diffusers names. */
  mapped: number;
  /** Keys known not to be graph weights, counted by reason. */
  ignored: { reason: string; count: number }[];
  /** Keys neither mapped nor known, grouped by their name up to the first index, with counts and a few examples. */
  unexpected: { group: string; count: number; examples: string[] }[];
  unexpectedCount: number;
}

type TensorShapes = ReadonlyMap<string, { shape: number[]; dtype?: SafetensorsDtype }>;

const UNET = 'model.diffusion_model.';
const CLIP = 'cond_stage_model.transformer.';
const OPEN_CLIP = 'cond_stage_model.model.';
const OPEN_CLIP_SGM = 'conditioner.embedders.0.model.';
const SDXL_CLIP = 'conditioner.embedders.0.transformer.';
const SDXL_OPEN_CLIP = 'conditioner.embedders.1.model.';
/** The second text encoder's names in a checkpoint source. */
export const SECOND_ENCODER = 'text_encoder_2.';

// ---------------------------------------------------------------------------------------------
// Pickle checkpoints

const PICKLE_EXTENSIONS = new Set(['.ckpt', '.pt', '.pth', '.bin', '.pkl', '.pickle']);

function pickleMessage(file: string): string {
  return (
    `${path.basename(file)} is a PyTorch pickle checkpoint, not a .safetensors file. Loading a pickle runs Python's unpickler, ` +
    'which can execute any code hidden in the file, so Onbrand does not open it. Download the .safetensors version of the model ' +
    "instead (most model pages offer one), or convert the file yourself in a Python environment you trust with torch's restricted loader: " +
    "python -c \"import torch; from safetensors.torch import save_file; sd = torch.load('model.ckpt', map_location='cpu', weights_only=True); " +
    "sd = sd.get('state_dict', sd); save_file({k: v.clone().contiguous() for k, v in sd.items() if isinstance(v, torch.Tensor)}, 'model.safetensors')\"" +
    ' (if weights_only refuses the file, it holds more than tensors: prefer a .safetensors download).'
  );
}

/** Throws a CheckpointError unless the file's first bytes are a safetensors header: a pickle (zip or raw), or a pickle's extension. */
function refusePickle(file: string): void {
  const head = Buffer.alloc(9);
  let read = 0;
  let size = 0;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      size = fs.fstatSync(fd).size;
      read = fs.readSync(fd, head, 0, 9, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return; // SafetensorsFile.open names the problem.
  }
  if (read === 9) {
    const headerLength = Number(head.readBigUInt64LE(0));
    // A safetensors file: a plausible u64 header length, then JSON.
    if (head[8] === 0x7b && headerLength > 1 && 8 + headerLength <= size) return;
  }
  const zip = read >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04; // torch.save since 1.6
  const rawPickle = read >= 2 && head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5; // pickle protocol 2–5
  if (zip || rawPickle || PICKLE_EXTENSIONS.has(path.extname(file).toLowerCase()))
    throw new CheckpointError(file, 'pickle', pickleMessage(file));
}

// ---------------------------------------------------------------------------------------------
// Families

/** The family of a checkpoint from its tensor names and shapes (no tensor data read). */
export function detectCheckpointKeys(tensors: TensorShapes): CheckpointInfo {
  const keys = [...tensors.keys()];
  const find = (pattern: RegExp): string | undefined => keys.find((k) => pattern.test(k));
  const count = (prefix: string): number => keys.reduce((n, k) => n + (k.startsWith(prefix) ? 1 : 0), 0);
  const unet = count(`${UNET}input_blocks.`) > 0;
  const vae = vaePrefix(keys) !== null;
  const emaKeys = count('model_ema.');
  const inChannels = tensors.get(`${UNET}input_blocks.0.0.weight`)?.shape[1] ?? null;
  const base = {
    parts: { unet, vae, textEncoder: null as CheckpointInfo['parts']['textEncoder'] },
    unetInChannels: unet ? inChannels : null,
    emaKeys,
  };
  const other = (family: CheckpointFamily, evidence: string, name: string): CheckpointInfo => ({
    ...base,
    family,
    evidence,
    unsupported: `${name} checkpoint (it has ${evidence}): Onbrand imports Stable Diffusion 1.x, 2.x and SDXL checkpoints only`,
  });

  // Families Onbrand does not import, by their characteristic keys (diffusers' CHECKPOINT_KEY_NAMES).
  const flux = find(/^(model\.diffusion_model\.)?double_blocks\./);
  if (flux) return other('flux', flux, 'a Flux');
  const sd3 = find(/^(model\.diffusion_model\.)?joint_blocks\./);
  if (sd3) return other('sd3', sd3, 'a Stable Diffusion 3');
  const second = find(/^conditioner\.embedders\.1\./);
  const labelEmb = find(/^model\.diffusion_model\.label_emb\.0\./);
  if (second || labelEmb) {
    const evidence = second ?? labelEmb!;
    const first = keys.some((k) => k.startsWith(SDXL_CLIP));
    const secondOpen = keys.some((k) => k.startsWith(SDXL_OPEN_CLIP));
    const sdxl = {
      ...base,
      parts: { ...base.parts, textEncoder: first && secondOpen ? ('clip+open_clip' as const) : null },
      family: 'sdxl' as const,
      evidence,
    };
    if (!secondOpen && keys.some((k) => k.startsWith('conditioner.embedders.0.model.')))
      return {
        ...sdxl,
        unsupported:
          'an SDXL refiner checkpoint (one OpenCLIP text encoder, conditioner.embedders.0.model.*): Onbrand imports SDXL base models and their fine-tunes',
      };
    if (!unet) return { ...sdxl, unsupported: 'an SDXL file without its UNet (model.diffusion_model.*)' };
    return { ...sdxl, unsupported: null, ...(tensors.has('v_pred') ? { vPrediction: true as const } : {}) };
  }
  if (find(/^control_model\./)) return other('unknown', 'control_model.*', 'a ControlNet');
  if (tensors.has(`${UNET}label_emb.weight`)) return other('unknown', `${UNET}label_emb.weight`, 'a Stable Diffusion x4 upscaler');

  const textEncoder: CheckpointInfo['parts']['textEncoder'] = openClipPrefix(keys)
    ? 'open_clip'
    : keys.some((k) => k.startsWith(CLIP))
      ? 'clip'
      : null;
  const info = { ...base, parts: { ...base.parts, textEncoder } };
  // diffusers tells SD 2.x by the cross-attention width of input_blocks.2.1 (1024); Onbrand also by the OpenCLIP text encoder.
  const crossKey = `${UNET}input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight`;
  const cross = tensors.get(crossKey)?.shape;
  let family: CheckpointFamily;
  let evidence: string;
  if (textEncoder === 'open_clip') [family, evidence] = ['sd2', `${openClipPrefix(keys)}* (an OpenCLIP text encoder)`];
  else if (cross && cross[cross.length - 1] === 1024) [family, evidence] = ['sd2', `${crossKey} [${cross.join(', ')}] (1024-wide text)`];
  else if (textEncoder === 'clip') [family, evidence] = ['sd1', `${CLIP}* (a CLIP ViT-L text encoder)`];
  else if (unet) [family, evidence] = ['sd1', `${UNET}input_blocks.* (an LDM UNet without a text encoder)`];
  else {
    const diffusersNames = find(/^(down_blocks|mid_block|up_blocks|text_model|encoder\.down_blocks|decoder\.up_blocks)\./);
    const hint = diffusersNames
      ? ` (it has diffusers names such as ${diffusersNames}: one part of a diffusers model, not a single-file checkpoint)`
      : '';
    return {
      ...info,
      family: 'unknown',
      evidence: keys.length > 0 ? keyGroup(keys[0]!) : 'no tensors',
      unsupported: `no Stable Diffusion UNet (${UNET}input_blocks.*)${hint}`,
    };
  }
  const unsupported = unet ? null : `an SD ${family === 'sd1' ? '1.x' : '2.x'} file without its UNet (${UNET}*)`;
  return { ...info, family, evidence, unsupported };
}

/** The family of a single-file checkpoint; throws a CheckpointError for a pickle (.ckpt) file. */
export async function detectCheckpoint(file: string): Promise<CheckpointInfo> {
  refusePickle(file);
  return detectCheckpointKeys((await SafetensorsFile.open(file)).tensors);
}

/** `prefix.name` up to its first numeric segment, with `.*`: names a group of keys. */
function keyGroup(key: string): string {
  const segments = key.split('.');
  const stop = segments.findIndex((s) => /^\d+$/.test(s));
  const kept = segments.slice(0, stop < 0 ? Math.max(1, segments.length - 1) : stop);
  return `${kept.join('.')}.*`;
}

/** diffusers' LDM_VAE_KEYS: the last of `first_stage_model.` and `vae.` that any key starts with. */
function vaePrefix(keys: readonly string[]): string | null {
  let prefix: string | null = null;
  for (const candidate of ['first_stage_model.', 'vae.']) if (keys.some((k) => k.startsWith(candidate))) prefix = candidate;
  return prefix;
}

/** `cond_stage_model.model.`, or SD 2.1 Turbo's `conditioner.embedders.0.model.` (when no SDXL keys are there). */
function openClipPrefix(keys: readonly string[]): string | null {
  if (keys.some((k) => k.startsWith(OPEN_CLIP))) return OPEN_CLIP;
  if (
    keys.some((k) => k.startsWith(OPEN_CLIP_SGM)) &&
    !keys.some((k) => k.startsWith('conditioner.embedders.1.') || k.startsWith(`${UNET}label_emb.`))
  )
    return OPEN_CLIP_SGM;
  return null;
}

// ---------------------------------------------------------------------------------------------
// The mapping

/** One diffusers parameter: a checkpoint tensor, or a contiguous slice of one (rows of in_proj). */
interface Entry {
  key: string;
  shape: number[];
  /** First element and element count within the tensor. */
  offset: number;
  count: number;
  /** A 2-D tensor stored transposed (OpenCLIP's text_projection, applied as x @ P). */
  transpose?: boolean;
}

export interface CheckpointPlan {
  entries: Map<string, Entry>;
  /** Checkpoint key → 'mapped' or the reason it is ignored; keys absent here are unexpected. */
  status: Map<string, string>;
  /** The UNet's layers per block, from its first downsampler's index (null without a UNet). */
  layersPerBlock: number | null;
}

const RESNET_RENAMES: [string, string][] = [
  ['in_layers.0', 'norm1'],
  ['in_layers.2', 'conv1'],
  ['out_layers.0', 'norm2'],
  ['out_layers.3', 'conv2'],
  ['emb_layers.1', 'time_emb_proj'],
  ['skip_connection', 'conv_shortcut'],
];
const unetResnet = (rest: string): string => RESNET_RENAMES.reduce((s, [from, to]) => s.replace(from, to), rest);

/** DIFFUSERS_TO_LDM_MAPPING["unet"]["layers"], LDM → diffusers. */
const UNET_LAYERS: Record<string, string> = {
  'time_embed.0.weight': 'time_embedding.linear_1.weight',
  'time_embed.0.bias': 'time_embedding.linear_1.bias',
  'time_embed.2.weight': 'time_embedding.linear_2.weight',
  'time_embed.2.bias': 'time_embedding.linear_2.bias',
  'input_blocks.0.0.weight': 'conv_in.weight',
  'input_blocks.0.0.bias': 'conv_in.bias',
  'out.0.weight': 'conv_norm_out.weight',
  'out.0.bias': 'conv_norm_out.bias',
  'out.2.weight': 'conv_out.weight',
  'out.2.bias': 'conv_out.bias',
};

/** A UNet key (without `model.diffusion_model.`) → its diffusers name, or null (convert_ldm_unet_checkpoint). */
export function unetName(local: string, layersPerBlock: number): string | null {
  if (local in UNET_LAYERS) return UNET_LAYERS[local]!;
  const per = layersPerBlock + 1;
  let m = /^input_blocks\.(\d+)\.(\d+)\.(.+)$/.exec(local);
  if (m) {
    const i = Number(m[1]);
    if (i === 0) return null;
    const [block, layer, sub, rest] = [Math.floor((i - 1) / per), (i - 1) % per, m[2], m[3]!];
    if (sub === '0') {
      if (rest.startsWith('op.'))
        return rest === 'op.weight' || rest === 'op.bias' ? `down_blocks.${block}.downsamplers.0.conv.${rest.slice(3)}` : null;
      return `down_blocks.${block}.resnets.${layer}.${unetResnet(rest)}`;
    }
    if (sub === '1') return `down_blocks.${block}.attentions.${layer}.${rest}`;
    return null;
  }
  m = /^middle_block\.(\d+)\.(.+)$/.exec(local);
  if (m) {
    const k = Number(m[1]);
    const index = Math.max(k - 1, 0);
    return k % 2 === 0 ? `mid_block.resnets.${index}.${unetResnet(m[2]!)}` : `mid_block.attentions.${index}.${m[2]}`;
  }
  m = /^output_blocks\.(\d+)\.(\d+)\.(.+)$/.exec(local);
  if (m) {
    const i = Number(m[1]);
    const [block, layer, sub, rest] = [Math.floor(i / per), i % per, m[2], m[3]!];
    const upsampler = rest === 'conv.weight' || rest === 'conv.bias' ? `up_blocks.${block}.upsamplers.0.conv.${rest.slice(5)}` : null;
    if (sub === '0') return rest.startsWith('op.') ? null : `up_blocks.${block}.resnets.${layer}.${unetResnet(rest)}`;
    if (sub === '1') return rest.startsWith('conv.') ? upsampler : `up_blocks.${block}.attentions.${layer}.${rest}`;
    if (sub === '2') return upsampler;
  }
  return null;
}

/** DIFFUSERS_TO_LDM_MAPPING["vae"], LDM → diffusers. */
const VAE_LAYERS: Record<string, string> = {
  'encoder.conv_in.weight': 'encoder.conv_in.weight',
  'encoder.conv_in.bias': 'encoder.conv_in.bias',
  'encoder.conv_out.weight': 'encoder.conv_out.weight',
  'encoder.conv_out.bias': 'encoder.conv_out.bias',
  'encoder.norm_out.weight': 'encoder.conv_norm_out.weight',
  'encoder.norm_out.bias': 'encoder.conv_norm_out.bias',
  'decoder.conv_in.weight': 'decoder.conv_in.weight',
  'decoder.conv_in.bias': 'decoder.conv_in.bias',
  'decoder.conv_out.weight': 'decoder.conv_out.weight',
  'decoder.conv_out.bias': 'decoder.conv_out.bias',
  'decoder.norm_out.weight': 'decoder.conv_norm_out.weight',
  'decoder.norm_out.bias': 'decoder.conv_norm_out.bias',
  'quant_conv.weight': 'quant_conv.weight',
  'quant_conv.bias': 'quant_conv.bias',
  'post_quant_conv.weight': 'post_quant_conv.weight',
  'post_quant_conv.bias': 'post_quant_conv.bias',
};
const VAE_ATTENTION: Record<string, string> = { norm: 'group_norm', q: 'to_q', k: 'to_k', v: 'to_v', proj_out: 'to_out.0' };
const vaeResnet = (rest: string): string => rest.replace('nin_shortcut', 'conv_shortcut');

/** A VAE key (without its prefix) → its diffusers name and whether a conv weight is read as linear (convert_ldm_vae_checkpoint). */
function vaeName(local: string, upBlocks: number): { name: string; linear: boolean } | null {
  if (local in VAE_LAYERS) return { name: VAE_LAYERS[local]!, linear: false };
  let m = /^encoder\.down\.(\d+)\.block\.(\d+)\.(.+)$/.exec(local);
  if (m) return { name: `encoder.down_blocks.${m[1]}.resnets.${m[2]}.${vaeResnet(m[3]!)}`, linear: false };
  m = /^encoder\.down\.(\d+)\.downsample\.conv\.(weight|bias)$/.exec(local);
  if (m) return { name: `encoder.down_blocks.${m[1]}.downsamplers.0.conv.${m[2]}`, linear: false };
  m = /^decoder\.up\.(\d+)\.block\.(\d+)\.(.+)$/.exec(local);
  if (m && Number(m[1]) < upBlocks)
    return { name: `decoder.up_blocks.${upBlocks - 1 - Number(m[1])}.resnets.${m[2]}.${vaeResnet(m[3]!)}`, linear: false };
  m = /^decoder\.up\.(\d+)\.upsample\.conv\.(weight|bias)$/.exec(local);
  if (m && Number(m[1]) < upBlocks)
    return { name: `decoder.up_blocks.${upBlocks - 1 - Number(m[1])}.upsamplers.0.conv.${m[2]}`, linear: false };
  m = /^(encoder|decoder)\.mid\.block_([12])\.(.+)$/.exec(local);
  if (m) return { name: `${m[1]}.mid_block.resnets.${Number(m[2]) - 1}.${vaeResnet(m[3]!)}`, linear: false };
  m = /^(encoder|decoder)\.mid\.attn_1\.(norm|q|k|v|proj_out)\.(weight|bias)$/.exec(local);
  if (m) return { name: `${m[1]}.mid_block.attentions.0.${VAE_ATTENTION[m[2]!]}.${m[3]}`, linear: m[2] !== 'norm' && m[3] === 'weight' };
  return null;
}

/** DIFFUSERS_TO_LDM_MAPPING["openclip"]["transformer"] (diffusers → LDM), applied in order as diffusers does. */
const OPEN_CLIP_TRANSFORMER: [string, string][] = [
  ['text_model.encoder.layers.', 'resblocks.'],
  ['layer_norm1', 'ln_1'],
  ['layer_norm2', 'ln_2'],
  ['.fc1.', '.c_fc.'],
  ['.fc2.', '.c_proj.'],
  ['.self_attn', '.attn'],
  ['transformer.text_model.final_layer_norm.', 'ln_final.'],
  ['transformer.text_model.embeddings.token_embedding.weight', 'token_embedding.weight'],
  ['transformer.text_model.embeddings.position_embedding.weight', 'positional_embedding'],
];
/** DIFFUSERS_TO_LDM_MAPPING["openclip"]["layers"], LDM → diffusers (text_projection is ignored for SD 2.x). */
const OPEN_CLIP_LAYERS: Record<string, string> = {
  positional_embedding: 'text_model.embeddings.position_embedding.weight',
  'token_embedding.weight': 'text_model.embeddings.token_embedding.weight',
  'ln_final.weight': 'text_model.final_layer_norm.weight',
  'ln_final.bias': 'text_model.final_layer_norm.bias',
};

/** A `transformer.*` key of OpenCLIP (without the prefix and `transformer.`) → diffusers, in convert_open_clip_checkpoint's string steps. */
function openClipTransformerName(rest: string): string {
  let name = rest;
  for (const [to, from] of OPEN_CLIP_TRANSFORMER) name = name.replace(from, to).replace('.in_proj_weight', '').replace('.in_proj_bias', '');
  return name;
}

/** Known keys that are not weights of the graphs. */
const IGNORED: [RegExp, string][] = [
  [
    /^(betas|alphas_cumprod|alphas_cumprod_prev|sqrt_alphas_cumprod|sqrt_one_minus_alphas_cumprod|log_one_minus_alphas_cumprod|sqrt_recip_alphas_cumprod|sqrt_recipm1_alphas_cumprod|posterior_variance|posterior_log_variance_clipped|posterior_mean_coef1|posterior_mean_coef2|lvlb_weights)$/,
    'noise schedule buffers',
  ],
  [/^logvar$/, 'training log-variance (logvar)'],
  [/^(v_pred|ztsnr)$/, 'v-prediction / zero-terminal-SNR markers'],
  [/^model_ema\.(decay|num_updates)$/, 'EMA bookkeeping'],
  [/position_ids$/, 'CLIP position_ids'],
  [
    /^(cond_stage_model\.model|conditioner\.embedders\.[01]\.model)\.(text_projection|logit_scale|attn_mask)$/,
    'OpenCLIP text_projection / logit_scale (not part of CLIPTextModel)',
  ],
];

/** The mapping of a checkpoint's keys onto diffusers names (names and shapes only; nothing read). */
export function planCheckpoint(tensors: TensorShapes, options: CheckpointOptions = {}): CheckpointPlan {
  const keys = [...tensors.keys()];
  const entries = new Map<string, Entry>();
  const status = new Map<string, string>();
  const numel = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
  const add = (name: string, key: string, shape: number[], offset = 0, count = numel(shape), transpose = false): void => {
    if (!entries.has(name)) entries.set(name, { key, shape, offset, count, ...(transpose ? { transpose } : {}) });
    status.set(key, 'mapped');
  };
  const shapeOf = (key: string): number[] => tensors.get(key)!.shape;

  // UNet.
  const unetKeys = keys.filter((k) => k.startsWith(UNET));
  const firstDown = unetKeys
    .map((k) => /^model\.diffusion_model\.input_blocks\.(\d+)\.0\.op\.weight$/.exec(k))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]));
  const inputIndices = new Set(
    unetKeys.map((k) => /^model\.diffusion_model\.input_blocks\.(\d+)\./.exec(k)?.[1]).filter((s) => s !== undefined),
  );
  const layersPerBlock = firstDown.length > 0 ? Math.min(...firstDown) - 1 : inputIndices.size > 0 ? inputIndices.size - 1 : null;
  const emaKeys = keys.filter((k) => k.startsWith('model_ema.')).length;
  const useEma = options.extractEma === true && emaKeys > 100;
  for (const key of unetKeys) {
    const local = key.slice(UNET.length);
    const label = /^label_emb\.0\.([02])\.(weight|bias)$/.exec(local);
    if (label) {
      add(`add_embedding.linear_${label[1] === '0' ? 1 : 2}.${label[2]}`, key, shapeOf(key));
      continue;
    }
    if (local.startsWith('label_emb.')) {
      status.set(key, 'class embedding label_emb (upscaler only)');
      continue;
    }
    const name = layersPerBlock === null ? null : unetName(local, layersPerBlock);
    if (name === null) continue;
    if (useEma) {
      const flat = `model_ema.${key.split('.').slice(1).join('')}`;
      status.set(key, 'non-EMA UNet weights (the EMA weights are read)');
      if (tensors.has(flat)) add(name, flat, shapeOf(flat));
    } else add(name, key, shapeOf(key));
  }
  for (const key of keys)
    if (key.startsWith('model_ema.') && !status.has(key) && !/^model_ema\.(decay|num_updates)$/.test(key))
      status.set(key, useEma ? 'EMA weights of no mapped UNet key' : "EMA UNet weights (diffusers' default reads the non-EMA ones)");

  // VAE.
  const vae = vaePrefix(keys);
  if (vae !== null) {
    const vaeKeys = keys.filter((k) => k.startsWith(vae));
    const upIndices = vaeKeys
      .map((k) => /\.decoder\.up\.(\d+)\./.exec(`.${k.slice(vae.length)}`)?.[1])
      .filter((s) => s !== undefined)
      .map(Number);
    const upBlocks = upIndices.length > 0 ? Math.max(...upIndices) + 1 : 0;
    for (const key of vaeKeys) {
      const hit = vaeName(key.slice(vae.length), upBlocks);
      if (!hit) continue;
      const shape = shapeOf(key);
      // conv_attn_to_linear: [C, C, 1, 1] (or [C, C, 1]) → [C, C].
      add(hit.name, key, hit.linear && shape.length > 2 ? shape.slice(0, 2) : shape);
    }
  }

  // SD 1.x text encoder (and SDXL's first, under conditioner.embedders.0.transformer.).
  for (const key of keys) {
    const prefix = key.startsWith(CLIP) ? CLIP : key.startsWith(SDXL_CLIP) ? SDXL_CLIP : null;
    if (prefix === null || status.has(key)) continue;
    const rest = key.slice(prefix.length);
    if (/position_ids$/.test(rest)) continue;
    if (rest.startsWith('text_model.')) add(rest, key, shapeOf(key));
    else if (/^(embeddings|encoder|final_layer_norm)\./.test(rest)) add(`text_model.${rest}`, key, shapeOf(key));
  }

  // SD 2.x OpenCLIP text encoder, or SDXL's second (every layer kept, under text_encoder_2.).
  const open = openClipPrefix(keys);
  const sdxlOpen = keys.some((k) => k.startsWith(SDXL_OPEN_CLIP));
  for (const [prefixOf, namePrefix] of [
    [open, ''],
    [sdxlOpen ? SDXL_OPEN_CLIP : null, SECOND_ENCODER],
  ] as const) {
    if (prefixOf === null) continue;
    const open = prefixOf;
    const keepAll = namePrefix === SECOND_ENCODER;
    const blocks = new Set(
      keys
        .map((k) =>
          k.startsWith(`${open}transformer.resblocks.`) ? /^(\d+)\./.exec(k.slice(`${open}transformer.resblocks.`.length))?.[1] : undefined,
        )
        .filter((s) => s !== undefined),
    );
    const width = tensors.get(`${open}token_embedding.weight`)?.shape[1];
    const kept = keepAll ? blocks.size : width === 1024 ? Math.min(blocks.size, 23) : blocks.size - 1;
    const projection = tensors.get(`${open}text_projection`)?.shape;
    const splitRows = projection ? projection[0]! : width;
    for (const key of keys) {
      if (!key.startsWith(open)) continue;
      const rest = key.slice(open.length);
      if (rest in OPEN_CLIP_LAYERS) {
        add(namePrefix + OPEN_CLIP_LAYERS[rest]!, key, shapeOf(key));
        continue;
      }
      if (keepAll && rest === 'text_projection') {
        const [rows, cols] = shapeOf(key);
        add(`${namePrefix}text_projection.weight`, key, [cols!, rows!], 0, rows! * cols!, true);
        continue;
      }
      if (!rest.startsWith('transformer.')) continue;
      const block = /^transformer\.resblocks\.(\d+)\./.exec(rest);
      if (block && Number(block[1]) >= kept) {
        status.set(key, 'OpenCLIP layers after the penultimate (SD 2.x conditions on the penultimate layer)');
        continue;
      }
      const name = openClipTransformerName(rest.slice('transformer.'.length));
      const shape = shapeOf(key);
      if (rest.endsWith('.in_proj_weight') || rest.endsWith('.in_proj_bias')) {
        const rows = splitRows ?? shape[0]! / 3;
        if (shape[0] !== 3 * rows)
          throw new WeightMappingError(`${key} is [${shape.join(', ')}]: not three blocks of ${rows} rows (q, k, v)`);
        const leaf = rest.endsWith('.in_proj_weight') ? 'weight' : 'bias';
        const rowSize = numel(shape.slice(1));
        ['q_proj', 'k_proj', 'v_proj'].forEach((proj, i) =>
          add(`${namePrefix}${name}.${proj}.${leaf}`, key, [rows, ...shape.slice(1)], i * rows * rowSize, rows * rowSize),
        );
      } else add(namePrefix + name, key, shape);
    }
  }

  for (const key of keys) {
    if (status.has(key)) continue;
    const known = IGNORED.find(([pattern]) => pattern.test(key));
    if (known) status.set(key, known[1]);
  }
  return { entries, status, layersPerBlock };
}

/** The keys a plan left unused: ignored ones by reason, unexpected ones by group. */
export function checkpointReport(keys: Iterable<string>, plan: CheckpointPlan): CheckpointReport {
  let mapped = 0;
  const ignored = new Map<string, number>();
  const unexpected = new Map<string, string[]>();
  for (const key of keys) {
    const status = plan.status.get(key);
    if (status === 'mapped') mapped++;
    else if (status !== undefined) ignored.set(status, (ignored.get(status) ?? 0) + 1);
    else {
      const group = keyGroup(key);
      unexpected.set(group, [...(unexpected.get(group) ?? []), key]);
    }
  }
  const groups = [...unexpected]
    .map(([group, list]) => ({ group, count: list.length, examples: list.slice(0, 3) }))
    .sort((a, b) => b.count - a.count || a.group.localeCompare(b.group));
  return {
    mapped,
    ignored: [...ignored].map(([reason, count]) => ({ reason, count })),
    unexpected: groups,
    unexpectedCount: groups.reduce((n, g) => n + g.count, 0),
  };
}

/** "12 unexpected keys: first_stage_model.loss.* ×10, foo.* ×2", or null when there are none. */
export function describeUnexpected(report: CheckpointReport): string | null {
  if (report.unexpectedCount === 0) return null;
  const shown = report.unexpected.slice(0, 5).map((g) => `${g.group} ×${g.count}`);
  return `${report.unexpectedCount} unexpected key${report.unexpectedCount === 1 ? '' : 's'}: ${shown.join(', ')}${report.unexpected.length > 5 ? ', …' : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Reading

const BYTES: Partial<Record<SafetensorsDtype, number>> = { F32: 4, F16: 2, BF16: 2, F64: 8 };
let halfTable: Float32Array | null = null;

/** Little-endian bytes of `dtype` → float32 (bytes in a fresh, aligned buffer). */
export function decodeFloat32(bytes: Uint8Array, dtype: SafetensorsDtype, count: number): Float32Array {
  switch (dtype) {
    case 'F32':
      return new Float32Array(bytes.buffer, bytes.byteOffset, count);
    case 'F16': {
      if (!halfTable) halfTable = Float32Array.from({ length: 65536 }, (_, bits) => fromHalf(bits));
      const half = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfTable[half[i]!]!;
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const half = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
      const out = new Float32Array(count);
      const words = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) words[i] = half[i]! << 16;
      return out;
    }
    case 'F64':
      return Float32Array.from(new Float64Array(bytes.buffer, bytes.byteOffset, count));
    default:
      throw new Error(`unsupported dtype ${dtype}`);
  }
}

/**
 * A single-file SD 1.x / 2.x checkpoint as a WeightSource by diffusers names. `shape` answers from
 * the header; `read` reads one tensor (or slice) from disk each call.
 */
export class CheckpointWeights implements WeightSource {
  readonly label: string;
  readonly info: CheckpointInfo;
  readonly report: CheckpointReport;
  private readonly entries: Map<string, Entry>;
  private readonly dataStart: number;

  /** `file` must be open (see `CheckpointWeights.open`, which also refuses pickles and other families). */
  constructor(
    private readonly file: SafetensorsFile,
    options: CheckpointOptions = {},
  ) {
    if (os.endianness() !== 'LE') throw new Error('reading safetensors needs a little-endian machine');
    this.label = file.file;
    this.info = detectCheckpointKeys(file.tensors);
    const plan = planCheckpoint(file.tensors, options);
    this.entries = plan.entries;
    this.report = checkpointReport(file.tensors.keys(), plan);
    const head = Buffer.alloc(8);
    const fd = fs.openSync(file.file, 'r');
    try {
      fs.readSync(fd, head, 0, 8, 0);
    } finally {
      fs.closeSync(fd);
    }
    this.dataStart = 8 + Number(head.readBigUInt64LE(0));
  }

  /** Opens a checkpoint: refuses pickles (.ckpt) and families other than SD 1.x / 2.x with a CheckpointError. */
  static async open(file: string, options: CheckpointOptions = {}): Promise<CheckpointWeights> {
    refusePickle(file);
    const weights = new CheckpointWeights(await SafetensorsFile.open(file), options);
    if (weights.info.unsupported) throw new CheckpointError(file, 'family', `${path.basename(file)}: ${weights.info.unsupported}`);
    return weights;
  }

  /** The diffusers names this checkpoint gives. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The checkpoint key (and element range) a diffusers name is read from. */
  origin(name: string): { key: string; offset: number; count: number } | undefined {
    const entry = this.entries.get(name);
    return entry && { key: entry.key, offset: entry.offset, count: entry.count };
  }

  /** Diffusers names the checkpoint gives that none of `specs` use (a sign of another architecture). */
  unusedBy(specs: Iterable<ParamSpec>): string[] {
    const used = new Set([...specs].map((s) => s.name));
    return this.names().filter((n) => !used.has(n));
  }

  shape(name: string): number[] | undefined {
    const shape = this.entries.get(name)?.shape;
    return shape && [...shape];
  }

  read(name: string): Float32Array {
    const { dtype, bytes, count } = this.readRaw(name);
    return decodeFloat32(bytes, dtype, count);
  }

  /** The stored dtype of a parameter's checkpoint tensor. */
  dtypeOf(name: string): SafetensorsDtype | undefined {
    const entry = this.entries.get(name);
    return entry && this.file.tensors.get(entry.key)?.dtype;
  }

  /** One parameter's stored bytes and dtype, unconverted (for copying it into another file). */
  readRaw(name: string): { dtype: SafetensorsDtype; bytes: Uint8Array; count: number } {
    const entry = this.entries.get(name);
    if (!entry) throw new WeightMappingError(`${this.label} has no weight for ${name}`);
    const info = this.file.tensors.get(entry.key)!;
    const size = BYTES[info.dtype];
    if (size === undefined) throw new WeightMappingError(`${entry.key} in ${this.label} is ${info.dtype}, not a floating-point type`);
    const bytes = new Uint8Array(entry.count * size);
    const fd = fs.openSync(this.file.file, 'r');
    try {
      let done = 0;
      const start = this.dataStart + info.begin + entry.offset * size;
      while (done < bytes.length) {
        const n = fs.readSync(fd, bytes, done, bytes.length - done, start + done);
        if (n === 0) throw new WeightMappingError(`${this.label} is truncated inside tensor "${entry.key}"`);
        done += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    if (entry.transpose) {
      // Stored [rows, cols]; the parameter is [cols, rows]: element-size-wise transpose of the bytes.
      const [rows, cols] = [entry.shape[1]!, entry.shape[0]!];
      const out = new Uint8Array(bytes.length);
      const View = size === 8 ? Float64Array : size === 4 ? Uint32Array : Uint16Array;
      const from = new View(bytes.buffer, bytes.byteOffset, entry.count);
      const to = new View(out.buffer, 0, entry.count);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) to[c * rows + r] = from[r * cols + c]!;
      return { dtype: info.dtype, bytes: out, count: entry.count };
    }
    return { dtype: info.dtype, bytes, count: entry.count };
  }

  /** The second text encoder's weights (`text_encoder_2.` names) as a source of their own, by its diffusers names. */
  part(part: 'text_encoder_2'): WeightSource & { has(name: string): boolean } {
    const prefix = part === 'text_encoder_2' ? SECOND_ENCODER : '';
    return {
      label: `${this.label} (${part})`,
      shape: (name) => this.shape(prefix + name),
      read: (name) => this.read(prefix + name),
      has: (name) => this.entries.has(prefix + name),
    };
  }
}
