/**
 * LoRA files in the kohya/A1111 format (`lora_unet_…`, `lora_te_…` with `.lora_down.weight`,
 * `.lora_up.weight`, `.alpha`), resolved by name from a folder, and merged into model weights:
 * W' = W + Σ weight · (alpha / rank) · (up · down), for Linear (MatMul, Gemm) and Conv (LoCon).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { WeightTarget } from './onnx-graph.js';
import { SafetensorsFile } from './safetensors.js';

const KEY = /^(lora_unet_|lora_te_)(.+)\.(lora_down\.weight|lora_up\.weight|alpha)$/;

export interface LoraModule {
  /** `lora_unet_…` or `lora_te_…`. */
  key: string;
  down: Float32Array;
  downShape: number[];
  up: Float32Array;
  upShape: number[];
  rank: number;
  alpha: number;
}

export interface LoadedLora {
  name: string;
  file: string;
  /** A1111's short hash: the first 12 hex digits of the file's SHA-256. */
  hash: string;
  modules: Map<string, LoraModule>;
  /** Keys that are not kohya LoRA keys, grouped by kind with their counts: reported, never silently dropped. */
  unknownKeys: Map<string, number>;
}

/** A LoRA that cannot be used; the message says which and why. */
export class LoraError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoraError';
  }
}

/** The kind of an unknown key, for counting: its prefix and suffix with the layer path elided. */
function keyKind(key: string): string {
  const dot = key.indexOf('.');
  const base = dot < 0 ? key : key.slice(0, dot);
  const suffix = dot < 0 ? '' : key.slice(dot);
  const prefix = base.split('_').slice(0, 2).join('_');
  return `${prefix}_…${suffix}`;
}

/** Reads a LoRA file: its modules as float32 factors (tensors read one by one, never the whole file). */
export async function readLora(file: string, name = path.basename(file, path.extname(file))): Promise<LoadedLora> {
  const st = await SafetensorsFile.open(file);
  const groups = new Map<string, { down?: string; up?: string; alpha?: string }>();
  const unknownKeys = new Map<string, number>();
  for (const key of st.tensors.keys()) {
    const match = KEY.exec(key);
    if (!match) {
      unknownKeys.set(keyKind(key), (unknownKeys.get(keyKind(key)) ?? 0) + 1);
      continue;
    }
    const moduleKey = match[1]! + match[2]!;
    const group = groups.get(moduleKey) ?? {};
    if (match[3] === 'lora_down.weight') group.down = key;
    else if (match[3] === 'lora_up.weight') group.up = key;
    else group.alpha = key;
    groups.set(moduleKey, group);
  }
  const modules = new Map<string, LoraModule>();
  for (const [key, group] of groups) {
    if (!group.down || !group.up) {
      unknownKeys.set(`${keyKind(key)} (incomplete: no ${group.down ? 'lora_up' : 'lora_down'})`, (unknownKeys.get(keyKind(key)) ?? 0) + 1);
      continue;
    }
    const downInfo = st.tensors.get(group.down)!;
    const upInfo = st.tensors.get(group.up)!;
    const rank = downInfo.shape[0]!;
    if (upInfo.shape[1] !== rank) throw new LoraError(`${file}: ${key} has lora_up ${JSON.stringify(upInfo.shape)} and lora_down ${JSON.stringify(downInfo.shape)}, whose ranks differ`);
    const alpha = group.alpha ? (await st.readFloat32(group.alpha))[0]! : rank;
    modules.set(key, {
      key,
      down: await st.readFloat32(group.down),
      downShape: downInfo.shape,
      up: await st.readFloat32(group.up),
      upShape: upInfo.shape,
      rank,
      alpha,
    });
  }
  return { name, file, hash: await shortHash(file), modules, unknownKeys };
}

async function shortHash(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex').slice(0, 12);
}

