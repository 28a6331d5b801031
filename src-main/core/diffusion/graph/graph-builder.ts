/**
 * A small writer of ONNX graphs for Onbrand's own Stable Diffusion graphs: nodes, constants, and
 * parameters declared by their diffusers names in PyTorch's layout. Weights are not held here:
 * a `WeightSource` gives them one tensor at a time when the graph is written, so a 3.4 GB UNet is
 * written with one tensor in memory at a time.
 */
import { FLOAT, FLOAT16, INT64, node, onnx, valueInfo, type NodeProto, type TensorProto, type ValueInfoProto } from '../../util/index.js';
import { float32ToFloat16 } from '../float16.js';

export type Precision = 'float32' | 'float16';
/**
 * `fused`: attention as `com.microsoft.MultiHeadAttention` (flash / memory-efficient attention on
 * CPU and CUDA: the tokens × tokens matrices are never held for all heads at once).
 * `plain`: MatMul → Softmax → MatMul, as `torch.onnx.export` writes it (kept as the reference form).
 */
export type AttentionKind = 'fused' | 'plain';

export interface BuildOptions {
  precision: Precision;
  attention: AttentionKind;
  /**
   * LoRA as side branches: every LoRA-targeted linear layer and convolution gets two inputs, its
   * low-rank factors (`x·W + (x·down)·up`, `conv(x, W) + conv1×1(conv(x, down), up)`), so a LoRA
   * change is a new feed, not a new session.
   */
  loraBranches: boolean;
  /**
   * `export`: write the graph as a plain `torch.onnx.export` would (linear weights as anonymous
   * `onnx::MatMul_N` initializers found through node names, plain attention, no LoRA inputs). Used
   * by the tests to make export-shaped model folders.
   */
  style?: 'onbrand' | 'export';
}

/** How a parameter is stored relative to its PyTorch tensor. */
export type Layout = 'asis' | 'transpose';

export interface ParamSpec {
  /** The diffusers / transformers parameter name. */
  name: string;
  /** PyTorch's shape. */
  torchDims: number[];
  /** The initializer's name in the graph. */
  initializer: string;
  layout: Layout;
  /** Shape as stored (transposed, or with the PyTorch data viewed in another shape). */
  storedDims: number[];
}

/** A layer with a LoRA side branch: its input names and sizes. */
export interface LoraBranch {
  /** Module path with dots (`down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q`). */
  module: string;
  /**
   * `linear`: y = x·W + (x·down)·up, down [inDim, rank], up [rank, outDim].
   * `conv`: y = conv(x, W) + conv1×1(conv(x, down), up), down [rank, inDim, k, k] (the layer's
   * kernel, stride and padding), up [outDim, rank, 1, 1].
   */
  kind: 'linear' | 'conv';
  inDim: number;
  outDim: number;
  /** The convolution's kernel size (1 for linear). */
  kernel: number;
  /** Graph inputs. */
  down: string;
  up: string;
}

