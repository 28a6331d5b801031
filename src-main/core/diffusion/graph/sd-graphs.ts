/**
 * Stable Diffusion 1.x/2.x as ONNX graphs, written from a config the way diffusers and
 * transformers compute them (CLIPTextModel, UNet2DConditionModel, AutoencoderKL), with parameters
 * named by their diffusers names. Op for op where it matters: GroupNorm eps (1e-5 in the UNet's
 * resnets, 1e-6 in its transformers and everywhere in the VAE), GEGLU with erf GELU, QuickGELU in
 * OpenAI CLIP, sinusoidal timesteps with `flip_sin_to_cos`, nearest ×2 upsampling, the VAE
 * encoder's asymmetric (0, 1, 0, 1) padding before its stride-2 convolutions.
 */
import { FLOAT, INT32, INT64 } from '../../util/index.js';
import { perBlock, unetHeads, type TextEncoderConfig, type UnetConfig, type VaeConfig } from './configs.js';
import { GraphBuilder, type BuildOptions } from './graph-builder.js';

export type SdPart = 'text_encoder' | 'text_encoder_2' | 'unet' | 'vae_decoder' | 'vae_encoder';

/**
 * CLIP text encoder: input_ids [batch, sequence] → `last_hidden_state` [batch, sequence, hidden]
 * (after the final layer norm), or for `layer: 'penultimate'` `hidden_states` (the second-to-last
 * layer's output, transformers' hidden_states[-2], no final layer norm). With a projection
 * (CLIPTextModelWithProjection) also `text_embeds` [batch, projection]: the final layer norm of the
 * last layer's output at the end-of-text token (the largest id, as transformers takes argmax), times
 * text_projection.
 */
export function buildTextEncoder(c: TextEncoderConfig, options: BuildOptions): GraphBuilder {
  const b = new GraphBuilder(options);
  const D = c.hidden_size;
  const heads = c.num_attention_heads;
  const ids = b.input('input_ids', b.exportStyle ? INT64 : INT32, ['batch', 'sequence']);
  let h = b.op(
    'Gather',
    [b.param('text_model.embeddings.token_embedding.weight', [c.vocab_size, D]), ids],
    {},
    '/text_model/embeddings/token_embedding/Gather',
  );
  const seq = b.op('Gather', [b.op('Shape', [ids]), b.int64([1])]);
  const positions = b.op('Slice', [
    b.param('text_model.embeddings.position_embedding.weight', [c.max_position_embeddings, D]),
    b.int64([0]),
    seq,
    b.int64([0]),
  ]);
  h = b.op('Add', [h, positions], {}, '/text_model/embeddings/Add');
  // Causal mask: token i sees tokens 0..i.
  const P = c.max_position_embeddings;
  const lowest = options.precision === 'float16' ? -65504 : -3.4028234663852886e38;
  const maskValues = new Float32Array(P * P);
  for (let i = 0; i < P; i++) for (let j = i + 1; j < P; j++) maskValues[i * P + j] = lowest;
  const seq2 = b.op('Concat', [seq, seq], { axis: 0 });
  const mask = b.op('Slice', [b.float(maskValues, [P, P]), b.int64([0, 0]), seq2, b.int64([0, 1])]);
  const penultimate = c.layer === 'penultimate';
  const projection = c.projection_dim ?? null;
  // The penultimate state alone needs one layer less.
  const layers = penultimate && projection === null ? c.num_hidden_layers - 1 : c.num_hidden_layers;
  for (let l = 0; l < layers; l++) {
    if (penultimate && l === c.num_hidden_layers - 1) b.output(h, 'hidden_states', b.floatType, ['batch', 'sequence', D]);
    const m = `text_model.encoder.layers.${l}`;
    let x = b.layerNorm(h, `${m}.layer_norm1`, D, c.layer_norm_eps);
    const q = b.linear(x, `${m}.self_attn.q_proj`, D, D, { lora: true });
    const k = b.linear(x, `${m}.self_attn.k_proj`, D, D, { lora: true });
    const v = b.linear(x, `${m}.self_attn.v_proj`, D, D, { lora: true });
    const a = b.attention(q, k, v, heads, D / heads, `${m}.self_attn`, mask);
    h = b.op('Add', [h, b.linear(a, `${m}.self_attn.out_proj`, D, D, { lora: true })]);
    x = b.layerNorm(h, `${m}.layer_norm2`, D, c.layer_norm_eps);
    x = b.linear(x, `${m}.mlp.fc1`, D, c.intermediate_size, { lora: true });
    x = c.hidden_act === 'quick_gelu' ? b.quickGelu(x) : b.gelu(x);
    h = b.op('Add', [h, b.linear(x, `${m}.mlp.fc2`, c.intermediate_size, D, { lora: true })]);
  }
  if (penultimate && layers === c.num_hidden_layers - 1) b.output(h, 'hidden_states', b.floatType, ['batch', 'sequence', D]);
  if (!penultimate || projection !== null) h = b.layerNorm(h, 'text_model.final_layer_norm', D, c.layer_norm_eps);
  if (!penultimate) b.output(h, 'last_hidden_state', b.floatType, ['batch', 'sequence', D]);
  if (projection !== null) {
    // The end-of-text token's state: the position of the largest id in each row.
    // (ids as floats: exact below 2²⁴; ArgMax keeps the first of equal values, as torch.argmax.)
    const eos = b.op('ArgMax', [b.op('Cast', [ids], { to: FLOAT })], { axis: 1, keepdims: 1 });
    const rows = b.op('Gather', [b.op('Shape', [ids]), b.int64([0])]);
    const index = b.op('Expand', [b.op('Unsqueeze', [eos, b.int64([2])]), b.op('Concat', [rows, b.int64([1, D])], { axis: 0 })]);
    const pooled = b.op('Reshape', [b.op('GatherElements', [h, index], { axis: 1 }), b.int64([-1, D])]);
    const projected = b.linear(pooled, 'text_projection', D, projection, { bias: false });
    b.output(projected, 'text_embeds', b.floatType, ['batch', projection]);
  }
  return b;
}

