"""Reference outputs for Onbrand's own ONNX graphs of Stable Diffusion (src-main/core/diffusion/graph/).

Kept for the record; the TypeScript test (graph/reference.test.ts) reads the JSON this writes and never
needs Python. Run with Debian's PyTorch (python3-torch, no diffusers or transformers needed):

    /usr/bin/python3 scripts/reference/sd_arch.py [out.json]

An independent implementation in plain torch.nn.functional, transcribed from the libraries' source
rather than from Onbrand's graph builder (diffusers at commit 58eb52c0803e, transformers'
modeling_clip.py at 000f1ffdbf1c):

- CLIPTextModel: transformers' models/clip/modeling_clip.py (CLIPTextEmbeddings, CLIPAttention with the
  eager attention and a causal mask of finfo.min, CLIPMLP with ACT2FN quick_gelu = x*sigmoid(1.702x) or
  gelu = erf GELU, pre-norm CLIPEncoderLayer, final_layer_norm); output last_hidden_state.
- UNet2DConditionModel: diffusers' models/unets/unet_2d_condition.py and unet_2d_blocks.py
  (CrossAttnDownBlock2D, DownBlock2D, UNetMidBlock2DCrossAttn, UpBlock2D, CrossAttnUpBlock2D),
  resnet.py (ResnetBlock2D, time_embedding_norm "default", output_scale_factor 1), embeddings.py
  (get_timestep_embedding in float32 exactly as written there, TimestepEmbedding with SiLU),
  transformers/transformer_2d.py (GroupNorm eps 1e-6, 1x1 conv or linear proj_in/proj_out),
  attention.py (BasicTransformerBlock with LayerNorm eps 1e-5, FeedForward with GEGLU),
  attention_processor.py (Attention, AttnProcessor: q/k/v without bias, to_out with bias, scale
  dim_head**-0.5), downsampling.py (Downsample2D: conv stride 2, padding 1), upsampling.py (Upsample2D:
  nearest x2 then conv). `attention_head_dim` is the number of heads per block (diffusers' historical
  naming); up blocks take the reversed list, the mid block the last entry.
- AutoencoderKL: diffusers' models/autoencoders/autoencoder_kl.py and vae.py (Decoder: post_quant_conv,
  conv_in, UNetMidBlock2D with one single-head Attention with GroupNorm and biases, UpDecoderBlock2D x
  (layers_per_block + 1), GroupNorm eps 1e-6; Encoder: DownEncoderBlock2D with Downsample2D padding 0,
  i.e. F.pad (0, 1, 0, 1) then a stride-2 conv, mid block, conv_out to 2*latent, then quant_conv and
  DiagonalGaussianDistribution's mean = the first latent_channels channels).

Weights: by diffusers / transformers state-dict name, in PyTorch's layout, from a port of Onbrand's
`randomTensor(name, dims, seed)` (graph/weights.ts): mulberry32 seeded with fnv1a(name) XOR seed, the
same float64 arithmetic as JavaScript, rounded to float32. Inputs: the deterministic feeds of
graph/sd-graphs.test.ts (`sin(i * 12.9898 + k) * 0.8` in float64, then float32).

Every network is run twice: in float32 (as diffusers runs it) and in float64 (from the same float32
weights and inputs). The JSON keeps the float64 numbers (the architecture's exact output for those
weights, so a float32 graph differs from them only by its own rounding) and records how far PyTorch's
float32 run is from them, which sizes the tolerance of the TypeScript test.
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

SEED = 7

# --- Onbrand's randomTensor, ported ----------------------------------------------------------------

U32 = np.uint64(0xFFFFFFFF)


def fnv1a(text):
    h = 0x811C9DC5
    for ch in text:  # UTF-16 code units in JS; parameter names are ASCII
        h ^= ord(ch)
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def mulberry32(seed, n):
    """The first n values of mulberry32(seed), vectorised: its state only advances by a constant."""
    k = np.arange(1, n + 1, dtype=np.uint64)
    a = (np.uint64(seed & 0xFFFFFFFF) + k * np.uint64(0x6D2B79F5)) & U32
    # Math.imul: the low 32 bits of the product (uint64 products wrap, keeping the low bits).
    imul = lambda x, y: (x * y) & U32  # noqa: E731
    t = a
    t = imul(t ^ (t >> np.uint64(15)), t | np.uint64(1))
    t = t ^ ((t + imul(t ^ (t >> np.uint64(7)), t | np.uint64(61))) & U32)
    return ((t ^ (t >> np.uint64(14))) & U32).astype(np.float64) / 4294967296.0


def random_tensor(name, dims, seed=SEED):
    n = int(np.prod(dims)) if dims else 1
    u = mulberry32(fnv1a(name) ^ seed, n)
    leaf = '.'.join(name.split('.')[-2:])
    center = 0.0
    if len(dims) == 1:
        is_norm = 'norm' in name and name.endswith('.weight')
        center = 1.0 if is_norm else 0.0
        scale = 0.1 if is_norm else 0.02
    elif 'embedding' in leaf:
        scale = 0.5
    else:
        fan_in = int(np.prod(dims[1:]))
        scale = math.sqrt(3 / fan_in)
    values = center + (u * 2 - 1) * scale
    return torch.from_numpy(values.astype(np.float32).reshape(dims))


class Weights:
    """Parameters by name, in the run's dtype; records every name and shape used."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.used = {}

    def __call__(self, name, dims):
        dims = list(dims)
        if name in self.used and self.used[name] != dims:
            raise ValueError(f'{name} used as {dims} and {self.used[name]}')
        self.used[name] = dims
        return random_tensor(name, dims).to(self.dtype)


