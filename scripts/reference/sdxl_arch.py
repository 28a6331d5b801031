"""Reference outputs for Onbrand's SDXL graphs and A1111's SDXL conditioning (src-main/core/diffusion/).

Kept for the record; the TypeScript test (graph/sdxl-reference.test.ts) reads the JSON this writes and
never needs Python. Run with Debian's PyTorch (python3-torch, no diffusers or transformers needed):

    /usr/bin/python3 scripts/reference/sdxl_arch.py [out.json]

The same independent transcription as sd_arch.py (whose layers, weights and feeds this imports), with
what SDXL adds, transcribed from the libraries' source rather than from Onbrand's code:

- The two text encoders as SDXL's pipelines use them (transformers' modeling_clip.py at 000f1ffdbf1c,
  diffusers' StableDiffusionXLPipeline.encode_prompt at 58eb52c0803e): `hidden_states` =
  output_hidden_states' hidden_states[-2], the second-to-last encoder layer's output without the final
  layer norm; CLIPTextModelWithProjection's `text_embeds` = text_projection (no bias) of final_layer_norm
  of the last layer's output at input_ids.argmax(-1) (the first maximum: CLIP's EOS 49407 is the largest
  id, so the first EOS). Text encoder 1 is CLIP ViT-L's shape in small (quick_gelu, no projection),
  text encoder 2 OpenCLIP ViT-bigG's (erf GELU, with projection); both with CLIP's full 49408-token
  vocabulary so that real token ids can be fed.
- UNet2DConditionModel with addition_embed_type "text_time" (unet_2d_condition.py, get_aug_embed; see
  sd_arch.text_time_embedding): SDXL's layout in small, three levels, no attention in the first down and
  the last up block, a transformer depth per level (the mid block takes the last, the up blocks the list
  reversed), linear proj_in/proj_out, heads per level.
- A1111's SDXL conditioning (stable-diffusion-webui 1.10, modules/prompt_parser.py parse_prompt_attention,
  sd_hijack_clip.py tokenize_line / process_tokens, sd_hijack_open_clip.py, sd_emphasis.py
  EmphasisOriginal; generative-models' GeneralConditioner concatenating the embedders' "crossattn" on
  the last axis): each encoder's prompt chunks of 75 tokens (comma backtrack 20), framed as
  [BOS, tokens, EOS padding]; encoder 2 (id_pad 0) pads with 0 after the first EOS; per chunk and
  per encoder the penultimate hidden states are multiplied by the token weights and rescaled to the
  original mean; the two encoders' results concatenated on the last axis, the chunks on the token axis;
  pooled = encoder 2's text_embeds of the first chunk. The token ids come from a port of OpenAI CLIP's
  simple_tokenizer BPE (ASCII text only: lower-case, CLIP's word pattern) over the fixture vocabulary
  in ../shared/fixtures/clip-tokenizer, so nothing here comes from Onbrand's tokenizer either.

Every network runs in float32 and in float64 (same float32 weights and inputs); the JSON keeps the
float64 numbers and how far PyTorch's float32 run is from them.
"""

import json
import math
import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sd_arch  # noqa: E402
from sd_arch import SEED, Weights, layer_norm, random_tensor, seeded, summarise  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
TOKENIZER_DIR = os.path.join(ROOT, '..', 'shared', 'fixtures', 'clip-tokenizer')

# --- Configs (the fields of Onbrand's TextEncoderConfig / UnetConfig, as in diffusers' config.json) ---