/**
 * ResnetBlock2D: GroupNorm → SiLU → conv → (+ time) → GroupNorm → SiLU → conv, plus the (1×1)
 * shortcut. The UNet's (those with a time embedding) carry LoRA branches on every convolution and
 * on time_emb_proj, the layers LoCon trains.
 */
function resnet(
  b: GraphBuilder,
  x: string,
  m: string,
  inC: number,
  outC: number,
  groups: number,
  eps: number,
  temb: { act: string; dim: number } | null,
): string {
  const lora = temb !== null;
  let h = b.conv(b.silu(b.groupNorm(x, `${m}.norm1`, inC, groups, eps)), `${m}.conv1`, inC, outC, 3, { lora });
  if (temb) {
    const t = b.linear(temb.act, `${m}.time_emb_proj`, temb.dim, outC, { lora });
    h = b.op('Add', [h, b.op('Unsqueeze', [t, b.int64([2, 3])])]);
  }
  h = b.conv(b.silu(b.groupNorm(h, `${m}.norm2`, outC, groups, eps)), `${m}.conv2`, outC, outC, 3, { lora });
  const shortcut = inC === outC ? x : b.conv(x, `${m}.conv_shortcut`, inC, outC, 1, { lora });
  return b.op('Add', [shortcut, h]);
}

