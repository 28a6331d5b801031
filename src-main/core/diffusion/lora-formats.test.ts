/**
 * Every common LoRA format: LoRA / LoCon (with its CP form), LoHa (with Tucker), LoKr (full,
 * product and Tucker factors) and full `diff` modules against their defining formulas (plain
 * reference implementations of A1111's `network_*.py` / `lyco_helpers.py` below), through both
 * the side-branch feeds and the merge; kohya diffusers-style, kohya / A1111 LDM-style and
 * diffusers / PEFT names of the same module; and on a tiny model, the same images from every
 * naming and the images of weights with ΔW merged in.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffusionEngine, type GenerateSettings, type GeneratedImage } from './engine.js';
import { buildPart, SD15, type LoraBranch } from './graph/index.js';
import { RandomWeights, writeGraph, type WeightSource } from './graph/weights.js';
import { branchFeeds } from './lora-branches.js';
import { lowRank } from './lora-formats.js';
import { layersPerBlockOf, parseKey, resolveAddress } from './lora-keys.js';
import { LoraLibrary, mergeLoras, readLora, type ModelPart } from './lora.js';
import type { WeightTarget } from './onnx-graph.js';
import { encodeSafetensors } from './safetensors.js';
import { tinyArchConfig, writeTinySdArch } from './testing/tiny-sd-arch.js';
import { maxPixelDiff } from './testing/images.js';

type Tensors = Parameters<typeof encodeSafetensors>[0];
interface T {
  shape: number[];
  data: Float32Array;
}

let root: string;
let loraDir: string;

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
/** Deterministic values in ±scale, without the structure of a plain sine (whose shifted copies make factors nearly parallel). */
const values = (n: number, seed: number, scale = 0.4): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => {
    const h = Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453;
    return (h - Math.floor(h) - 0.5) * 2 * scale;
  });
const tensor = (shape: number[], seed: number, scale = 0.4): T => ({ shape, data: values(numel(shape), seed, scale) });

function writeLora(name: string, tensors: Record<string, T>): void {
  const out: Tensors = {};
  for (const [key, t] of Object.entries(tensors)) out[key] = { dtype: 'F32', shape: t.shape, data: t.data };
  fs.writeFileSync(path.join(loraDir, `${name}.safetensors`), encodeSafetensors(out, {}));
}

const scalar = (v: number): T => ({ shape: [], data: Float32Array.of(v) });

// ---------------------------------------------------------------------------------------------
// Reference implementations, index by index, of A1111's `extensions-builtin/Lora`:
// `lyco_helpers.rebuild_conventional`, `rebuild_cp_decomposition`, `make_weight_cp`,
// `network_hada.calc_updown`, `network_lokr.make_kron` (torch.kron).

/** Row-major strides. */
const strides = (shape: readonly number[]): number[] => shape.map((_, d) => numel(shape.slice(d + 1)));
const as2d = (t: T): T => ({ shape: [t.shape[0]!, t.data.length / t.shape[0]!], data: t.data });

/** up [I, R] (any trailing 1s) · down [R, J…] → [I, J…]. */
function refMatmul(up: T, down: T): Float32Array {
  const [I, R] = [up.shape[0]!, up.data.length / up.shape[0]!];
  const J = down.data.length / R;
  const out = new Float32Array(I * J);
  for (let i = 0; i < I; i++)
    for (let j = 0; j < J; j++) for (let r = 0; r < R; r++) out[i * J + j] += up.data[i * R + r]! * down.data[r * J + j]!;
  return out;
}

/** rebuild_cp_decomposition: einsum('n m k l, i n, m j -> i j k l', mid, up, down). */
function refCp(up: T, down: T, mid: T): Float32Array {
  const u = as2d(up);
  const d = as2d(down);
  const [N, M, K, L] = mid.shape as [number, number, number, number];
  const [I, J] = [u.shape[0]!, d.shape[1]!];
  const out = new Float32Array(I * J * K * L);
  for (let i = 0; i < I; i++)
    for (let j = 0; j < J; j++)
      for (let k = 0; k < K; k++)
        for (let l = 0; l < L; l++) {
          let s = 0;
          for (let n = 0; n < N; n++)
            for (let m = 0; m < M; m++) s += mid.data[((n * M + m) * K + k) * L + l]! * u.data[i * N + n]! * d.data[m * J + j]!;
          out[((i * J + j) * K + k) * L + l] = s;
        }
  return out;
}

/** make_weight_cp: temp = einsum('i j k l, j r -> i r k l', t, wb); einsum('i j k l, i r -> r j k l', temp, wa). */
function refWeightCp(t: T, wa: T, wb: T): Float32Array {
  const [I, J, K, L] = t.shape as [number, number, number, number];
  const R2 = wb.shape[1]!;
  const R1 = wa.shape[1]!;
  const temp = new Float32Array(I * R2 * K * L);
  for (let i = 0; i < I; i++)
    for (let r = 0; r < R2; r++)
      for (let k = 0; k < K * L; k++)
        for (let j = 0; j < J; j++) temp[(i * R2 + r) * K * L + k] += t.data[(i * J + j) * K * L + k]! * wb.data[j * R2 + r]!;
  const out = new Float32Array(R1 * R2 * K * L);
  for (let r = 0; r < R1; r++)
    for (let j = 0; j < R2; j++)
      for (let k = 0; k < K * L; k++)
        for (let i = 0; i < I; i++) out[(r * R2 + j) * K * L + k] += temp[(i * R2 + j) * K * L + k]! * wa.data[i * R1 + r]!;
  return out;
}

/** torch.kron of two tensors of the same rank: out[a·s2 + b] = x[a] · y[b] per dimension. */
function refKron(x: T, y: T): T {
  const shape = x.shape.map((s, d) => s * y.shape[d]!);
  const out = new Float32Array(numel(shape));
  const [sx, sy, so] = [strides(x.shape), strides(y.shape), strides(shape)];
  for (let a = 0; a < x.data.length; a++) {
    const ia = x.shape.map((_, d) => Math.floor(a / sx[d]!) % x.shape[d]!);
    for (let b = 0; b < y.data.length; b++) {
      const ib = y.shape.map((_, d) => Math.floor(b / sy[d]!) % y.shape[d]!);
      let o = 0;
      for (let d = 0; d < shape.length; d++) o += (ia[d]! * y.shape[d]! + ib[d]!) * so[d]!;
      out[o] = x.data[a]! * y.data[b]!;
    }
  }
  return { shape, data: out };
}

