/**
 * Onbrand's SDXL graphs and conditioning against an independent PyTorch reference: the numbers in
 * testdata/sdxl-arch-reference.json were computed by scripts/reference/sdxl_arch.py, a plain
 * torch.nn.functional transcription of transformers' CLIPTextModel / CLIPTextModelWithProjection as SDXL
 * uses them (penultimate hidden states, the projected pooled output at the first EOS), diffusers'
 * UNet2DConditionModel with addition_embed_type "text_time", and A1111's SDXL conditioning (prompt
 * parsing, 75-token chunks with comma backtrack for each encoder, encoder 2's 0 padding, emphasis with
 * the mean restored per encoder, the encoders side by side, chunks one after another, pooled text of
 * the first chunk), from the same seeded weights (a Python port of `randomTensor`), the same inputs,
 * and OpenAI CLIP's BPE over the fixture vocabulary. No Python is needed here.
 *
 * Tolerances as in reference.test.ts (fractions of the output's largest magnitude; sums of the sum of
 * |y|): the reference keeps PyTorch's float64 run over the same float32 weights and inputs, so what
 * remains is onnxruntime's float32 rounding. Measured (onnxruntime CPU, fused and plain attention):
 * sampled values within 2.0e-7 of max|y| for the encoders' hidden_states, 6.9e-7 for text_embeds and
 * 3.2e-6 for the UNet (PyTorch's own float32 run: 3.2e-7, 6.0e-7 and 2.6e-6), sums within 2.9e-7
 * of sum|y|; encodePrompt's states within 2.3e-7 (token row sums 1.5e-6) and its pooled text 5.8e-7.
 * So 2e-5 leaves 6× the worst float32 noise.
 *
 * Every SDXL-specific mistake tried on the reference moves outputs by far more (fractions of
 * max|y|): the final layer norm on the penultimate states 0.52, the last layer's states 0.59;
 * text_embeds at the last EOS 1.2, without the final layer norm 0.74; add_time_proj with sin before
 * cos 0.46 or freq_shift 1 0.43, [time ids, text] concatenated the other way 0.52, no SiLU in
 * add_embedding 0.36, width and height swapped in the time ids 0.26, one time id a pixel off 0.11;
 * in the conditioning, encoder 2 padded with EOS 0.83, emphasis without the mean restored 1.1e-2,
 * the mean restored over both encoders at once 2.2e-2, pooled from the last chunk 0.99, no comma
 * backtrack 0.78.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxSession, type Feed, type Output } from '../backend.js';
import { tinyArchConfig } from '../testing/tiny-sd-arch.js';
import { buildPart } from './built-model.js';
import type { SdConfig, TextEncoderConfig, UnetConfig } from './configs.js';
import type { AttentionKind } from './graph-builder.js';
import type { SdPart } from './sd-graphs.js';
import { randomTensor, RandomWeights, writeGraph } from './weights.js';
import { promptChunks } from '../conditioning.js';
import { parsePromptAttention } from '../prompt-syntax.js';
import { encodePrompt, sdxlTimeIds, zeroed, type TextEncoderPart } from '../text-conditioning.js';
import { ClipTokenizer } from '../tokenizer.js';

// The real CLIP vocabulary stays outside the project (third-party licence): ../shared/fixtures, from the repo root.
const clipDir = fileURLToPath(new URL('../../../../../shared/fixtures/clip-tokenizer/', import.meta.url));
const haveClip = fs.existsSync(path.join(clipDir, 'vocab.json'));
const missingReason = `CLIP vocabulary fixtures not found at ${clipDir} (they live outside the project); skipped`;

interface RefInput {
  dims: number[];
  /** Integer inputs and time ids, in full. */
  values?: number[];
  /** Float inputs: the first values and the float64 sum of all. */
  head?: number[];
  sum?: number;
}

interface RefOutput {
  shape: number[];
  head: number[];
  strided_indices: number[];
  strided: number[];
  sum: number;
  sum_abs: number;
  max_abs: number;
  torch_float32_max_abs_diff: number;
  /** Small outputs (text_embeds, pooled), in full. */
  values?: number[];
}

interface RefCase {
  part: SdPart;
  config: TextEncoderConfig | UnetConfig;
  inputs: Record<string, RefInput>;
  outputs: Record<string, RefOutput>;
  parameters: number;
  parameter_values: number;
}