def seeded(n, k):
    return torch.tensor(np.array([math.sin(i * 12.9898 + k) * 0.8 for i in range(n)], dtype=np.float64).astype(np.float32))


# --- Layers ----------------------------------------------------------------------------------------


def linear(W, x, m, in_dim, out_dim, bias=True):
    return F.linear(x, W(f'{m}.weight', [out_dim, in_dim]), W(f'{m}.bias', [out_dim]) if bias else None)


def conv(W, x, m, in_c, out_c, k, stride=1, padding=None):
    padding = (k - 1) // 2 if padding is None else padding
    return F.conv2d(x, W(f'{m}.weight', [out_c, in_c, k, k]), W(f'{m}.bias', [out_c]), stride=stride, padding=padding)


def group_norm(W, x, m, groups, eps):
    c = x.shape[1]
    return F.group_norm(x, groups, W(f'{m}.weight', [c]), W(f'{m}.bias', [c]), eps)


def layer_norm(W, x, m, eps):
    d = x.shape[-1]
    return F.layer_norm(x, [d], W(f'{m}.weight', [d]), W(f'{m}.bias', [d]), eps)


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


# --- CLIPTextModel (transformers) --------------------------------------------------------------------


def clip_text_hidden_states(W, c, input_ids, layers=None):
    """transformers' hidden_states: the embeddings' output, then each encoder layer's (the first `layers` only)."""
    D, heads = c['hidden_size'], c['num_attention_heads']
    head_dim = D // heads
    B, S = input_ids.shape
    tok = W('text_model.embeddings.token_embedding.weight', [c['vocab_size'], D])
    pos = W('text_model.embeddings.position_embedding.weight', [c['max_position_embeddings'], D])
    h = tok[input_ids] + pos[torch.arange(S)][None]
    hidden_states = [h]
    # create_causal_mask: 0 where key <= query, finfo.min above the diagonal, broadcast over batch and heads.
    mask = torch.full((S, S), torch.finfo(h.dtype).min, dtype=h.dtype).triu(1)[None, None]
    act = quick_gelu if c['hidden_act'] == 'quick_gelu' else (lambda x: F.gelu(x))
    for layer in range(c['num_hidden_layers'] if layers is None else layers):
        m = f'text_model.encoder.layers.{layer}'
        residual = h
        x = layer_norm(W, h, f'{m}.layer_norm1', c['layer_norm_eps'])
        q = linear(W, x, f'{m}.self_attn.q_proj', D, D).view(B, S, heads, head_dim).transpose(1, 2)
        k = linear(W, x, f'{m}.self_attn.k_proj', D, D).view(B, S, heads, head_dim).transpose(1, 2)
        v = linear(W, x, f'{m}.self_attn.v_proj', D, D).view(B, S, heads, head_dim).transpose(1, 2)
        weights = torch.matmul(q, k.transpose(-1, -2)) * head_dim**-0.5 + mask
        weights = F.softmax(weights, dim=-1)
        a = torch.matmul(weights, v).transpose(1, 2).reshape(B, S, D)
        h = residual + linear(W, a, f'{m}.self_attn.out_proj', D, D)
        residual = h
        x = layer_norm(W, h, f'{m}.layer_norm2', c['layer_norm_eps'])
        x = linear(W, act(linear(W, x, f'{m}.mlp.fc1', D, c['intermediate_size'])), f'{m}.mlp.fc2', c['intermediate_size'], D)
        h = residual + x
        hidden_states.append(h)
    return hidden_states


