/**
 * Where a built graph's weights come from, by diffusers parameter name in PyTorch's layout: an
 * existing ONNX export (its initializers, MatMul weights found through node names and transposed
 * back), or seeded random values (benchmarks at full size, tests). Writing a graph streams the
 * weights one tensor at a time into an external data file with page-aligned offsets (onnxruntime
 * maps such files instead of copying them).
 */
import fs from 'node:fs';
import path from 'node:path';
import { OnbrandError } from '../../api/index.js';
import { FLOAT, FLOAT16, mulberry32, onnx } from '../../util/index.js';
import { float32ToFloat16 } from '../float16.js';
import type { OnnxGraph } from '../onnx-graph.js';
import type { GraphBuilder, ParamSpec } from './graph-builder.js';

export interface WeightSource {
  /** Names the source in messages. */
  readonly label: string;
  /** PyTorch shape of a parameter, or undefined when the source does not have it. */
  shape(name: string): number[] | undefined;
  /** A parameter's values in PyTorch's layout. */
  read(name: string): Float32Array;
}

/** A model whose weights cannot be mapped onto Onbrand's graphs; the message says what is missing. */
export class WeightMappingError extends OnbrandError {
  constructor(message: string) {
    super('internal', message);
    this.name = 'WeightMappingError';
  }
}

/** [C], or [C, 1, 1]: a per-channel vector. */
const isVector = (dims: readonly number[]): boolean => dims.length >= 1 && dims[0]! > 1 && dims.slice(1).every((d) => d === 1);
const numel = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
const squeeze = (dims: readonly number[]): string => dims.filter((d) => d !== 1).join('x');

/** Throws a WeightMappingError naming the first parameters the source lacks or has in another shape. */
export function checkCoverage(specs: Iterable<ParamSpec>, source: WeightSource, part: string): void {
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const spec of specs) {
    const shape = source.shape(spec.name);
    if (!shape) missing.push(spec.name);
    else if (numel(shape) !== numel(spec.torchDims) || squeeze(shape) !== squeeze(spec.torchDims))
      wrong.push(`${spec.name} is [${shape.join(', ')}], expected [${spec.torchDims.join(', ')}]`);
  }
  if (missing.length > 0)
    throw new WeightMappingError(
      `${part}: ${missing.length} weight${missing.length === 1 ? '' : 's'} not found in ${source.label} (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''})`,
    );
  if (wrong.length > 0)
    throw new WeightMappingError(
      `${part}: ${wrong.length} weight${wrong.length === 1 ? ' has' : 's have'} another shape in ${source.label} (${wrong.slice(0, 2).join('; ')})`,
    );
}

/** FNV-1a of a string, so each parameter's values depend only on its name and the seed. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Seeded random weights for the parameters of built graphs, scaled like a trained network's
 * (uniform with variance 1/fan-in, norms near 1, small biases), so activations stay finite at
 * full size. Each tensor depends only on (seed, name): reproducible in any order.
 */
export class RandomWeights implements WeightSource {
  readonly label: string;
  private readonly shapes = new Map<string, number[]>();

  constructor(
    specs: Iterable<ParamSpec>,
    private readonly seed: number,
  ) {
    for (const spec of specs) this.shapes.set(spec.name, spec.torchDims);
    this.label = `random weights (seed ${seed})`;
  }

  add(specs: Iterable<ParamSpec>): this {
    for (const spec of specs) this.shapes.set(spec.name, spec.torchDims);
    return this;
  }

  shape(name: string): number[] | undefined {
    return this.shapes.get(name);
  }

  read(name: string): Float32Array {
    const dims = this.shapes.get(name);
    if (!dims) throw new Error(`no parameter ${name}`);
    return randomTensor(name, dims, this.seed);
  }
}

/** The values RandomWeights gives `name` (exported for tests that need the same weights elsewhere). */
export function randomTensor(name: string, dims: readonly number[], seed: number): Float32Array {
  const rand = mulberry32(fnv1a(name) ^ seed);
  const out = new Float32Array(numel(dims));
  const leaf = name.split('.').slice(-2).join('.');
  let center = 0;
  let scale: number;
  if (dims.length === 1) {
    const isNorm = /norm/.test(name) && name.endsWith('.weight');
    center = isNorm ? 1 : 0;
    scale = isNorm ? 0.1 : 0.02;
  } else if (/embedding/.test(leaf)) {
    scale = 0.5;
  } else {
    const fanIn = numel(dims.slice(1));
    scale = Math.sqrt(3 / fanIn);
  }
  for (let i = 0; i < out.length; i++) out[i] = center + (rand() * 2 - 1) * scale;
  return out;
}

/**
 * The parameters of a diffusers ONNX export, by diffusers name. Named initializers map directly;
 * weights the exporter renamed (`onnx::MatMul_123`, stored [in, out]) are found through their
 * node's module path (`/down_blocks.0/attentions.0/…/to_q/MatMul` → `….to_q.weight`) and
 * transposed back; biases likewise through `…/Add` nodes.
 */
export class ExportWeights implements WeightSource {
  readonly label: string;
  private readonly map = new Map<string, { initializer: string; transpose: boolean }>();

