/**
 * Architectures of Stable Diffusion's parts, in the fields of diffusers' and transformers'
 * `config.json` (`UNet2DConditionModel`, `AutoencoderKL`, `CLIPTextModel`), with SD 1.5's and
 * SD 2.x's values, read from a config file or inferred from the weights' shapes.
 */
import type { ModelFamily } from '../../common/index.js';

export interface UnetConfig {
  in_channels: number;
  out_channels: number;
  block_out_channels: number[];
  down_block_types: string[];
  up_block_types: string[];
  layers_per_block: number;
  /** diffusers' historical name: for SD 1.x/2.x this is the number of heads per block (an int or one per block). */
  attention_head_dim: number | number[];
  /** When set, the number of heads per block (takes precedence over attention_head_dim). */
  num_attention_heads?: number | number[] | null;
  cross_attention_dim: number;
  use_linear_projection: boolean;
  norm_num_groups: number;
  norm_eps: number;
  upcast_attention: boolean;
  flip_sin_to_cos: boolean;
  freq_shift: number;
  transformer_layers_per_block: number | number[];
  /** SDXL: "text_time" adds the pooled text embedding and the size/crop micro-conditioning to the time embedding. */
  addition_embed_type: 'text_time' | null;
  /** Width of each time id's sinusoidal embedding (256 for SDXL). */
  addition_time_embed_dim: number;
  /** Input width of add_embedding: pooled text width + 6 · addition_time_embed_dim (2816 for SDXL). */
  projection_class_embeddings_input_dim: number;
}

export interface VaeConfig {
  in_channels: number;
  out_channels: number;
  latent_channels: number;
  block_out_channels: number[];
  layers_per_block: number;
  norm_num_groups: number;
  scaling_factor: number;
  /** Decode in float32 even when the model runs in float16 (SDXL's VAE overflows in float16; diffusers' `force_upcast`). */
  force_upcast: boolean;
}

export interface TextEncoderConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  max_position_embeddings: number;
  hidden_act: 'quick_gelu' | 'gelu';
  layer_norm_eps: number;
  /**
   * Which hidden state conditions the UNet: `last` (after every layer and the final layer norm: SD
   * 1.x, and SD 2.x whose importer keeps 23 of 24 layers) or `penultimate` (transformers'
   * hidden_states[-2], before the last layer, without the final layer norm: both SDXL encoders).
   */
  layer: 'last' | 'penultimate';
  /** With a projection (SDXL's second encoder, CLIPTextModelWithProjection): the pooled `text_embeds` width. */
  projection_dim: number | null;
}

export interface SdConfig {
  unet: UnetConfig;
  vae: VaeConfig;
  textEncoder: TextEncoderConfig;
  /** SDXL's second text encoder (OpenCLIP ViT-bigG/14 with its projection). */
  textEncoder2?: TextEncoderConfig;
}

export const SD15: SdConfig = {
  unet: {
    in_channels: 4,
    out_channels: 4,
    block_out_channels: [320, 640, 1280, 1280],
    down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
    up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
    layers_per_block: 2,
    attention_head_dim: 8,
    cross_attention_dim: 768,
    use_linear_projection: false,
    norm_num_groups: 32,
    norm_eps: 1e-5,
    upcast_attention: false,
    flip_sin_to_cos: true,
    freq_shift: 0,
    transformer_layers_per_block: 1,
    addition_embed_type: null,
    addition_time_embed_dim: 256,
    projection_class_embeddings_input_dim: 2816,
  },
  vae: {
    in_channels: 3,
    out_channels: 3,
    latent_channels: 4,
    block_out_channels: [128, 256, 512, 512],
    layers_per_block: 2,
    norm_num_groups: 32,
    scaling_factor: 0.18215,
    force_upcast: false,
  },
  textEncoder: {
    vocab_size: 49408,
    hidden_size: 768,
    intermediate_size: 3072,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    max_position_embeddings: 77,
    hidden_act: 'quick_gelu',
    layer_norm_eps: 1e-5,
    layer: 'last',
    projection_dim: null,
  },
};