/** A1111's SDXL conditioning of one prompt. */
interface RefConditioning {
  prompt: string;
  /** parse_prompt_attention's pieces. */
  parsed: [string, number][];
  /** Each chunk's 77 ids for encoder 1 (EOS padding) and encoder 2 (0 after the first EOS). */
  input_ids_1: number[][];
  input_ids_2: number[][];
  /** Each chunk's 77 token weights, as float32. */
  multipliers: number[][];
  /** [1, 77 · chunks, hidden 1 + hidden 2], with every token row's sums over each encoder's channels. */
  crossattn: RefOutput & { row_sums: [number, number][]; row_sums_abs: [number, number][] };
  /** [1, projection_dim], in full. */
  pooled: RefOutput;
  text_encoder_1: { parameters: number; parameter_values: number };
  text_encoder_2: { parameters: number; parameter_values: number };
}

interface Reference {
  source: string;
  seed: number;
  random_tensor_probes: { name: string; dims: number[]; first: number[]; sum: number }[];
  text_encoder_1: TextEncoderConfig;
  text_encoder_2: TextEncoderConfig;
  cases: Record<string, RefCase>;
  conditioning: Record<string, RefConditioning>;
}

const ref = JSON.parse(fs.readFileSync(new URL('../testdata/sdxl-arch-reference.json', import.meta.url), 'utf8')) as Reference;

const VALUE_TOLERANCE = 2e-5;
const SUM_TOLERANCE = 5e-6;

function seeded(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.8);
}

/** sdxl_arch.py's feeds: token ids and time ids as given there, float inputs made here. */
function feeds(c: RefCase): Record<string, Feed> {
  const given = (name: string): Feed => ({ data: c.inputs[name]!.values!, dims: c.inputs[name]!.dims });
  if (c.part === 'text_encoder' || c.part === 'text_encoder_2') return { input_ids: given('input_ids') };
  const unet = c.config as UnetConfig;
  const width = unet.cross_attention_dim;
  const projection = c.inputs.text_embeds!.dims[1]!;
  return {
    sample: { data: seeded(2 * 4 * 8 * 12, 1), dims: [2, 4, 8, 12] },
    timestep: { data: [981, 981], dims: [2] },
    encoder_hidden_states: { data: seeded(2 * 7 * width, 2), dims: [2, 7, width] },
    text_embeds: { data: seeded(2 * projection, 5), dims: [2, projection] },
    time_ids: given('time_ids'),
  };
}

/** The tiny SDXL: the reference's two encoders and UNet over the tiny architecture's VAE. */
function sdxlConfig(unet?: UnetConfig): SdConfig {
  const base = tinyArchConfig();
  return { ...base, textEncoder: ref.text_encoder_1, textEncoder2: ref.text_encoder_2, ...(unet ? { unet } : {}) };
}

const sum = (values: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s;
};