/** network_lokr.make_kron: w1 gains two trailing 1s when w2 is a 4-D convolution factor. */
function refMakeKron(w1: T, w2: T): Float32Array {
  return refKron(w2.shape.length === 4 ? { shape: [...w1.shape, 1, 1], data: w1.data } : w1, w2).data;
}

const hadamard = (a: Float32Array, b: Float32Array): Float32Array => a.map((v, i) => v * b[i]!);

// ---------------------------------------------------------------------------------------------
// Layers: a linear layer 12×10 and a 3×3 convolution 8×6 (sizes that factor for LoKr: 12 = 3·4,
// 10 = 2·5, 8 = 2·4, 6 = 2·3), as side branches and as exported weights.

const LINEAR = 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q';
const CONV = 'down_blocks.0.resnets.0.conv1';
const LINEAR_KEY = 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q';
const CONV_KEY = 'lora_unet_down_blocks_0_resnets_0_conv1';
const branches: LoraBranch[] = [
  { module: LINEAR, kind: 'linear', inDim: 10, outDim: 12, kernel: 1, down: `lora_down:${LINEAR}`, up: `lora_up:${LINEAR}` },
  { module: CONV, kind: 'conv', inDim: 6, outDim: 8, kernel: 3, down: `lora_down:${CONV}`, up: `lora_up:${CONV}` },
];
const targets = new Map<string, { part: ModelPart; target: WeightTarget }>([
  [LINEAR_KEY, { part: 'unet', target: { initializer: 'q', op: 'MatMul', transposed: true, dims: [10, 12] } }],
  [CONV_KEY, { part: 'unet', target: { initializer: 'c', op: 'Conv', transposed: false, dims: [8, 6, 3, 3] } }],
]);

/** ΔW [out, in·kh·kw] the branch feeds make: x·down·up for each basis x (linear), up·down (conv). */
function effectiveFromFeeds(feeds: Record<string, { data: ArrayLike<number>; dims: readonly number[] }>, branch: LoraBranch): Float32Array {
  const down = feeds[branch.down]!;
  const up = feeds[branch.up]!;
  const inner = branch.inDim * branch.kernel * branch.kernel;
  const out = new Float32Array(branch.outDim * inner);
  if (branch.kind === 'linear') {
    const rank = down.dims[1]!;
    for (let o = 0; o < branch.outDim; o++)
      for (let i = 0; i < inner; i++)
        for (let r = 0; r < rank; r++) out[o * inner + i] += down.data[i * rank + r]! * up.data[r * branch.outDim + o]!;
  } else {
    const rank = down.dims[0]!;
    expect(up.dims).toEqual([branch.outDim, rank, 1, 1]);
    for (let o = 0; o < branch.outDim; o++)
      for (let i = 0; i < inner; i++)
        for (let r = 0; r < rank; r++) out[o * inner + i] += up.data[o * rank + r]! * down.data[r * inner + i]!;
  }
  return out;
}

/** ΔW [out, in·kh·kw] the merge adds to zero weights (MatMul weights stored [in, out]). */
async function effectiveFromMerge(name: string, weight: number): Promise<Map<string, Float32Array>> {
  const library = new LoraLibrary(loraDir);
  const lora = await library.get(name);
  const { overrides, warnings } = await mergeLoras(
    library,
    [{ lora, weight }],
    targets,
    (_, n) => new Float32Array(n === 'q' ? 120 : 432),
    'layers',
  );
  expect(warnings).toEqual([]);
  const q = overrides.unet.get('q');
  const result = new Map<string, Float32Array>();
  if (q)
    result.set(
      LINEAR_KEY,
      Float32Array.from({ length: 120 }, (_, k) => q[(k % 10) * 12 + Math.floor(k / 10)]!),
    );
  const c = overrides.unet.get('c');
  if (c) result.set(CONV_KEY, c);
  return result;
}

function expectClose(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const scale = Math.max(...Array.from(expected, Math.abs));
  expect(scale, `${what}: a change at all`).toBeGreaterThan(1e-4);
  let m = 0;
  for (let i = 0; i < actual.length; i++) m = Math.max(m, Math.abs(actual[i]! - expected[i]!));
  expect(m / scale, what).toBeLessThan(1e-5);
}