# CLIP ViT-L/14's text model in small: quick_gelu, penultimate layer, no projection.
TE1 = {
    'vocab_size': 49408,
    'hidden_size': 32,
    'intermediate_size': 64,
    'num_hidden_layers': 3,
    'num_attention_heads': 4,
    'max_position_embeddings': 77,
    'hidden_act': 'quick_gelu',
    'layer_norm_eps': 1e-5,
    'layer': 'penultimate',
    'projection_dim': None,
}
# OpenCLIP ViT-bigG/14's in small: erf GELU, 16-channel heads, penultimate layer, a text projection.
TE2 = dict(TE1, hidden_size=48, intermediate_size=192, num_attention_heads=3, hidden_act='gelu', projection_dim=16)
# SDXL's UNet in small: [320, 640, 1280] → [32, 64, 96], heads [5, 10, 20] → [1, 2, 3], depth [1, 2, 10] →
# [1, 2, 3], time ids of 256 → 8 channels, 2816 = 1280 + 6·256 → 16 + 6·8 = 64, context 2048 = 768 + 1280 → 32 + 48.
UNET_XL = {
    'in_channels': 4,
    'out_channels': 4,
    'block_out_channels': [32, 64, 96],
    'down_block_types': ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
    'up_block_types': ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
    'layers_per_block': 2,
    'attention_head_dim': [1, 2, 3],
    'cross_attention_dim': TE1['hidden_size'] + TE2['hidden_size'],
    'use_linear_projection': True,
    'norm_num_groups': 32,
    'norm_eps': 1e-5,
    'upcast_attention': False,
    'flip_sin_to_cos': True,
    'freq_shift': 0,
    'transformer_layers_per_block': [1, 2, 3],
    'addition_embed_type': 'text_time',
    'addition_time_embed_dim': 8,
    'projection_class_embeddings_input_dim': TE2['projection_dim'] + 6 * 8,
}

BOS, EOS = 49406, 49407
# Token ids as A1111 frames them: encoder 1 pads with EOS, encoder 2 with 0 after its EOS.
TE1_IDS = [[BOS, 320, 1929, 267, 4160, EOS, EOS, EOS, EOS, EOS], [BOS, 1125, 539, 320, 2368, 1615, 269, 3817, 6638, EOS]]
TE2_IDS = [[BOS, 320, 1929, 267, 4160, EOS, 0, 0, 0, 0], [BOS, 1125, 539, 320, 2368, 1615, 269, 3817, 6638, EOS]]
TIME_IDS = [[1024.0, 1024.0, 0.0, 0.0, 1024.0, 1024.0], [768.0, 1344.0, 0.0, 0.0, 768.0, 1344.0]]

# --- Text encoders, SDXL style ----------------------------------------------------------------------


def text_encoder(W, c, input_ids):
    """{'hidden_states': hidden_states[-2]} (or {'last_hidden_state': …} for layer 'last'), plus
    CLIPTextModelWithProjection's 'text_embeds' when projection_dim is set."""
    out = {}
    D, n = c['hidden_size'], c['num_hidden_layers']
    need_last = c['layer'] == 'last' or c['projection_dim'] is not None
    states = sd_arch.clip_text_hidden_states(W, c, input_ids, layers=n if need_last else n - 1)
    if c['layer'] == 'penultimate':
        out['hidden_states'] = states[n - 1]
    if need_last:
        last = layer_norm(W, states[n], 'text_model.final_layer_norm', c['layer_norm_eps'])
        if c['layer'] == 'last':
            out['last_hidden_state'] = last
        if c['projection_dim'] is not None:
            pooled = last[torch.arange(last.shape[0]), input_ids.to(torch.int64).argmax(dim=-1)]
            out['text_embeds'] = F.linear(pooled, W('text_projection.weight', [c['projection_dim'], D]))
    return out


# --- CLIP's BPE (OpenAI simple_tokenizer, for ASCII prompts) ----------------------------------------


def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


