/**
 * SDXL LoRAs: kohya's `lora_unet_` keys with diffusers and LDM (SDXL's own block indices) paths,
 * `lora_te1_` / `lora_te2_` for the two text encoders, PEFT / diffusers and ComfyUI names; the
 * family of a LoRA from its keys and shapes, refused by name on a model of another family; and on
 * tiny SDXL-shaped text encoders and UNet, the side branches' outputs against the weights with
 * W + weight · scale · ΔW merged in.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxSession, type Feed } from './backend.js';
import { buildPart, SD15, SDXL, type GraphBuilder, type LoraBranch, type SdConfig } from './graph/index.js';
import { RandomWeights, writeGraph, type WeightSource } from './graph/weights.js';
import { branchFeeds, type BranchPart, type ModelBranches } from './lora-branches.js';
import { layersPerBlockOf, parseKey, resolveAddress } from './lora-keys.js';
import { LoraLibrary, mergeLoras, readLora, type LoadedLora } from './lora.js';
import type { WeightTarget } from './onnx-graph.js';
import { encodeSafetensors } from './safetensors.js';
import { tinySdxlConfig } from './testing/tiny-sdxl.js';

interface T {
  shape: number[];
  data: Float32Array;
}

let root: string;
let loraDir: string;

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
/** Deterministic values in ±scale. */
const values = (n: number, seed: number, scale = 0.4): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => {
    const h = Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453;
    return (h - Math.floor(h) - 0.5) * 2 * scale;
  });
const tensor = (shape: number[], seed: number, scale = 0.4): T => ({ shape, data: values(numel(shape), seed, scale) });
const scalar = (v: number): T => ({ shape: [], data: Float32Array.of(v) });

function writeLora(name: string, tensors: Record<string, T>): string {
  const out: Parameters<typeof encodeSafetensors>[0] = {};
  for (const [key, t] of Object.entries(tensors)) out[key] = { dtype: 'F32', shape: t.shape, data: t.data };
  const file = path.join(loraDir, `${name}.safetensors`);
  fs.writeFileSync(file, encodeSafetensors(out, {}));
  return file;
}

const kohya = (module: string): string => module.replace(/\./g, '_');

// ---------------------------------------------------------------------------------------------
// SDXL's and SD 1.5's architectures as graph descriptions: their LoRA branches, without weights.

const describeOnly = { precision: 'float32', attention: 'fused', loraBranches: true } as const;

/** The LoRA branches of a model's parts (full size: descriptions only). */
function branchesOf(config: SdConfig): ModelBranches {
  return {
    textEncoder: buildPart('text_encoder', config, describeOnly).loraBranches,
    ...(config.textEncoder2 ? { textEncoder2: buildPart('text_encoder_2', config, describeOnly).loraBranches } : {}),
    unet: buildPart('unet', config, describeOnly).loraBranches,
  };
}

let sdxl: ModelBranches;
let sd15: ModelBranches;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-lora-sdxl-'));
  loraDir = path.join(root, 'loras');
  fs.mkdirSync(loraDir);
  sdxl = branchesOf(SDXL);
  sd15 = branchesOf(SD15);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Names

/**
 * kohya sd-scripts' SDXL LDM names (`sdxl_model_util.make_unet_conversion_map`, the names A1111
 * reads by replacing `lora_unet` with `diffusion_model`), written out as the golden inverse of the
 * reading: input_blocks 3i + j + 1, output_blocks 3i + j, downsamplers input_blocks 3(i + 1).0.op,
 * upsamplers output_blocks 3i + 2 .2.conv, the middle block 0 / 1 / 2, label_emb.0.0 / .0.2.
 */
