/**
 * The kinds of LoRA module and the change each makes to its layer's weight, as A1111 computes it
 * (`extensions-builtin/Lora/network_lora.py`, `network_hada.py`, `network_lokr.py`,
 * `network_full.py`, `lyco_helpers.py`, `network.py` `calc_scale`). Every change ΔW is a matrix
 * [out, inner] in PyTorch's layout, inner = in · kh · kw for a convolution, scaled by
 * `calc_scale`: the `scale` tensor if there is one, else alpha / dim when both exist, else 1.
 *
 * - LoRA / LoCon: ΔW = up · down (dim = down's rows); with `lora_mid` (LoCon's CP form),
 *   ΔW[o, i, k, l] = Σ_{n,m} mid[n, m, k, l] · up[o, n] · down[m, i].
 * - LoHa: ΔW = (w1a · w1b) ⊙ (w2a · w2b) (dim = w1b's rows); with `hada_t1` / `hada_t2` (Tucker),
 *   each factor is Σ_{n,m} t[n, m, k, l] · wa[n, o] · wb[m, i].
 * - LoKr: ΔW = kron(w1, w2), each a full matrix or a product a · b (w2 also Tucker); dim is w2b's
 *   rows, else w1b's, else none, and with no dim the scale is 1 whatever alpha says.
 * - Full (`diff`): ΔW = diff, scale 1.
 *
 * Each ΔW is also given as an exact low-rank product up [out, R] · down [R, inner], the cheapest
 * this module's structure allows, for the side branches of Onbrand's graphs: LoHa as the
 * Khatri–Rao products up'[o, (p, q)] = A1[o, p] A2[o, q], down'[(p, q), i] = B1[p, i] B2[q, i];
 * LoKr as (A1 ⊗ A2)(B1 ⊗ B2) with each of w1, w2 factored as its own product, or as I · W or
 * W · I; and whenever R would pass min(out, inner), ΔW itself beside an identity.
 */
import { OnbrandError } from '../api/index.js';

/** A matrix [rows, cols], in full or as a product a [rows, rank] · b [rank, cols]. */
export type Matrix =
  | { kind: 'full'; rows: number; cols: number; data: Float32Array }
  | { kind: 'product'; rows: number; cols: number; rank: number; a: Float32Array; b: Float32Array };

/** How a module's ΔW is made from its matrices. */
export type Delta = { kind: 'matrix'; m: Matrix } | { kind: 'hadamard'; m1: Matrix; m2: Matrix } | { kind: 'kron'; m1: Matrix; m2: Matrix };

export type ModuleKind = 'LoRA' | 'LoCon (CP)' | 'LoHa' | 'LoKr' | 'full';

/** A module's change to one layer, unscaled, with A1111's scale. */
export interface ModuleDelta {
  type: ModuleKind;
  delta: Delta;
  /** ΔW is [out, inner]; inner = in · kh · kw for a convolution. */
  out: number;
  inner: number;
  /** A1111's `dim`: the rank that alpha is divided by (null: none, scale 1). */
  dim: number | null;
  alpha: number | null;
  /** `calc_scale`: the `scale` tensor, else alpha / dim, else 1. */
  scale: number;
  /** Bytes of the tensors held. */
  bytes: number;
  /** The module's tensors that this kind does not use (a bias change `diff_b`, …): reported, not applied. */
  unused: string[];
}

/** Low-rank factors of ΔW: up [out, rank] · down [rank, inner]. */
export interface Factors {
  rank: number;
  up: Float32Array;
  down: Float32Array;
}

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** A module's tensors that do not make a change Onbrand can apply: why. */
export class ModuleFormatError extends OnbrandError {
  constructor(message: string) {
    super('internal', message);
    this.name = 'ModuleFormatError';
  }
}

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function full(t: Tensor): Matrix {
  const rows = t.shape[0] ?? 1;
  return { kind: 'full', rows, cols: t.data.length / rows, data: t.data };
}

function product(a: Tensor, b: Tensor, what: string): Matrix {
  const rows = a.shape[0]!;
  const rank = b.shape[0]!;
  if (a.data.length !== rows * rank)
    throw new ModuleFormatError(`${what}: [${a.shape.join(', ')}] · [${b.shape.join(', ')}] do not multiply`);
  return { kind: 'product', rows, cols: b.data.length / rank, rank, a: a.data, b: b.data };
}

