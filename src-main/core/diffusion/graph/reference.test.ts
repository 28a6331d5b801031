/**
 * Onbrand's Stable Diffusion graphs against an independent PyTorch reference: the numbers in
 * testdata/sd-arch-reference.json were computed by scripts/reference/sd_arch.py, a plain
 * torch.nn.functional transcription of transformers' CLIPTextModel and diffusers'
 * UNet2DConditionModel and AutoencoderKL, from the same seeded weights (a Python port of
 * `randomTensor`) and the same inputs. So this checks the builder against diffusers' semantics, not
 * against itself. No Python is needed here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxSession, type Feed } from '../backend.js';
import { tinyArchConfig } from '../testing/tiny-sd-arch.js';
import { buildPart } from './built-model.js';
import type { SdConfig, TextEncoderConfig, UnetConfig, VaeConfig } from './configs.js';
import type { AttentionKind } from './graph-builder.js';
import type { SdPart } from './sd-graphs.js';
import { randomTensor, RandomWeights, writeGraph } from './weights.js';

interface RefInput {
  dims: number[];
  /** Integer inputs, in full. */
  values?: number[];
  /** Float inputs: the first values and the float64 sum of all. */
  head?: number[];
  sum?: number;
}

interface RefCase {
  part: SdPart;
  config: TextEncoderConfig | UnetConfig | VaeConfig;
  inputs: Record<string, RefInput>;
  shape: number[];
  head: number[];
  strided_indices: number[];
  strided: number[];
  sum: number;
  sum_abs: number;
  max_abs: number;
  torch_float32_max_abs_diff: number;
  parameters: number;
  parameter_values: number;
}

interface Reference {
  source: string;
  seed: number;
  random_tensor_probes: { name: string; dims: number[]; first: number[]; sum: number }[];
  cases: Record<string, RefCase>;
}

const ref = JSON.parse(fs.readFileSync(new URL('../testdata/sd-arch-reference.json', import.meta.url), 'utf8')) as Reference;

/**
 * Tolerances, as fractions of the output's largest magnitude (values) or of the sum of |y| (sums).
 * The reference numbers are PyTorch's float64 run over the same float32 weights and inputs, so what
 * remains is float32 rounding on onnxruntime's side. Measured (onnxruntime CPU, fused and plain):
 * sampled values within 1.2e-6 of max|y|, and 3.3e-6 for unet_options, whose timestep table with
 * freq_shift 1 the builder rounds from float64 where diffusers computes it in float32 (3.0e-6 of
 * that is this alone); sums within 8.6e-7 of sum|y|. PyTorch's own float32 run is 3e-7–1.6e-6 of
 * max|y| away (`torch_float32_max_abs_diff`).
 *
 * The usual 1e-4 would be too loose: mutating the reference moves the sampled values by 2e-5–3e-4
 * of max|y| for GroupNorm eps 1e-5 ↔ 1e-6 in the UNet's resnets or the VAE, LayerNorm eps 1e-6 in
 * CLIP, or tanh-approximated GELU, so 1e-4 would miss most of them. 2e-5 is 6× the worst float32
 * noise (17× in most cases) and fails each of those mutations in at least one case (all but the
 * 3-level VAE decoder's eps, 1.9e-5). The transformers' GroupNorm eps (1e-5 for 1e-6: ≈1e-5) and the
 * UNet's LayerNorm eps (≈5e-6) are too small for this test to see. Wrong head counts, a missing causal
 * mask, QuickGELU for GELU, cos/sin order, padding side or bilinear upsampling move outputs by 1e-2
 * to 1.
 */
const VALUE_TOLERANCE = 2e-5;
/** Sums over thousands of values: float32 errors mostly cancel, systematic ones (an eps) do not. */
const SUM_TOLERANCE = 5e-6;

function seeded(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.8);
}

const TEXT_IDS = [198, 5, 17, 42, 199, 199, 199];
const TEXT_IDS_2 = [3, 1, 4, 1, 5, 9, 2];

/** graph/sd-graphs.test.ts's feeds; the UNet's context is as wide as its config's cross_attention_dim, text may be a batch of two. */
function feeds(name: string, c: RefCase): Record<string, Feed> {
  switch (c.part) {
    case 'text_encoder': {
      const batch = c.inputs.input_ids!.dims[0]!;
      return { input_ids: { data: batch === 1 ? TEXT_IDS : [...TEXT_IDS, ...TEXT_IDS_2], dims: [batch, 7] } };
    }
    case 'unet': {
      const width = (c.config as UnetConfig).cross_attention_dim;
      return {
        sample: { data: seeded(2 * 4 * 8 * 12, 1), dims: [2, 4, 8, 12] },
        timestep: { data: [981, 981], dims: [2] },
        encoder_hidden_states: { data: seeded(2 * 7 * width, 2), dims: [2, 7, width] },
      };
    }
    case 'vae_decoder':
      return { latent_sample: { data: seeded(4 * 8 * 12, 3), dims: [1, 4, 8, 12] } };
    case 'vae_encoder':
      return { sample: { data: seeded(3 * 64 * 96, 4), dims: [1, 3, 64, 96] } };
  }
  throw new Error(`${name}: unknown part`);
}

/** The case's part config over the tiny architecture's others. */
function sdConfig(c: RefCase): SdConfig {
  const base = tinyArchConfig();
  if (c.part === 'text_encoder') return { ...base, textEncoder: c.config as TextEncoderConfig };
  if (c.part === 'unet') return { ...base, unet: c.config as UnetConfig };
  return { ...base, vae: c.config as VaeConfig };
}