/** `up · down` as [out, in·kh·kw] (float64 accumulation, float32 result). */
export function loraDelta(module: LoraModule): Float32Array {
  const out = module.upShape[0]!;
  const rank = module.rank;
  const inner = module.down.length / rank;
  const delta = new Float32Array(out * inner);
  for (let o = 0; o < out; o++) {
    for (let r = 0; r < rank; r++) {
      const u = module.up[o * rank + r]!;
      if (u === 0) continue;
      const row = r * inner;
      const dst = o * inner;
      for (let i = 0; i < inner; i++) delta[dst + i] += u * module.down[row + i]!;
    }
  }
  return delta;
}

/**
 * Adds `scale · delta` ([out, in…] in PyTorch's layout) to `weight` in the target's own layout
 * (transposed for MatMul and Gemm without transB).
 */
export function addDelta(weight: Float32Array, target: WeightTarget, delta: Float32Array, scale: number, moduleKey: string): void {
  if (delta.length !== weight.length) {
    throw new LoraError(`${moduleKey}: the LoRA changes ${delta.length} values but the model's weight has ${weight.length} (shape [${target.dims.join(', ')}]): made for another model?`);
  }
  if (!target.transposed) {
    for (let i = 0; i < weight.length; i++) weight[i] += scale * delta[i]!;
    return;
  }
  const [inDim, outDim] = target.dims as [number, number];
  for (let i = 0; i < inDim; i++) for (let o = 0; o < outDim; o++) weight[i * outDim + o] += scale * delta[o * inDim + i]!;
}

export type ModelPart = 'textEncoder' | 'unet';

export interface MergeResult {
  /** Replaced weights (float32, in the model's layout) by part and initializer name. */
  overrides: Record<ModelPart, Map<string, Float32Array>>;
  /** Keys not understood and modules that match nothing in the model, with counts. */
  warnings: string[];
}

/**
 * Merges LoRAs into copies of the weights they touch: W' = W + Σ weight · (alpha / rank) · (up · down).
 * `read` gives a weight's current (base) values; the base itself is never modified.
 */
export async function mergeLoras(
  library: LoraLibrary,
  loras: readonly { lora: LoadedLora; weight: number }[],
  targets: ReadonlyMap<string, { part: ModelPart; target: WeightTarget }>,
  read: (part: ModelPart, initializer: string) => Float32Array,
  modelName: string,
): Promise<MergeResult> {
  const overrides: MergeResult['overrides'] = { textEncoder: new Map(), unet: new Map() };
  const warnings: string[] = [];
  for (const { lora, weight } of loras) {
    let unmatched = 0;
    for (const module of lora.modules.values()) {
      const hit = targets.get(module.key);
      if (!hit) {
        unmatched++;
        continue;
      }
      const part = overrides[hit.part];
      const values = part.get(hit.target.initializer) ?? read(hit.part, hit.target.initializer);
      addDelta(values, hit.target, await library.delta(lora.name, module.key), weight * (module.alpha / module.rank), `${lora.name}: ${module.key}`);
      part.set(hit.target.initializer, values);
    }
    for (const [kind, count] of lora.unknownKeys) warnings.push(`LoRA ${lora.name}: ${count} key${count === 1 ? '' : 's'} it does not understand (${kind}); ignored.`);
    if (unmatched > 0) warnings.push(`LoRA ${lora.name}: ${unmatched} of ${lora.modules.size} modules match nothing in ${modelName} (made for another model?); ignored.`);
  }
  return { overrides, warnings };
}

interface CacheEntry {
  stamp: string;
  lora: LoadedLora;
  deltas: Map<string, Float32Array>;
  bytes: number;
}

/** Bytes of a LoRA's factors in memory. */
function factorBytes(lora: LoadedLora): number {
  let n = 0;
  for (const m of lora.modules.values()) n += m.down.byteLength + m.up.byteLength;
  return n;
}

/**
 * LoRA files in a folder, resolved by name (case-insensitive), read once and kept while unchanged,
 * least recently used first out when their factors (and merged deltas) pass `maxBytes`.
 */