class SimpleTokenizer:
    # CLIP's pattern, with \p{L} / \p{N} as their ASCII members (the prompts here are ASCII).
    PAT = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\sa-z0-9]+""")

    def __init__(self, folder):
        with open(os.path.join(folder, 'vocab.json')) as f:
            self.encoder = json.load(f)
        with open(os.path.join(folder, 'merges.txt')) as f:
            merges = f.read().split('\n')
        merges = merges[1:49152 - 256 - 2 + 1]
        self.bpe_ranks = {tuple(m.split()): i for i, m in enumerate(merges) if m}
        self.byte_encoder = bytes_to_unicode()

    def bpe(self, token):
        word = tuple(token[:-1]) + (token[-1] + '</w>',)
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float('inf')))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word, i = [], 0
            while i < len(word):
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
        return word

    def encode(self, text):
        assert text.isascii(), text
        text = ' '.join(text.split()).strip().lower()
        ids = []
        for token in self.PAT.findall(text):
            token = ''.join(self.byte_encoder[b] for b in token.encode('utf-8'))
            ids.extend(self.encoder[t] for t in self.bpe(token))
        return ids


# --- A1111 ------------------------------------------------------------------------------------------

# modules/prompt_parser.py
re_attention = re.compile(r"""
\\\(|
\\\)|
\\\[|
\\]|
\\\\|
\\|
\(|
\[|
:\s*([+-]?[.\d]+)\s*\)|
\)|
]|
[^\\()\[\]:]+|
:
""", re.X)
re_break = re.compile(r"\s*\bBREAK\b\s*", re.S)


def parse_prompt_attention(text):
    res = []
    round_brackets = []
    square_brackets = []
    round_bracket_multiplier = 1.1
    square_bracket_multiplier = 1 / 1.1

    def multiply_range(start_position, multiplier):
        for p in range(start_position, len(res)):
            res[p][1] *= multiplier

    for m in re_attention.finditer(text):
        text = m.group(0)
        weight = m.group(1)
        if text.startswith('\\'):
            res.append([text[1:], 1.0])
        elif text == '(':
            round_brackets.append(len(res))
        elif text == '[':
            square_brackets.append(len(res))
        elif weight is not None and round_brackets:
            multiply_range(round_brackets.pop(), float(weight))
        elif text == ')' and round_brackets:
            multiply_range(round_brackets.pop(), round_bracket_multiplier)
        elif text == ']' and square_brackets:
            multiply_range(square_brackets.pop(), square_bracket_multiplier)
        else:
            parts = re.split(re_break, text)
            for i, part in enumerate(parts):
                if i > 0:
                    res.append(['BREAK', -1])
                res.append([part, 1.0])
    for pos in round_brackets:
        multiply_range(pos, round_bracket_multiplier)
    for pos in square_brackets:
        multiply_range(pos, square_bracket_multiplier)
    if len(res) == 0:
        res = [['', 1.0]]
    i = 0
    while i + 1 < len(res):
        if res[i][1] == res[i + 1][1]:
            res[i][0] += res[i + 1][0]
            res.pop(i + 1)
        else:
            i += 1
    return res


CHUNK_LENGTH = 75
COMMA_PADDING_BACKTRACK = 20


def tokenize_line(tokenizer, line, id_start, id_end, comma_token):
    """sd_hijack_clip.TextConditionalModel.tokenize_line (no textual inversion embeddings): chunks of
    (tokens, multipliers), each 77 long: [BOS, 75 tokens or EOS padding, EOS]."""
    parsed = parse_prompt_attention(line)
    tokenized = [tokenizer.encode(text) for text, _ in parsed]
    chunks = []
    chunk = {'tokens': [], 'multipliers': []}
    last_comma = -1

    def next_chunk():
        nonlocal last_comma, chunk
        to_add = CHUNK_LENGTH - len(chunk['tokens'])
        if to_add > 0:
            chunk['tokens'] += [id_end] * to_add
            chunk['multipliers'] += [1.0] * to_add
        chunk['tokens'] = [id_start] + chunk['tokens'] + [id_end]
        chunk['multipliers'] = [1.0] + chunk['multipliers'] + [1.0]
        last_comma = -1
        chunks.append(chunk)
        chunk = {'tokens': [], 'multipliers': []}

    for tokens, (text, weight) in zip(tokenized, parsed):
        if text == 'BREAK' and weight == -1:
            next_chunk()
            continue
        for token in tokens:
            if token == comma_token:
                last_comma = len(chunk['tokens'])
            elif (COMMA_PADDING_BACKTRACK != 0 and len(chunk['tokens']) == CHUNK_LENGTH and last_comma != -1
                  and len(chunk['tokens']) - last_comma <= COMMA_PADDING_BACKTRACK):
                break_location = last_comma + 1
                reloc_tokens = chunk['tokens'][break_location:]
                reloc_mults = chunk['multipliers'][break_location:]
                chunk['tokens'] = chunk['tokens'][:break_location]
                chunk['multipliers'] = chunk['multipliers'][:break_location]
                next_chunk()
                chunk['tokens'] = reloc_tokens
                chunk['multipliers'] = reloc_mults
            if len(chunk['tokens']) == CHUNK_LENGTH:
                next_chunk()
            chunk['tokens'].append(token)
            chunk['multipliers'].append(weight)
    if chunk['tokens'] or not chunks:
        next_chunk()
    return chunks


def process_tokens(W, c, tokens, multipliers, id_end, id_pad):
    """process_tokens for one chunk of one prompt: pad after the first EOS (where id_pad differs), encode,
    EmphasisOriginal.after_transformers. Returns (z [1, 77, D], pooled or None)."""
    tokens = list(tokens)
    if id_end != id_pad:
        index = tokens.index(id_end)
        tokens = tokens[:index + 1] + [id_pad] * (len(tokens) - index - 1)
    out = text_encoder(W, c, torch.tensor([tokens], dtype=torch.int64))
    z = out['hidden_states']
    # torch.asarray(batch_multipliers): a float32 tensor; then z's dtype in the product.
    mult = torch.tensor([multipliers], dtype=torch.float32).to(z.dtype)
    original_mean = z.mean()
    z = z * mult.reshape(mult.shape + (1,)).expand(z.shape)
    new_mean = z.mean()
    z = z * (original_mean / new_mean)
    return z, out.get('text_embeds'), tokens


def sdxl_condition(tokenizer, prompt, dtype):
    """GeneralConditioner over A1111's two hijacked embedders: crossattn [1, 77·chunks, D1 + D2], pooled [1, P]."""
    comma = tokenizer.encoder[',</w>']
    W1, W2 = Weights(dtype), Weights(dtype)
    # Both use the same BPE, so the chunks agree; only the padding differs (sd_hijack_open_clip: id_pad = 0).
    chunks = tokenize_line(tokenizer, prompt, BOS, EOS, comma)
    zs, pooled, ids1, ids2 = [], None, [], []
    with torch.no_grad():
        for i, chunk in enumerate(chunks):
            z1, _, t1 = process_tokens(W1, TE1, chunk['tokens'], chunk['multipliers'], EOS, EOS)
            z2, p2, t2 = process_tokens(W2, TE2, chunk['tokens'], chunk['multipliers'], EOS, 0)
            zs.append(torch.cat([z1, z2], dim=2))
            ids1.append(t1)
            ids2.append(t2)
            if i == 0:
                pooled = p2  # TextConditionalModel.forward: zs[0].pooled
    return torch.hstack(zs), pooled, chunks, ids1, ids2, W1.used, W2.used