def clip_text(W, c, input_ids):
    """last_hidden_state: final_layer_norm of the last layer's output."""
    return layer_norm(W, clip_text_hidden_states(W, c, input_ids)[-1], 'text_model.final_layer_norm', c['layer_norm_eps'])


# --- diffusers building blocks ---------------------------------------------------------------------


def attention(W, x, context, m, heads, dim_head, bias):
    """diffusers Attention with AttnProcessor on [B, N, query_dim] (no group norm / residual here)."""
    B, N, query_dim = x.shape
    inner = heads * dim_head
    context = x if context is None else context
    q = linear(W, x, f'{m}.to_q', query_dim, inner, bias=bias)
    k = linear(W, context, f'{m}.to_k', context.shape[-1], inner, bias=bias)
    v = linear(W, context, f'{m}.to_v', context.shape[-1], inner, bias=bias)

    def head_to_batch(t):
        b, s, d = t.shape
        return t.reshape(b, s, heads, d // heads).permute(0, 2, 1, 3).reshape(b * heads, s, d // heads)

    q, k, v = head_to_batch(q), head_to_batch(k), head_to_batch(v)
    # get_attention_scores: baddbmm(empty, q, kᵀ, beta=0, alpha=scale); upcast_attention / upcast_softmax
    # cast to float32, which changes nothing in a float32 or float64 run.
    scores = torch.baddbmm(torch.zeros(q.shape[0], q.shape[1], k.shape[1], dtype=q.dtype), q, k.transpose(-1, -2), beta=0, alpha=dim_head**-0.5)
    probs = scores.softmax(dim=-1)
    out = torch.bmm(probs, v)
    out = out.reshape(B, heads, N, dim_head).permute(0, 2, 1, 3).reshape(B, N, inner)
    return linear(W, out, f'{m}.to_out.0', inner, query_dim)


def resnet_block(W, x, m, out_c, groups, eps, temb):
    """ResnetBlock2D, time_embedding_norm 'default', SiLU, output_scale_factor 1."""
    in_c = x.shape[1]
    h = F.silu(group_norm(W, x, f'{m}.norm1', groups, eps))
    h = conv(W, h, f'{m}.conv1', in_c, out_c, 3)
    if temb is not None:
        h = h + linear(W, F.silu(temb), f'{m}.time_emb_proj', temb.shape[1], out_c)[:, :, None, None]
    h = F.silu(group_norm(W, h, f'{m}.norm2', groups, eps))
    h = conv(W, h, f'{m}.conv2', out_c, out_c, 3)
    if in_c != out_c:
        x = conv(W, x, f'{m}.conv_shortcut', in_c, out_c, 1)
    return x + h


def basic_transformer_block(W, h, m, heads, dim_head, context):
    C = h.shape[-1]
    n = layer_norm(W, h, f'{m}.norm1', 1e-5)
    h = attention(W, n, None, f'{m}.attn1', heads, dim_head, bias=False) + h
    n = layer_norm(W, h, f'{m}.norm2', 1e-5)
    h = attention(W, n, context, f'{m}.attn2', heads, dim_head, bias=False) + h
    n = layer_norm(W, h, f'{m}.norm3', 1e-5)
    inner = 4 * C
    hidden, gate = linear(W, n, f'{m}.ff.net.0.proj', C, 2 * inner).chunk(2, dim=-1)  # GEGLU
    ff = linear(W, hidden * F.gelu(gate), f'{m}.ff.net.2', inner, C)
    return ff + h


def transformer_2d(W, x, m, heads, depth, context, use_linear_projection, groups):
    B, C, H, Wd = x.shape
    dim_head = C // heads
    inner = heads * dim_head
    residual = x
    h = group_norm(W, x, f'{m}.norm', groups, 1e-6)
    if not use_linear_projection:
        h = F.conv2d(h, W(f'{m}.proj_in.weight', [inner, C, 1, 1]), W(f'{m}.proj_in.bias', [inner]))
        h = h.permute(0, 2, 3, 1).reshape(B, H * Wd, inner)
    else:
        h = h.permute(0, 2, 3, 1).reshape(B, H * Wd, C)
        h = linear(W, h, f'{m}.proj_in', C, inner)
    for d in range(depth):
        h = basic_transformer_block(W, h, f'{m}.transformer_blocks.{d}', heads, dim_head, context)
    if not use_linear_projection:
        h = h.reshape(B, H, Wd, inner).permute(0, 3, 1, 2).contiguous()
        h = F.conv2d(h, W(f'{m}.proj_out.weight', [C, inner, 1, 1]), W(f'{m}.proj_out.bias', [C]))
    else:
        h = linear(W, h, f'{m}.proj_out', inner, C)
        h = h.reshape(B, H, Wd, inner).permute(0, 3, 1, 2).contiguous()
    return h + residual


def get_timestep_embedding(timesteps, embedding_dim, flip_sin_to_cos, downscale_freq_shift, max_period=10000):
    # embeddings.py, verbatim in float32 (Timesteps always returns float32; the UNet then casts).
    half_dim = embedding_dim // 2
    exponent = -math.log(max_period) * torch.arange(start=0, end=half_dim, dtype=torch.float32)
    exponent = exponent / (half_dim - downscale_freq_shift)
    emb = torch.exp(exponent)
    emb = timesteps[:, None].float() * emb[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half_dim:], emb[:, :half_dim]], dim=-1)
    if embedding_dim % 2 == 1:
        emb = F.pad(emb, (0, 1, 0, 0))
    return emb


