/**
 * A streaming safetensors reader: the JSON header is read once, each tensor on demand with one
 * positioned read of exactly its bytes, so a large file is never held in memory whole.
 * Format: u64 little-endian header length, JSON header {name: {dtype, shape, data_offsets}}, data.
 */
import { createHash } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import { OnbrandError } from '../api/index.js';
import { fromHalf, toHalf as toHalfBits } from './float16.js';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range in the data section (after the header). */
  begin: number;
  end: number;
}

const BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
/** Headers larger than this are refused: real files have a few hundred KB at most. */
const MAX_HEADER = 100 * 1024 * 1024;

/** A safetensors file that cannot be read; the message names the file and the problem. */
export class SafetensorsError extends OnbrandError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super('internal', `${file}: ${detail}`);
    this.name = 'SafetensorsError';
  }
}

export class SafetensorsFile {
  private constructor(
    readonly file: string,
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    readonly metadata: Readonly<Record<string, string>>,
    private readonly dataStart: number,
  ) {}

  static async open(file: string): Promise<SafetensorsFile> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (error) {
      throw new SafetensorsError(file, `cannot be opened (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    try {
      const { size } = await handle.stat();
      if (size < 8) throw new SafetensorsError(file, 'is too short to be a safetensors file');
      const lengthBytes = Buffer.alloc(8);
      await handle.read(lengthBytes, 0, 8, 0);
      const headerLength = Number(lengthBytes.readBigUInt64LE());
      if (headerLength <= 0 || headerLength > MAX_HEADER || 8 + headerLength > size) {
        throw new SafetensorsError(
          file,
          `has an impossible header length (${headerLength} bytes in a ${size}-byte file): not a safetensors file, or truncated`,
        );
      }
      const headerBytes = Buffer.alloc(headerLength);
      await handle.read(headerBytes, 0, headerLength, 8);
      let header: Record<string, unknown>;
      try {
        header = JSON.parse(headerBytes.toString('utf8')) as Record<string, unknown>;
      } catch {
        throw new SafetensorsError(file, 'has a header that is not valid JSON');
      }
      const dataStart = 8 + headerLength;
      const dataSize = size - dataStart;
      const tensors = new Map<string, TensorInfo>();
      let metadata: Record<string, string> = {};
      for (const [name, value] of Object.entries(header)) {
        if (name === '__metadata__') {
          metadata = (value ?? {}) as Record<string, string>;
          continue;
        }
        const entry = value as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
        if (
          !entry ||
          typeof entry.dtype !== 'string' ||
          !(entry.dtype in BYTES) ||
          !Array.isArray(entry.shape) ||
          !Array.isArray(entry.data_offsets)
        ) {
          throw new SafetensorsError(file, `tensor "${name}" has a malformed header entry`);
        }
        const [begin, end] = entry.data_offsets;
        const count = entry.shape.reduce((a, b) => a * b, 1);
        if (end - begin !== count * BYTES[entry.dtype as SafetensorsDtype]) {
          throw new SafetensorsError(
            file,
            `tensor "${name}" has ${end - begin} bytes for shape [${entry.shape.join(', ')}] ${entry.dtype}`,
          );
        }
        if (end > dataSize) {
          throw new SafetensorsError(file, `is truncated: tensor "${name}" ends at byte ${dataStart + end} of a ${size}-byte file`);
        }
        tensors.set(name, { name, dtype: entry.dtype as SafetensorsDtype, shape: entry.shape, begin, end });
      }
      return new SafetensorsFile(file, tensors, metadata, dataStart);
    } finally {
      await handle.close();
    }
  }

  /** One tensor as float32, whatever its stored precision (F32, F16, BF16, F64). */
  async readFloat32(name: string): Promise<Float32Array> {
    const info = this.tensors.get(name);
    if (!info) throw new SafetensorsError(this.file, `has no tensor "${name}"`);
    const bytes = Buffer.alloc(info.end - info.begin);
    const handle = await fs.open(this.file, 'r');
    try {
      const { bytesRead } = await handle.read(bytes, 0, bytes.length, this.dataStart + info.begin);
      if (bytesRead !== bytes.length) throw new SafetensorsError(this.file, `is truncated inside tensor "${name}"`);
    } finally {
      await handle.close();
    }
    return toFloat32(bytes, info.dtype, this.file, name);
  }
}

function toFloat32(bytes: Buffer, dtype: SafetensorsDtype, file: string, name: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(bytes.length / 4);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(bytes.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = fromHalf(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const out = new Float32Array(bytes.length / 2);
      const word = new Uint32Array(out.buffer);
      for (let i = 0; i < out.length; i++) word[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'F64': {
      const out = new Float32Array(bytes.length / 8);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    default:
      throw new SafetensorsError(file, `tensor "${name}" is ${dtype}, not a floating-point type`);
  }
}

/** Writes a safetensors file (used by tests and benchmarks to make LoRAs). */
export function encodeSafetensors(
  tensors: Record<string, { dtype: 'F32' | 'F16' | 'BF16'; shape: number[]; data: Float32Array }>,
  metadata?: Record<string, string>,
): Buffer {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = Buffer.alloc(t.data.length * (t.dtype === 'F32' ? 4 : 2));
    t.data.forEach((v, i) => {
      if (t.dtype === 'F32') bytes.writeFloatLE(v, i * 4);
      else if (t.dtype === 'F16') bytes.writeUInt16LE(toHalfBits(v), i * 2);
      else bytes.writeUInt16LE((new Uint32Array(Float32Array.of(v).buffer)[0]! >>> 16) & 0xffff, i * 2);
    });
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  // The data section starts 8-byte aligned, as the reference writer pads with spaces.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([length, Buffer.from(json), ...chunks]);
}

/** One tensor to write: its header entry; its bytes are asked for when its turn comes. */
export interface TensorToWrite {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
}

/**
 * Writes a safetensors file tensor by tensor (`bytesOf` is called once per tensor, in order), so
 * a file of any size is written holding one tensor at a time; between tensors the event loop runs
 * (a conversion in the app's main process never stalls it for more than one tensor). Returns the
 * file's size and SHA-256.
 */
export async function writeSafetensorsFile(
  file: string,
  tensors: readonly TensorToWrite[],
  bytesOf: (name: string) => Uint8Array,
  metadata?: Record<string, string>,
): Promise<{ bytes: number; sha256: string }> {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const hash = createHash('sha256');
  const fd = fsSync.openSync(file, 'w');
  let position = 0;
  const put = (chunk: Uint8Array): void => {
    hash.update(chunk);
    let done = 0;
    while (done < chunk.length) done += fsSync.writeSync(fd, chunk, done, chunk.length - done, position + done);
    position += chunk.length;
  };
  try {
    put(length);
    put(Buffer.from(json));
    for (const t of tensors) {
      const bytes = bytesOf(t.name);
      const expected = t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
      if (bytes.length !== expected)
        throw new SafetensorsError(file, `tensor "${t.name}" was given ${bytes.length} bytes, its header says ${expected}`);
      put(bytes);
      await new Promise((resolve) => setImmediate(resolve));
    }
    fsSync.fsyncSync(fd);
  } finally {
    fsSync.closeSync(fd);
  }
  return { bytes: position, sha256: hash.digest('hex') };
}