/** [rows, cols] → [cols, rows]. */
function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/**
 * `lyco_helpers.make_weight_cp` and `rebuild_cp_decomposition` as a product: Σ_{n,m} t[n, m, k, l] ·
 * wa[n, o] · wb[m, i] = a · b with a[o, n] = wa[n, o] ([rank, out] given; `upRows` says it is
 * already [out, rank]) and b[n, (i, k, l)] = Σ_m t[n, m, k, l] · wb[m, i].
 */
function tucker(t: Tensor, wa: Tensor, wb: Tensor, upRows: boolean, what: string): Matrix {
  const [r0, r1] = [t.shape[0]!, t.shape[1]!];
  const kk = numel(t.shape.slice(2));
  const inDim = wb.data.length / r1;
  if (wb.shape[0] !== r1) throw new ModuleFormatError(`${what}: the core [${t.shape.join(', ')}] and [${wb.shape.join(', ')}] do not fit`);
  const b = new Float32Array(r0 * inDim * kk);
  for (let n = 0; n < r0; n++) {
    for (let m = 0; m < r1; m++) {
      const row = (n * r1 + m) * kk;
      for (let i = 0; i < inDim; i++) {
        const w = wb.data[m * inDim + i]!;
        if (w === 0) continue;
        const dst = (n * inDim + i) * kk;
        for (let s = 0; s < kk; s++) b[dst + s] += t.data[row + s]! * w;
      }
    }
  }
  const out = upRows ? wa.shape[0]! : wa.data.length / r0;
  if (wa.data.length !== out * r0)
    throw new ModuleFormatError(`${what}: [${wa.shape.join(', ')}] does not fit the core [${t.shape.join(', ')}]`);
  const a = upRows ? wa.data : transposed(wa.data, r0, out);
  return { kind: 'product', rows: out, cols: inDim * kk, rank: r0, a, b };
}

/** The kinds A1111 knows that Onbrand does not apply, by a tensor each has. */
const UNSUPPORTED: [string, string][] = [
  ['dora_scale', 'DoRA (dora_scale)'],
  ['oft_blocks', 'OFT (oft_blocks)'],
  ['oft_diag', 'OFT (oft_diag)'],
  ['on_input', 'IA3 (on_input)'],
  ['w_norm', 'norm layers (w_norm)'],
  ['a1.weight', 'GLoRA'],
];

/**
 * The change a module's tensors make, by A1111's order of module types (`networks.py`
 * `module_types`: LoRA, LoHa, IA3, LoKr, full, norm, GLoRA, OFT). Throws a ModuleFormatError for
 * tensors that make no change Onbrand can apply (incomplete, or a kind it does not apply).
 */