function sdxlCompvis(key: string): string {
  const resnet: Record<string, string> = {
    conv1: 'in_layers_2',
    conv2: 'out_layers_3',
    norm1: 'in_layers_0',
    norm2: 'out_layers_0',
    time_emb_proj: 'emb_layers_1',
    conv_shortcut: 'skip_connection',
  };
  const sub = (kind: string, rest: string): string => (kind === 'resnets' ? (resnet[rest] ?? rest) : rest);
  let m: RegExpExecArray | null;
  if (key === 'lora_unet_conv_in') return 'lora_unet_input_blocks_0_0';
  if (key === 'lora_unet_conv_out') return 'lora_unet_out_2';
  if ((m = /^lora_unet_time_embedding_linear_(\d)$/.exec(key))) return `lora_unet_time_embed_${Number(m[1]) * 2 - 2}`;
  if ((m = /^lora_unet_add_embedding_linear_(\d)$/.exec(key))) return `lora_unet_label_emb_0_${Number(m[1]) * 2 - 2}`;
  if ((m = /^lora_unet_down_blocks_(\d+)_(attentions|resnets)_(\d+)_(.+)$/.exec(key)))
    return `lora_unet_input_blocks_${3 * Number(m[1]) + Number(m[3]) + 1}_${m[2] === 'attentions' ? 1 : 0}_${sub(m[2]!, m[4]!)}`;
  if ((m = /^lora_unet_down_blocks_(\d+)_downsamplers_0_conv$/.exec(key))) return `lora_unet_input_blocks_${3 * (Number(m[1]) + 1)}_0_op`;
  if ((m = /^lora_unet_mid_block_attentions_0_(.+)$/.exec(key))) return `lora_unet_middle_block_1_${m[1]}`;
  if ((m = /^lora_unet_mid_block_resnets_(\d)_(.+)$/.exec(key)))
    return `lora_unet_middle_block_${2 * Number(m[1])}_${sub('resnets', m[2]!)}`;
  if ((m = /^lora_unet_up_blocks_(\d+)_(attentions|resnets)_(\d+)_(.+)$/.exec(key)))
    return `lora_unet_output_blocks_${3 * Number(m[1]) + Number(m[3])}_${m[2] === 'attentions' ? 1 : 0}_${sub(m[2]!, m[4]!)}`;
  if ((m = /^lora_unet_up_blocks_(\d+)_upsamplers_0_conv$/.exec(key))) return `lora_unet_output_blocks_${3 * Number(m[1]) + 2}_2_conv`;
  throw new Error(`no SDXL LDM name for ${key}`);
}

function resolve(key: string, layersPerBlock = 2): { key: string | null; tensor: string; family: string | null } {
  const parsed = parseKey(key);
  if (parsed.kind === 'unknown') throw new Error(`${key}: ${parsed.group}`);
  return { key: resolveAddress(parsed.address, layersPerBlock), tensor: parsed.tensor, family: parsed.family };
}