def per_block(value, n):
    return list(value) if isinstance(value, (list, tuple)) else [value] * n


# --- UNet2DConditionModel (diffusers) --------------------------------------------------------------


def text_time_embedding(W, c, text_embeds, time_ids, time_dim, dtype):
    """get_aug_embed for addition_embed_type "text_time" (SDXL): add_time_proj = Timesteps(addition_time_embed_dim,
    flip_sin_to_cos, freq_shift) of every time id (float32), reshaped to (batch, -1), after text_embeds, through
    add_embedding = TimestepEmbedding(projection_class_embeddings_input_dim, time_embed_dim): linear_1, SiLU, linear_2."""
    time_embeds = get_timestep_embedding(time_ids.flatten(), c['addition_time_embed_dim'], c['flip_sin_to_cos'], c['freq_shift'])
    time_embeds = time_embeds.reshape((text_embeds.shape[0], -1))
    add_embeds = torch.concat([text_embeds.to(dtype), time_embeds.to(dtype)], dim=-1)
    in_dim = c['projection_class_embeddings_input_dim']
    assert add_embeds.shape[1] == in_dim, (add_embeds.shape, in_dim)
    h = F.silu(linear(W, add_embeds, 'add_embedding.linear_1', in_dim, time_dim))
    return linear(W, h, 'add_embedding.linear_2', time_dim, time_dim)