/** Both paths against the reference ΔW of each module (already scaled by A1111's calc_scale). */
async function checkBothPaths(name: string, expected: Record<string, Float32Array>, weight = 0.7): Promise<void> {
  const lora = await readLora(path.join(loraDir, `${name}.safetensors`));
  expect([...lora.unknownKeys]).toEqual([]);
  const { feeds, warnings } = branchFeeds({ textEncoder: [], unet: branches }, [{ lora, weight }], false, 'layers');
  expect(warnings).toEqual([]);
  const merged = await effectiveFromMerge(name, weight);
  for (const branch of branches) {
    const key = branch.kind === 'conv' ? CONV_KEY : LINEAR_KEY;
    const reference = expected[key];
    if (!reference) continue;
    const scaled = reference.map((v) => v * weight);
    expectClose(effectiveFromFeeds(feeds.unet as never, branch), scaled, `${name} ${key}: branch feeds`);
    expectClose(merged.get(key)!, scaled, `${name} ${key}: merged`);
  }
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-lora-formats-'));
  loraDir = path.join(root, 'loras');
  fs.mkdirSync(loraDir);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('each format against its defining formula, through the feeds and the merge', () => {
  it('LoRA / LoCon: (alpha / rank) · up · down; the CP form with lora_mid', async () => {
    const t = {
      up: tensor([12, 2], 1),
      down: tensor([2, 10], 2),
      cUp: tensor([8, 3, 1, 1], 3),
      cDown: tensor([3, 6, 3, 3], 4),
    };
    writeLora('lora', {
      [`${LINEAR_KEY}.lora_up.weight`]: t.up,
      [`${LINEAR_KEY}.lora_down.weight`]: t.down,
      [`${LINEAR_KEY}.alpha`]: scalar(4),
      [`${CONV_KEY}.lora_up.weight`]: t.cUp,
      [`${CONV_KEY}.lora_down.weight`]: t.cDown,
    });
    // alpha 4 / rank 2 = 2; no alpha: 1.
    await checkBothPaths('lora', { [LINEAR_KEY]: refMatmul(t.up, t.down).map((v) => v * 2), [CONV_KEY]: refMatmul(t.cUp, t.cDown) });

    // LoCon's CP decomposition: up [out, r, 1, 1], down [r, in, 1, 1], mid [r, r, 3, 3].
    const cp = { up: tensor([8, 3, 1, 1], 5), down: tensor([3, 6, 1, 1], 6), mid: tensor([3, 3, 3, 3], 7) };
    writeLora('locon_cp', {
      [`${CONV_KEY}.lora_up.weight`]: cp.up,
      [`${CONV_KEY}.lora_down.weight`]: cp.down,
      [`${CONV_KEY}.lora_mid.weight`]: cp.mid,
      [`${CONV_KEY}.alpha`]: scalar(1.5),
    });
    await checkBothPaths('locon_cp', { [CONV_KEY]: refCp(cp.up, cp.down, cp.mid).map((v) => v * 0.5) });
    const module = (await readLora(path.join(loraDir, 'locon_cp.safetensors'))).modules.get(CONV_KEY)!;
    expect([module.type, lowRank(module).rank]).toEqual(['LoCon (CP)', 3]);
  });

  it('LoHa: (alpha / dim) · (w1a·w1b) ⊙ (w2a·w2b), dim = w1b rows; Tucker factors on a convolution; rank r1·r2, or ΔW itself when that is larger', async () => {
    const h = { w1a: tensor([12, 2], 11), w1b: tensor([2, 10], 12), w2a: tensor([12, 2], 13), w2b: tensor([2, 10], 14) };
    // Tucker: hada_t [r, r, 3, 3], w_a [r, out], w_b [r, in].
    const c = {
      t1: tensor([2, 2, 3, 3], 15, 1),
      w1a: tensor([2, 8], 16, 1),
      w1b: tensor([2, 6], 17, 1),
      t2: tensor([3, 3, 3, 3], 18, 1),
      w2a: tensor([3, 8], 19, 1),
      w2b: tensor([3, 6], 20, 1),
    };
    writeLora('loha', {
      [`${LINEAR_KEY}.hada_w1_a`]: h.w1a,
      [`${LINEAR_KEY}.hada_w1_b`]: h.w1b,
      [`${LINEAR_KEY}.hada_w2_a`]: h.w2a,
      [`${LINEAR_KEY}.hada_w2_b`]: h.w2b,
      [`${LINEAR_KEY}.alpha`]: scalar(3),
      [`${CONV_KEY}.hada_t1`]: c.t1,
      [`${CONV_KEY}.hada_w1_a`]: c.w1a,
      [`${CONV_KEY}.hada_w1_b`]: c.w1b,
      [`${CONV_KEY}.hada_t2`]: c.t2,
      [`${CONV_KEY}.hada_w2_a`]: c.w2a,
      [`${CONV_KEY}.hada_w2_b`]: c.w2b,
      [`${CONV_KEY}.alpha`]: scalar(1),
    });
    const linear = hadamard(refMatmul(h.w1a, h.w1b), refMatmul(h.w2a, h.w2b)).map((v) => v * 1.5);
    const conv = hadamard(refWeightCp(c.t1, c.w1a, c.w1b), refWeightCp(c.t2, c.w2a, c.w2b)).map((v) => v * 0.5);
    await checkBothPaths('loha', { [LINEAR_KEY]: linear, [CONV_KEY]: conv });
    const lora = await readLora(path.join(loraDir, 'loha.safetensors'));
    expect(lowRank(lora.modules.get(LINEAR_KEY)!).rank).toBe(4); // 2 · 2 Khatri–Rao
    expect(lowRank(lora.modules.get(CONV_KEY)!).rank).toBe(6); // 2 · 3

    // Rank 4 · 4 = 16 passes min(12, 10): ΔW itself, beside an identity of rank 10.
    const big = { w1a: tensor([12, 4], 21), w1b: tensor([4, 10], 22), w2a: tensor([12, 4], 23), w2b: tensor([4, 10], 24) };
    writeLora('loha_big', {
      [`${LINEAR_KEY}.hada_w1_a`]: big.w1a,
      [`${LINEAR_KEY}.hada_w1_b`]: big.w1b,
      [`${LINEAR_KEY}.hada_w2_a`]: big.w2a,
      [`${LINEAR_KEY}.hada_w2_b`]: big.w2b,
    });
    await checkBothPaths('loha_big', { [LINEAR_KEY]: hadamard(refMatmul(big.w1a, big.w1b), refMatmul(big.w2a, big.w2b)) });
    expect(lowRank((await readLora(path.join(loraDir, 'loha_big.safetensors'))).modules.get(LINEAR_KEY)!).rank).toBe(10);
  });

  it('LoKr: kron(w1, w2); alpha / dim with dim from w2b (else w1b), scale 1 with full matrices; Tucker w2 on a convolution', async () => {
    // Linear 12×10 = kron([3, 2], [4, 5]): w1 full, w2 = w2a [4, 2] · w2b [2, 5].
    const k = { w1: tensor([3, 2], 31), w2a: tensor([4, 2], 32), w2b: tensor([2, 5], 33) };
    // Conv 8×6×3×3 = kron([2, 2], [4, 3, 3, 3]): w1 = w1a·w1b (rank 1), w2 Tucker: t2 [2, 2, 3, 3], w2a [2, 4], w2b [2, 3].
    const c = {
      w1a: tensor([2, 1], 34),
      w1b: tensor([1, 2], 35),
      t2: tensor([2, 2, 3, 3], 36),
      w2a: tensor([2, 4], 37),
      w2b: tensor([2, 3], 38),
    };
    writeLora('lokr', {
      [`${LINEAR_KEY}.lokr_w1`]: k.w1,
      [`${LINEAR_KEY}.lokr_w2_a`]: k.w2a,
      [`${LINEAR_KEY}.lokr_w2_b`]: k.w2b,
      [`${LINEAR_KEY}.alpha`]: scalar(1),
      [`${CONV_KEY}.lokr_w1_a`]: c.w1a,
      [`${CONV_KEY}.lokr_w1_b`]: c.w1b,
      [`${CONV_KEY}.lokr_t2`]: c.t2,
      [`${CONV_KEY}.lokr_w2_a`]: c.w2a,
      [`${CONV_KEY}.lokr_w2_b`]: c.w2b,
      [`${CONV_KEY}.alpha`]: scalar(3),
    });
    const w2 = { shape: [4, 5], data: refMatmul(k.w2a, k.w2b) };
    const cw1 = { shape: [2, 2], data: refMatmul(c.w1a, c.w1b) };
    const cw2 = { shape: [4, 3, 3, 3], data: refWeightCp(c.t2, c.w2a, c.w2b) };
    // Scales: alpha 1 / dim 2 (w2b's rows); alpha 3 / dim 2 (w2b's rows, not w1b's 1).
    await checkBothPaths('lokr', {
      [LINEAR_KEY]: refMakeKron(k.w1, w2).map((v) => v * 0.5),
      [CONV_KEY]: refMakeKron(cw1, cw2).map((v) => v * 1.5),
    });
    const lora = await readLora(path.join(loraDir, 'lokr.safetensors'));
    // kron(W1, U2·V2) = kron(I or W1, U2) · kron(W1 or I, V2): min(3, 2) · 2.
    expect(lowRank(lora.modules.get(LINEAR_KEY)!).rank).toBe(4);
    expect(lowRank(lora.modules.get(CONV_KEY)!).rank).toBe(2); // 1 · 2

    // Both factors full: A1111 has no dim, so alpha is ignored (scale 1).
    const f = { w1: tensor([3, 2], 41), w2: tensor([4, 5], 42), cw1: tensor([2, 2], 43), cw2: tensor([4, 3, 3, 3], 44) };
    writeLora('lokr_full', {
      [`${LINEAR_KEY}.lokr_w1`]: f.w1,
      [`${LINEAR_KEY}.lokr_w2`]: f.w2,
      [`${LINEAR_KEY}.alpha`]: scalar(8),
      [`${CONV_KEY}.lokr_w1`]: f.cw1,
      [`${CONV_KEY}.lokr_w2`]: f.cw2,
    });
    await checkBothPaths('lokr_full', { [LINEAR_KEY]: refMakeKron(f.w1, f.w2), [CONV_KEY]: refMakeKron(f.cw1, f.cw2) });
    const full = await readLora(path.join(loraDir, 'lokr_full.safetensors'));
    expect(full.modules.get(LINEAR_KEY)!.scale).toBe(1);
    expect(lowRank(full.modules.get(LINEAR_KEY)!).rank).toBe(8); // kron(W1, I₄) · kron(I₂, W2): 2 · 4 ≤ 10
    expect(lowRank(full.modules.get(CONV_KEY)!).rank).toBe(8); // 2 · 4 = min(8, 54)
  });

  it('full (diff): ΔW as stored, scale 1', async () => {
    const d = { linear: tensor([12, 10], 51), conv: tensor([8, 6, 3, 3], 52) };
    writeLora('full', { [`${LINEAR_KEY}.diff`]: d.linear, [`${CONV_KEY}.diff`]: d.conv, [`${CONV_KEY}.alpha`]: scalar(2) });
    await checkBothPaths('full', { [LINEAR_KEY]: d.linear.data, [CONV_KEY]: d.conv.data });
  });

  it("pads a 4-channel conv_in change to an inpainting model's 9 input channels, as A1111 does; reports tensors a module does not use", async () => {
    const t = { up: tensor([8, 2, 1, 1], 61), down: tensor([2, 4, 3, 3], 62) };
    writeLora('inpaint', {
      'lora_unet_conv_in.lora_up.weight': t.up,
      'lora_unet_conv_in.lora_down.weight': t.down,
      'lora_unet_conv_in.diff_b': tensor([8], 63),
    });
    const lora = await readLora(path.join(loraDir, 'inpaint.safetensors'));
    expect([...lora.unknownKeys]).toEqual([['lora_unet_conv_in.diff_b (not used by a LoRA module)', 1]]);
    // ΔW [8, 4·9] → [8, 9·9]: input channels 4–8 unchanged.
    const small = refMatmul(t.up, t.down);
    const expected = new Float32Array(8 * 81);
    for (let o = 0; o < 8; o++) expected.set(small.subarray(o * 36, (o + 1) * 36), o * 81);
    const branch: LoraBranch = {
      module: 'conv_in',
      kind: 'conv',
      inDim: 9,
      outDim: 8,
      kernel: 3,
      down: 'lora_down:conv_in',
      up: 'lora_up:conv_in',
    };
    expectClose(
      effectiveFromFeeds(
        branchFeeds({ textEncoder: [], unet: [branch] }, [{ lora, weight: 1 }], false, 'inpainting').feeds.unet as never,
        branch,
      ),
      expected,
      'feeds',
    );
    const library = new LoraLibrary(loraDir);
    const conv = new Map([
      [
        'lora_unet_conv_in',
        { part: 'unet' as const, target: { initializer: 'w', op: 'Conv' as const, transposed: false, dims: [8, 9, 3, 3] } },
      ],
    ]);
    const { overrides } = await mergeLoras(
      library,
      [{ lora: await library.get('inpaint'), weight: 1 }],
      conv,
      () => new Float32Array(8 * 81),
      'inpainting',
    );
    expectClose(overrides.unet.get('w')!, expected, 'merged');
  });

  it('several LoRAs stack along the rank: the feeds make the sum of their changes', async () => {
    const lora = await readLora(path.join(loraDir, 'lora.safetensors'));
    const loha = await readLora(path.join(loraDir, 'loha.safetensors'));
    const both = branchFeeds(
      { textEncoder: [], unet: branches },
      [
        { lora, weight: 0.5 },
        { lora: loha, weight: -1 },
      ],
      false,
      'layers',
    ).feeds.unet;
    for (const branch of branches) {
      const one = effectiveFromFeeds(
        branchFeeds({ textEncoder: [], unet: branches }, [{ lora, weight: 0.5 }], false, 'layers').feeds.unet as never,
        branch,
      );
      const two = effectiveFromFeeds(
        branchFeeds({ textEncoder: [], unet: branches }, [{ lora: loha, weight: -1 }], false, 'layers').feeds.unet as never,
        branch,
      );
      expectClose(
        effectiveFromFeeds(both as never, branch),
        one.map((v, i) => v + two[i]!),
        branch.module,
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Names

/**
 * A1111's `convert_diffusers_name_to_compvis` (extensions-builtin/Lora/networks.py, SD 1.x: 3
 * LDM blocks per diffusers block), written out here as the golden inverse of the LDM reading.
 */
function a1111Compvis(key: string): string {
  const suffix: Record<string, string> = {
    conv1: 'in_layers_2',
    conv2: 'out_layers_3',
    norm1: 'in_layers_0',
    norm2: 'out_layers_0',
    time_emb_proj: 'emb_layers_1',
    conv_shortcut: 'skip_connection',
  };
  let m: RegExpExecArray | null;
  if ((m = /^lora_unet_conv_in(.*)$/.exec(key))) return `diffusion_model_input_blocks_0_0${m[1]}`;
  if ((m = /^lora_unet_conv_out(.*)$/.exec(key))) return `diffusion_model_out_2${m[1]}`;
  if ((m = /^lora_unet_time_embedding_linear_(\d+)(.*)$/.exec(key))) return `diffusion_model_time_embed_${Number(m[1]) * 2 - 2}${m[2]}`;
  if ((m = /^lora_unet_down_blocks_(\d+)_(attentions|resnets)_(\d+)_(.+)$/.exec(key))) {
    const s = m[2] === 'resnets' ? (suffix[m[4]!] ?? m[4]) : m[4];
    return `diffusion_model_input_blocks_${1 + Number(m[1]) * 3 + Number(m[3])}_${m[2] === 'attentions' ? 1 : 0}_${s}`;
  }
  if ((m = /^lora_unet_mid_block_(attentions|resnets)_(\d+)_(.+)$/.exec(key))) {
    const s = m[1] === 'resnets' ? (suffix[m[3]!] ?? m[3]) : m[3];
    return `diffusion_model_middle_block_${m[1] === 'attentions' ? 1 : Number(m[2]) * 2}_${s}`;
  }
  if ((m = /^lora_unet_up_blocks_(\d+)_(attentions|resnets)_(\d+)_(.+)$/.exec(key))) {
    const s = m[2] === 'resnets' ? (suffix[m[4]!] ?? m[4]) : m[4];
    return `diffusion_model_output_blocks_${Number(m[1]) * 3 + Number(m[3])}_${m[2] === 'attentions' ? 1 : 0}_${s}`;
  }
  if ((m = /^lora_unet_down_blocks_(\d+)_downsamplers_0_conv$/.exec(key)))
    return `diffusion_model_input_blocks_${3 + Number(m[1]) * 3}_0_op`;
  if ((m = /^lora_unet_up_blocks_(\d+)_upsamplers_0_conv$/.exec(key)))
    return `diffusion_model_output_blocks_${2 + Number(m[1]) * 3}_${Number(m[1]) > 0 ? 2 : 1}_conv`;
  return key;
}

function resolve(key: string, layersPerBlock: number): { key: string | null; tensor: string; family: string | null } {
  const parsed = parseKey(key);
  if (parsed.kind === 'unknown') throw new Error(`${key}: ${parsed.group}`);
  return { key: resolveAddress(parsed.address, layersPerBlock), tensor: parsed.tensor, family: parsed.family };
}

describe('names', () => {
  it("every one of SD 1.5's 282 UNet LoRA layers, named as A1111 names it in LDM terms, reads back as its diffusers name", () => {
    const unet = buildPart('unet', SD15, { precision: 'float32', attention: 'fused', loraBranches: true }).loraBranches;
    expect(unet).toHaveLength(282);
    const keys = unet.map((b) => `lora_unet_${b.module.replace(/\./g, '_')}`);
    expect(layersPerBlockOf(keys)).toBe(2);
    for (const key of keys) {
      const ldm = `lora_unet_${a1111Compvis(key).slice('diffusion_model_'.length)}`;
      expect(ldm, key).not.toBe(key);
      expect(resolve(`${ldm}.lora_down.weight`, 2), ldm).toEqual({ key, tensor: 'lora_down.weight', family: null });
    }
  });

  it('LDM names follow the model: one layer per block (the tiny model) moves the indices', () => {
    expect(resolve('lora_unet_input_blocks_2_0_op.lora_up.weight', 1).key).toBe('lora_unet_down_blocks_0_downsamplers_0_conv');
    expect(resolve('lora_unet_input_blocks_3_0_skip_connection.lora_up.weight', 1).key).toBe(
      'lora_unet_down_blocks_1_resnets_0_conv_shortcut',
    );
    expect(resolve('lora_unet_output_blocks_1_1_conv.lora_up.weight', 1).key).toBe('lora_unet_up_blocks_0_upsamplers_0_conv');
    expect(resolve('lora_unet_output_blocks_3_1_transformer_blocks_0_ff_net_0_proj.lora_up.weight', 1).key).toBe(
      'lora_unet_up_blocks_1_attentions_1_transformer_blocks_0_ff_net_0_proj',
    );
    expect(resolve('lora_unet_input_blocks_0_0.lora_up.weight', 1).key).toBe('lora_unet_conv_in');
    expect(resolve('lora_unet_out_2.lora_up.weight', 1).key).toBe('lora_unet_conv_out');
    expect(resolve('lora_unet_time_embed_2.lora_up.weight', 1).key).toBe('lora_unet_time_embedding_linear_2');
    expect(layersPerBlockOf(['lora_unet_down_blocks_0_resnets_0_conv1', 'lora_unet_down_blocks_1_resnets_0_conv1'])).toBe(1);
  });

  it('diffusers and PEFT names, old and new, name the same modules', () => {
    const q = 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q';
    const te = 'lora_te_text_model_encoder_layers_3_self_attn_q_proj';
    const cases: [string, string, string][] = [
      ['unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight', q, 'lora_down.weight'],
      ['unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora_B.weight', q, 'lora_up.weight'],
      ['down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.default.weight', q, 'lora_down.weight'],
      ['base_model.model.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora_B.weight', q, 'lora_up.weight'],
      ['unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.alpha', q, 'alpha'],
      ['unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora.down.weight', q, 'lora_down.weight'],
      ['unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_q_lora.down.weight', q, 'lora_down.weight'],
      [
        'unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.up.weight',
        q.replace(/to_q$/, 'to_out_0'),
        'lora_up.weight',
      ],
      ['text_encoder.text_model.encoder.layers.3.self_attn.q_proj.lora_linear_layer.down.weight', te, 'lora_down.weight'],
      ['text_encoder.text_model.encoder.layers.3.self_attn.q_proj.lora_A.weight', te, 'lora_down.weight'],
      ['lora_te1_text_model_encoder_layers_3_self_attn_q_proj.lora_up.weight', te, 'lora_up.weight'],
      ['lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_A.weight', q, 'lora_down.weight'],
      ['lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_B.weight', q, 'lora_up.weight'],
    ];
    for (const [key, module, tensor] of cases) expect(resolve(key, 2), key).toEqual({ key: module, tensor, family: null });
  });

  it('tells other families and unknown keys apart, with groups', () => {
    const family = (key: string): string | null => parseKey(key).family;
    expect(family('lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight')).toBe('SDXL');
    expect(family('lora_unet_input_blocks_4_1_transformer_blocks_1_attn1_to_q.lora_down.weight')).toBe('SDXL');
    expect(family('lora_unet_down_blocks_1_attentions_0_transformer_blocks_1_attn1_to_q.lora_down.weight')).toBe('SDXL');
    expect(family('lora_unet_label_emb_0_0.lora_down.weight')).toBe('SDXL');
    expect(family('text_encoder_2.text_model.encoder.layers.0.mlp.fc1.lora_A.weight')).toBe('SDXL');
    expect(family('lora_unet_double_blocks_0_img_attn_proj.lora_down.weight')).toBe('Flux');
    expect(family('transformer.single_transformer_blocks.0.attn.to_k.lora_A.weight')).toBe('Flux');
    expect(family('lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q.lora_down.weight')).toBeNull();
    expect(parseKey('lora_te_model_transformer_resblocks_0_attn_out_proj.lora_down.weight')).toEqual({
      kind: 'unknown',
      group:
        'lora_te_model_transformer_resblocks_….lora_down.weight (a text-encoder path it does not know (OpenCLIP resblocks names are not read))',
      family: null,
    });
    expect(parseKey('lora_unet_input_blocks_1_1_transformer_blocks_0_attn9_to_q.lora_down.weight')).toMatchObject({
      kind: 'unknown',
      group: 'lora_unet_input_blocks_….lora_down.weight (an LDM UNet path it does not know)',
    });
    expect(parseKey('bundle_emb.myword.string_to_param.*')).toMatchObject({ kind: 'unknown' });
  });
});

// ---------------------------------------------------------------------------------------------
// On a tiny model: the same images from every naming, and the images of merged weights.

/** The tiny architecture's LoRA layers (diffusers name, LDM name for one layer per block, in, out, kernel). */
const TINY_LAYERS: [string, string, number, number, number][] = [
  ['down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q', 'input_blocks.1.1.transformer_blocks.0.attn1.to_q', 32, 32, 1],
  ['down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k', 'input_blocks.1.1.transformer_blocks.0.attn2.to_k', 32, 32, 1],
  ['down_blocks.0.attentions.0.proj_in', 'input_blocks.1.1.proj_in', 32, 32, 1],
  ['mid_block.attentions.0.transformer_blocks.0.attn1.to_out.0', 'middle_block.1.transformer_blocks.0.attn1.to_out.0', 64, 64, 1],
  ['up_blocks.1.attentions.1.transformer_blocks.0.ff.net.0.proj', 'output_blocks.3.1.transformer_blocks.0.ff.net.0.proj', 32, 256, 1],
  ['conv_in', 'input_blocks.0.0', 4, 32, 3],
  ['down_blocks.0.resnets.0.conv1', 'input_blocks.1.0.in_layers.2', 32, 32, 3],
  ['down_blocks.0.resnets.0.time_emb_proj', 'input_blocks.1.0.emb_layers.1', 128, 32, 1],
  ['down_blocks.0.downsamplers.0.conv', 'input_blocks.2.0.op', 32, 32, 3],
  ['down_blocks.1.resnets.0.conv_shortcut', 'input_blocks.3.0.skip_connection', 32, 64, 1],
  ['mid_block.resnets.1.conv1', 'middle_block.2.in_layers.2', 64, 64, 3],
  ['up_blocks.0.upsamplers.0.conv', 'output_blocks.1.1.conv', 64, 64, 3],
  ['up_blocks.1.resnets.0.conv2', 'output_blocks.2.0.out_layers.3', 32, 32, 3],
  ['conv_out', 'out.2', 32, 4, 3],
  ['time_embedding.linear_1', 'time_embed.0', 32, 128, 1],
];
const TEXT_LAYER = 'text_model.encoder.layers.0.self_attn.q_proj';

const settings: GenerateSettings = {
  prompt: 'a portrait, magenta and teal light',
  negativePrompt: 'text, watermark',
  seed: 21,
  steps: 5,
  cfg: 7,
  sampler: 'DPM++ 2M Karras',
  width: 64,
  height: 96,
  batchSize: 1,
};

/** A model folder with the tiny model's weights plus ΔW (PyTorch layout, by diffusers parameter name). */
function writeMerged(dir: string, seed: number, deltas: Map<string, Float32Array>): string {
  writeTinySdArch(dir, { seed });
  for (const part of ['unet', 'text_encoder'] as const) {
    const vocab = Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer', 'vocab.json'), 'utf8')) as object).length;
    const builder = buildPart(part, tinyArchConfig(vocab), {
      precision: 'float32',
      attention: 'plain',
      loraBranches: false,
      style: 'export',
    });
    const random = new RandomWeights(builder.params.values(), seed);
    const source: WeightSource = {
      label: 'merged',
      shape: (name) => random.shape(name),
      read: (name) => {
        const values = random.read(name);
        const delta = deltas.get(name);
        if (delta) for (let i = 0; i < values.length; i++) values[i] += delta[i]!;
        return values;
      },
    };
    writeGraph(path.join(dir, part, 'model.onnx'), part, builder, source);
  }
  return dir;
}

describe('on a tiny model', () => {
  let engine: DiffusionEngine;
  let modelDir: string;
  const warnings: string[] = [];
  const image = async (prompt: string, on = engine): Promise<GeneratedImage> =>
    (await on.generate({ ...settings, prompt: `${settings.prompt} ${prompt}` }, { onWarning: (w) => warnings.push(w) }))[0]!;

  beforeAll(async () => {
    modelDir = writeTinySdArch(path.join(root, 'tiny-arch'), { seed: 11 });
    engine = new DiffusionEngine({ loraDir, graphCacheDir: path.join(root, 'cache') });
    await engine.load(modelDir, 'cpu');
  });
  afterAll(() => engine.dispose());

  it('the same LoRA in kohya diffusers-style, kohya LDM-style, ComfyUI dotted LDM and PEFT names gives the same image', async () => {
    const styles = {
      diffusers: {} as Record<string, T>,
      ldm: {} as Record<string, T>,
      dotted: {} as Record<string, T>,
      peft: {} as Record<string, T>,
    };
    TINY_LAYERS.forEach(([module, ldm, inDim, outDim, k], i) => {
      const down = tensor(k === 1 ? [2, inDim] : [2, inDim, k, k], 60 + i, 0.3);
      const up = tensor(k === 1 ? [outDim, 2] : [outDim, 2, 1, 1], 80 + i, 0.3);
      const alpha = scalar(1);
      const kohya = module.replace(/\./g, '_');
      styles.diffusers[`lora_unet_${kohya}.lora_down.weight`] = down;
      styles.diffusers[`lora_unet_${kohya}.lora_up.weight`] = up;
      styles.diffusers[`lora_unet_${kohya}.alpha`] = alpha;
      const ldmKohya = ldm.replace(/\./g, '_');
      styles.ldm[`lora_unet_${ldmKohya}.lora_down.weight`] = down;
      styles.ldm[`lora_unet_${ldmKohya}.lora_up.weight`] = up;
      styles.ldm[`lora_unet_${ldmKohya}.alpha`] = alpha;
      styles.dotted[`diffusion_model.${ldm}.lora_down.weight`] = down;
      styles.dotted[`diffusion_model.${ldm}.lora_up.weight`] = up;
      styles.dotted[`diffusion_model.${ldm}.alpha`] = alpha;
      styles.peft[`unet.${module}.lora_A.weight`] = down;
      styles.peft[`unet.${module}.lora_B.weight`] = up;
      styles.peft[`unet.${module}.alpha`] = alpha;
    });
    const teDown = tensor([2, 32], 99, 0.3);
    const teUp = tensor([32, 2], 98, 0.3);
    for (const [style, prefix] of [
      ['diffusers', 'lora_te_'],
      ['ldm', 'lora_te1_'],
    ] as const) {
      styles[style][`${prefix}${TEXT_LAYER.replace(/\./g, '_')}.lora_down.weight`] = teDown;
      styles[style][`${prefix}${TEXT_LAYER.replace(/\./g, '_')}.lora_up.weight`] = teUp;
    }
    for (const style of ['dotted', 'peft'] as const) {
      styles[style][`text_encoder.${TEXT_LAYER}.lora_A.weight`] = teDown;
      styles[style][`text_encoder.${TEXT_LAYER}.lora_B.weight`] = teUp;
    }
    for (const [style, tensors] of Object.entries(styles)) writeLora(`named_${style}`, tensors);

    const plain = await image('');
    warnings.length = 0;
    const reference = await image('<lora:named_diffusers:0.8>');
    expect(await maxPixelDiff(reference, plain)).toBeGreaterThan(3);
    for (const style of ['ldm', 'dotted', 'peft'])
      expect(await maxPixelDiff(await image(`<lora:named_${style}:0.8>`), reference), style).toBe(0);
    expect(warnings).toEqual([]);

    // The merge into an export's own weights (its layers found by node names) reads them alike.
    const exported = new DiffusionEngine({ loraDir, graphCacheDir: path.join(root, 'cache'), exportedGraphs: true });
    try {
      await exported.load(modelDir, 'cpu');
      for (const style of ['diffusers', 'ldm', 'peft'])
        expect(await maxPixelDiff(await image(`<lora:named_${style}:0.8>`, exported), reference), `merged ${style}`).toBeLessThanOrEqual(1);
    } finally {
      await exported.dispose();
    }
    expect(warnings).toEqual([]);
  });

  it('LoHa, LoKr, LoCon (CP) and full modules change the image, and equal the weights with their ΔW merged in', async () => {
    // Each format on a few of the tiny model's layers; ΔW by the reference implementations above.
    const deltas = new Map<string, Map<string, Float32Array>>();
    let format = '';
    const add = (module: string, delta: Float32Array): void => {
      const of = deltas.get(format) ?? new Map<string, Float32Array>();
      of.set(`${module}.weight`, delta);
      deltas.set(format, of);
    };
    const kohya = (module: string): string => `lora_unet_${module.replace(/\./g, '_')}`;
    const weights: Record<string, number> = { tiny_loha: 0.7, tiny_lokr: 0.5, tiny_locon: 0.8, tiny_full: 0.6 };

    // LoHa on an attention projection (alpha 1, dim 2) and, with Tucker factors, on a 3×3 convolution (scale 1).
    const h = { w1a: tensor([32, 2], 1, 1), w1b: tensor([2, 32], 2, 1), w2a: tensor([32, 2], 3, 1), w2b: tensor([2, 32], 4, 1) };
    const ht = {
      t1: tensor([2, 2, 3, 3], 5, 0.8),
      w1a: tensor([2, 32], 6, 0.8),
      w1b: tensor([2, 32], 7, 0.8),
      t2: tensor([2, 2, 3, 3], 8, 0.8),
      w2a: tensor([2, 32], 9, 0.8),
      w2b: tensor([2, 32], 10, 0.8),
    };
    const q = 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q';
    const conv1 = 'down_blocks.0.resnets.0.conv1';
    format = 'tiny_loha';
    writeLora('tiny_loha', {
      ...Object.fromEntries(
        Object.entries({ hada_w1_a: h.w1a, hada_w1_b: h.w1b, hada_w2_a: h.w2a, hada_w2_b: h.w2b, alpha: scalar(1) }).map(([k, v]) => [
          `${kohya(q)}.${k}`,
          v,
        ]),
      ),
      ...Object.fromEntries(
        Object.entries({ hada_t1: ht.t1, hada_w1_a: ht.w1a, hada_w1_b: ht.w1b, hada_t2: ht.t2, hada_w2_a: ht.w2a, hada_w2_b: ht.w2b }).map(
          ([k, v]) => [`${kohya(conv1)}.${k}`, v],
        ),
      ),
    });
    add(
      q,
      hadamard(refMatmul(h.w1a, h.w1b), refMatmul(h.w2a, h.w2b)).map((v) => v * 0.5 * weights.tiny_loha!),
    );
    add(
      conv1,
      hadamard(refWeightCp(ht.t1, ht.w1a, ht.w1b), refWeightCp(ht.t2, ht.w2a, ht.w2b)).map((v) => v * weights.tiny_loha!),
    );

    // LoKr on the feed-forward projection (256 × 32 = kron([16, 4], [16, 8])) and the upsampler (64 × 64 × 3 × 3 = kron([4, 4], [16, 16, 3, 3])).
    const ff = 'up_blocks.1.attentions.1.transformer_blocks.0.ff.net.0.proj';
    const upsampler = 'up_blocks.0.upsamplers.0.conv';
    const k = {
      w1: tensor([16, 4], 11, 0.3),
      w2a: tensor([16, 2], 12, 0.3),
      w2b: tensor([2, 8], 13, 0.3),
      cw1: tensor([4, 4], 14, 0.3),
      cw2: tensor([16, 16, 3, 3], 15, 0.1),
    };
    format = 'tiny_lokr';
    writeLora('tiny_lokr', {
      [`${kohya(ff)}.lokr_w1`]: k.w1,
      [`${kohya(ff)}.lokr_w2_a`]: k.w2a,
      [`${kohya(ff)}.lokr_w2_b`]: k.w2b,
      [`${kohya(ff)}.alpha`]: scalar(2),
      [`${kohya(upsampler)}.lokr_w1`]: k.cw1,
      [`${kohya(upsampler)}.lokr_w2`]: k.cw2,
      [`${kohya(upsampler)}.alpha`]: scalar(5),
    });
    add(
      ff,
      refMakeKron(k.w1, { shape: [16, 8], data: refMatmul(k.w2a, k.w2b) }).map((v) => v * 1 * weights.tiny_lokr!),
    );
    add(
      upsampler,
      refMakeKron(k.cw1, k.cw2).map((v) => v * weights.tiny_lokr!),
    );

    // LoCon's CP form on the downsampler, plain LoCon on conv_in and a 1×1 shortcut, LoRA on time_emb_proj.
    const down = 'down_blocks.0.downsamplers.0.conv';
    const shortcut = 'down_blocks.1.resnets.0.conv_shortcut';
    const temb = 'down_blocks.0.resnets.0.time_emb_proj';
    const c = { up: tensor([32, 3, 1, 1], 21, 0.2), down: tensor([3, 32, 1, 1], 22, 0.2), mid: tensor([3, 3, 3, 3], 23, 0.2) };
    const ci = { up: tensor([32, 2, 1, 1], 24, 0.2), down: tensor([2, 4, 3, 3], 25, 0.2) };
    const sc = { up: tensor([64, 2, 1, 1], 26, 0.2), down: tensor([2, 32, 1, 1], 27, 0.2) };
    const te = { up: tensor([32, 2], 28, 0.2), down: tensor([2, 128], 29, 0.2) };
    format = 'tiny_locon';
    writeLora('tiny_locon', {
      [`${kohya(down)}.lora_up.weight`]: c.up,
      [`${kohya(down)}.lora_down.weight`]: c.down,
      [`${kohya(down)}.lora_mid.weight`]: c.mid,
      [`${kohya(down)}.alpha`]: scalar(3),
      [`${kohya('conv_in')}.lora_up.weight`]: ci.up,
      [`${kohya('conv_in')}.lora_down.weight`]: ci.down,
      [`${kohya(shortcut)}.lora_up.weight`]: sc.up,
      [`${kohya(shortcut)}.lora_down.weight`]: sc.down,
      [`${kohya(temb)}.lora_up.weight`]: te.up,
      [`${kohya(temb)}.lora_down.weight`]: te.down,
    });
    add(
      down,
      refCp(c.up, c.down, c.mid).map((v) => v * weights.tiny_locon!),
    );
    add(
      'conv_in',
      refMatmul(ci.up, ci.down).map((v) => v * weights.tiny_locon!),
    );
    add(
      shortcut,
      refMatmul(sc.up, sc.down).map((v) => v * weights.tiny_locon!),
    );
    add(
      temb,
      refMatmul(te.up, te.down).map((v) => v * weights.tiny_locon!),
    );

    // A full diff on the text encoder.
    const diff = tensor([32, 32], 31, 0.1);
    format = 'tiny_full';
    writeLora('tiny_full', { [`lora_te_${TEXT_LAYER.replace(/\./g, '_')}.diff`]: diff });
    add(
      TEXT_LAYER,
      diff.data.map((v) => v * weights.tiny_full!),
    );

    // Each format against the weights with its own ΔW merged in (one at a time, so that no
    // format's change hides in pixels another's has already saturated).
    const plain = await image('');
    for (const [name, of] of deltas) {
      const weight = weights[name]!;
      warnings.length = 0;
      const branched = await image(`<lora:${name}:${weight}>`);
      expect(warnings, name).toEqual([]);
      expect(await maxPixelDiff(branched, plain), name).toBeGreaterThan(10);
      const merged = new DiffusionEngine({ loraDir, graphCacheDir: path.join(root, 'cache') });
      try {
        await merged.load(writeMerged(path.join(root, `merged-${name}`), 11, of), 'cpu');
        expect(await maxPixelDiff(await image('', merged), branched), name).toBeLessThanOrEqual(1);
      } finally {
        await merged.dispose();
      }
    }
  });

  it('an SDXL LoRA is named as such; keys it does not read and layers the model lacks are reported by group', async () => {
    writeLora('xl', {
      'lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight': tensor([2, 32], 1),
      'lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight': tensor([32, 2], 2),
      'lora_unet_input_blocks_4_1_transformer_blocks_1_attn1_to_q.lora_down.weight': tensor([2, 64], 3),
    });
    await expect(image('<lora:xl:1>')).rejects.toThrow(
      /^LoRA xl is an SDXL LoRA \(it has lora_te2_text_model_encoder_layers_0_mlp_fc1\.lora_down\.weight\): the model tiny-arch is SD 1\.x\.$/,
    );

    writeLora('odd', {
      [`lora_unet_${TINY_LAYERS[0]![0].replace(/\./g, '_')}.lora_down.weight`]: tensor([2, 32], 1),
      [`lora_unet_${TINY_LAYERS[0]![0].replace(/\./g, '_')}.lora_up.weight`]: tensor([32, 2], 2),
      'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k.oft_blocks': tensor([4, 8, 8], 3),
      'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_v.oft_blocks': tensor([4, 8, 8], 4),
      'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_q.dora_scale': tensor([1, 32], 5),
      'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_q.lora_down.weight': tensor([2, 32], 6),
      'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_q.lora_up.weight': tensor([32, 2], 7),
      'lora_unet_down_blocks_3_attentions_0_proj_in.lora_down.weight': tensor([2, 8], 8),
      'lora_unet_down_blocks_3_attentions_0_proj_in.lora_up.weight': tensor([8, 2], 9),
      'lora_unet_down_blocks_3_attentions_1_proj_in.lora_down.weight': tensor([2, 8], 8),
      'lora_unet_down_blocks_3_attentions_1_proj_in.lora_up.weight': tensor([8, 2], 9),
      'something_else.weight': tensor([2], 10),
    });
    warnings.length = 0;
    await image('<lora:odd:1>');
    expect(warnings.sort()).toEqual(
      [
        'LoRA odd: 2 keys it does not understand (lora_unet_down_blocks_….* (OFT (oft_blocks) is not supported)); ignored.',
        'LoRA odd: 3 keys it does not understand (lora_unet_down_blocks_….* (DoRA (dora_scale) is not supported)); ignored.',
        'LoRA odd: 1 key it does not understand (something_else.weight (not a LoRA tensor it knows)); ignored.',
        'LoRA odd: 2 of 3 modules match nothing in tiny-arch (made for another model?): lora_unet_down_blocks_N_attentions_N_proj_in ×2; ignored.',
      ].sort(),
    );
  });
});
