/**
 * An ONNX model held in memory as a small graph skeleton plus its weights, so a session can be
 * built from memory with some weights replaced (LoRA merging) without re-reading or copying the
 * rest. Exported graphs lose weight names (`onnx::MatMul_123`); the nodes keep their module path
 * (`/down_blocks.0/attentions.0/transformer_blocks.0/attn1/to_q/MatMul`), which is how LoRA
 * keys are matched to weights.
 */
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import pkg from 'onnx-proto';
import { float16ToFloat32, float32ToFloat16 } from './float16.js';

const { onnx } = pkg;
type ModelProto = InstanceType<typeof onnx.ModelProto>;
type TensorProto = NonNullable<Parameters<typeof onnx.TensorProto.create>[0]>;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
/** The in-memory "file" that holds replaced weights. */
const OVERRIDE_LOCATION = 'onbrand-merged.bin';
/** The in-memory "file" that holds weights stored inside model.onnx. */
const INLINE_LOCATION = 'onbrand-inline.bin';
/** Weights below this size stay inside the graph. */
const SMALL_TENSOR_BYTES = 1024;

export interface Initializer {
  name: string;
  dims: number[];
  dataType: number;
  location: string;
  offset: number;
  length: number;
}

/** A weight that a LoRA module can change. */
export interface WeightTarget {
  initializer: string;
  op: 'MatMul' | 'Gemm' | 'Conv';
  /** True when stored [in, out] (MatMul, Gemm without transB), the transpose of PyTorch's [out, in]. */
  transposed: boolean;
  dims: number[];
}

export interface BuiltModel {
  model: Uint8Array;
  externalData: { path: string; data: Uint8Array }[];
}

export class OnnxGraph {
  private constructor(
    readonly file: string,
    private readonly skeleton: ModelProto,
    readonly initializers: ReadonlyMap<string, Initializer>,
    /** Weight bytes by location: the external data files, and one buffer for weights that were inline. */
    private readonly buffers: ReadonlyMap<string, Buffer>,
    /** Lazy graphs: external data files by location, read one weight at a time. */
    private readonly files: ReadonlyMap<string, string> = new Map(),
  ) {}

