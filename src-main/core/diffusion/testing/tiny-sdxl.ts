/**
 * SDXL-shaped models for the tests and the full-size bench, in the three forms Onbrand imports, all
 * with the same seeded weights (`randomTensor(name, dims, seed)`, the second text encoder's names
 * prefixed with `text_encoder_2.`), so the forms can be compared value for value:
 * - a single-file checkpoint with SGM's key names (`model.diffusion_model.*` with `label_emb`,
 *   `first_stage_model.*`, `conditioner.embedders.0.transformer.text_model.*` (CLIP ViT-L, every
 *   layer) and `conditioner.embedders.1.model.*` (OpenCLIP bigG: `in_proj_weight` holding q, k, v,
 *   `text_projection` stored transposed, `logit_scale`)), streamed tensor by tensor;
 * - a diffusers folder (`unet/`, `vae/`, `text_encoder/`, `text_encoder_2/`, `tokenizer/`, `tokenizer_2/`);
 * - a diffusers ONNX export (plain attention, each part's config.json).
 */
import fs from 'node:fs';
import path from 'node:path';
import { float32ToFloat16 } from '../float16.js';
import { buildPart, partsOf } from '../graph/built-model.js';
import { SD15, SDXL, textEncoderConfigFile, type SdConfig } from '../graph/configs.js';
import type { ParamSpec } from '../graph/graph-builder.js';
import type { SdPart } from '../graph/sd-graphs.js';
import { randomTensor, writeGraph, type WeightSource } from '../graph/weights.js';
import { encodeSafetensors, writeSafetensorsFile } from '../safetensors.js';
import { ldmKey, openClipKey, unetPairs, vaePairs } from './ldm-checkpoint.js';
import { writeTinySd } from './tiny-sd.js';

export const SDXL_SEED = 11;
const OPTIONS = { precision: 'float32', attention: 'fused', loraBranches: false } as const;
const SECOND = 'text_encoder_2.';

/**
 * SDXL's layout at toy size: two levels (the first without attention, as SDXL's), transformer
 * depth 1 then 2, linear projections, heads per level, a 32-wide CLIP and a 48-wide OpenCLIP with
 * a 32-wide projection (80-wide text), 8-wide time-id embeddings.
 */
export function tinySdxlConfig(vocabSize = 200): SdConfig {
  return {
    unet: {
      ...SDXL.unet,
      block_out_channels: [32, 64],
      down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D'],
      up_block_types: ['CrossAttnUpBlock2D', 'UpBlock2D'],
      layers_per_block: 2,
      attention_head_dim: [2, 4],
      transformer_layers_per_block: [1, 2],
      cross_attention_dim: 80,
      addition_time_embed_dim: 8,
      projection_class_embeddings_input_dim: 32 + 6 * 8,
    },
    vae: { ...SDXL.vae, block_out_channels: [32, 64], layers_per_block: 1 },
    textEncoder: {
      ...SD15.textEncoder,
      vocab_size: vocabSize,
      hidden_size: 32,
      intermediate_size: 64,
      num_hidden_layers: 3,
      num_attention_heads: 4,
      layer: 'penultimate',
    },
    textEncoder2: {
      ...SDXL.textEncoder2!,
      vocab_size: vocabSize,
      hidden_size: 48,
      intermediate_size: 96,
      num_hidden_layers: 3,
      num_attention_heads: 3,
      projection_dim: 32,
    },
  };
}

/** A seeded value for a parameter of `part` (the second encoder's names get their own values). */
export function sdxlValue(part: SdPart, name: string, dims: number[], seed = SDXL_SEED): Float32Array {
  return randomTensor(part === 'text_encoder_2' ? SECOND + name : name, dims, seed);
}

/** Every parameter of each part, as a real checkpoint holds them (the first encoder's last layer and final norm too). */
export function sdxlSpecs(config: SdConfig): Map<SdPart, ParamSpec[]> {
  const out = new Map<SdPart, ParamSpec[]>();
  for (const part of partsOf(config)) {
    const full = part === 'text_encoder' ? { ...config, textEncoder: { ...config.textEncoder, layer: 'last' as const } } : config;
    out.set(part, [...buildPart(part, full, OPTIONS).params.values()]);
  }
  return out;
}

/** The part's weights as a source (what every form stores, in float32). */
export function sdxlSource(config: SdConfig, part: SdPart, seed = SDXL_SEED): WeightSource {
  const shapes = new Map((sdxlSpecs(config).get(part) ?? []).map((s) => [s.name, s.torchDims]));
  return {
    label: `seeded SDXL weights (${part})`,
    shape: (name) => shapes.get(name),
    read: (name) => sdxlValue(part, name, shapes.get(name)!, seed),
  };
}