export const SD21: SdConfig = {
  unet: {
    ...SD15.unet,
    attention_head_dim: [5, 10, 20, 20],
    cross_attention_dim: 1024,
    use_linear_projection: true,
    upcast_attention: true,
  },
  vae: SD15.vae,
  textEncoder: {
    ...SD15.textEncoder,
    hidden_size: 1024,
    intermediate_size: 4096,
    num_hidden_layers: 23,
    num_attention_heads: 16,
    hidden_act: 'gelu',
  },
};

/**
 * SDXL base (stabilityai/stable-diffusion-xl-base-1.0's configs): a three-level UNet with 10-deep
 * transformers at the lowest level, 2048-wide text (CLIP ViT-L's 768 + OpenCLIP bigG's 1280, both
 * penultimate), the "text_time" embedding, and a VAE of SD's shape with scaling 0.13025.
 */
export const SDXL: SdConfig = {
  unet: {
    ...SD15.unet,
    block_out_channels: [320, 640, 1280],
    down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
    up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
    attention_head_dim: [5, 10, 20],
    cross_attention_dim: 2048,
    use_linear_projection: true,
    transformer_layers_per_block: [1, 2, 10],
    addition_embed_type: 'text_time',
    addition_time_embed_dim: 256,
    projection_class_embeddings_input_dim: 2816,
  },
  vae: { ...SD15.vae, scaling_factor: 0.13025, force_upcast: true },
  textEncoder: { ...SD15.textEncoder, layer: 'penultimate' },
  textEncoder2: {
    ...SD15.textEncoder,
    hidden_size: 1280,
    intermediate_size: 5120,
    num_hidden_layers: 32,
    num_attention_heads: 20,
    hidden_act: 'gelu',
    layer: 'penultimate',
    projection_dim: 1280,
  },
};

/**
 * A text encoder's transformers `config.json` (the pipeline's `layer` left out; `projection_dim`,
 * and CLIPTextModelWithProjection, only with a projection), as the importer and the test models write it.
 */
export function textEncoderConfigFile(c: TextEncoderConfig): Record<string, unknown> {
  const { layer: _layer, projection_dim, ...rest } = c;
  return {
    architectures: [projection_dim !== null ? 'CLIPTextModelWithProjection' : 'CLIPTextModel'],
    model_type: 'clip_text_model',
    ...rest,
    ...(projection_dim !== null ? { projection_dim } : {}),
    bos_token_id: 0,
    eos_token_id: 2,
    torch_dtype: 'float32',
  };
}

/**
 * A model's family from its UNet's config (a `config.json`'s fields or a built config): SDXL by its
 * "text_time" embedding or a second text encoder, SD 2.x by 1024-wide text, SD 1.x by 768-wide;
 * null when it says neither (a toy architecture).
 */
export function modelFamily(
  unet: { addition_embed_type?: unknown; cross_attention_dim?: unknown },
  secondEncoder = false,
): ModelFamily | null {
  if (unet.addition_embed_type === 'text_time' || secondEncoder) return 'sdxl';
  if (unet.cross_attention_dim === 1024) return 'sd2';
  return unet.cross_attention_dim === 768 ? 'sd1' : null;
}

/** Heads per down block (up blocks use them reversed). */
export function unetHeads(config: UnetConfig): number[] {
  const n = config.block_out_channels.length;
  const value = config.num_attention_heads ?? config.attention_head_dim;
  return Array.isArray(value) ? value : new Array<number>(n).fill(value);
}

export function perBlock(value: number | number[], n: number): number[] {
  return Array.isArray(value) ? value : new Array<number>(n).fill(value);
}

/** Fields diffusers accepts as one value for every block or a list with one per block. */
const SCALAR_OR_LIST = new Set(['attention_head_dim', 'num_attention_heads', 'transformer_layers_per_block']);

/**
 * Fields told by the weights, never by a config file: transformers writes `projection_dim` into
 * every CLIP text config (768 for SD 1.5's, which has no projection); `layer` is the pipeline's.
 */
const FROM_WEIGHTS = new Set(['projection_dim', 'layer']);