# --- Cases ------------------------------------------------------------------------------------------

# 80 tokens with weights; the first chunk fills inside "((hand drawn accents))", so A1111's comma backtrack
# moves "hand drawn" (weight 1.21) to the second chunk, after the comma 2 tokens before the end.
PROMPT = (
    'brand poster for a coffee roastery, (magenta neon:1.3) sign above the counter, warm oak shelves, '
    'matte black cups, soft morning light through tall windows, [muted background], flat illustration, '
    'bold geometric shapes, clean sans serif lettering, generous negative space, limited palette of cream, '
    'charcoal and magenta, subtle paper grain, centered composition, editorial layout, '
    'a small (logo mark:0.8), ((hand drawn accents)) in the corner'
)
NEGATIVE = ''
PROMPTS = [('prompt', PROMPT), ('negative_empty', NEGATIVE)]


def unet_feeds():
    ctx = UNET_XL['cross_attention_dim']
    return {
        'sample': (seeded(2 * 4 * 8 * 12, 1).reshape(2, 4, 8, 12), [2, 4, 8, 12]),
        'timestep': (torch.tensor([981.0, 981.0], dtype=torch.float32), [2]),
        'encoder_hidden_states': (seeded(2 * 7 * ctx, 2).reshape(2, 7, ctx), [2, 7, ctx]),
        'text_embeds': (seeded(2 * TE2['projection_dim'], 5).reshape(2, -1), [2, TE2['projection_dim']]),
        'time_ids': (torch.tensor(TIME_IDS, dtype=torch.float32), [2, 6]),
    }