/** A graph under construction. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly constants: TensorProto[] = [];
  readonly params = new Map<string, ParamSpec>();
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  readonly loraBranches: LoraBranch[] = [];
  private readonly constantCache = new Map<string, string>();
  private counter = 0;
  private anonymous = 0;

  constructor(readonly options: BuildOptions) {}

  get floatType(): number {
    return this.options.precision === 'float16' ? FLOAT16 : FLOAT;
  }

  get exportStyle(): boolean {
    return this.options.style === 'export';
  }

  /** Adds a node; returns its first output's name. */
  op(type: string, inputs: string[], attributes: Record<string, number | number[] | string> = {}, name?: string, domain?: string): string {
    return this.opN(type, inputs, 1, attributes, name, domain)[0]!;
  }

  /** Adds a node with `outputs` outputs. */
  opN(
    type: string,
    inputs: string[],
    outputs: number,
    attributes: Record<string, number | number[] | string> = {},
    name?: string,
    domain?: string,
  ): string[] {
    const id = this.counter++;
    const outs = Array.from({ length: outputs }, (_, i) => `${type}_${id}${outputs > 1 ? `_${i}` : ''}`);
    const n = node(type, inputs, outs, attributes, name ?? `/${type}_${id}`);
    if (domain) n.domain = domain;
    this.nodes.push(n);
    return outs;
  }

  /** Declares a parameter by its diffusers name; returns the initializer name. */
  param(name: string, torchDims: number[], layout: Layout = 'asis', storedDims?: number[]): string {
    const existing = this.params.get(name);
    if (existing) return existing.initializer;
    const stored = storedDims ?? (layout === 'transpose' ? [torchDims[1]!, torchDims[0]!] : torchDims);
    // An exporter names parameters it stores differently (transposed MatMul weights, GroupNorm's
    // affine folded to [C, 1, 1]) anonymously.
    const reshaped = stored.join('x') !== torchDims.join('x');
    const initializer =
      this.exportStyle && (layout === 'transpose' || reshaped)
        ? `onnx::${layout === 'transpose' ? 'MatMul' : name.endsWith('.bias') ? 'Add' : 'Mul'}_${this.anonymous++}`
        : name;
    this.params.set(name, { name, torchDims, initializer, layout, storedDims: stored });
    return initializer;
  }

  /** An int64 constant (shapes, axes), shared between uses. */
  int64(values: number[]): string {
    const key = `i64:${values.join(',')}`;
    const cached = this.constantCache.get(key);
    if (cached) return cached;
    const name = `const_i64_${this.constantCache.size}`;
    this.constants.push(
      onnx.TensorProto.create({
        name,
        dims: [values.length],
        dataType: INT64,
        rawData: new Uint8Array(new BigInt64Array(values.map((v) => BigInt(v))).buffer),
      }),
    );
    this.constantCache.set(key, name);
    return name;
  }

  /** A float constant in the graph's precision (or float32 when `float32` is set). */
  float(values: ArrayLike<number>, dims: number[], float32 = false): string {
    const type = float32 ? FLOAT : this.floatType;
    const key = `f${type}:${dims.join('x')}:${Array.from(values).join(',')}`;
    const cached = this.constantCache.get(key);
    if (cached) return cached;
    const name = `const_f_${this.constantCache.size}`;
    const data = Float32Array.from(values);
    const raw = type === FLOAT16 ? new Uint8Array(float32ToFloat16(data).buffer) : new Uint8Array(data.buffer);
    this.constants.push(onnx.TensorProto.create({ name, dims, dataType: type, rawData: raw }));
    this.constantCache.set(key, name);
    return name;
  }

  input(name: string, elemType: number, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  output(from: string, name: string, elemType: number, dims: (number | string)[]): void {
    this.nodes.push(node('Identity', [from], [name], {}, `/output/${name}`));
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  // Layers. `module` is the diffusers module path (dots), which names parameters and nodes.

  /** y = x·Wᵀ (+ b), with a LoRA side branch when enabled and `lora` is set. */
  linear(
    x: string,
    module: string,
    inDim: number,
    outDim: number,
    options: { bias?: boolean; lora?: boolean; torchDims?: number[] } = {},
  ): string {
    const path = nodePath(module);
    const torchDims = options.torchDims ?? [outDim, inDim];
    const weight = this.param(`${module}.weight`, torchDims, 'transpose', [inDim, outDim]);
    let y = this.op('MatMul', [x, weight], {}, `${path}/MatMul`);
    if (options.lora && this.options.loraBranches && !this.exportStyle) {
      const down = this.input(`lora_down:${module}`, this.floatType, [inDim, `rank:${module}`]);
      const up = this.input(`lora_up:${module}`, this.floatType, [`rank:${module}`, outDim]);
      this.loraBranches.push({ module, kind: 'linear', inDim, outDim, kernel: 1, down, up });
      const low = this.op('MatMul', [x, down], {}, `${path}/lora/down`);
      const delta = this.op('MatMul', [low, up], {}, `${path}/lora/up`);
      y = this.op('Add', [y, delta], {}, `${path}/lora/Add`);
    }
    if (options.bias ?? true) y = this.op('Add', [y, this.param(`${module}.bias`, [outDim])], {}, `${path}/Add`);
    return y;
  }

  /** A 2-D convolution (+ bias), with a LoRA side branch (LoCon) when enabled and `lora` is set. */
  conv(
    x: string,
    module: string,
    inDim: number,
    outDim: number,
    kernel: number,
    options: { stride?: number; pads?: number[]; lora?: boolean } = {},
  ): string {
    const pad = (kernel - 1) / 2;
    const path = nodePath(module);
    const geometry = {
      kernel_shape: [kernel, kernel],
      strides: [options.stride ?? 1, options.stride ?? 1],
      pads: options.pads ?? [pad, pad, pad, pad],
    };
    const y = this.op(
      'Conv',
      [x, this.param(`${module}.weight`, [outDim, inDim, kernel, kernel]), this.param(`${module}.bias`, [outDim])],
      geometry,
      `${path}/Conv`,
    );
    if (!options.lora || !this.options.loraBranches || this.exportStyle) return y;
    // The change ΔW = up·down as two convolutions: down at the layer's own kernel, stride and
    // padding to `rank` channels, then up 1×1 to the output's.
    const down = this.input(`lora_down:${module}`, this.floatType, [`rank:${module}`, inDim, kernel, kernel]);
    const up = this.input(`lora_up:${module}`, this.floatType, [outDim, `rank:${module}`, 1, 1]);
    this.loraBranches.push({ module, kind: 'conv', inDim, outDim, kernel, down, up });
    const low = this.op('Conv', [x, down], geometry, `${path}/lora/down`);
    const delta = this.op('Conv', [low, up], { kernel_shape: [1, 1] }, `${path}/lora/up`);
    return this.op('Add', [y, delta], {}, `${path}/lora/Add`);
  }

  /** GroupNorm on [B, C, H, W] (or [B, C, N]): instance norm over groups, then the per-channel affine. */
  groupNorm(x: string, module: string, channels: number, groups: number, eps: number, spatialRank = 2): string {
    const path = nodePath(module);
    const shape = this.op('Shape', [x], {}, `${path}/Shape`);
    const grouped = this.op('Reshape', [x, this.int64([0, groups, -1])], {}, `${path}/Reshape`);
    const ones = this.float(new Float32Array(groups).fill(1), [groups]);
    const zeros = this.float(new Float32Array(groups), [groups]);
    const normed = this.op('InstanceNormalization', [grouped, ones, zeros], { epsilon: eps }, `${path}/InstanceNormalization`);
    const back = this.op('Reshape', [normed, shape], {}, `${path}/Reshape_1`);
    const affineDims = [channels, ...new Array<number>(spatialRank).fill(1)];
    const scaled = this.op('Mul', [back, this.param(`${module}.weight`, [channels], 'asis', affineDims)], {}, `${path}/Mul`);
    return this.op('Add', [scaled, this.param(`${module}.bias`, [channels], 'asis', affineDims)], {}, `${path}/Add`);
  }

  layerNorm(x: string, module: string, dim: number, eps: number): string {
    return this.op(
      'LayerNormalization',
      [x, this.param(`${module}.weight`, [dim]), this.param(`${module}.bias`, [dim])],
      { axis: -1, epsilon: eps },
      `${nodePath(module)}/LayerNormalization`,
    );
  }

  silu(x: string): string {
    return this.op('Mul', [x, this.op('Sigmoid', [x])]);
  }

  /** GELU with erf (PyTorch's default `gelu`). */
  gelu(x: string): string {
    const scaled = this.op('Div', [x, this.float([Math.SQRT2], [])]);
    const erf = this.op('Erf', [scaled]);
    const onePlus = this.op('Add', [erf, this.float([1], [])]);
    return this.op('Mul', [this.op('Mul', [x, onePlus]), this.float([0.5], [])]);
  }

  /** CLIP's QuickGELU: x · sigmoid(1.702 x). */
  quickGelu(x: string): string {
    return this.op('Mul', [x, this.op('Sigmoid', [this.op('Mul', [x, this.float([1.702], [])])])]);
  }

  /**
   * Multi-head attention of q [B, S, C] over k, v [B, T, C] → [B, S, C]; `bias` is an additive
   * mask [S, T] (plain form only). Fused: one contrib node whose kernels (flash attention on the
   * CPU, memory-efficient attention on CUDA) never hold every head's S×T matrix at once.
   */
  attention(q: string, k: string, v: string, heads: number, headDim: number, module: string, mask?: string): string {
    const path = nodePath(module);
    if (this.options.attention === 'fused' && !this.exportStyle && !mask) {
      return this.op('MultiHeadAttention', [q, k, v], { num_heads: heads }, `${path}/MultiHeadAttention`, 'com.microsoft');
    }
    const split = (t: string, perm: number[], suffix: string): string =>
      this.op(
        'Transpose',
        [this.op('Reshape', [t, this.int64([0, -1, heads, headDim])], {}, `${path}/Reshape_${suffix}`)],
        { perm },
        `${path}/Transpose_${suffix}`,
      );
    const qh = split(q, [0, 2, 1, 3], 'q');
    const kh = split(k, [0, 2, 3, 1], 'k');
    const vh = split(v, [0, 2, 1, 3], 'v');
    let scores = this.op(
      'Mul',
      [this.op('MatMul', [qh, kh], {}, `${path}/MatMul`), this.float([1 / Math.sqrt(headDim)], [])],
      {},
      `${path}/Mul`,
    );
    if (mask) scores = this.op('Add', [scores, mask], {}, `${path}/Add_mask`);
    const probs = this.op('Softmax', [scores], { axis: -1 }, `${path}/Softmax`);
    const out = this.op('MatMul', [probs, vh], {}, `${path}/MatMul_1`);
    const merged = this.op('Transpose', [out], { perm: [0, 2, 1, 3] }, `${path}/Transpose_o`);
    return this.op('Reshape', [merged, this.int64([0, -1, heads * headDim])], {}, `${path}/Reshape_o`);
  }

  /** [B, C, H, W] → [B, H·W, C]. */
  toTokens(x: string, channels: number): string {
    return this.op('Transpose', [this.op('Reshape', [x, this.int64([0, channels, -1])])], { perm: [0, 2, 1] });
  }

  /** [B, H·W, C] → [B, C, H, W] with the spatial shape of `like`. */
  fromTokens(tokens: string, like: string): string {
    return this.op('Reshape', [this.op('Transpose', [tokens], { perm: [0, 2, 1] }), this.op('Shape', [like])]);
  }

  /** Nearest-neighbour ×2 upsampling, as `F.interpolate(scale_factor=2, mode="nearest")`. */
  upsample2x(x: string, module: string): string {
    return this.op(
      'Resize',
      [x, '', this.float([1, 1, 2, 2], [4], true)],
      { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
      `${nodePath(module)}/Resize`,
    );
  }
}

/** `a.b.0.c` → `/a/b.0/c`: the node path an exporter writes for a module. */
export function nodePath(module: string): string {
  const segments: string[] = [];
  for (const part of module.split('.')) {
    if (/^\d+$/.test(part) && segments.length > 0) segments[segments.length - 1] += `.${part}`;
    else segments.push(part);
  }
  return '/' + segments.join('/');
}