/** Transformer2DModel with BasicTransformerBlocks (self-attention, cross-attention, GEGLU feed-forward). */
function transformer(
  b: GraphBuilder,
  x: string,
  m: string,
  C: number,
  heads: number,
  depth: number,
  context: string,
  c: UnetConfig,
): string {
  const projDims = c.use_linear_projection ? [C, C] : [C, C, 1, 1];
  const normed = b.groupNorm(x, `${m}.norm`, C, c.norm_num_groups, 1e-6);
  // SD 1.x's projections are 1×1 convolutions: the same as a linear layer over the tokens, which
  // is how Onbrand's graphs compute them (one form for LoRA); an export keeps the convolution.
  const convProjection = !c.use_linear_projection && b.exportStyle;
  let h = convProjection
    ? b.toTokens(b.conv(normed, `${m}.proj_in`, C, C, 1), C)
    : b.linear(b.toTokens(normed, C), `${m}.proj_in`, C, C, { lora: true, torchDims: projDims });
  const headDim = C / heads;
  for (let d = 0; d < depth; d++) {
    const t = `${m}.transformer_blocks.${d}`;
    let n = b.layerNorm(h, `${t}.norm1`, C, 1e-5);
    let a = b.attention(
      b.linear(n, `${t}.attn1.to_q`, C, C, { bias: false, lora: true }),
      b.linear(n, `${t}.attn1.to_k`, C, C, { bias: false, lora: true }),
      b.linear(n, `${t}.attn1.to_v`, C, C, { bias: false, lora: true }),
      heads,
      headDim,
      `${t}.attn1`,
    );
    h = b.op('Add', [b.linear(a, `${t}.attn1.to_out.0`, C, C, { lora: true }), h]);
    n = b.layerNorm(h, `${t}.norm2`, C, 1e-5);
    a = b.attention(
      b.linear(n, `${t}.attn2.to_q`, C, C, { bias: false, lora: true }),
      b.linear(context, `${t}.attn2.to_k`, c.cross_attention_dim, C, { bias: false, lora: true }),
      b.linear(context, `${t}.attn2.to_v`, c.cross_attention_dim, C, { bias: false, lora: true }),
      heads,
      headDim,
      `${t}.attn2`,
    );
    h = b.op('Add', [b.linear(a, `${t}.attn2.to_out.0`, C, C, { lora: true }), h]);
    n = b.layerNorm(h, `${t}.norm3`, C, 1e-5);
    const inner = 4 * C;
    const projected = b.linear(n, `${t}.ff.net.0.proj`, C, 2 * inner, { lora: true });
    const [hidden, gate] = b.opN('Split', [projected, b.int64([inner, inner])], 2, { axis: -1 }, `${t}/ff/Split`);
    const ff = b.linear(b.op('Mul', [hidden!, b.gelu(gate!)]), `${t}.ff.net.2`, inner, C, { lora: true });
    h = b.op('Add', [ff, h]);
  }
  const out = convProjection
    ? b.conv(b.fromTokens(h, x), `${m}.proj_out`, C, C, 1)
    : b.fromTokens(b.linear(h, `${m}.proj_out`, C, C, { lora: true, torchDims: projDims }), x);
  return b.op('Add', [out, x]);
}