def unet(W, c, sample, timestep, context, added_cond=None):
    ch = c['block_out_channels']
    n = len(ch)
    heads = per_block(c.get('num_attention_heads') or c['attention_head_dim'], n)
    depth = per_block(c['transformer_layers_per_block'], n)
    layers = c['layers_per_block']
    groups, eps = c['norm_num_groups'], c['norm_eps']
    linear_proj = c['use_linear_projection']
    dtype = sample.dtype

    t_emb = get_timestep_embedding(timestep.expand(sample.shape[0]), ch[0], c['flip_sin_to_cos'], c['freq_shift']).to(dtype)
    time_dim = ch[0] * 4
    emb = linear(W, F.silu(linear(W, t_emb, 'time_embedding.linear_1', ch[0], time_dim)), 'time_embedding.linear_2', time_dim, time_dim)
    # get_aug_embed, then emb = emb + aug_emb (no class embedding, no time_embed_act).
    if c.get('addition_embed_type') == 'text_time':
        emb = emb + text_time_embedding(W, c, added_cond['text_embeds'], added_cond['time_ids'], time_dim, dtype)
    else:
        assert c.get('addition_embed_type') is None, c['addition_embed_type']

    h = conv(W, sample, 'conv_in', c['in_channels'], ch[0], 3)
    res = [h]
    out_c = ch[0]
    for i, kind in enumerate(c['down_block_types']):
        out_c = ch[i]
        for j in range(layers):
            h = resnet_block(W, h, f'down_blocks.{i}.resnets.{j}', out_c, groups, eps, emb)
            if kind == 'CrossAttnDownBlock2D':
                h = transformer_2d(W, h, f'down_blocks.{i}.attentions.{j}', heads[i], depth[i], context, linear_proj, groups)
            else:
                assert kind == 'DownBlock2D', kind
            res.append(h)
        if i < n - 1:
            h = conv(W, h, f'down_blocks.{i}.downsamplers.0.conv', out_c, out_c, 3, stride=2, padding=1)
            res.append(h)

    # UNetMidBlock2DCrossAttn: num_attention_heads[-1], transformer_layers_per_block[-1].
    h = resnet_block(W, h, 'mid_block.resnets.0', ch[-1], groups, eps, emb)
    h = transformer_2d(W, h, 'mid_block.attentions.0', heads[-1], depth[-1], context, linear_proj, groups)
    h = resnet_block(W, h, 'mid_block.resnets.1', ch[-1], groups, eps, emb)

    rev_ch, rev_heads, rev_depth = ch[::-1], heads[::-1], depth[::-1]
    for i, kind in enumerate(c['up_block_types']):
        out_c = rev_ch[i]
        for j in range(layers + 1):
            h = torch.cat([h, res.pop()], dim=1)
            h = resnet_block(W, h, f'up_blocks.{i}.resnets.{j}', out_c, groups, eps, emb)
            if kind == 'CrossAttnUpBlock2D':
                h = transformer_2d(W, h, f'up_blocks.{i}.attentions.{j}', rev_heads[i], rev_depth[i], context, linear_proj, groups)
            else:
                assert kind == 'UpBlock2D', kind
        if i < n - 1:
            h = F.interpolate(h, scale_factor=2.0, mode='nearest')
            h = conv(W, h, f'up_blocks.{i}.upsamplers.0.conv', out_c, out_c, 3)
    assert not res
    h = F.silu(group_norm(W, h, 'conv_norm_out', groups, eps))
    return conv(W, h, 'conv_out', ch[0], c['out_channels'], 3)


# --- AutoencoderKL (diffusers) ---------------------------------------------------------------------


def vae_attention(W, x, m, groups):
    """UNetMidBlock2D's Attention: heads = C // C = 1, GroupNorm eps 1e-6, biases, residual connection."""
    B, C, H, Wd = x.shape
    residual = x
    h = x.view(B, C, H * Wd).transpose(1, 2)
    h = group_norm(W, h.transpose(1, 2), f'{m}.group_norm', groups, 1e-6).transpose(1, 2)
    h = attention(W, h, None, m, 1, C, bias=True)
    h = h.transpose(-1, -2).reshape(B, C, H, Wd)
    return h + residual