const sum = (values: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s;
};

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-sd-reference-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function runCase(
  name: string,
  c: RefCase,
  attention: AttentionKind,
): Promise<{ data: Float32Array; dims: number[]; params: number; values: number }> {
  const builder = buildPart(c.part, sdConfig(c), { precision: 'float32', attention, loraBranches: false });
  const file = path.join(dir, `${name}-${attention}.onnx`);
  writeGraph(file, name, builder, new RandomWeights(builder.params.values(), ref.seed));
  const { session } = await OnnxSession.load(file, ['cpu']);
  try {
    const out = Object.values(await session.run(feeds(name, c)))[0]!;
    const values = [...builder.params.values()].reduce((n, p) => n + p.torchDims.reduce((a, b) => a * b, 1), 0);
    return { data: out.data, dims: out.dims, params: builder.params.size, values };
  } finally {
    await session.dispose();
  }
}

describe('SD graphs against the PyTorch reference (diffusers / transformers semantics)', () => {
  it("the reference's weights are randomTensor's, bit for bit", () => {
    expect(ref.random_tensor_probes.length).toBeGreaterThan(0);
    for (const probe of ref.random_tensor_probes) {
      const values = randomTensor(probe.name, probe.dims, ref.seed);
      expect(Array.from(values.subarray(0, probe.first.length)), probe.name).toEqual(probe.first);
      expect(Math.abs(sum(values) - probe.sum), probe.name).toBeLessThan(1e-9 * Math.max(1, Math.abs(probe.sum)));
    }
  });

  it("the reference's inputs are these feeds, and its tiny configs are tinyArchConfig()'s", () => {
    for (const [name, c] of Object.entries(ref.cases)) {
      const given = feeds(name, c);
      expect(Object.keys(given).sort(), name).toEqual(Object.keys(c.inputs).sort());
      for (const [input, r] of Object.entries(c.inputs)) {
        const feed = given[input]!;
        expect(feed.dims, `${name}.${input}`).toEqual(r.dims);
        if (r.values) expect(Array.from(feed.data), `${name}.${input}`).toEqual(r.values);
        if (r.head) expect(Array.from(feed.data).slice(0, r.head.length), `${name}.${input}`).toEqual(r.head);
        if (r.sum !== undefined)
          expect(Math.abs(sum(feed.data) - r.sum), `${name}.${input}`).toBeLessThan(1e-9 * Math.max(1, Math.abs(r.sum)));
      }
    }
    const tiny = tinyArchConfig();
    // Fields added with SDXL keep SD 1.x's behaviour at their defaults (the reference predates them).
    expect([tiny.textEncoder.layer, tiny.textEncoder.projection_dim, tiny.unet.addition_embed_type, tiny.vae.force_upcast]).toEqual([
      'last',
      null,
      null,
      false,
    ]);
    const { layer: _layer, projection_dim: _projection, ...text } = tiny.textEncoder;
    const { addition_embed_type: _a, addition_time_embed_dim: _b, projection_class_embeddings_input_dim: _c, ...unet } = tiny.unet;
    const { force_upcast: _upcast, ...vae } = tiny.vae;
    Object.assign(tiny, { textEncoder: text, unet, vae });
    expect(ref.cases.text_encoder!.config).toEqual(tiny.textEncoder);
    expect(ref.cases.unet!.config).toEqual(tiny.unet);
    expect(ref.cases.vae_decoder!.config).toEqual(tiny.vae);
    expect(ref.cases.vae_encoder!.config).toEqual(tiny.vae);
  });

  for (const [name, c] of Object.entries(ref.cases)) {
    for (const attention of ['fused', 'plain'] as const) {
      it(`${name} (${attention} attention) equals the reference`, async () => {
        const out = await runCase(name, c, attention);
        // The same parameters as the reference used, by count and size (names are checked by the values).
        expect([out.params, out.values], 'parameters').toEqual([c.parameters, c.parameter_values]);
        expect(out.dims).toEqual(c.shape);
        expect(out.data.every(Number.isFinite)).toBe(true);
        const tol = VALUE_TOLERANCE * c.max_abs;
        const worst = { diff: 0, at: -1 };
        const check = (index: number, expected: number): void => {
          const diff = Math.abs(out.data[index]! - expected);
          if (diff > worst.diff) Object.assign(worst, { diff, at: index });
        };
        c.head.forEach((v, i) => check(i, v));
        c.strided_indices.forEach((index, k) => check(index, c.strided[k]!));
        expect(
          worst.diff,
          `${name}: worst sampled difference at flat index ${worst.at} (tolerance ${tol.toExponential(2)})`,
        ).toBeLessThanOrEqual(tol);
        let abs = 0;
        let max = 0;
        for (const v of out.data) {
          abs += Math.abs(v);
          max = Math.max(max, Math.abs(v));
        }
        expect(Math.abs(sum(out.data) - c.sum), `${name}: sum`).toBeLessThanOrEqual(SUM_TOLERANCE * c.sum_abs);
        expect(Math.abs(abs - c.sum_abs), `${name}: sum of |y|`).toBeLessThanOrEqual(SUM_TOLERANCE * c.sum_abs);
        expect(Math.abs(max - c.max_abs), `${name}: max |y|`).toBeLessThanOrEqual(tol);
      });
    }
  }
});