  constructor(private readonly graph: OnnxGraph) {
    this.label = graph.file;
    const initializers = graph.initializers;
    for (const name of initializers.keys()) {
      if (/^[A-Za-z_][\w]*(\.[\w]+)*\.(weight|bias)$/.test(name)) this.map.set(name, { initializer: name, transpose: false });
    }
    for (const n of graph.nodes()) {
      const segments = n.name.split('/').filter(Boolean);
      if (segments.length < 2) continue;
      const module = segments.slice(0, -1).join('.');
      const inits = n.inputs.filter((i) => initializers.has(i));
      if (inits.length === 0) continue;
      const set = (name: string, initializer: string, transpose: boolean): void => {
        if (!this.map.has(name)) this.map.set(name, { initializer, transpose });
      };
      const weight = n.inputs[1];
      if (n.opType === 'MatMul' && weight && initializers.has(weight) && initializers.get(weight)!.dims.length === 2)
        set(`${module}.weight`, weight, true);
      else if (n.opType === 'Gemm' && weight && initializers.has(weight)) {
        set(`${module}.weight`, weight, n.attributes.transB !== 1);
        if (n.inputs[2] && initializers.has(n.inputs[2])) set(`${module}.bias`, n.inputs[2], false);
      } else if (n.opType === 'Conv' && weight && initializers.has(weight)) {
        set(`${module}.weight`, weight, false);
        if (n.inputs[2] && initializers.has(n.inputs[2])) set(`${module}.bias`, n.inputs[2], false);
      } else if ((n.opType === 'Add' || n.opType === 'Mul') && inits.length === 1 && isVector(initializers.get(inits[0]!)!.dims)) {
        // Biases after MatMul; a norm's affine as Mul (weight) and Add (bias).
        if (n.opType === 'Add') set(`${module}.bias`, inits[0]!, false);
        else if (/norm/.test(segments[segments.length - 2]!)) set(`${module}.weight`, inits[0]!, false);
      }
    }
    // Exports of diffusers before 0.14 name the VAE's attention query/key/value/proj_attn.
    const legacy: Record<string, string> = { query: 'to_q', key: 'to_k', value: 'to_v', proj_attn: 'to_out.0' };
    for (const [name, hit] of [...this.map]) {
      const match = /^(.*attentions\.\d+)\.(query|key|value|proj_attn)\.(weight|bias)$/.exec(name);
      if (match && !this.map.has(`${match[1]}.${legacy[match[2]!]}.${match[3]}`))
        this.map.set(`${match[1]}.${legacy[match[2]!]}.${match[3]}`, hit);
    }
  }

  shape(name: string): number[] | undefined {
    const hit = this.map.get(name);
    if (!hit) return undefined;
    const dims = this.graph.initializers.get(hit.initializer)!.dims;
    return hit.transpose ? [dims[1]!, dims[0]!] : [...dims];
  }

  read(name: string): Float32Array {
    const hit = this.map.get(name);
    if (!hit) throw new Error(`${this.label} has no weight for ${name}`);
    const values = this.graph.readFloat32(hit.initializer);
    if (!hit.transpose) return values;
    const [rows, cols] = this.graph.initializers.get(hit.initializer)!.dims as [number, number];
    return transpose(values, rows, cols);
  }
}

export function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = values[row + c]!;
  }
  return out;
}

const ALIGN = 4096;

/**
 * Writes `builder`'s graph to `file` (.onnx) with its weights from `source` in `file` + `.weights`,
 * one tensor at a time. Returns the bytes of weights written.
 */
export function writeGraph(file: string, name: string, builder: GraphBuilder, source: WeightSource): number {
  const dataName = `${path.basename(file)}.weights`;
  const fd = fs.openSync(path.join(path.dirname(file), dataName), 'w');
  const half = builder.options.precision === 'float16';
  const initializers = [...builder.constants];
  let offset = 0;
  try {
    for (const spec of builder.params.values()) {
      let values = source.read(spec.name);
      if (values.length !== numel(spec.torchDims))
        throw new WeightMappingError(
          `${spec.name} has ${values.length} values in ${source.label}, expected [${spec.torchDims.join(', ')}]`,
        );
      if (spec.layout === 'transpose') values = transpose(values, spec.torchDims[0]!, numel(spec.torchDims.slice(1)));
      const bytes = half
        ? new Uint8Array(float32ToFloat16(values).buffer)
        : new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      fs.writeSync(fd, bytes, 0, bytes.length, offset);
      initializers.push(
        onnx.TensorProto.create({
          name: spec.initializer,
          dims: spec.storedDims,
          dataType: half ? FLOAT16 : FLOAT,
          dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [
            { key: 'location', value: dataName },
            { key: 'offset', value: String(offset) },
            { key: 'length', value: String(bytes.length) },
          ],
        }),
      );
      offset = Math.ceil((offset + bytes.length) / ALIGN) * ALIGN;
    }
  } finally {
    fs.closeSync(fd);
  }
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'onbrand-graph-builder',
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: { name, node: builder.nodes, initializer: initializers, input: builder.inputs, output: builder.outputs },
  });
  fs.writeFileSync(file, onnx.ModelProto.encode(model).finish());
  return offset;
}