def vae_mid(W, h, m, groups):
    C = h.shape[1]
    h = resnet_block(W, h, f'{m}.resnets.0', C, groups, 1e-6, None)
    h = vae_attention(W, h, f'{m}.attentions.0', groups)
    return resnet_block(W, h, f'{m}.resnets.1', C, groups, 1e-6, None)


def vae_decode(W, c, z):
    L, groups = c['latent_channels'], c['norm_num_groups']
    rev = c['block_out_channels'][::-1]
    z = conv(W, z, 'post_quant_conv', L, L, 1)
    h = conv(W, z, 'decoder.conv_in', L, rev[0], 3)
    h = vae_mid(W, h, 'decoder.mid_block', groups)
    for i, out_c in enumerate(rev):
        for j in range(c['layers_per_block'] + 1):
            h = resnet_block(W, h, f'decoder.up_blocks.{i}.resnets.{j}', out_c, groups, 1e-6, None)
        if i < len(rev) - 1:
            h = F.interpolate(h, scale_factor=2.0, mode='nearest')
            h = conv(W, h, f'decoder.up_blocks.{i}.upsamplers.0.conv', out_c, out_c, 3)
    h = F.silu(group_norm(W, h, 'decoder.conv_norm_out', groups, 1e-6))
    return conv(W, h, 'decoder.conv_out', rev[-1], c['out_channels'], 3)


def vae_encode(W, c, x):
    L, groups = c['latent_channels'], c['norm_num_groups']
    ch = c['block_out_channels']
    h = conv(W, x, 'encoder.conv_in', c['in_channels'], ch[0], 3)
    for i, out_c in enumerate(ch):
        for j in range(c['layers_per_block']):
            h = resnet_block(W, h, f'encoder.down_blocks.{i}.resnets.{j}', out_c, groups, 1e-6, None)
        if i < len(ch) - 1:
            # Downsample2D with padding=0: F.pad (0, 1, 0, 1) (right and bottom), then stride 2, no padding.
            h = F.pad(h, (0, 1, 0, 1), mode='constant', value=0)
            h = conv(W, h, f'encoder.down_blocks.{i}.downsamplers.0.conv', out_c, out_c, 3, stride=2, padding=0)
    h = vae_mid(W, h, 'encoder.mid_block', groups)
    h = F.silu(group_norm(W, h, 'encoder.conv_norm_out', groups, 1e-6))
    h = conv(W, h, 'encoder.conv_out', ch[-1], 2 * L, 3)
    moments = conv(W, h, 'quant_conv', 2 * L, 2 * L, 1)
    mean, _logvar = torch.chunk(moments, 2, dim=1)
    return mean


# --- Configs (tinyArchConfig() in src-main/core/diffusion/testing/tiny-sd-arch.ts, and variants) ----