describe('SDXL names', () => {
  it("every SDXL UNet LoRA layer, named in kohya's SDXL LDM terms, reads back as its diffusers name; kohya's 722 attention modules", () => {
    const keys = sdxl.unet.map((b) => `lora_unet_${kohya(b.module)}`);
    // kohya's LoRA for SDXL: 722 UNet modules in the transformers (70 transformer blocks × 10, 11 × proj_in / proj_out).
    expect(sdxl.unet.filter((b) => b.kind === 'linear' && !/resnets|time_embedding|add_embedding/.test(b.module))).toHaveLength(722);
    expect(layersPerBlockOf(keys)).toBe(2);
    for (const key of keys) {
      const ldm = sdxlCompvis(key);
      expect(ldm, key).not.toBe(key);
      const depth = /transformer_blocks_(\d+)/.exec(key);
      const family = (depth && Number(depth[1]) > 0) || /add_embedding/.test(key) ? 'SDXL' : null;
      expect(resolve(`${ldm}.lora_down.weight`), ldm).toEqual({ key, tensor: 'lora_down.weight', family });
    }
    // The text encoders: kohya trains 72 modules in CLIP ViT-L and 192 in OpenCLIP ViT-bigG; SDXL
    // reads the first encoder's penultimate states, so its graph has 11 of the 12 layers.
    expect([sdxl.textEncoder.length, sdxl.textEncoder2!.length]).toEqual([66, 192]);
  });

  it('SDXL LDM names where they differ from SD 1.x: no attention in the first level, upsamplers at .2.conv, label_emb', () => {
    const cases: [string, string][] = [
      [
        'lora_unet_input_blocks_4_1_transformer_blocks_1_attn1_to_q',
        'lora_unet_down_blocks_1_attentions_0_transformer_blocks_1_attn1_to_q',
      ],
      ['lora_unet_input_blocks_8_1_transformer_blocks_9_ff_net_2', 'lora_unet_down_blocks_2_attentions_1_transformer_blocks_9_ff_net_2'],
      ['lora_unet_middle_block_1_transformer_blocks_4_attn2_to_k', 'lora_unet_mid_block_attentions_0_transformer_blocks_4_attn2_to_k'],
      ['lora_unet_middle_block_2_in_layers_2', 'lora_unet_mid_block_resnets_1_conv1'],
      [
        'lora_unet_output_blocks_2_1_transformer_blocks_0_attn1_to_out_0',
        'lora_unet_up_blocks_0_attentions_2_transformer_blocks_0_attn1_to_out_0',
      ],
      ['lora_unet_output_blocks_2_2_conv', 'lora_unet_up_blocks_0_upsamplers_0_conv'],
      ['lora_unet_output_blocks_5_2_conv', 'lora_unet_up_blocks_1_upsamplers_0_conv'],
      ['lora_unet_output_blocks_8_0_skip_connection', 'lora_unet_up_blocks_2_resnets_2_conv_shortcut'],
      ['lora_unet_input_blocks_2_0_in_layers_2', 'lora_unet_down_blocks_0_resnets_1_conv1'],
      ['lora_unet_input_blocks_6_0_op', 'lora_unet_down_blocks_1_downsamplers_0_conv'],
      ['lora_unet_label_emb_0_0', 'lora_unet_add_embedding_linear_1'],
      ['lora_unet_label_emb_0_2', 'lora_unet_add_embedding_linear_2'],
      ['lora_unet_time_embed_2', 'lora_unet_time_embedding_linear_2'],
    ];
    for (const [ldm, key] of cases) expect(resolve(`${ldm}.lora_up.weight`).key, ldm).toBe(key);
    expect(resolve('diffusion_model.label_emb.0.2.lora_up.weight').key).toBe('lora_unet_add_embedding_linear_2');
    expect(resolve('unet.add_embedding.linear_1.lora_A.weight')).toEqual({
      key: 'lora_unet_add_embedding_linear_1',
      tensor: 'lora_down.weight',
      family: 'SDXL',
    });
  });

  it("the two text encoders' names: kohya te1 / te2, diffusers / PEFT text_encoder / text_encoder_2, ComfyUI clip_l / clip_g", () => {
    const te1 = 'lora_te_text_model_encoder_layers_3_self_attn_q_proj';
    const te2 = 'lora_te2_text_model_encoder_layers_3_self_attn_q_proj';
    const cases: [string, string, string, string | null][] = [
      ['lora_te1_text_model_encoder_layers_3_self_attn_q_proj.lora_down.weight', te1, 'lora_down.weight', null],
      ['lora_te2_text_model_encoder_layers_3_self_attn_q_proj.lora_up.weight', te2, 'lora_up.weight', 'SDXL'],
      ['lora_te2_text_model_encoder_layers_3_self_attn_q_proj.alpha', te2, 'alpha', 'SDXL'],
      ['lora_te2_text_model_encoder_layers_3_self_attn_q_proj.hada_w1_a', te2, 'hada_w1_a', 'SDXL'],
      ['lora_te_text_model_encoder_layers_3_self_attn_q_proj.lora_up.weight', te1, 'lora_up.weight', 'SD 1.x/2.x'],
      ['text_encoder.text_model.encoder.layers.3.self_attn.q_proj.lora_A.weight', te1, 'lora_down.weight', null],
      ['text_encoder_2.text_model.encoder.layers.3.self_attn.q_proj.lora_B.weight', te2, 'lora_up.weight', 'SDXL'],
      ['text_encoder_2.text_model.encoder.layers.3.self_attn.q_proj.lora_linear_layer.down.weight', te2, 'lora_down.weight', 'SDXL'],
      ['text_encoders.clip_l.transformer.text_model.encoder.layers.3.self_attn.q_proj.lora_down.weight', te1, 'lora_down.weight', null],
      ['text_encoders.clip_g.transformer.text_model.encoder.layers.3.self_attn.q_proj.lora_up.weight', te2, 'lora_up.weight', 'SDXL'],
    ];
    for (const [key, module, tensor, family] of cases) expect(resolve(key), key).toEqual({ key: module, tensor, family });
    expect(parseKey('lora_te2_model_transformer_resblocks_0_attn_out_proj.lora_down.weight')).toMatchObject({
      kind: 'unknown',
      family: 'SDXL',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Families

/** A LoRA module's tensors (rank 2, alpha 1) for a linear layer of `inDim` → `outDim`. */
function module(key: string, inDim: number, outDim: number, seed: number, peft = false): Record<string, T> {
  const [down, up] = peft ? ['lora_A.weight', 'lora_B.weight'] : ['lora_down.weight', 'lora_up.weight'];
  return {
    [`${key}.${down}`]: tensor([2, inDim], seed, 0.05),
    [`${key}.${up}`]: tensor([outDim, 2], seed + 1, 0.05),
    [`${key}.alpha`]: scalar(1),
  };
}

/** Feeds for the full-size SD 1.5 ("v1-5") or SDXL ("XL base") branches; `family` as the engine passes it, or left to the branches. */
const feedsFor = (branches: ModelBranches, lora: LoadedLora, family?: 'sd1' | 'sdxl'): ReturnType<typeof branchFeeds> =>
  branchFeeds(branches, [{ lora, weight: 0.8 }], false, branches === sd15 ? 'v1-5' : 'XL base', family);

/** The rank each part's touched branches get (untouched branches are rank-1 zeros: left out). */
function ranks(feeds: ReturnType<typeof branchFeeds>['feeds'], branches: ModelBranches): Record<BranchPart, number> {
  const out = { textEncoder: 0, textEncoder2: 0, unet: 0 } as Record<BranchPart, number>;
  for (const part of ['textEncoder', 'textEncoder2', 'unet'] as const)
    for (const b of branches[part] ?? []) {
      const up = feeds[part][b.up]!;
      if (up.data.some((v) => v !== 0)) out[part] += 1;
    }
  return out;
}

/** kohya's SDXL names: te1, te2, LDM UNet paths (one at depth 9, 2048-wide text). */
const xlStyle = (): Record<string, T> => ({
  ...module('lora_te1_text_model_encoder_layers_0_self_attn_q_proj', 768, 768, 1),
  ...module('lora_te2_text_model_encoder_layers_31_mlp_fc1', 1280, 5120, 3),
  ...module('lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q', 640, 640, 5),
  ...module('lora_unet_output_blocks_0_1_transformer_blocks_9_attn2_to_k', 2048, 1280, 7),
});

/** kohya's SD 1.x names: te_ and a cross-attention key reading 768-wide text. */
const v15Kohya = (): Record<string, T> => ({
  ...module('lora_te_text_model_encoder_layers_0_self_attn_q_proj', 768, 768, 1),
  ...module('lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k', 768, 640, 3),
});

describe('the family of a LoRA', () => {
  it('an SDXL LoRA (kohya te1 / te2 / LDM UNet) runs on SDXL, each module on its part, and is refused on SD 1.x naming both families', async () => {
    const lora = await readLora(writeLora('xl_style', xlStyle()));
    expect(lora.family).toEqual({ name: 'SDXL', evidence: 'lora_te2_text_model_encoder_layers_31_mlp_fc1.lora_down.weight' });
    const { feeds, warnings } = feedsFor(sdxl, lora, 'sdxl');
    expect(warnings).toEqual([]);
    expect(ranks(feeds, sdxl)).toEqual({ textEncoder: 1, textEncoder2: 1, unet: 2 });
    expect(feeds.textEncoder2['lora_up:text_model.encoder.layers.31.mlp.fc1']!.dims).toEqual([2, 5120]);
    // The family when the caller does not say it: what the branches show.
    expect(ranks(feedsFor(sdxl, lora).feeds, sdxl)).toEqual({ textEncoder: 1, textEncoder2: 1, unet: 2 });
    expect(() => feedsFor(sd15, lora, 'sd1')).toThrow(
      'LoRA xl_style is an SDXL LoRA (it has lora_te2_text_model_encoder_layers_31_mlp_fc1.lora_down.weight): the model v1-5 is SD 1.x.',
    );
    expect(() => feedsFor(sd15, lora)).toThrow(/is an SDXL LoRA .*: the model v1-5 is SD 1\.x\.$/);
  });

  it('an SD 1.x LoRA is refused on SDXL: by kohya te_ keys with 768-wide cross-attention, or by shapes alone when the keys fit both', async () => {
    const kohya15 = await readLora(writeLora('v15_kohya', v15Kohya()));
    expect(() => feedsFor(sdxl, kohya15, 'sdxl')).toThrow(
      'LoRA v15_kohya is an SD 1.x LoRA (it has lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight; ' +
        'lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k, which reads 768-wide text): the model XL base is SDXL.',
    );
    expect(feedsFor(sd15, kohya15, 'sd1').warnings).toEqual([]);

    // PEFT names that SD 1.5 and SDXL share (down_blocks.1.attentions.0, depth 0): the shapes decide.
    const peft15 = await readLora(
      writeLora('v15_peft', {
        ...module('unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q', 640, 640, 1, true),
        ...module('unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_v', 768, 640, 3, true),
      }),
    );
    expect(peft15.family).toEqual({
      name: 'SD 1.x',
      evidence: 'unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_v, which reads 768-wide text',
    });
    expect(() => feedsFor(sdxl, peft15, 'sdxl')).toThrow(
      'LoRA v15_peft is an SD 1.x LoRA (it has unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_v, which reads 768-wide text): the model XL base is SDXL.',
    );
    const peftXl = await readLora(
      writeLora('xl_peft', {
        ...module('unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q', 640, 640, 1, true),
        ...module('unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_v', 2048, 640, 3, true),
      }),
    );
    expect(() => feedsFor(sd15, peftXl, 'sd1')).toThrow(
      'LoRA xl_peft is an SDXL LoRA (it has unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_v, which reads 2048-wide text): the model v1-5 is SD 1.x.',
    );
    expect(ranks(feedsFor(sdxl, peftXl, 'sdxl').feeds, sdxl)).toEqual({ textEncoder: 0, textEncoder2: 0, unet: 2 });
  });

  it('an SD 2.x LoRA is named by its 1024-wide text encoder; a LoRA whose keys and shapes fit both families runs on both', async () => {
    const v2 = await readLora(writeLora('v2', module('lora_te_text_model_encoder_layers_0_mlp_fc1', 1024, 4096, 1)));
    expect(() => feedsFor(sd15, v2, 'sd1')).toThrow(
      'LoRA v2 is an SD 2.x LoRA (it has lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight; lora_te_text_model_encoder_layers_0_mlp_fc1 on a 1024-wide text encoder): the model v1-5 is SD 1.x.',
    );
    expect(() => feedsFor(sdxl, v2, 'sdxl')).toThrow(/is an SD 2\.x LoRA .*: the model XL base is SDXL\.$/);

    // CLIP ViT-L is SD 1.x's encoder and SDXL's first; down_blocks.1's self-attention is 640 wide in both.
    const shared = await readLora(
      writeLora('shared', {
        ...module('lora_te1_text_model_encoder_layers_0_self_attn_q_proj', 768, 768, 1),
        ...module('lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q', 640, 640, 3),
      }),
    );
    expect(shared.family).toBeNull();
    expect(ranks(feedsFor(sd15, shared, 'sd1').feeds, sd15)).toEqual({ textEncoder: 1, textEncoder2: 0, unet: 1 });
    expect(ranks(feedsFor(sdxl, shared, 'sdxl').feeds, sdxl)).toEqual({ textEncoder: 1, textEncoder2: 0, unet: 1 });
  });

  it('Flux and SD 3 LoRAs are refused on SDXL too', async () => {
    const flux = await readLora(writeLora('flux', module('lora_unet_double_blocks_0_img_attn_proj', 8, 8, 1)));
    expect(() => feedsFor(sdxl, flux, 'sdxl')).toThrow(
      'LoRA flux is a Flux LoRA (it has lora_unet_double_blocks_0_img_attn_proj.lora_down.weight): the model XL base is SDXL.',
    );
  });

  it('the merge into exported graphs maps lora_te2_ targets onto the second text encoder and refuses another family', async () => {
    writeLora('xl_style', xlStyle());
    writeLora('v15_kohya', v15Kohya());
    const library = new LoraLibrary(loraDir);
    const q = (dims: number[]): WeightTarget => ({ initializer: 'w', op: 'MatMul', transposed: true, dims });
    const targets = new Map<string, { part: 'textEncoder' | 'textEncoder2' | 'unet'; target: WeightTarget }>([
      ['lora_te_text_model_encoder_layers_0_self_attn_q_proj', { part: 'textEncoder', target: q([768, 768]) }],
      ['lora_te2_text_model_encoder_layers_31_mlp_fc1', { part: 'textEncoder2', target: { ...q([1280, 5120]), initializer: 'fc1' } }],
      ['lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q', { part: 'unet', target: q([640, 640]) }],
      [
        'lora_unet_up_blocks_0_attentions_0_transformer_blocks_9_attn2_to_k',
        { part: 'unet', target: { ...q([2048, 1280]), initializer: 'k' } },
      ],
    ]);
    const zeros = (part: string, name: string): Float32Array => {
      const hit = [...targets.values()].find((t) => t.part === part && t.target.initializer === name)!;
      return new Float32Array(hit.target.dims[0]! * hit.target.dims[1]!);
    };
    const { overrides, warnings } = await mergeLoras(
      library,
      [{ lora: await library.get('xl_style'), weight: 1 }],
      targets,
      zeros,
      'XL export',
    );
    expect(warnings).toEqual([]);
    expect([...overrides.textEncoder2.keys()]).toEqual(['fc1']);
    expect([...overrides.unet.keys()].sort()).toEqual(['k', 'w']);
    await expect(mergeLoras(library, [{ lora: await library.get('v15_kohya'), weight: 1 }], targets, zeros, 'XL export')).rejects.toThrow(
      /LoRA v15_kohya is an SD 1\.x LoRA .*: the model XL export is SDXL\./,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// On tiny SDXL-shaped parts: branch outputs against merged weights

type TinyPart = 'te1' | 'te2' | 'unet';
const PART_OF: Record<TinyPart, BranchPart> = { te1: 'textEncoder', te2: 'textEncoder2', unet: 'unet' };

const PART: Record<TinyPart, 'text_encoder' | 'text_encoder_2' | 'unet'> = { te1: 'text_encoder', te2: 'text_encoder_2', unet: 'unet' };

/**
 * The tiny SDXL's part (`tinySdxlConfig`: CLIP 32 wide, of whose 3 layers the penultimate states
 * need 2; OpenCLIP 48 wide with a projection; a UNet with SDXL's layout at two levels, the first
 * without attention, transformer depth 1 then 2, two layers per block, so its LDM names are SDXL's).
 */
function builderFor(part: TinyPart, loraBranches: boolean): GraphBuilder {
  return buildPart(PART[part], tinySdxlConfig(), { precision: 'float32', attention: 'plain', loraBranches });
}

/** Inputs for a tiny part: token ids, or latents, a timestep and text (and whatever else the UNet takes, seeded). */
function inputs(session: OnnxSession): Record<string, Feed> {
  const feeds: Record<string, Feed> = {};
  const size: Record<string, number> = { batch: 2, sequence: 7, height: 8, width: 8 };
  for (const spec of session.inputs) {
    if (/^lora_(down|up):/.test(spec.name)) continue;
    const dims = spec.shape.map((d) => (typeof d === 'number' ? d : (size[d] ?? 1)));
    if (spec.name === 'input_ids') feeds[spec.name] = { data: Array.from({ length: numel(dims) }, (_, i) => (i * 13 + 5) % 64), dims };
    else if (spec.name === 'timestep') feeds[spec.name] = { data: Array<number>(dims[0]!).fill(801), dims };
    else feeds[spec.name] = { data: values(numel(dims), spec.name.length, 1), dims };
  }
  return feeds;
}

/** Every output of a part, one after another (the second encoder's states and its pooled text). */
async function runGraph(file: string, extra: Record<string, Feed> = {}): Promise<Float32Array> {
  const { session } = await OnnxSession.load(file, ['cpu']);
  try {
    const out = await session.run({ ...inputs(session), ...extra });
    return Float32Array.from(Object.values(out).flatMap((o) => Array.from(o.data as Float32Array)));
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

/** up [out, r] · down [r, inner] (trailing 1s ignored). */
function matmul(up: T, down: T): Float32Array {
  const out = up.shape[0]!;
  const r = down.shape[0]!;
  const inner = down.data.length / r;
  const d = new Float32Array(out * inner);
  for (let o = 0; o < out; o++)
    for (let k = 0; k < r; k++) for (let i = 0; i < inner; i++) d[o * inner + i] += up.data[o * r + k]! * down.data[k * inner + i]!;
  return d;
}

/** kron(a [p, q], b [r, s]) → [p·r, q·s]. */
function kronRef(a: T, b: T): Float32Array {
  const [p, q] = [a.shape[0]!, a.shape[1]!];
  const [r, s] = [b.shape[0]!, b.data.length / b.shape[0]!];
  const out = new Float32Array(p * r * q * s);
  for (let i = 0; i < p; i++)
    for (let j = 0; j < q; j++)
      for (let k = 0; k < r; k++)
        for (let l = 0; l < s; l++) out[(i * r + k) * q * s + j * s + l] = a.data[i * q + j]! * b.data[k * s + l]!;
  return out;
}

describe('on tiny SDXL-shaped text encoders and UNet', () => {
  const files = {} as Record<TinyPart, { branched: string; base: Float32Array }>;
  const branches = {} as Record<TinyPart, LoraBranch[]>;
  const SEED = 5;

  beforeAll(async () => {
    for (const part of ['te1', 'te2', 'unet'] as const) {
      const builder = builderFor(part, true);
      branches[part] = builder.loraBranches;
      const branched = path.join(root, `${part}-branched.onnx`);
      writeGraph(branched, part, builder, new RandomWeights(builder.params.values(), SEED));
      const plain = builderFor(part, false);
      const baseFile = path.join(root, `${part}-base.onnx`);
      writeGraph(baseFile, part, plain, new RandomWeights(plain.params.values(), SEED));
      files[part] = { branched, base: await runGraph(baseFile) };
    }
  });

  /** The part's output with `lora` on its branches, and with its ΔW (by parameter name) merged into the weights. */
  async function compare(part: TinyPart, lora: LoadedLora, weight: number, deltas: Map<string, Float32Array>): Promise<void> {
    const model: ModelBranches = { textEncoder: branches.te1, textEncoder2: branches.te2, unet: branches.unet };
    const { feeds, warnings } = branchFeeds(model, [{ lora, weight }], false, 'tiny-xl', 'sdxl');
    expect(warnings, part).toEqual([]);
    const withLora = await runGraph(files[part].branched, feeds[PART_OF[part]]);
    const plain = builderFor(part, false);
    const random = new RandomWeights(plain.params.values(), SEED);
    const source: WeightSource = {
      label: 'merged',
      shape: (name) => random.shape(name),
      read: (name) => {
        const w = random.read(name);
        const delta = deltas.get(name);
        if (delta) for (let i = 0; i < w.length; i++) w[i] += weight * delta[i]!;
        return w;
      },
    };
    const mergedFile = path.join(root, `${part}-merged.onnx`);
    writeGraph(mergedFile, part, plain, source);
    const reference = await runGraph(mergedFile);
    const scale = Math.max(1, ...Array.from(reference, Math.abs));
    expect(maxDiff(withLora, files[part].base), `${part}: the LoRA changes the output`).toBeGreaterThan(1e-3 * scale);
    expect(maxDiff(withLora, reference), `${part}: W + weight · scale · ΔW`).toBeLessThan(2e-5 * scale);
  }

  it('te1 and te2: kohya lora_te1_ / lora_te2_ and PEFT text_encoder / text_encoder_2 modules equal their merged weights', async () => {
    // Encoder 1 (32 wide): q_proj by kohya name (alpha 1, rank 2), fc1 by PEFT name (no alpha: scale 1).
    const q1 = { down: tensor([2, 32], 1), up: tensor([32, 2], 2) };
    const fc1 = { down: tensor([3, 32], 3), up: tensor([64, 3], 4) };
    // Encoder 2 (48 wide): out_proj by kohya name (alpha 4, rank 2), fc2 by PEFT name, and its last
    // layer's fc1 (which only the pooled text_embeds read).
    const out2 = { down: tensor([2, 48], 5), up: tensor([48, 2], 6) };
    const fc2 = { down: tensor([2, 96], 7), up: tensor([48, 2], 8) };
    const last2 = { down: tensor([2, 48], 9), up: tensor([96, 2], 10) };
    // Encoder 1's last layer: SDXL reads its penultimate states, so the layer is not computed and a
    // LoRA's modules there change nothing (kohya trains them; no warning).
    const last1 = { down: tensor([2, 32], 11), up: tensor([32, 2], 12) };
    const lora = await readLora(
      writeLora('tiny_te', {
        'lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight': q1.down,
        'lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight': q1.up,
        'lora_te1_text_model_encoder_layers_0_self_attn_q_proj.alpha': scalar(1),
        'text_encoder.text_model.encoder.layers.1.mlp.fc1.lora_A.weight': fc1.down,
        'text_encoder.text_model.encoder.layers.1.mlp.fc1.lora_B.weight': fc1.up,
        'lora_te2_text_model_encoder_layers_1_self_attn_out_proj.lora_down.weight': out2.down,
        'lora_te2_text_model_encoder_layers_1_self_attn_out_proj.lora_up.weight': out2.up,
        'lora_te2_text_model_encoder_layers_1_self_attn_out_proj.alpha': scalar(4),
        'text_encoder_2.text_model.encoder.layers.0.mlp.fc2.lora_A.weight': fc2.down,
        'text_encoder_2.text_model.encoder.layers.0.mlp.fc2.lora_B.weight': fc2.up,
        'lora_te2_text_model_encoder_layers_2_mlp_fc1.lora_down.weight': last2.down,
        'lora_te2_text_model_encoder_layers_2_mlp_fc1.lora_up.weight': last2.up,
        'lora_te1_text_model_encoder_layers_2_self_attn_q_proj.lora_down.weight': last1.down,
        'lora_te1_text_model_encoder_layers_2_self_attn_q_proj.lora_up.weight': last1.up,
      }),
    );
    expect(lora.family?.name).toBe('SDXL');
    expect(branches.te1.some((b) => b.module.startsWith('text_model.encoder.layers.2.'))).toBe(false);
    await compare(
      'te1',
      lora,
      0.8,
      new Map([
        ['text_model.encoder.layers.0.self_attn.q_proj.weight', matmul(q1.up, q1.down).map((v) => v * 0.5)],
        ['text_model.encoder.layers.1.mlp.fc1.weight', matmul(fc1.up, fc1.down)],
      ]),
    );
    await compare(
      'te2',
      lora,
      0.8,
      new Map([
        ['text_model.encoder.layers.1.self_attn.out_proj.weight', matmul(out2.up, out2.down).map((v) => v * 2)],
        ['text_model.encoder.layers.0.mlp.fc2.weight', matmul(fc2.up, fc2.down)],
        ['text_model.encoder.layers.2.mlp.fc1.weight', matmul(last2.up, last2.down)],
      ]),
    );
  });

  it('the UNet: kohya diffusers-style and SDXL LDM-style, ComfyUI dotted and PEFT names of the same modules equal the merged weights', async () => {
    // [diffusers module, its SDXL LDM name, in, out, kernel]
    const layers: [string, string, number, number, number][] = [
      ['down_blocks.1.attentions.0.transformer_blocks.1.attn1.to_q', 'input_blocks.4.1.transformer_blocks.1.attn1.to_q', 64, 64, 1],
      ['mid_block.attentions.0.transformer_blocks.1.attn2.to_k', 'middle_block.1.transformer_blocks.1.attn2.to_k', 80, 64, 1],
      ['up_blocks.0.attentions.2.proj_out', 'output_blocks.2.1.proj_out', 64, 64, 1],
      ['up_blocks.0.attentions.1.transformer_blocks.0.ff.net.2', 'output_blocks.1.1.transformer_blocks.0.ff.net.2', 256, 64, 1],
      ['down_blocks.0.resnets.1.conv1', 'input_blocks.2.0.in_layers.2', 32, 32, 3],
      ['down_blocks.1.resnets.0.conv_shortcut', 'input_blocks.4.0.skip_connection', 32, 64, 1],
      ['down_blocks.0.downsamplers.0.conv', 'input_blocks.3.0.op', 32, 32, 3],
      ['up_blocks.0.upsamplers.0.conv', 'output_blocks.2.2.conv', 64, 64, 3],
      ['up_blocks.1.resnets.2.time_emb_proj', 'output_blocks.5.0.emb_layers.1', 128, 32, 1],
      ['mid_block.resnets.1.conv2', 'middle_block.2.out_layers.3', 64, 64, 3],
      ['time_embedding.linear_1', 'time_embed.0', 32, 128, 1],
      ['add_embedding.linear_1', 'label_emb.0.0', 80, 128, 1],
      ['add_embedding.linear_2', 'label_emb.0.2', 128, 128, 1],
      ['conv_out', 'out.2', 32, 4, 3],
    ];
    const styles = { diffusers: {}, ldm: {}, dotted: {}, peft: {} } as Record<'diffusers' | 'ldm' | 'dotted' | 'peft', Record<string, T>>;
    const deltas = new Map<string, Float32Array>();
    layers.forEach(([name, ldm, inDim, outDim, k], i) => {
      const down = tensor(k === 1 ? [2, inDim] : [2, inDim, k, k], 20 + i, 0.2);
      const up = tensor(k === 1 ? [outDim, 2] : [outDim, 2, 1, 1], 40 + i, 0.2);
      const alpha = scalar(3); // scale 3 / 2
      deltas.set(
        `${name}.weight`,
        matmul(up, down).map((v) => v * 1.5),
      );
      for (const [style, key, [d, u]] of [
        ['diffusers', `lora_unet_${kohya(name)}`, ['lora_down.weight', 'lora_up.weight']],
        ['ldm', `lora_unet_${kohya(ldm)}`, ['lora_down.weight', 'lora_up.weight']],
        ['dotted', `diffusion_model.${ldm}`, ['lora_down.weight', 'lora_up.weight']],
        ['peft', `unet.${name}`, ['lora_A.weight', 'lora_B.weight']],
      ] as const) {
        styles[style][`${key}.${d}`] = down;
        styles[style][`${key}.${u}`] = up;
        styles[style][`${key}.alpha`] = alpha;
      }
    });
    let reference: Record<string, Feed> | null = null;
    for (const [style, tensors] of Object.entries(styles)) {
      const lora = await readLora(writeLora(`tiny_unet_${style}`, tensors));
      expect([...lora.unknownKeys], style).toEqual([]);
      expect(lora.family?.name, style).toBe('SDXL'); // transformer_blocks.1 (a depth SD 1.x never has), label_emb
      const { feeds } = branchFeeds(
        { textEncoder: branches.te1, textEncoder2: branches.te2, unet: branches.unet },
        [{ lora, weight: 0.7 }],
        false,
        'tiny-xl',
        'sdxl',
      );
      // Every naming makes the same feeds, factor for factor.
      if (!reference) reference = feeds.unet;
      else
        for (const [name, feed] of Object.entries(reference))
          expect(Array.from(feeds.unet[name]!.data), `${style} ${name}`).toEqual(Array.from(feed.data));
    }
    await compare('unet', await readLora(path.join(loraDir, 'tiny_unet_ldm.safetensors')), 0.7, deltas);
  });

  it('LoHa on encoder 2, LoKr on the UNet and a full diff on encoder 1, as for SD 1.5', async () => {
    const h = { w1a: tensor([48, 2], 1), w1b: tensor([2, 48], 2), w2a: tensor([48, 2], 3), w2b: tensor([2, 48], 4) };
    // to_k of the mid block: 64 × 80 = kron([4, 8], [16, 10]).
    const k = { w1: tensor([4, 8], 5, 0.3), w2: tensor([16, 10], 6, 0.3) };
    const diff = tensor([32, 32], 7, 0.1);
    const lora = await readLora(
      writeLora('tiny_formats', {
        'lora_te2_text_model_encoder_layers_0_self_attn_v_proj.hada_w1_a': h.w1a,
        'lora_te2_text_model_encoder_layers_0_self_attn_v_proj.hada_w1_b': h.w1b,
        'lora_te2_text_model_encoder_layers_0_self_attn_v_proj.hada_w2_a': h.w2a,
        'lora_te2_text_model_encoder_layers_0_self_attn_v_proj.hada_w2_b': h.w2b,
        'lora_te2_text_model_encoder_layers_0_self_attn_v_proj.alpha': scalar(1),
        'lora_unet_middle_block_1_transformer_blocks_0_attn2_to_k.lokr_w1': k.w1,
        'lora_unet_middle_block_1_transformer_blocks_0_attn2_to_k.lokr_w2': k.w2,
        'lora_te1_text_model_encoder_layers_1_self_attn_k_proj.diff': diff,
      }),
    );
    expect([...lora.modules.values()].map((m) => m.type).sort()).toEqual(['LoHa', 'LoKr', 'full']);
    const loha = matmul(h.w1a, h.w1b).map((v, i) => v * matmul(h.w2a, h.w2b)[i]! * 0.5);
    await compare('te2', lora, 0.9, new Map([['text_model.encoder.layers.0.self_attn.v_proj.weight', loha]]));
    await compare('unet', lora, 0.9, new Map([['mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight', kronRef(k.w1, k.w2)]]));
    await compare('te1', lora, 0.9, new Map([['text_model.encoder.layers.1.self_attn.k_proj.weight', diff.data]]));
  });
});