  /**
   * Reads model.onnx and its external data files into memory (once). `lazy`: external weights stay
   * on disk and are read one at a time (a 3.4 GB UNet is read without holding it; such a graph
   * cannot `build`).
   */
  static async load(file: string, options: { lazy?: boolean } = {}): Promise<OnnxGraph> {
    const bytes = await fs.readFile(file);
    let model: ModelProto;
    try {
      model = onnx.ModelProto.decode(bytes);
    } catch (error) {
      throw new Error(`${file} is not a valid ONNX model: ${(error as Error).message}`);
    }
    const graph = model.graph;
    if (!graph) throw new Error(`${file} has no graph`);
    const buffers = new Map<string, Buffer>();
    const files = new Map<string, string>();
    const sizes = new Map<string, number>();
    const initializers = new Map<string, Initializer>();
    const inline: Buffer[] = [];
    let inlineOffset = 0;
    const skeletonInitializers: TensorProto[] = [];
    for (const tensor of graph.initializer ?? []) {
      const name = tensor.name ?? '';
      const dims = (tensor.dims ?? []).map(Number);
      const dataType = tensor.dataType ?? FLOAT;
      let info: Initializer;
      if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
        const entries = Object.fromEntries((tensor.externalData ?? []).map((e) => [e.key, e.value]));
        const location = String(entries.location);
        if (!sizes.has(location)) {
          const dataFile = path.join(path.dirname(file), location);
          try {
            if (options.lazy) {
              sizes.set(location, (await fs.stat(dataFile)).size);
              files.set(location, dataFile);
            } else {
              const data = await readWhole(dataFile);
              buffers.set(location, data);
              sizes.set(location, data.length);
            }
          } catch (error) {
            throw new Error(
              `${dataFile} (external weights of ${file}) cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
            );
          }
        }
        const size = sizes.get(location)!;
        const offset = Number(entries.offset ?? 0);
        const length = entries.length !== undefined ? Number(entries.length) : size - offset;
        if (offset + length > size) throw new Error(`${location} is truncated (weight ${name} of ${file})`);
        info = { name, dims, dataType, location, offset, length };
      } else {
        const raw = rawBytes(tensor);
        inline.push(raw);
        info = { name, dims, dataType, location: INLINE_LOCATION, offset: inlineOffset, length: raw.length };
        inlineOffset += raw.length;
        // Shapes, scalars and other small constants stay in the graph: onnxruntime's shape
        // inference reads them there, as exporters keep them.
        if ((dataType !== FLOAT && dataType !== FLOAT16) || raw.length < SMALL_TENSOR_BYTES) {
          initializers.set(name, info);
          skeletonInitializers.push(tensor);
          continue;
        }
      }
      initializers.set(name, info);
      skeletonInitializers.push(externalRef(info));
    }
    buffers.set(INLINE_LOCATION, Buffer.concat(inline));
    const skeleton = onnx.ModelProto.create({ ...model, graph: onnx.GraphProto.create({ ...graph, initializer: skeletonInitializers }) });
    return new OnnxGraph(file, skeleton, initializers, buffers, files);
  }

  /**
   * Weights that LoRA keys can address, by kohya module name: the node path without its op,
   * dots and slashes as underscores, behind `prefix` (`lora_unet_`, `lora_te_`).
   */
  targets(prefix: string, stripPathPrefix = ''): Map<string, WeightTarget> {
    const out = new Map<string, WeightTarget>();
    for (const node of this.skeleton.graph?.node ?? []) {
      const op = node.opType;
      if (op !== 'MatMul' && op !== 'Gemm' && op !== 'Conv') continue;
      const weight = (node.input ?? []).slice(1).find((i) => this.initializers.has(i));
      if (!weight) continue;
      const segments = (node.name ?? '').split('/').filter(Boolean);
      if (segments.length < 2) continue;
      let modulePath = segments.slice(0, -1).join('_');
      if (stripPathPrefix && modulePath.startsWith(stripPathPrefix)) modulePath = modulePath.slice(stripPathPrefix.length);
      const key = prefix + modulePath.replace(/[./]/g, '_');
      const transB = (node.attribute ?? []).find((a) => a.name === 'transB');
      const transposed = op === 'MatMul' || (op === 'Gemm' && Number(transB?.i ?? 0) === 0);
      out.set(key, { initializer: weight, op, transposed, dims: this.initializers.get(weight)!.dims });
    }
    return out;
  }

  /** The graph's nodes: op, name, inputs and integer attributes. */
  nodes(): { opType: string; name: string; inputs: string[]; attributes: Record<string, number> }[] {
    return (this.skeleton.graph?.node ?? []).map((n) => ({
      opType: n.opType ?? '',
      name: n.name ?? '',
      inputs: n.input ?? [],
      attributes: Object.fromEntries(
        (n.attribute ?? []).filter((a) => a.i !== undefined && a.i !== null).map((a) => [a.name ?? '', Number(a.i)]),
      ),
    }));
  }

  /** A weight as float32 (float16 weights converted). */
  readFloat32(name: string): Float32Array {
    const info = this.initializers.get(name);
    if (!info) throw new Error(`${this.file} has no weight named ${name}`);
    const bytes = this.bytes(info);
    if (info.dataType === FLOAT16) return float16ToFloat32(new Uint16Array(copyAligned(bytes, 2)));
    if (info.dataType === FLOAT) return new Float32Array(copyAligned(bytes, 4));
    throw new Error(`weight ${name} of ${this.file} is not float32 or float16`);
  }

  private bytes(info: Initializer): Buffer {
    const dataFile = this.files.get(info.location);
    if (!dataFile) return this.buffers.get(info.location)!.subarray(info.offset, info.offset + info.length);
    const out = Buffer.allocUnsafe(info.length);
    const fd = fsSync.openSync(dataFile, 'r');
    try {
      let done = 0;
      while (done < info.length) {
        const n = fsSync.readSync(fd, out, done, info.length - done, info.offset + done);
        if (n === 0) throw new Error(`${dataFile} ended early (weight ${info.name})`);
        done += n;
      }
    } finally {
      fsSync.closeSync(fd);
    }
    return out;
  }

  /** The model with `overrides` (float32 values, stored in each weight's own precision) in place of the originals. */
  build(overrides: ReadonlyMap<string, Float32Array> = new Map()): BuiltModel {
    if (this.files.size > 0) throw new Error(`${this.file} was read lazily and cannot be rebuilt in memory`);
    const chunks: Buffer[] = [];
    let offset = 0;
    const replaced = new Map<string, Initializer>();
    for (const [name, values] of overrides) {
      const info = this.initializers.get(name);
      if (!info) throw new Error(`${this.file} has no weight named ${name}`);
      const encoded =
        info.dataType === FLOAT16
          ? Buffer.from(float32ToFloat16(values).buffer)
          : Buffer.from(values.buffer, values.byteOffset, values.byteLength);
      chunks.push(encoded);
      replaced.set(name, { ...info, location: OVERRIDE_LOCATION, offset, length: encoded.length });
      offset += encoded.length;
    }
    const graph = this.skeleton.graph!;
    const initializer = graph.initializer!.map((t) => (replaced.has(t.name!) ? externalRef(replaced.get(t.name!)!) : t));
    const model = onnx.ModelProto.encode(
      onnx.ModelProto.create({ ...this.skeleton, graph: onnx.GraphProto.create({ ...graph, initializer }) }),
    ).finish();
    const externalData = [...this.buffers].map(([p, data]) => ({ path: p, data: data as Uint8Array }));
    if (chunks.length > 0) externalData.push({ path: OVERRIDE_LOCATION, data: Buffer.concat(chunks) });
    return { model, externalData };
  }
}

function externalRef(info: Initializer): TensorProto {
  return onnx.TensorProto.create({
    name: info.name,
    dims: info.dims,
    dataType: info.dataType,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: info.location },
      { key: 'offset', value: String(info.offset) },
      { key: 'length', value: String(info.length) },
    ],
  });
}

/** An inline initializer's bytes, whether stored as raw_data or in the typed repeated fields. */
function rawBytes(tensor: TensorProto): Buffer {
  if (tensor.rawData && tensor.rawData.length > 0) return Buffer.from(tensor.rawData);
  if (tensor.floatData && tensor.floatData.length > 0) return Buffer.from(Float32Array.from(tensor.floatData).buffer);
  if (tensor.int64Data && tensor.int64Data.length > 0)
    return Buffer.from(BigInt64Array.from(tensor.int64Data.map((v) => BigInt(String(v)))).buffer);
  if (tensor.int32Data && tensor.int32Data.length > 0) {
    // float16 and small integer types are stored in int32_data, one value per element.
    if (tensor.dataType === FLOAT16) return Buffer.from(Uint16Array.from(tensor.int32Data).buffer);
    return Buffer.from(Int32Array.from(tensor.int32Data).buffer);
  }
  if (tensor.doubleData && tensor.doubleData.length > 0) return Buffer.from(Float64Array.from(tensor.doubleData).buffer);
  return Buffer.alloc(0);
}

/** A copy whose start is aligned for a typed array of `size`-byte elements. */
function copyAligned(bytes: Buffer, size: number): ArrayBuffer {
  const out = new ArrayBuffer(bytes.length - (bytes.length % size));
  new Uint8Array(out).set(bytes.subarray(0, out.byteLength));
  return out;
}

/** A whole file in one Buffer, read in chunks (fs.readFile stops at 2 GiB; SD UNet weights are 3.4 GB). */
async function readWhole(file: string): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const out = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(out, done, Math.min(size - done, 1 << 30), done);
      if (bytesRead === 0) throw new Error('ended early');
      done += bytesRead;
    }
    return out;
  } finally {
    await handle.close();
  }
}