def text_feeds(ids):
    return {'input_ids': (torch.tensor(ids, dtype=torch.int64), [len(ids), len(ids[0])])}


CASES = [
    # name, part, config, feeds
    ('text_encoder_1', 'text_encoder', TE1, text_feeds(TE1_IDS)),
    ('text_encoder_2', 'text_encoder_2', TE2, text_feeds(TE2_IDS)),
    # Encoder 2 fed EOS padding: text_embeds must come from the first EOS (argmax's first maximum).
    ('text_encoder_2_eos_padding', 'text_encoder_2', TE2, text_feeds(TE1_IDS)),
    ('unet_sdxl', 'unet', UNET_XL, unet_feeds()),
]


def forward(part, config, inputs, dtype):
    W = Weights(dtype)
    x = {k: (v if v.dtype == torch.int64 else v.to(dtype)) for k, (v, _) in inputs.items()}
    with torch.no_grad():
        if part in ('text_encoder', 'text_encoder_2'):
            out = text_encoder(W, config, x['input_ids'])
        else:
            # time_ids go in as float32 (Timesteps works in float32), text_embeds in the run's dtype.
            added = {'text_embeds': x['text_embeds'], 'time_ids': inputs['time_ids'][0]}
            out = {'out_sample': sd_arch.unet(W, config, x['sample'], inputs['timestep'][0], x['encoder_hidden_states'], added)}
    return out, W.used


def params(used):
    return {'parameters': len(used), 'parameter_values': int(sum(int(np.prod(d)) for d in used.values()))}


def output_summary(out64, out32, full=False):
    s = summarise(out64, out32, {})
    del s['parameters'], s['parameter_values']
    if full:
        s['values'] = out64.flatten().tolist()
    return s


def report(name, key, s):
    rel = s['torch_float32_max_abs_diff'] / s['max_abs']
    print(f'{name:28s} {key:22s} shape {s["shape"]}  max|y| {s["max_abs"]:.4g}  '
          f'torch fp32 vs fp64 max diff {s["torch_float32_max_abs_diff"]:.3g} ({rel:.2g} of max|y|)')


def input_record(inputs):
    # Integer inputs in full; float inputs by their first values (the test makes them itself); time ids in full.
    out = {}
    for k, (v, dims) in inputs.items():
        if v.dtype == torch.int64 or k == 'time_ids':
            out[k] = {'dims': dims, 'values': v.flatten().tolist()}
        else:
            out[k] = {'dims': dims, 'head': v.flatten()[:8].tolist(), 'sum': v.double().sum().item()}
    return out