export class LoraLibrary {
  /** In order of use: the last entry is the most recent. */
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    readonly dir: string,
    readonly maxBytes = 1024 * 1024 * 1024,
  ) {}

  /** What the cache holds now. */
  memory(): { loras: number; bytes: number; maxBytes: number } {
    let bytes = 0;
    for (const e of this.cache.values()) bytes += e.bytes;
    return { loras: this.cache.size, bytes, maxBytes: this.maxBytes };
  }

  /** Drops least recently used LoRAs until the cache fits, never `keep`. */
  private evict(keep: string): void {
    let { bytes } = this.memory();
    for (const [file, entry] of this.cache) {
      if (bytes <= this.maxBytes) break;
      if (file === keep) continue;
      this.cache.delete(file);
      bytes -= entry.bytes;
    }
  }

  /** Names of the LoRAs in the folder (file names without `.safetensors`). */
  list(): string[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.toLowerCase().endsWith('.safetensors'))
      .map((f) => f.slice(0, -'.safetensors'.length))
      .sort();
  }

  /** Loads a LoRA by name; an unknown name is an error listing close matches. */
  async get(name: string): Promise<LoadedLora> {
    return (await this.entry(name)).lora;
  }

  /** `up · down` of one module, computed once per LoRA file. */
  async delta(name: string, moduleKey: string): Promise<Float32Array> {
    const entry = await this.entry(name);
    let delta = entry.deltas.get(moduleKey);
    if (!delta) {
      delta = loraDelta(entry.lora.modules.get(moduleKey)!);
      entry.deltas.set(moduleKey, delta);
      entry.bytes += delta.byteLength;
      this.evict(entry.lora.file);
    }
    return delta;
  }

  private async entry(name: string): Promise<CacheEntry> {
    const names = this.list();
    const exact = names.find((n) => n === name) ?? names.find((n) => n.toLowerCase() === name.toLowerCase());
    if (!exact) {
      const close = closeMatches(name, names);
      throw new LoraError(
        `No LoRA named "${name}" in ${this.dir}.` +
          (close.length ? ` Did you mean: ${close.join(', ')}?` : names.length ? ` LoRAs there: ${names.slice(0, 12).join(', ')}.` : ' The folder has no .safetensors files.'),
      );
    }
    const file = path.join(this.dir, `${exact}.safetensors`);
    const stat = await fsp.stat(file);
    const stamp = `${stat.size}:${Math.round(stat.mtimeMs)}`;
    const cached = this.cache.get(file);
    if (cached && cached.stamp === stamp) {
      this.cache.delete(file);
      this.cache.set(file, cached);
      return cached;
    }
    const lora = await readLora(file, exact);
    const entry: CacheEntry = { stamp, lora, deltas: new Map<string, Float32Array>(), bytes: factorBytes(lora) };
    this.cache.delete(file);
    this.cache.set(file, entry);
    this.evict(file);
    return entry;
  }
}

/** Names within a small edit distance, or containing the query, best first. */
export function closeMatches(query: string, names: readonly string[], limit = 5): string[] {
  const q = query.toLowerCase();
  return names
    .map((n) => ({ n, d: n.toLowerCase().includes(q) || q.includes(n.toLowerCase()) ? 0 : editDistance(q, n.toLowerCase()) }))
    .filter(({ d }) => d <= Math.max(2, Math.floor(q.length / 3)))
    .sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))
    .slice(0, limit)
    .map(({ n }) => n);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The designers' field notes about LoRA weights, as hints for the settings linter. */
export function loraHints(loras: readonly { name: string; weight: number }[]): string[] {
  const hints: string[] = [];
  for (const lora of loras) {
    if (lora.weight > 1) hints.push(`${lora.name} at ${lora.weight}: above 1.0 tends to clone every pore and over-bake colours; 0.8 keeps "enough of you".`);
  }
  if (loras.some((l) => l.weight > 0.6)) hints.push('If faces smear, drop the LoRA weight to 0.6 before adding steps.');
  return hints;
}