/** A config file's fields over the defaults; unknown fields are ignored, wrong types named. */
export function mergeConfig<T extends object>(defaults: T, raw: Record<string, unknown>, file: string): T {
  const out = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(defaults as Record<string, unknown>)) {
    if (!(key in raw) || raw[key] === null || raw[key] === undefined || FROM_WEIGHTS.has(key)) continue;
    const given = raw[key];
    const either = SCALAR_OR_LIST.has(key);
    const ok =
      value === null
        ? typeof given === 'string' || typeof given === 'number'
        : Array.isArray(value)
          ? Array.isArray(given) || (either && typeof given === 'number')
          : typeof value === 'number'
            ? typeof given === 'number' || (either && Array.isArray(given))
            : typeof given === typeof value;
    if (!ok) throw new Error(`${file}: "${key}" should be ${Array.isArray(value) ? 'a list' : typeof value}, not ${JSON.stringify(given)}`);
    out[key] = given;
  }
  if ('num_attention_heads' in raw && raw.num_attention_heads !== null && raw.num_attention_heads !== undefined)
    out.num_attention_heads = raw.num_attention_heads;
  return out as T;
}

/** Shapes of named weights, for inferring an architecture. */
export type ShapeOf = (name: string) => number[] | undefined;

function count(shape: ShapeOf, prefix: (i: number) => string): number {
  let n = 0;
  while (shape(prefix(n))) n++;
  return n;
}

/** The UNet's architecture from its weights, with SD's fixed conventions (32 groups; SD 1.x 8 heads, SD 2.x 64-channel heads). */
export function inferUnet(shape: ShapeOf): UnetConfig {
  const convIn = shape('conv_in.weight');
  if (!convIn) throw new Error('no conv_in.weight: not a UNet');
  const blocks = count(shape, (i) => `down_blocks.${i}.resnets.0.conv1.weight`);
  const channels = Array.from({ length: blocks }, (_, i) => shape(`down_blocks.${i}.resnets.0.conv1.weight`)![0]!);
  const layers = count(shape, (i) => `down_blocks.0.resnets.${i}.conv1.weight`);
  const attnDown = Array.from({ length: blocks }, (_, i) => shape(`down_blocks.${i}.attentions.0.proj_in.weight`) !== undefined);
  const attnUp = Array.from({ length: blocks }, (_, i) => shape(`up_blocks.${i}.attentions.0.proj_in.weight`) !== undefined);
  const firstAttn = attnDown.findIndex(Boolean);
  const prefix = firstAttn >= 0 ? `down_blocks.${firstAttn}.attentions.0` : 'mid_block.attentions.0';
  const crossShape = shape(`${prefix}.transformer_blocks.0.attn2.to_k.weight`);
  if (!crossShape) throw new Error(`no ${prefix}.transformer_blocks.0.attn2.to_k.weight: not an SD UNet`);
  const cross = crossShape[1]!;
  const linear = shape(`${prefix}.proj_in.weight`)!.length === 2;
  const depth = Array.from({ length: blocks }, (_, i) =>
    attnDown[i] ? count(shape, (t) => `down_blocks.${i}.attentions.0.transformer_blocks.${t}.norm1.weight`) : 1,
  );
  // SD 1.x (768-wide text) uses 8 heads everywhere; SD 2.x uses heads of 64 channels.
  const heads = cross === 768 ? channels.map(() => 8) : channels.map((c) => Math.max(1, Math.round(c / 64)));
  const addition = shape('add_embedding.linear_1.weight');
  return {
    ...SD15.unet,
    ...(addition ? { addition_embed_type: 'text_time' as const, projection_class_embeddings_input_dim: addition[1]! } : {}),
    in_channels: convIn[1]!,
    out_channels: shape('conv_out.weight')?.[0] ?? 4,
    block_out_channels: channels,
    down_block_types: attnDown.map((a) => (a ? 'CrossAttnDownBlock2D' : 'DownBlock2D')),
    up_block_types: attnUp.map((a) => (a ? 'CrossAttnUpBlock2D' : 'UpBlock2D')),
    layers_per_block: layers,
    attention_head_dim: heads,
    cross_attention_dim: cross,
    use_linear_projection: linear,
    upcast_attention: false,
    transformer_layers_per_block: depth.every((d) => d === depth[0]) ? depth[0]! : depth,
  };
}