TINY_TEXT = {
    'vocab_size': 200,
    'hidden_size': 32,
    'intermediate_size': 64,
    'num_hidden_layers': 2,
    'num_attention_heads': 4,
    'max_position_embeddings': 77,
    'hidden_act': 'quick_gelu',
    'layer_norm_eps': 1e-5,
}
TINY_UNET = {
    'in_channels': 4,
    'out_channels': 4,
    'block_out_channels': [32, 64],
    'down_block_types': ['CrossAttnDownBlock2D', 'DownBlock2D'],
    'up_block_types': ['UpBlock2D', 'CrossAttnUpBlock2D'],
    'layers_per_block': 1,
    'attention_head_dim': 2,
    'cross_attention_dim': 32,
    'use_linear_projection': False,
    'norm_num_groups': 32,
    'norm_eps': 1e-5,
    'upcast_attention': False,
    'flip_sin_to_cos': True,
    'freq_shift': 0,
    'transformer_layers_per_block': 1,
}
TINY_VAE = {
    'in_channels': 3,
    'out_channels': 3,
    'latent_channels': 4,
    'block_out_channels': [32, 64],
    'layers_per_block': 1,
    'norm_num_groups': 32,
    'scaling_factor': 0.18215,
}
# SD 2.x's OpenCLIP text encoder shape in small: erf GELU, 16-channel heads, 48 wide.
SD2_TEXT = dict(TINY_TEXT, hidden_size=48, intermediate_size=192, num_attention_heads=3, hidden_act='gelu')
# SD 2.x's UNet options: linear proj_in/proj_out, heads per block as a list (the up blocks take it
# reversed, the mid block its last entry), upcast_attention, a 48-wide text context.
SD2_UNET = dict(TINY_UNET, attention_head_dim=[2, 4], use_linear_projection=True, upcast_attention=True, cross_attention_dim=48)
# Less usual options: two layers per block, a transformer depth per block, 16 groups, sin-before-cos
# timesteps with freq_shift 1, norm_eps 1e-6, cross-attention in every block.
OPTIONS_UNET = dict(
    TINY_UNET,
    down_block_types=['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
    up_block_types=['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
    layers_per_block=2,
    attention_head_dim=[4, 2],
    transformer_layers_per_block=[2, 1],
    norm_num_groups=16,
    norm_eps=1e-6,
    flip_sin_to_cos=False,
    freq_shift=1,
)
# Three levels (two up/down samplers), two layers per block, 8 groups, channels that change twice.
THREE_LEVEL_VAE = dict(TINY_VAE, block_out_channels=[16, 32, 48], layers_per_block=2, norm_num_groups=8)

TEXT_IDS = [[198, 5, 17, 42, 199, 199, 199]]
TEXT_IDS_BATCH2 = [[198, 5, 17, 42, 199, 199, 199], [3, 1, 4, 1, 5, 9, 2]]


def feeds(part, context_dim=32, ids=None):
    """graph/sd-graphs.test.ts's `feeds(part)` (the UNet's context width follows the config)."""
    if part == 'text_encoder':
        ids = ids or TEXT_IDS
        return {'input_ids': (torch.tensor(ids, dtype=torch.int64), [len(ids), len(ids[0])])}
    if part == 'unet':
        return {
            'sample': (seeded(2 * 4 * 8 * 12, 1).reshape(2, 4, 8, 12), [2, 4, 8, 12]),
            'timestep': (torch.tensor([981.0, 981.0], dtype=torch.float32), [2]),
            'encoder_hidden_states': (seeded(2 * 7 * context_dim, 2).reshape(2, 7, context_dim), [2, 7, context_dim]),
        }
    if part == 'vae_decoder':
        return {'latent_sample': (seeded(4 * 8 * 12, 3).reshape(1, 4, 8, 12), [1, 4, 8, 12])}
    if part == 'vae_encoder':
        return {'sample': (seeded(3 * 64 * 96, 4).reshape(1, 3, 64, 96), [1, 3, 64, 96])}
    raise ValueError(part)


CASES = [
    # name, part, config, feeds
    ('text_encoder', 'text_encoder', TINY_TEXT, feeds('text_encoder')),
    ('text_encoder_gelu', 'text_encoder', SD2_TEXT, feeds('text_encoder', ids=TEXT_IDS_BATCH2)),
    ('unet', 'unet', TINY_UNET, feeds('unet', 32)),
    ('unet_sd2', 'unet', SD2_UNET, feeds('unet', 48)),
    ('unet_options', 'unet', OPTIONS_UNET, feeds('unet', 32)),
    ('vae_decoder', 'vae_decoder', TINY_VAE, feeds('vae_decoder')),
    ('vae_encoder', 'vae_encoder', TINY_VAE, feeds('vae_encoder')),
    ('vae_decoder_3level', 'vae_decoder', THREE_LEVEL_VAE, feeds('vae_decoder')),
    ('vae_encoder_3level', 'vae_encoder', THREE_LEVEL_VAE, feeds('vae_encoder')),
]


def forward(part, config, inputs, dtype):
    W = Weights(dtype)
    x = {k: (v if v.dtype == torch.int64 else v.to(dtype)) for k, (v, _) in inputs.items()}
    with torch.no_grad():
        if part == 'text_encoder':
            out = clip_text(W, config, x['input_ids'])
        elif part == 'unet':
            # The timestep goes in as given (float32); get_timestep_embedding works in float32.
            out = unet(W, config, x['sample'], inputs['timestep'][0], x['encoder_hidden_states'])
        elif part == 'vae_decoder':
            out = vae_decode(W, config, x['latent_sample'])
        else:
            out = vae_encode(W, config, x['sample'])
    return out, W.used


STRIDED = 32
HEAD = 32


def summarise(out64, out32, used):
    flat = out64.flatten()
    n = flat.numel()
    indices = [(k * (n - 1)) // (STRIDED - 1) for k in range(STRIDED)]
    return {
        'shape': list(out64.shape),
        'head': flat[:HEAD].tolist(),
        'strided_indices': indices,
        'strided': [flat[i].item() for i in indices],
        'sum': flat.sum().item(),
        'sum_abs': flat.abs().sum().item(),
        'max_abs': flat.abs().max().item(),
        'torch_float32_max_abs_diff': (out32.double() - out64).abs().max().item(),
        'parameters': len(used),
        'parameter_values': int(sum(int(np.prod(d)) for d in used.values())),
    }


def main():
    torch.set_num_threads(1)
    cases = {}
    for name, part, config, inputs in CASES:
        out32, used = forward(part, config, inputs, torch.float32)
        out64, used64 = forward(part, config, inputs, torch.float64)
        assert used == used64
        summary = summarise(out64, out32, used)
        rel = summary['torch_float32_max_abs_diff'] / summary['max_abs']
        print(f'{name:20s} {part:13s} shape {summary["shape"]}  max|y| {summary["max_abs"]:.4g}  '
              f'torch fp32 vs fp64 max diff {summary["torch_float32_max_abs_diff"]:.3g} ({rel:.2g} of max|y|)  '
              f'{summary["parameters"]} params, {summary["parameter_values"]} values')
        cases[name] = {
            'part': part,
            'config': config,
            # Integer inputs in full; float inputs by their first values (the test makes them itself).
            'inputs': {k: {'dims': dims, **({'values': v.flatten().tolist()} if v.dtype == torch.int64 else {'head': v.flatten()[:8].tolist(), 'sum': v.double().sum().item()})}
                       for k, (v, dims) in inputs.items()},
            **summary,
        }
    probes = [
        ('text_model.embeddings.token_embedding.weight', [200, 32]),
        ('down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight', [32, 32]),
        ('mid_block.resnets.0.norm1.weight', [64]),
        ('decoder.conv_in.bias', [64]),
        ('encoder.down_blocks.0.resnets.0.conv1.weight', [32, 32, 3, 3]),
    ]
    out = {
        'source': (
            f'Made by scripts/reference/sd_arch.py with PyTorch {torch.__version__} (CPU), seed {SEED}: '
            "CLIPTextModel (transformers' modeling_clip.py), UNet2DConditionModel and AutoencoderKL "
            "decoder (post_quant_conv + Decoder) / encoder (Encoder + quant_conv, mean) (diffusers "
            '58eb52c0803e) transcribed in torch.nn.functional, with weights by state-dict name from a Python port of '
            "Onbrand's randomTensor(name, dims, seed) (mulberry32 seeded with fnv1a(name) ^ seed, float64 "
            'math, then float32) and the deterministic feeds of graph/sd-graphs.test.ts. Numbers are from '
            'the float64 run (float32 weights and inputs widened); torch_float32_max_abs_diff is how far '
            "PyTorch's own float32 run is from them. strided values are flat[strided_indices] of the "
            'output in C order; head is the first 32 values.'
        ),
        'torch_version': torch.__version__,
        'seed': SEED,
        'random_tensor_probes': [
            {'name': name, 'dims': dims, 'first': random_tensor(name, dims).flatten()[:6].tolist(),
             'sum': random_tensor(name, dims).double().sum().item()}
            for name, dims in probes
        ],
        'cases': cases,
    }
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), '..', '..', 'src-main', 'core', 'diffusion', 'testdata', 'sd-arch-reference.json')
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f'wrote {os.path.normpath(path)}')


if __name__ == '__main__':
    main()