interface Entry {
  key: string;
  shape: number[];
  /** The stored tensor's values in float32. */
  values(): Float32Array;
}

/** The checkpoint's tensors in SGM's key names. */
function checkpointEntries(config: SdConfig, seed: number): Entry[] {
  const specs = sdxlSpecs(config);
  const unet = [
    ...unetPairs(config.unet),
    ['add_embedding.linear_1', 'model.diffusion_model.label_emb.0.0', 'same'],
    ['add_embedding.linear_2', 'model.diffusion_model.label_emb.0.2', 'same'],
  ] as Parameters<typeof ldmKey>[0];
  const vae = vaePairs(config.vae);
  const entries: Entry[] = [];
  const value = (part: SdPart, spec: ParamSpec) => (): Float32Array => sdxlValue(part, spec.name, spec.torchDims, seed);
  for (const part of ['unet', 'vae_decoder', 'vae_encoder'] as const)
    for (const spec of specs.get(part) ?? []) {
      const { key, conv1x1 } = ldmKey(part === 'unet' ? unet : vae, spec.name);
      if (entries.some((e) => e.key === key)) continue; // (post_quant_conv etc. shared by both VAE parts)
      entries.push({ key, shape: conv1x1 ? [...spec.torchDims, 1, 1] : spec.torchDims, values: value(part, spec) });
    }
  for (const spec of specs.get('text_encoder')!)
    entries.push({ key: `conditioner.embedders.0.transformer.${spec.name}`, shape: spec.torchDims, values: value('text_encoder', spec) });
  entries.push({
    key: 'conditioner.embedders.0.transformer.text_model.embeddings.position_ids',
    shape: [1, config.textEncoder.max_position_embeddings],
    values: () => Float32Array.from({ length: config.textEncoder.max_position_embeddings }, (_, i) => i),
  });
  const prefix = 'conditioner.embedders.1.model.';
  const inProj = new Map<string, { shape: number[]; parts: ParamSpec[] }>();
  for (const spec of specs.get('text_encoder_2')!) {
    if (spec.name === 'text_projection.weight') {
      // OpenCLIP applies x @ P: P is diffusers' weight transposed.
      const [out, inp] = spec.torchDims as [number, number];
      entries.push({
        key: `${prefix}text_projection`,
        shape: [inp, out],
        values: () => {
          const w = sdxlValue('text_encoder_2', spec.name, spec.torchDims, seed);
          const t = new Float32Array(w.length);
          for (let r = 0; r < out; r++) for (let c = 0; c < inp; c++) t[c * out + r] = w[r * inp + c]!;
          return t;
        },
      });
      continue;
    }
    const { key, slot } = openClipKey(spec.name, prefix);
    if (slot < 0) {
      entries.push({ key, shape: spec.torchDims, values: value('text_encoder_2', spec) });
      continue;
    }
    const group = inProj.get(key) ?? { shape: spec.torchDims, parts: [] };
    group.parts[slot] = spec;
    inProj.set(key, group);
  }
  for (const [key, { shape, parts }] of inProj)
    entries.push({
      key,
      shape: [3 * shape[0]!, ...shape.slice(1)],
      values: () => {
        const chunks = parts.map((p) => sdxlValue('text_encoder_2', p.name, p.torchDims, seed));
        const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
        chunks.forEach((c, i) => out.set(c, i * c.length));
        return out;
      },
    });
  entries.push({ key: `${prefix}logit_scale`, shape: [], values: () => Float32Array.of(4.6) });
  return entries;
}

/**
 * Writes an SDXL single-file checkpoint (float16, as SDXL checkpoints ship), streamed: at full size
 * (`SDXL`, 3.5 B parameters, 6.9 GB) no more than one tensor is in memory.
 */
export async function writeSdxlCheckpoint(
  file: string,
  config: SdConfig,
  seed = SDXL_SEED,
): Promise<{ bytes: number; sha256: string; tensors: number }> {
  const entries = checkpointEntries(config, seed);
  const byKey = new Map(entries.map((e) => [e.key, e]));
  const written = await writeSafetensorsFile(
    file,
    entries.map((e) => ({ name: e.key, dtype: 'F16' as const, shape: e.shape })),
    (key) => {
      const half = float32ToFloat16(byKey.get(key)!.values());
      return new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
    },
    { format: 'pt' },
  );
  return { ...written, tensors: entries.length };
}

/** The same model in float32 (small models: the values compare exactly with the other forms). */
export function writeSdxlCheckpointF32(file: string, config: SdConfig, seed = SDXL_SEED): void {
  const tensors: Parameters<typeof encodeSafetensors>[0] = {};
  for (const e of checkpointEntries(config, seed)) tensors[e.key] = { dtype: 'F32', shape: e.shape, data: e.values() };
  fs.writeFileSync(file, encodeSafetensors(tensors));
}