export function moduleDelta(w: ReadonlyMap<string, Tensor>): ModuleDelta {
  const has = (...names: string[]): boolean => names.every((n) => w.has(n));
  const used = new Set<string>(['alpha', 'scale']);
  const get = (name: string): Tensor => {
    used.add(name);
    return w.get(name)!;
  };
  for (const [tensor, kind] of UNSUPPORTED) if (w.has(tensor)) throw new ModuleFormatError(`${kind} is not supported`);
  const alpha = w.has('alpha') ? get('alpha').data[0]! : null;
  const scaleTensor = w.has('scale') ? get('scale').data[0]! : null;
  const bytes = [...w.values()].reduce((n, t) => n + t.data.byteLength, 0);
  const finish = (type: ModuleKind, delta: Delta, out: number, inner: number, dim: number | null): ModuleDelta => ({
    type,
    delta,
    out,
    inner,
    dim,
    alpha,
    scale: scaleTensor ?? (dim !== null && alpha !== null ? alpha / dim : 1),
    bytes,
    unused: [...w.keys()].filter((n) => !used.has(n)),
  });

  if (has('lora_up.weight', 'lora_down.weight')) {
    const up = get('lora_up.weight');
    const down = get('lora_down.weight');
    const dim = down.shape[0]!;
    if (up.data.length / up.shape[0]! !== dim)
      throw new ModuleFormatError(`lora_up [${up.shape.join(', ')}] and lora_down [${down.shape.join(', ')}] have different ranks`);
    if (w.has('lora_mid.weight')) {
      const m = tucker(get('lora_mid.weight'), up, down, true, 'lora_mid');
      return finish('LoCon (CP)', { kind: 'matrix', m }, m.rows, m.cols, dim);
    }
    const m = product(up, down, 'lora_up · lora_down');
    return finish('LoRA', { kind: 'matrix', m }, m.rows, m.cols, dim);
  }
  if (has('hada_w1_a', 'hada_w1_b', 'hada_w2_a', 'hada_w2_b')) {
    const dim = get('hada_w1_b').shape[0]!;
    const m1 = w.has('hada_t1')
      ? tucker(get('hada_t1'), get('hada_w1_a'), get('hada_w1_b'), false, 'hada_t1')
      : product(get('hada_w1_a'), get('hada_w1_b'), 'hada_w1');
    const m2 = w.has('hada_t2')
      ? tucker(get('hada_t2'), get('hada_w2_a'), get('hada_w2_b'), false, 'hada_t2')
      : product(get('hada_w2_a'), get('hada_w2_b'), 'hada_w2');
    if (m1.rows !== m2.rows || m1.cols !== m2.cols)
      throw new ModuleFormatError(`its two Hadamard factors are ${m1.rows}×${m1.cols} and ${m2.rows}×${m2.cols}`);
    return finish('LoHa', { kind: 'hadamard', m1, m2 }, m1.rows, m1.cols, dim);
  }
  const has1 = w.has('lokr_w1') || has('lokr_w1_a', 'lokr_w1_b');
  const has2 = w.has('lokr_w2') || has('lokr_w2_a', 'lokr_w2_b');
  if (has1 && has2) {
    const m1 = w.has('lokr_w1') ? full(get('lokr_w1')) : product(get('lokr_w1_a'), get('lokr_w1_b'), 'lokr_w1');
    const m2 = w.has('lokr_w2')
      ? full(get('lokr_w2'))
      : w.has('lokr_t2')
        ? tucker(get('lokr_t2'), get('lokr_w2_a'), get('lokr_w2_b'), false, 'lokr_t2')
        : product(get('lokr_w2_a'), get('lokr_w2_b'), 'lokr_w2');
    const dim = w.has('lokr_w2_b') ? get('lokr_w2_b').shape[0]! : w.has('lokr_w1_b') ? get('lokr_w1_b').shape[0]! : null;
    return finish('LoKr', { kind: 'kron', m1, m2 }, m1.rows * m2.rows, m1.cols * m2.cols, dim);
  }
  if (w.has('diff')) {
    const m = full(get('diff'));
    return finish('full', { kind: 'matrix', m }, m.rows, m.cols, null);
  }
  if (w.has('weight')) throw new ModuleFormatError('IA3 (weight) is not supported');
  const names = [...w.keys()].filter((n) => n !== 'alpha' && n !== 'scale');
  throw new ModuleFormatError(names.length === 0 ? 'only alpha, no weights' : `incomplete: only ${names.join(', ')}`);
}

// ---------------------------------------------------------------------------------------------
// ΔW in full (merging into weights)

/** A matrix in full [rows, cols]. */
export function fullMatrix(m: Matrix): Float32Array {
  if (m.kind === 'full') return m.data;
  const out = new Float32Array(m.rows * m.cols);
  for (let o = 0; o < m.rows; o++) {
    const dst = o * m.cols;
    for (let r = 0; r < m.rank; r++) {
      const u = m.a[o * m.rank + r]!;
      if (u === 0) continue;
      const row = r * m.cols;
      for (let i = 0; i < m.cols; i++) out[dst + i] += u * m.b[row + i]!;
    }
  }
  return out;
}

/** kron(A [p, q], B [r, s]) → [p·r, q·s]: K[i·r + k, j·s + l] = A[i, j] · B[k, l]. */
export function kron(a: Float32Array, p: number, q: number, b: Float32Array, r: number, s: number): Float32Array {
  const out = new Float32Array(p * r * q * s);
  const cols = q * s;
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < q; j++) {
      const v = a[i * q + j]!;
      if (v === 0) continue;
      for (let k = 0; k < r; k++) {
        const dst = (i * r + k) * cols + j * s;
        const src = k * s;
        for (let l = 0; l < s; l++) out[dst + l] = v * b[src + l]!;
      }
    }
  }
  return out;
}