def main():
    torch.set_num_threads(1)
    cases = {}
    for name, part, config, inputs in CASES:
        out32, used = forward(part, config, inputs, torch.float32)
        out64, used64 = forward(part, config, inputs, torch.float64)
        assert used == used64
        outputs = {}
        for key in out64:
            outputs[key] = output_summary(out64[key], out32[key], full=key == 'text_embeds')
            report(name, key, outputs[key])
        cases[name] = {'part': part, 'config': config, 'inputs': input_record(inputs), 'outputs': outputs, **params(used)}
        print(f'{"":28s} {params(used)}')

    tokenizer = SimpleTokenizer(TOKENIZER_DIR)
    conditioning = {}
    for name, prompt in PROMPTS:
        z64, pooled64, chunks, ids1, ids2, used1, used2 = sdxl_condition(tokenizer, prompt, torch.float64)
        z32, pooled32, _, _, _, _, _ = sdxl_condition(tokenizer, prompt, torch.float32)
        d1 = TE1['hidden_size']
        cross = output_summary(z64, z32)
        # Every token's row, split at the encoders' seam: sums of encoder 1's and encoder 2's part.
        cross['row_sums'] = [[r[:d1].sum().item(), r[d1:].sum().item()] for r in z64[0]]
        cross['row_sums_abs'] = [[r[:d1].abs().sum().item(), r[d1:].abs().sum().item()] for r in z64[0]]
        conditioning[name] = {
            'prompt': prompt,
            'parsed': parse_prompt_attention(prompt),
            # A1111's chunks: encoder 1's ids, encoder 2's (0 after the first EOS), the multipliers as float32.
            'input_ids_1': ids1,
            'input_ids_2': ids2,
            'multipliers': [np.array(c['multipliers'], dtype=np.float32).astype(np.float64).tolist() for c in chunks],
            'crossattn': cross,
            'pooled': output_summary(pooled64, pooled32, full=True),
            'text_encoder_1': params(used1),
            'text_encoder_2': params(used2),
        }
        report(name, 'crossattn', cross)
        report(name, 'pooled', conditioning[name]['pooled'])
        print(f'{"":28s} {len(chunks)} chunks, {sum(len(tokenizer.encode(t)) for t, w in conditioning[name]["parsed"] if w != -1)} tokens')

    probes = [
        ('text_model.embeddings.token_embedding.weight', [49408, 32]),
        ('text_projection.weight', [16, 48]),
        ('add_embedding.linear_1.weight', [128, 64]),
        ('down_blocks.1.attentions.0.transformer_blocks.1.attn2.to_k.weight', [64, 80]),
    ]
    out = {
        'source': (
            f'Made by scripts/reference/sdxl_arch.py with PyTorch {torch.__version__} (CPU), seed {SEED}: '
            "SDXL's text encoders (transformers' CLIPTextModel / CLIPTextModelWithProjection: hidden_states[-2], "
            'text_embeds), UNet2DConditionModel with addition_embed_type text_time (diffusers 58eb52c0803e) '
            "and A1111's SDXL conditioning (prompt_parser, sd_hijack_clip, sd_hijack_open_clip, sd_emphasis "
            'Original) transcribed in torch.nn.functional, with weights by state-dict name from the Python port '
            "of Onbrand's randomTensor in sd_arch.py and OpenAI CLIP's BPE over ../shared/fixtures/clip-tokenizer. "
            'Numbers are from the float64 run (float32 weights and inputs widened); torch_float32_max_abs_diff '
            "is how far PyTorch's own float32 run is from them. strided values are flat[strided_indices] in C "
            'order; head is the first 32 values; row_sums are each token row summed over encoder 1 / encoder 2 channels.'
        ),
        'torch_version': torch.__version__,
        'seed': SEED,
        'random_tensor_probes': [
            {'name': name, 'dims': dims, 'first': random_tensor(name, dims).flatten()[:6].tolist(),
             'sum': random_tensor(name, dims).double().sum().item()}
            for name, dims in probes
        ],
        'text_encoder_1': TE1,
        'text_encoder_2': TE2,
        'cases': cases,
        'conditioning': conditioning,
    }
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'src-main', 'core', 'diffusion', 'testdata', 'sdxl-arch-reference.json')
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f'wrote {os.path.normpath(path)}')


if __name__ == '__main__':
    main()