/** UNet2DConditionModel: sample, timestep (float32, one per batch item), encoder_hidden_states → out_sample. */
export function buildUnet(c: UnetConfig, options: BuildOptions): GraphBuilder {
  const b = new GraphBuilder(options);
  const n = c.block_out_channels.length;
  const ch = c.block_out_channels;
  const heads = unetHeads(c);
  const depth = perBlock(c.transformer_layers_per_block, n);
  const groups = c.norm_num_groups;
  const eps = c.norm_eps;
  const sample = b.input('sample', b.floatType, ['batch', c.in_channels, 'height', 'width']);
  const timestep = b.input('timestep', FLOAT, ['batch']);
  const context = b.input('encoder_hidden_states', b.floatType, ['batch', 'sequence', c.cross_attention_dim]);

  // Sinusoidal embedding (diffusers' Timesteps) in float32, then the model's precision: [N] → [N, dim].
  const sinusoidal = (values: string, dim: number, name: string): string => {
    const half = dim / 2;
    const freqs = Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / (half - c.freq_shift)));
    const args = b.op('Mul', [b.op('Unsqueeze', [values, b.int64([1])]), b.float(freqs, [1, half], true)]);
    const [first, second] = c.flip_sin_to_cos ? [b.op('Cos', [args]), b.op('Sin', [args])] : [b.op('Sin', [args]), b.op('Cos', [args])];
    const out = b.op('Concat', [first, second], { axis: 1 }, `/${name}/Concat`);
    return options.precision === 'float16' ? b.op('Cast', [out], { to: b.floatType }) : out;
  };
  const tProj = sinusoidal(timestep, ch[0]!, 'time_proj');
  const timeDim = ch[0]! * 4;
  let temb = b.linear(tProj, 'time_embedding.linear_1', ch[0]!, timeDim, { lora: true });
  temb = b.linear(b.silu(temb), 'time_embedding.linear_2', timeDim, timeDim, { lora: true });
  if (c.addition_embed_type === 'text_time') {
    // SDXL: the pooled text and the six size/crop ids (each embedded like a timestep) through
    // add_embedding, added to the time embedding.
    const inDim = c.projection_class_embeddings_input_dim;
    const textEmbeds = b.input('text_embeds', b.floatType, ['batch', inDim - 6 * c.addition_time_embed_dim]);
    const timeIds = b.input('time_ids', FLOAT, ['batch', 6]);
    const idsProj = sinusoidal(b.op('Reshape', [timeIds, b.int64([-1])]), c.addition_time_embed_dim, 'add_time_proj');
    const rows = b.op('Gather', [b.op('Shape', [timeIds]), b.int64([0])]);
    const timeEmbeds = b.op('Reshape', [idsProj, b.op('Concat', [rows, b.int64([6 * c.addition_time_embed_dim])], { axis: 0 })]);
    let aug = b.op('Concat', [textEmbeds, timeEmbeds], { axis: 1 }, '/add_embedding/Concat');
    aug = b.linear(aug, 'add_embedding.linear_1', inDim, timeDim, { lora: true });
    aug = b.linear(b.silu(aug), 'add_embedding.linear_2', timeDim, timeDim, { lora: true });
    temb = b.op('Add', [temb, aug], {}, '/add_embedding/Add');
  }
  const time = { act: b.silu(temb), dim: timeDim };

  let h = b.conv(sample, 'conv_in', c.in_channels, ch[0]!, 3, { lora: true });
  const skips: { name: string; channels: number }[] = [{ name: h, channels: ch[0]! }];
  let inC = ch[0]!;
  for (let i = 0; i < n; i++) {
    const outC = ch[i]!;
    const attn = c.down_block_types[i]!.startsWith('CrossAttn');
    for (let j = 0; j < c.layers_per_block; j++) {
      h = resnet(b, h, `down_blocks.${i}.resnets.${j}`, inC, outC, groups, eps, time);
      if (attn) h = transformer(b, h, `down_blocks.${i}.attentions.${j}`, outC, heads[i]!, depth[i]!, context, c);
      skips.push({ name: h, channels: outC });
      inC = outC;
    }
    if (i < n - 1) {
      h = b.conv(h, `down_blocks.${i}.downsamplers.0.conv`, outC, outC, 3, { stride: 2, lora: true });
      skips.push({ name: h, channels: outC });
    }
  }
  const last = ch[n - 1]!;
  h = resnet(b, h, 'mid_block.resnets.0', last, last, groups, eps, time);
  h = transformer(b, h, 'mid_block.attentions.0', last, heads[n - 1]!, depth[n - 1]!, context, c);
  h = resnet(b, h, 'mid_block.resnets.1', last, last, groups, eps, time);

  const rev = [...ch].reverse();
  const revHeads = [...heads].reverse();
  const revDepth = [...depth].reverse();
  let prev = rev[0]!;
  for (let i = 0; i < n; i++) {
    const outC = rev[i]!;
    const attn = c.up_block_types[i]!.startsWith('CrossAttn');
    for (let j = 0; j <= c.layers_per_block; j++) {
      const skip = skips.pop()!;
      const resIn = j === 0 ? prev : outC;
      h = b.op('Concat', [h, skip.name], { axis: 1 });
      h = resnet(b, h, `up_blocks.${i}.resnets.${j}`, resIn + skip.channels, outC, groups, eps, time);
      if (attn) h = transformer(b, h, `up_blocks.${i}.attentions.${j}`, outC, revHeads[i]!, revDepth[i]!, context, c);
    }
    if (i < n - 1)
      h = b.conv(b.upsample2x(h, `up_blocks.${i}.upsamplers.0`), `up_blocks.${i}.upsamplers.0.conv`, outC, outC, 3, { lora: true });
    prev = outC;
  }
  h = b.conv(b.silu(b.groupNorm(h, 'conv_norm_out', ch[0]!, groups, eps)), 'conv_out', ch[0]!, c.out_channels, 3, { lora: true });
  b.output(h, 'out_sample', b.floatType, ['batch', c.out_channels, 'height', 'width']);
  return b;
}

