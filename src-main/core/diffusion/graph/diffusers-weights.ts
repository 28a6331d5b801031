/**
 * The weights of one part of a diffusers folder (`unet/diffusion_pytorch_model.safetensors`,
 * `vae/…`, `text_encoder/model.safetensors`, or their sharded form with a
 * `….safetensors.index.json`) as a `WeightSource`: the names are already diffusers' /
 * transformers' own, except in older VAE files, whose mid-block attention is `query`, `key`,
 * `value`, `proj_attn` (diffusers renames them on load) and may be stored as 1×1 convolutions.
 * Tensors are read one at a time from disk and converted to float32.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SafetensorsFile, type SafetensorsDtype, type TensorInfo } from '../safetensors.js';
import { decodeFloat32 } from './checkpoint-weights.js';
import { WeightMappingError, type WeightSource } from './weights.js';

const BYTES: Partial<Record<SafetensorsDtype, number>> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

/** Old diffusers VAE attention names → today's. */
const LEGACY_VAE: [RegExp, string][] = [
  [/\.attentions\.(\d+)\.query\./, '.attentions.$1.to_q.'],
  [/\.attentions\.(\d+)\.key\./, '.attentions.$1.to_k.'],
  [/\.attentions\.(\d+)\.value\./, '.attentions.$1.to_v.'],
  [/\.attentions\.(\d+)\.proj_attn\./, '.attentions.$1.to_out.0.'],
];

interface Entry {
  file: SafetensorsFile;
  dataStart: number;
  info: TensorInfo;
  /** The shape the builder sees (a 1×1 convolution's trailing ones dropped for attention). */
  shape: number[];
}

function dataStart(file: string): number {
  const head = Buffer.alloc(8);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 8, 0);
  } finally {
    fs.closeSync(fd);
  }
  return 8 + Number(head.readBigUInt64LE(0));
}

export class DiffusersWeights implements WeightSource {
  private constructor(
    readonly label: string,
    private readonly entries: Map<string, Entry>,
  ) {}

  /**
   * Opens a part's weights: a `.safetensors` file, or a `.safetensors.index.json` whose
   * `weight_map` names the shards beside it.
   */
  static async open(file: string): Promise<DiffusersWeights> {
    const files: string[] = [];
    if (file.endsWith('.index.json')) {
      let index: { weight_map?: Record<string, string> };
      try {
        index = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof index;
      } catch (error) {
        throw new WeightMappingError(`${file} is not a readable shard index: ${(error as Error).message}`);
      }
      if (!index.weight_map || typeof index.weight_map !== 'object') throw new WeightMappingError(`${file} has no weight_map`);
      for (const shard of new Set(Object.values(index.weight_map))) {
        // Shards lie beside the index: a plain .safetensors file name, never a path out of the folder.
        if (typeof shard !== 'string' || shard !== path.basename(shard) || shard.startsWith('.') || !shard.endsWith('.safetensors')) {
          throw new WeightMappingError(`${file} names the shard ${JSON.stringify(shard)}: not a .safetensors file beside the index`);
        }
        files.push(path.join(path.dirname(file), shard));
      }
    } else files.push(file);
    const entries = new Map<string, Entry>();
    for (const shard of files) {
      const st = await SafetensorsFile.open(shard);
      const start = dataStart(shard);
      for (const info of st.tensors.values()) {
        let name = info.name;
        for (const [pattern, replacement] of LEGACY_VAE) name = name.replace(pattern, replacement);
        const attention = /\.mid_block\.attentions\.\d+\.(to_q|to_k|to_v|to_out\.0)\.weight$/.test(name);
        const shape = attention && info.shape.length > 2 ? info.shape.slice(0, 2) : [...info.shape];
        entries.set(name, { file: st, dataStart: start, info, shape });
      }
    }
    return new DiffusersWeights(file, entries);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  shape(name: string): number[] | undefined {
    const shape = this.entries.get(name)?.shape;
    return shape && [...shape];
  }

  read(name: string): Float32Array {
    const entry = this.entries.get(name);
    if (!entry) throw new WeightMappingError(`${this.label} has no weight for ${name}`);
    const { info } = entry;
    const size = BYTES[info.dtype];
    if (size === undefined) throw new WeightMappingError(`${info.name} in ${this.label} is ${info.dtype}, not a floating-point type`);
    const bytes = new Uint8Array(info.end - info.begin);
    const fd = fs.openSync(entry.file.file, 'r');
    try {
      let done = 0;
      while (done < bytes.length) {
        const n = fs.readSync(fd, bytes, done, bytes.length - done, entry.dataStart + info.begin + done);
        if (n === 0) throw new WeightMappingError(`${entry.file.file} is truncated inside tensor "${info.name}"`);
        done += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    return decodeFloat32(bytes, info.dtype, bytes.length / size);
  }
}