export function inferVae(shape: ShapeOf): VaeConfig {
  const post = shape('post_quant_conv.weight') ?? shape('quant_conv.weight');
  if (!post) throw new Error('no post_quant_conv.weight: not a VAE');
  const side = shape('decoder.up_blocks.0.resnets.0.conv1.weight') ? 'decoder' : 'encoder';
  const blocks =
    side === 'decoder'
      ? count(shape, (i) => `decoder.up_blocks.${i}.resnets.0.conv1.weight`)
      : count(shape, (i) => `encoder.down_blocks.${i}.resnets.0.conv1.weight`);
  const channels =
    side === 'decoder'
      ? Array.from({ length: blocks }, (_, i) => shape(`decoder.up_blocks.${blocks - 1 - i}.resnets.0.conv2.weight`)![0]!)
      : Array.from({ length: blocks }, (_, i) => shape(`encoder.down_blocks.${i}.resnets.0.conv2.weight`)![0]!);
  const layers =
    side === 'decoder'
      ? count(shape, (i) => `decoder.up_blocks.0.resnets.${i}.conv1.weight`) - 1
      : count(shape, (i) => `encoder.down_blocks.0.resnets.${i}.conv1.weight`);
  return {
    ...SD15.vae,
    latent_channels: shape('post_quant_conv.weight')?.[0] ?? shape('quant_conv.weight')![0]! / 2,
    block_out_channels: channels,
    layers_per_block: layers,
    out_channels: shape('decoder.conv_out.weight')?.[0] ?? 3,
    in_channels: shape('encoder.conv_in.weight')?.[1] ?? 3,
  };
}

export function inferTextEncoder(shape: ShapeOf): TextEncoderConfig {
  const tokens = shape('text_model.embeddings.token_embedding.weight');
  if (!tokens) throw new Error('no text_model.embeddings.token_embedding.weight: not a CLIP text encoder');
  const hidden = tokens[1]!;
  const projection = shape('text_projection.weight');
  return {
    vocab_size: tokens[0]!,
    hidden_size: hidden,
    intermediate_size: shape('text_model.encoder.layers.0.mlp.fc1.weight')?.[0] ?? hidden * 4,
    num_hidden_layers: count(shape, (i) => `text_model.encoder.layers.${i}.layer_norm1.weight`),
    num_attention_heads: Math.max(1, Math.round(hidden / 64)),
    max_position_embeddings: shape('text_model.embeddings.position_embedding.weight')?.[0] ?? 77,
    // OpenAI CLIP (SD 1.x) uses QuickGELU; OpenCLIP (SD 2.x) uses GELU.
    hidden_act: hidden === 768 ? 'quick_gelu' : 'gelu',
    layer_norm_eps: 1e-5,
    layer: 'last',
    projection_dim: projection ? projection[0]! : null,
  };
}

/**
 * The conventions that follow from the whole model once every part's config is known. An SDXL UNet
 * ("text_time") conditions on the penultimate layer of both encoders; its time ids' embedding width
 * is what add_embedding's input leaves after the pooled text (256 for SDXL); its VAE scales latents
 * by 0.13025 unless its config.json says otherwise, and decodes in float32 under float16 unless
 * the config says `"force_upcast": false` (diffusers' default is true; the fp16-fix VAE says false).
 * `vaeFile`: the VAE's config.json as written (null: none, the config came from the weights).
 */
export function settleConfig(config: SdConfig, vaeFile: Record<string, unknown> | null): SdConfig {
  if (config.unet.addition_embed_type !== 'text_time') return config;
  const second = config.textEncoder2;
  if (!second?.projection_dim) throw new Error('an SDXL UNet ("text_time") needs a second text encoder with a projection (text_encoder_2)');
  const timeWidth = (config.unet.projection_class_embeddings_input_dim - second.projection_dim) / 6;
  if (!Number.isInteger(timeWidth) || timeWidth <= 0 || timeWidth % 2 !== 0)
    throw new Error(
      `add_embedding takes ${config.unet.projection_class_embeddings_input_dim} values, which is not the pooled text (${second.projection_dim}) and six time ids`,
    );
  return {
    ...config,
    unet: { ...config.unet, addition_time_embed_dim: timeWidth },
    vae: {
      ...config.vae,
      scaling_factor: typeof vaeFile?.scaling_factor === 'number' ? vaeFile.scaling_factor : SDXL.vae.scaling_factor,
      force_upcast: vaeFile?.force_upcast !== false,
    },
    textEncoder: { ...config.textEncoder, layer: 'penultimate' },
    textEncoder2: { ...second, layer: 'penultimate' },
  };
}