/** Every check of one output against its reference numbers. */
function expectMatches(label: string, out: Output, r: RefOutput): void {
  expect(out.dims, `${label}: dims`).toEqual(r.shape);
  expect(out.data.every(Number.isFinite), `${label}: finite`).toBe(true);
  const tol = VALUE_TOLERANCE * r.max_abs;
  const worst = { diff: 0, at: -1 };
  const check = (index: number, expected: number): void => {
    const diff = Math.abs(out.data[index]! - expected);
    if (diff > worst.diff) Object.assign(worst, { diff, at: index });
  };
  r.head.forEach((v, i) => check(i, v));
  r.strided_indices.forEach((index, k) => check(index, r.strided[k]!));
  r.values?.forEach((v, i) => check(i, v));
  expect(
    worst.diff,
    `${label}: worst sampled difference at flat index ${worst.at} (tolerance ${tol.toExponential(2)})`,
  ).toBeLessThanOrEqual(tol);
  let abs = 0;
  let max = 0;
  for (const v of out.data) {
    abs += Math.abs(v);
    max = Math.max(max, Math.abs(v));
  }
  expect(Math.abs(sum(out.data) - r.sum), `${label}: sum`).toBeLessThanOrEqual(SUM_TOLERANCE * r.sum_abs);
  expect(Math.abs(abs - r.sum_abs), `${label}: sum of |y|`).toBeLessThanOrEqual(SUM_TOLERANCE * r.sum_abs);
  expect(Math.abs(max - r.max_abs), `${label}: max |y|`).toBeLessThanOrEqual(tol);
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-sdxl-reference-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function runCase(
  name: string,
  c: RefCase,
  attention: AttentionKind,
): Promise<{ outputs: Record<string, Output>; params: number; values: number }> {
  const config = sdxlConfig(c.part === 'unet' ? (c.config as UnetConfig) : undefined);
  const builder = buildPart(c.part, config, { precision: 'float32', attention, loraBranches: false });
  const file = path.join(dir, `${name}-${attention}.onnx`);
  writeGraph(file, name, builder, new RandomWeights(builder.params.values(), ref.seed));
  const { session } = await OnnxSession.load(file, ['cpu']);
  try {
    const outputs = await session.run(feeds(c));
    const values = [...builder.params.values()].reduce((n, p) => n + p.torchDims.reduce((a, b) => a * b, 1), 0);
    return { outputs, params: builder.params.size, values };
  } finally {
    await session.dispose();
  }
}

describe('SDXL graphs against the PyTorch reference (diffusers / transformers semantics)', () => {
  it("the reference's weights are randomTensor's, bit for bit", () => {
    for (const probe of ref.random_tensor_probes) {
      const values = randomTensor(probe.name, probe.dims, ref.seed);
      expect(Array.from(values.subarray(0, probe.first.length)), probe.name).toEqual(probe.first);
      expect(Math.abs(sum(values) - probe.sum), probe.name).toBeLessThan(1e-9 * Math.max(1, Math.abs(probe.sum)));
    }
  });

  it("the reference's float inputs are these feeds, and its encoders the cases' configs", () => {
    for (const [name, c] of Object.entries(ref.cases)) {
      const given = feeds(c);
      expect(Object.keys(given).sort(), name).toEqual(Object.keys(c.inputs).sort());
      for (const [input, r] of Object.entries(c.inputs)) {
        const feed = given[input]!;
        expect(feed.dims, `${name}.${input}`).toEqual(r.dims);
        if (r.head) expect(Array.from(feed.data).slice(0, r.head.length), `${name}.${input}`).toEqual(r.head);
        if (r.sum !== undefined)
          expect(Math.abs(sum(feed.data) - r.sum), `${name}.${input}`).toBeLessThan(1e-9 * Math.max(1, Math.abs(r.sum)));
      }
      if (c.part === 'text_encoder') expect(c.config, name).toEqual(ref.text_encoder_1);
      if (c.part === 'text_encoder_2') expect(c.config, name).toEqual(ref.text_encoder_2);
    }
  });

  for (const [name, c] of Object.entries(ref.cases)) {
    for (const attention of ['fused', 'plain'] as const) {
      it(`${name} (${attention} attention) equals the reference`, async () => {
        const out = await runCase(name, c, attention);
        expect([out.params, out.values], 'parameters').toEqual([c.parameters, c.parameter_values]);
        expect(Object.keys(out.outputs).sort(), 'outputs').toEqual(Object.keys(c.outputs).sort());
        for (const [key, r] of Object.entries(c.outputs)) expectMatches(`${name}.${key}`, out.outputs[key]!, r);
      });
    }
  }
});

/** SDXL's two tokenizers over the fixture vocabulary: encoder 1 pads with EOS, encoder 2 with `!` (id 0). */
async function sdxlTokenizers(): Promise<[ClipTokenizer, ClipTokenizer]> {
  const vocab = JSON.parse(await fs.promises.readFile(path.join(clipDir, 'vocab.json'), 'utf8')) as Record<string, number>;
  const merges = await fs.promises.readFile(path.join(clipDir, 'merges.txt'), 'utf8');
  return [new ClipTokenizer(vocab, merges), new ClipTokenizer(vocab, merges, { padToken: '!' })];
}

describe("A1111's SDXL conditioning against the reference's transcription of stable-diffusion-webui", () => {
  let encoders: TextEncoderPart[] = [];
  const sessions: OnnxSession[] = [];
  beforeAll(async () => {
    if (!haveClip) return;
    const tokenizers = await sdxlTokenizers();
    const parts = ['text_encoder', 'text_encoder_2'] as const;
    for (const part of parts) {
      const builder = buildPart(part, sdxlConfig(), { precision: 'float32', attention: 'fused', loraBranches: false });
      const file = path.join(dir, `conditioning-${part}.onnx`);
      writeGraph(file, part, builder, new RandomWeights(builder.params.values(), ref.seed));
      sessions.push((await OnnxSession.load(file, ['cpu'])).session);
    }
    encoders = sessions.map((session, i) => ({ session, tokenizer: tokenizers[i]! }));
  });
  afterAll(async () => {
    for (const session of sessions) await session.dispose();
  });

  it('parses the prompts into the same weighted pieces', () => {
    for (const [name, c] of Object.entries(ref.conditioning)) {
      const pieces = parsePromptAttention(c.prompt).map((p) => [p.text, p.weight]);
      expect(pieces, name).toEqual(c.parsed);
    }
  });

  it('chunks them as A1111 does for each encoder: ids, padding and weights', async (ctx) => {
    ctx.skip(!haveClip, missingReason);
    const [tokenizer1, tokenizer2] = await sdxlTokenizers();
    for (const [name, c] of Object.entries(ref.conditioning)) {
      const chunks1 = promptChunks(tokenizer1, c.prompt);
      const chunks2 = promptChunks(tokenizer2, c.prompt);
      expect(
        chunks1.map((chunk) => [...chunk.ids]),
        `${name}: encoder 1 ids`,
      ).toEqual(c.input_ids_1);
      expect(
        chunks2.map((chunk) => [...chunk.ids]),
        `${name}: encoder 2 ids`,
      ).toEqual(c.input_ids_2);
      expect(
        chunks1.map((chunk) => [...chunk.weights]),
        `${name}: weights`,
      ).toEqual(c.multipliers);
      expect(
        chunks2.map((chunk) => [...chunk.weights]),
        `${name}: weights`,
      ).toEqual(c.multipliers);
    }
  });

  for (const name of Object.keys(ref.conditioning)) {
    it(`encodePrompt gives the reference's states and pooled text for the ${name.replace('_', ' ')}`, async (ctx) => {
      ctx.skip(!haveClip, missingReason);
      const c = ref.conditioning[name]!;
      const [te1, te2] = [ref.text_encoder_1.hidden_size, ref.text_encoder_2.hidden_size];
      // The encoders were built with the reference's parameters, by count and size.
      for (const [part, r] of [
        ['text_encoder', c.text_encoder_1],
        ['text_encoder_2', c.text_encoder_2],
      ] as const) {
        const params = [
          ...buildPart(part, sdxlConfig(), { precision: 'float32', attention: 'fused', loraBranches: false }).params.values(),
        ];
        const values = params.reduce((n, p) => n + p.torchDims.reduce((a, b) => a * b, 1), 0);
        expect([params.length, values], part).toEqual([r.parameters, r.parameter_values]);
      }
      const cond = await encodePrompt(encoders, c.prompt);
      expect([cond.tokens, cond.dim]).toEqual([c.input_ids_1.length * 77, te1 + te2]);
      expectMatches(`${name}.crossattn`, { data: cond.data, dims: [1, cond.tokens, cond.dim] }, c.crossattn);
      // Every token's row, on each side of the seam between the encoders (emphasis per token and per encoder).
      const tol = VALUE_TOLERANCE * c.crossattn.max_abs;
      const worst = { diff: 0, at: '' };
      c.crossattn.row_sums.forEach((expected, t) => {
        const row = cond.data.subarray(t * cond.dim, (t + 1) * cond.dim);
        const got = [sum(row.subarray(0, te1)), sum(row.subarray(te1))];
        got.forEach((v, side) => {
          const diff = Math.abs(v - expected[side]!);
          if (diff > worst.diff) Object.assign(worst, { diff, at: `token ${t}, encoder ${side + 1}` });
        });
      });
      expect(worst.diff, `${name}: worst row sum at ${worst.at}`).toBeLessThanOrEqual(tol);
      expect(cond.pooled).not.toBeNull();
      expectMatches(`${name}.pooled`, { data: cond.pooled!, dims: [1, cond.pooled!.length] }, c.pooled);
    });
  }

  it("zeroed(): an empty negative prompt's zeros (A1111's force_zero_negative_prompt, diffusers' force_zeros_for_empty_prompt)", async (ctx) => {
    ctx.skip(!haveClip, missingReason);
    const encoded = await encodePrompt(encoders, '');
    expect(encoded.data.some((v) => v !== 0)).toBe(true);
    const zeros = zeroed(encoded);
    expect([zeros.tokens, zeros.dim, zeros.data.length, zeros.pooled?.length]).toEqual([
      77,
      encoded.dim,
      encoded.data.length,
      encoded.pooled?.length,
    ]);
    expect(zeros.data.every((v) => v === 0) && zeros.pooled!.every((v) => v === 0)).toBe(true);
  });

  it("gives the time ids in diffusers' order: original (height, width), crop (top, left), target (height, width)", () => {
    // The reference UNet's second sample is a 1344 × 768 (landscape) image's.
    expect(sdxlTimeIds(1344, 768)).toEqual(ref.cases.unet_sdxl!.inputs.time_ids!.values!.slice(6));
    expect(sdxlTimeIds(1024, 1024)).toEqual(ref.cases.unet_sdxl!.inputs.time_ids!.values!.slice(0, 6));
  });
});