/** The VAE's mid-block attention: one head over all pixels, with biases, residual. */
function vaeAttention(b: GraphBuilder, x: string, m: string, C: number, groups: number): string {
  const t = b.toTokens(b.groupNorm(x, `${m}.group_norm`, C, groups, 1e-6), C);
  const a = b.attention(b.linear(t, `${m}.to_q`, C, C), b.linear(t, `${m}.to_k`, C, C), b.linear(t, `${m}.to_v`, C, C), 1, C, m);
  return b.op('Add', [b.fromTokens(b.linear(a, `${m}.to_out.0`, C, C), x), x]);
}

function vaeMid(b: GraphBuilder, h: string, m: string, C: number, groups: number): string {
  h = resnet(b, h, `${m}.resnets.0`, C, C, groups, 1e-6, null);
  h = vaeAttention(b, h, `${m}.attentions.0`, C, groups);
  return resnet(b, h, `${m}.resnets.1`, C, C, groups, 1e-6, null);
}

/** AutoencoderKL decoder: latent_sample (already divided by the scaling factor) → sample in -1..1. */
export function buildVaeDecoder(c: VaeConfig, options: BuildOptions): GraphBuilder {
  const b = new GraphBuilder(options);
  const rev = [...c.block_out_channels].reverse();
  const groups = c.norm_num_groups;
  const L = c.latent_channels;
  const z = b.input('latent_sample', b.floatType, ['batch', L, 'latent_height', 'latent_width']);
  let h = b.conv(b.conv(z, 'post_quant_conv', L, L, 1), 'decoder.conv_in', L, rev[0]!, 3);
  h = vaeMid(b, h, 'decoder.mid_block', rev[0]!, groups);
  let prev = rev[0]!;
  for (let i = 0; i < rev.length; i++) {
    const outC = rev[i]!;
    for (let j = 0; j <= c.layers_per_block; j++)
      h = resnet(b, h, `decoder.up_blocks.${i}.resnets.${j}`, j === 0 ? prev : outC, outC, groups, 1e-6, null);
    if (i < rev.length - 1)
      h = b.conv(b.upsample2x(h, `decoder.up_blocks.${i}.upsamplers.0`), `decoder.up_blocks.${i}.upsamplers.0.conv`, outC, outC, 3);
    prev = outC;
  }
  const lastC = rev[rev.length - 1]!;
  h = b.conv(b.silu(b.groupNorm(h, 'decoder.conv_norm_out', lastC, groups, 1e-6)), 'decoder.conv_out', lastC, c.out_channels, 3);
  b.output(h, 'sample', b.floatType, ['batch', c.out_channels, 'height', 'width']);
  return b;
}

/** AutoencoderKL encoder: sample in -1..1 → latent_sample, the distribution's mean (not yet scaled). */
export function buildVaeEncoder(c: VaeConfig, options: BuildOptions): GraphBuilder {
  const b = new GraphBuilder(options);
  const ch = c.block_out_channels;
  const groups = c.norm_num_groups;
  const L = c.latent_channels;
  const x = b.input('sample', b.floatType, ['batch', c.in_channels, 'height', 'width']);
  let h = b.conv(x, 'encoder.conv_in', c.in_channels, ch[0]!, 3);
  let inC = ch[0]!;
  for (let i = 0; i < ch.length; i++) {
    const outC = ch[i]!;
    for (let j = 0; j < c.layers_per_block; j++) {
      h = resnet(b, h, `encoder.down_blocks.${i}.resnets.${j}`, inC, outC, groups, 1e-6, null);
      inC = outC;
    }
    // diffusers pads (0, 1, 0, 1) and convolves with stride 2 and no padding.
    if (i < ch.length - 1) h = b.conv(h, `encoder.down_blocks.${i}.downsamplers.0.conv`, outC, outC, 3, { stride: 2, pads: [0, 0, 1, 1] });
  }
  const lastC = ch[ch.length - 1]!;
  h = vaeMid(b, h, 'encoder.mid_block', lastC, groups);
  h = b.conv(b.silu(b.groupNorm(h, 'encoder.conv_norm_out', lastC, groups, 1e-6)), 'encoder.conv_out', lastC, 2 * L, 3);
  const moments = b.conv(h, 'quant_conv', 2 * L, 2 * L, 1);
  const mean = b.op('Slice', [moments, b.int64([0]), b.int64([L]), b.int64([1])]);
  b.output(mean, 'latent_sample', b.floatType, ['batch', L, 'latent_height', 'latent_width']);
  return b;
}