function copyTokenizers(dir: string, from: string): void {
  if (from !== dir) fs.cpSync(path.join(from, 'tokenizer'), path.join(dir, 'tokenizer'), { recursive: true });
  fs.cpSync(path.join(from, 'tokenizer'), path.join(dir, 'tokenizer_2'), { recursive: true });
  // The second tokenizer pads with "!" (id 0), as SDXL base's tokenizer_2 does.
  const special = path.join(dir, 'tokenizer_2', 'special_tokens_map.json');
  const map = fs.existsSync(special) ? (JSON.parse(fs.readFileSync(special, 'utf8')) as Record<string, unknown>) : {};
  fs.writeFileSync(special, JSON.stringify({ ...map, pad_token: '!' }));
}

/** An SDXL diffusers folder (float32 safetensors) with tokenizers and scheduler from `from` (a tiny model folder). */
export function writeSdxlDiffusers(dir: string, config: SdConfig, from: string, seed = SDXL_SEED): string {
  const specs = sdxlSpecs(config);
  const folders: { folder: string; file: string; parts: SdPart[]; config: Record<string, unknown> }[] = [
    {
      folder: 'unet',
      file: 'diffusion_pytorch_model.safetensors',
      parts: ['unet'],
      config: { _class_name: 'UNet2DConditionModel', ...config.unet },
    },
    {
      folder: 'vae',
      file: 'diffusion_pytorch_model.safetensors',
      parts: ['vae_decoder', 'vae_encoder'],
      config: { _class_name: 'AutoencoderKL', ...config.vae },
    },
    { folder: 'text_encoder', file: 'model.safetensors', parts: ['text_encoder'], config: textEncoderConfigFile(config.textEncoder) },
    { folder: 'text_encoder_2', file: 'model.safetensors', parts: ['text_encoder_2'], config: textEncoderConfigFile(config.textEncoder2!) },
  ];
  for (const f of folders) {
    const tensors: Parameters<typeof encodeSafetensors>[0] = {};
    for (const part of f.parts)
      for (const spec of specs.get(part) ?? [])
        tensors[spec.name] = { dtype: 'F32', shape: spec.torchDims, data: sdxlValue(part, spec.name, spec.torchDims, seed) };
    fs.mkdirSync(path.join(dir, f.folder), { recursive: true });
    fs.writeFileSync(path.join(dir, f.folder, f.file), encodeSafetensors(tensors));
    fs.writeFileSync(path.join(dir, f.folder, 'config.json'), JSON.stringify(f.config, null, 1));
  }
  copyTokenizers(dir, from);
  fs.cpSync(path.join(from, 'scheduler'), path.join(dir, 'scheduler'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'model_index.json'),
    JSON.stringify({ _class_name: 'StableDiffusionXLPipeline', unet: ['diffusers', 'UNet2DConditionModel'] }),
  );
  return dir;
}

/** The vocabulary size of a model folder's tokenizer (a tiny config's `vocab_size` must match it). */
export function tokenizerVocab(dir: string): number {
  return Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer', 'vocab.json'), 'utf8')) as object).length;
}

/**
 * An SDXL ONNX export folder (plain attention, export-style names) with each part's config.json,
 * over a tiny SD folder's tokenizer and scheduler; `config` defaults to `tinySdxlConfig` at its vocabulary.
 */
export function writeSdxlOnnx(dir: string, configOrNull: SdConfig | null = null, seed = SDXL_SEED): string {
  writeTinySd(dir);
  const config = configOrNull ?? tinySdxlConfig(tokenizerVocab(dir));
  const exportOptions = { precision: 'float32', attention: 'plain', loraBranches: false, style: 'export' } as const;
  for (const part of partsOf(config)) {
    const builder = buildPart(part, config, exportOptions);
    const file = path.join(dir, part, 'model.onnx');
    fs.rmSync(path.join(dir, part), { recursive: true, force: true });
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeGraph(file, part, builder, sdxlSource(config, part, seed));
    const partConfig =
      part === 'unet'
        ? { _class_name: 'UNet2DConditionModel', ...config.unet }
        : part === 'text_encoder' || part === 'text_encoder_2'
          ? textEncoderConfigFile(part === 'text_encoder' ? config.textEncoder : config.textEncoder2!)
          : { _class_name: 'AutoencoderKL', ...config.vae };
    fs.writeFileSync(path.join(dir, part, 'config.json'), JSON.stringify(partConfig, null, 1));
  }
  copyTokenizers(dir, dir);
  return dir;
}
