/**
 * Architectures of Stable Diffusion's parts, in the fields of diffusers' and transformers'
 * `config.json` (`UNet2DConditionModel`, `AutoencoderKL`, `CLIPTextModel`), with SD 1.5's and
 * SD 2.x's values, read from a config file or inferred from the weights' shapes.
 */

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
}

export interface VaeConfig {
  in_channels: number;
  out_channels: number;
  latent_channels: number;
  block_out_channels: number[];
  layers_per_block: number;
  norm_num_groups: number;
  scaling_factor: number;
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
}

export interface SdConfig {
  unet: UnetConfig;
  vae: VaeConfig;
  textEncoder: TextEncoderConfig;
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
  },
  vae: {
    in_channels: 3,
    out_channels: 3,
    latent_channels: 4,
    block_out_channels: [128, 256, 512, 512],
    layers_per_block: 2,
    norm_num_groups: 32,
    scaling_factor: 0.18215,
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

/** A config file's fields over the defaults; unknown fields are ignored, wrong types named. */
export function mergeConfig<T extends object>(defaults: T, raw: Record<string, unknown>, file: string): T {
  const out = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(defaults as Record<string, unknown>)) {
    if (!(key in raw) || raw[key] === null || raw[key] === undefined) continue;
    const given = raw[key];
    const either = SCALAR_OR_LIST.has(key);
    const ok = Array.isArray(value)
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
  return {
    ...SD15.unet,
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
  };
}