/** ΔW [out, inner], unscaled. */
export function fullDelta(d: ModuleDelta): Float32Array {
  const { delta } = d;
  switch (delta.kind) {
    case 'matrix':
      return delta.m.kind === 'full' ? delta.m.data.slice() : fullMatrix(delta.m);
    case 'hadamard': {
      const a = fullMatrix(delta.m1);
      const b = fullMatrix(delta.m2);
      const out = new Float32Array(a.length);
      for (let i = 0; i < a.length; i++) out[i] = a[i]! * b[i]!;
      return out;
    }
    case 'kron':
      return kron(fullMatrix(delta.m1), delta.m1.rows, delta.m1.cols, fullMatrix(delta.m2), delta.m2.rows, delta.m2.cols);
  }
}

// ---------------------------------------------------------------------------------------------
// ΔW as exact low-rank factors (side branches)

function identity(n: number): Float32Array {
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

/** ΔW itself beside an identity: I_out · ΔW or ΔW · I_inner, whichever rank is smaller. */
function beside(delta: Float32Array, out: number, inner: number): Factors {
  return out <= inner ? { rank: out, up: identity(out), down: delta } : { rank: inner, up: delta, down: identity(inner) };
}

/** The ways a matrix M [rows, cols] factors as a · b: its own product, I · M, M · I. */
function factorings(m: Matrix): { rank: number; a: () => Float32Array; b: () => Float32Array }[] {
  const options = [
    { rank: m.rows, a: () => identity(m.rows), b: () => fullMatrix(m) },
    { rank: m.cols, a: () => fullMatrix(m), b: () => identity(m.cols) },
  ];
  if (m.kind === 'product') options.push({ rank: m.rank, a: () => m.a, b: () => m.b });
  return options;
}

/** ΔW = up · down exactly, unscaled, at the smallest rank this module's structure gives. */
export function lowRank(d: ModuleDelta): Factors {
  const { delta, out, inner } = d;
  const cap = Math.min(out, inner);
  switch (delta.kind) {
    case 'matrix': {
      const m = delta.m;
      if (m.kind === 'product' && m.rank <= cap) return { rank: m.rank, up: m.a, down: m.b };
      return beside(fullMatrix(m), out, inner);
    }
    case 'hadamard': {
      const { m1, m2 } = delta;
      if (m1.kind !== 'product' || m2.kind !== 'product' || m1.rank * m2.rank > cap) return beside(fullDelta(d), out, inner);
      // (A1·B1) ⊙ (A2·B2) [o, i] = Σ_{p,q} A1[o,p] A2[o,q] · B1[p,i] B2[q,i].
      const [r1, r2] = [m1.rank, m2.rank];
      const rank = r1 * r2;
      const up = new Float32Array(out * rank);
      const down = new Float32Array(rank * inner);
      for (let o = 0; o < out; o++)
        for (let p = 0; p < r1; p++) for (let q = 0; q < r2; q++) up[o * rank + p * r2 + q] = m1.a[o * r1 + p]! * m2.a[o * r2 + q]!;
      for (let p = 0; p < r1; p++) {
        for (let q = 0; q < r2; q++) {
          const dst = (p * r2 + q) * inner;
          for (let i = 0; i < inner; i++) down[dst + i] = m1.b[p * inner + i]! * m2.b[q * inner + i]!;
        }
      }
      return { rank, up, down };
    }
    case 'kron': {
      // kron(A1·B1, A2·B2) = kron(A1, A2) · kron(B1, B2).
      const { m1, m2 } = delta;
      const f1 = factorings(m1).reduce((best, o) => (o.rank < best.rank ? o : best));
      const f2 = factorings(m2).reduce((best, o) => (o.rank < best.rank ? o : best));
      if (f1.rank * f2.rank > cap) return beside(fullDelta(d), out, inner);
      const up = kron(f1.a(), m1.rows, f1.rank, f2.a(), m2.rows, f2.rank);
      const down = kron(f1.b(), f1.rank, m1.cols, f2.b(), f2.rank, m2.cols);
      return { rank: f1.rank * f2.rank, up, down };
    }
  }
}

/**
 * A1111 pads ΔW of a 4-input-channel convolution with zeros to an inpainting model's 9
 * (`networks.py` `network_apply_weights`): rows of `inFrom · kk` columns → `inTo · kk`.
 */
export function padInputs(values: Float32Array, rows: number, inFrom: number, inTo: number, kk: number): Float32Array {
  const out = new Float32Array(rows * inTo * kk);
  for (let r = 0; r < rows; r++) out.set(values.subarray(r * inFrom * kk, (r + 1) * inFrom * kk), r * inTo * kk);
  return out;
}
