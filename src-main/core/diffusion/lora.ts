/**
 * LoRA files, resolved by name from a folder, read into modules (lora-keys.ts: every common way
 * of naming a module; lora-formats.ts: LoRA, LoCon, LoHa, LoKr and full changes as A1111 applies
 * them), and merged into model weights: W' = W + Σ weight · scale · ΔW, for Linear (MatMul,
 * Gemm) and Conv.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { OnbrandError } from '../api/index.js';
import { closeMatches, type ModelFamily } from '../common/index.js';
import { fullDelta, moduleDelta, ModuleFormatError, padInputs, type ModuleDelta, type Tensor } from './lora-formats.js';
import {
  describeGroups,
  keyGroup,
  layersPerBlockOf,
  moduleGroup,
  parseKey,
  resolveAddress,
  type LoraFamily,
  type ModuleAddress,
} from './lora-keys.js';
import type { WeightTarget } from './onnx-graph.js';
import { SafetensorsFile } from './safetensors.js';

export interface LoraModule extends ModuleDelta {
  /** The module as the file names it (`lora_unet_…`, `unet.down_blocks.….to_q`). */
  name: string;
  address: ModuleAddress;
}

export interface LoadedLora {
  name: string;
  file: string;
  /** A1111's short hash: the first 12 hex digits of the file's SHA-256. */
  hash: string;
  /** By their names in the file. */
  modules: Map<string, LoraModule>;
  /** Keys that make no module Onbrand applies, grouped by kind (and why) with their counts: reported, never silently dropped. */
  unknownKeys: Map<string, number>;
  /** The model family its keys or shapes prove (an SDXL LoRA), with what shows it; null when they fit several. */
  family: { name: LoraFamily; evidence: string } | null;
}

/** A LoRA that cannot be used; the message says which and why. */
export class LoraError extends OnbrandError {
  constructor(message: string) {
    super('internal', message);
    this.name = 'LoraError';
  }
}

const count = (map: Map<string, number>, key: string, n = 1): void => {
  map.set(key, (map.get(key) ?? 0) + n);
};

/** Reads a LoRA file: its modules as float32 tensors (read one by one, never the whole file). */
export async function readLora(file: string, name = path.basename(file, path.extname(file))): Promise<LoadedLora> {
  const st = await SafetensorsFile.open(file);
  const groups = new Map<string, { address: ModuleAddress; keys: Map<string, string> }>();
  const unknownKeys = new Map<string, number>();
  let family: LoadedLora['family'] = null;
  for (const key of st.tensors.keys()) {
    const parsed = parseKey(key);
    // The first key that proves a family; kohya's SD 1.x/2.x te_ gives way to one that says more.
    if (parsed.family && (!family || (family.name === 'SD 1.x/2.x' && parsed.family !== 'SD 1.x/2.x')))
      family = { name: parsed.family, evidence: key };
    if (parsed.kind === 'unknown') {
      count(unknownKeys, parsed.group);
      continue;
    }
    const group = groups.get(parsed.module) ?? { address: parsed.address, keys: new Map<string, string>() };
    group.keys.set(parsed.tensor, key);
    groups.set(parsed.module, group);
  }
  const modules = new Map<string, LoraModule>();
  for (const [module, group] of groups) {
    const tensors = new Map<string, Tensor>();
    for (const [tensor, key] of group.keys) {
      const data = await st.readFloat32(key);
      // A diverged training run leaves NaN or infinity: applied, it turns every image black.
      if (!data.every(Number.isFinite))
        throw new LoraError(
          `LoRA ${name} (${file}): tensor "${key}" holds NaN or infinite values (a training run that diverged?); it cannot be applied`,
        );
      tensors.set(tensor, { shape: st.tensors.get(key)!.shape, data });
    }
    try {
      const delta = moduleDelta(tensors);
      modules.set(module, { name: module, address: group.address, ...delta });
      for (const tensor of delta.unused) count(unknownKeys, `${keyGroup(`${module}.${tensor}`)} (not used by a ${delta.type} module)`);
    } catch (error) {
      if (!(error instanceof ModuleFormatError)) throw error;
      count(unknownKeys, `${keyGroup(`${module}.*`)} (${error.message})`, group.keys.size);
    }
  }
  return { name, file, hash: await loraShortHash(file), modules, unknownKeys, family: loraFamily(family, modules.values()) };
}

/** Widths of the text that cross-attention reads, and of text encoders, in the families' real models. */
const TEXT_WIDTH: Record<number, LoraFamily> = { 768: 'SD 1.x', 1024: 'SD 2.x', 2048: 'SDXL' };

/**
 * The family a module's shape proves: the width of the text its cross-attention key or value
 * reads (768 SD 1.x, 1024 SD 2.x, 2048 SDXL), or of its text encoder (1024: SD 2.x's OpenCLIP;
 * 768 is CLIP ViT-L, SD 1.x's and SDXL's first encoder alike).
 */
function shapeFamily(module: LoraModule): { name: LoraFamily; evidence: string } | null {
  if (module.address.part === 'unet') {
    if (!/attn2[._]to_[kv]$/.test(module.name)) return null;
    const name = TEXT_WIDTH[module.inner];
    return name ? { name, evidence: `${module.name}, which reads ${module.inner}-wide text` } : null;
  }
  if (module.address.part !== 'textEncoder') return null;
  const width = /fc1$/.test(module.name) ? module.inner : module.out;
  return width === 1024 ? { name: 'SD 2.x', evidence: `${module.name} on a ${width}-wide text encoder` } : null;
}

/** The family of a LoRA: what its keys prove, narrowed or else decided by its modules' shapes. */
function loraFamily(byKey: LoadedLora['family'], modules: Iterable<LoraModule>): LoadedLora['family'] {
  if (byKey && byKey.name !== 'SD 1.x/2.x') return byKey;
  let byShape: LoadedLora['family'] = null;
  for (const module of modules) {
    byShape = shapeFamily(module);
    if (byShape) break;
  }
  if (!byKey) return byShape;
  if (byShape && (byShape.name === 'SD 1.x' || byShape.name === 'SD 2.x'))
    return { name: byShape.name, evidence: `${byKey.evidence}; ${byShape.evidence}` };
  return byKey;
}

/** A1111's short hash of a LoRA file: the first 12 hex digits of its SHA-256 (streamed). */
export async function loraShortHash(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex').slice(0, 12);
}

/** The families' names as designers know them. */
export const FAMILY_NAMES: Record<ModelFamily, string> = { sd1: 'SD 1.x', sd2: 'SD 2.x', sdxl: 'SDXL' };

/** The model families each LoRA family runs on. */
const RUNS_ON: Record<LoraFamily, readonly ModelFamily[]> = {
  'SD 1.x': ['sd1'],
  'SD 2.x': ['sd2'],
  'SD 1.x/2.x': ['sd1', 'sd2'],
  SDXL: ['sdxl'],
  'SD 3': [],
  Flux: [],
  'SD 3 or Flux': [],
};

/**
 * A model's family from its LoRA layers (diffusers-style kohya keys with their input width), for
 * callers that do not say it: a second text encoder or 2048-wide cross-attention is SDXL, 1024-wide
 * SD 2.x, anything else SD 1.x.
 */
export function familyOfLayers(layers: Iterable<{ key: string; inDim: number }>): ModelFamily {
  let family: ModelFamily = 'sd1';
  for (const { key, inDim } of layers) {
    if (key.startsWith('lora_te2_')) return 'sdxl';
    if (!/_attn2_to_k$/.test(key)) continue;
    if (inDim === 2048) return 'sdxl';
    if (inDim === 1024) family = 'sd2';
  }
  return family;
}

/** Refuses a LoRA made for another family of models than `model`'s, naming both. */
export function checkFamily(lora: LoadedLora, model: ModelFamily, modelName: string): void {
  if (!lora.family || RUNS_ON[lora.family.name].includes(model)) return;
  const article = lora.family.name === 'Flux' ? 'a' : 'an';
  throw new LoraError(
    `LoRA ${lora.name} is ${article} ${lora.family.name} LoRA (it has ${lora.family.evidence}): the model ${modelName} is ${FAMILY_NAMES[model]}.`,
  );
}

/** A layer's ΔW shape: [out, inner] with inner = in · kh · kw; `kk` = kh · kw (1 for linear). */
export interface LayerShape {
  out: number;
  inChannels: number;
  kk: number;
}

const TEXT_LAYER = /^(lora_te2?_)text_model_encoder_layers_(\d+)_/;

/** The last encoder layer each text encoder of the model has a layer of, by key prefix (`lora_te_`, `lora_te2_`). */
function lastTextLayers(keys: Iterable<string>): Map<string, number> {
  const last = new Map<string, number>();
  for (const key of keys) {
    const m = TEXT_LAYER.exec(key);
    if (m) last.set(m[1]!, Math.max(last.get(m[1]!) ?? -1, Number(m[2])));
  }
  return last;
}

/**
 * Each module's place in the model: the layer among `keys` (diffusers-style kohya keys, whose
 * UNet resnets also tell the layers per block that LDM names resolve by); modules that match none
 * are counted by group. Refuses a LoRA of another family than the model's. On SDXL a module on
 * the layer after the first text encoder's last is left out without a word: SDXL reads that
 * encoder's penultimate states, so its graph stops a layer early, and the modules LoRAs train
 * there (kohya trains all 12 layers) change nothing the model reads, as in A1111.
 */
export function placeModules(
  lora: LoadedLora,
  keys: ReadonlySet<string> | ReadonlyMap<string, unknown>,
  family: ModelFamily,
  modelName: string,
): { placed: { key: string; module: LoraModule }[]; unmatched: Map<string, number> } {
  checkFamily(lora, family, modelName);
  const layersPerBlock = layersPerBlockOf(keys.keys());
  const textLayers = lastTextLayers(keys.keys());
  const placed: { key: string; module: LoraModule }[] = [];
  const unmatched = new Map<string, number>();
  for (const module of lora.modules.values()) {
    const key = resolveAddress(module.address, layersPerBlock);
    if (key !== null && keys.has(key)) {
      placed.push({ key, module });
      continue;
    }
    const layer = key === null ? null : TEXT_LAYER.exec(key);
    if (layer && family === 'sdxl' && layer[1] === 'lora_te_' && Number(layer[2]) === (textLayers.get('lora_te_') ?? -2) + 1) continue;
    count(unmatched, key === null ? `${module.name} (an LDM path of no diffusers module)` : moduleGroup(key));
  }
  return { placed, unmatched };
}

/**
 * ΔW of a module fitted to its layer: checked against the layer's shape, padded from 4 input
 * channels to an inpainting model's 9 as A1111 does. `values` are rows of `inner` columns
 * (`rows` of them), or null when the shapes do not fit (the caller names the error).
 */
export function fitInner(values: Float32Array, rows: number, module: ModuleDelta, layer: LayerShape): Float32Array | null {
  const inner = layer.inChannels * layer.kk;
  if (module.inner === inner) return values;
  if (layer.kk > 1 && layer.inChannels === 9 && module.inner === 4 * layer.kk) return padInputs(values, rows, 4, 9, layer.kk);
  return null;
}

/** The error for a module whose ΔW does not fit its layer. */
export function shapeError(lora: string, module: LoraModule, layer: LayerShape, dims: readonly number[]): LoraError {
  return new LoraError(
    `${lora}: ${module.name}: the LoRA's ${module.type} change is ${module.out}×${module.inner} but the model's layer is ${layer.out}×${layer.inChannels * layer.kk} (weight [${dims.join(', ')}]): made for another model?`,
  );
}

/** The warnings for a LoRA: keys it does not understand, modules that match nothing in the model. */
export function loraWarnings(lora: LoadedLora, unmatched: ReadonlyMap<string, number>, modelName: string): string[] {
  const warnings: string[] = [];
  for (const [kind, n] of lora.unknownKeys)
    warnings.push(`LoRA ${lora.name}: ${n} key${n === 1 ? '' : 's'} it does not understand (${kind}); ignored.`);
  const n = [...unmatched.values()].reduce((a, b) => a + b, 0);
  if (n > 0)
    warnings.push(
      `LoRA ${lora.name}: ${n} of ${lora.modules.size} modules match nothing in ${modelName} (made for another model?): ${describeGroups(unmatched)}; ignored.`,
    );
  return warnings;
}

/** The ΔW shape of an exported graph's weight. */
function targetShape(target: WeightTarget): LayerShape {
  const dims = target.dims;
  if (target.transposed) return { out: dims[1]!, inChannels: dims[0]!, kk: 1 };
  return { out: dims[0]!, inChannels: dims[1] ?? 1, kk: dims.slice(2).reduce((a, b) => a * b, 1) };
}

/**
 * Adds `scale · delta` ([out, in…] in PyTorch's layout) to `weight` in the target's own layout
 * (transposed for MatMul and Gemm without transB).
 */
export function addDelta(weight: Float32Array, target: WeightTarget, delta: Float32Array, scale: number, moduleKey: string): void {
  if (delta.length !== weight.length) {
    throw new LoraError(
      `${moduleKey}: the LoRA changes ${delta.length} values but the model's weight has ${weight.length} (shape [${target.dims.join(', ')}]): made for another model?`,
    );
  }
  if (!target.transposed) {
    for (let i = 0; i < weight.length; i++) weight[i] += scale * delta[i]!;
    return;
  }
  const [inDim, outDim] = target.dims as [number, number];
  for (let i = 0; i < inDim; i++) for (let o = 0; o < outDim; o++) weight[i * outDim + o] += scale * delta[o * inDim + i]!;
}

export type ModelPart = 'textEncoder' | 'textEncoder2' | 'unet';

export interface MergeResult {
  /** Replaced weights (float32, in the model's layout) by part and initializer name. */
  overrides: Record<ModelPart, Map<string, Float32Array>>;
  /** Keys not understood and modules that match nothing in the model, with counts. */
  warnings: string[];
}

/**
 * Merges LoRAs into copies of the weights they touch: W' = W + Σ weight · scale · ΔW.
 * `targets` are the exported graphs' weights by diffusers-style kohya key (`lora_unet_`, `lora_te_`
 * for the text encoder, `lora_te2_` for SDXL's second); `read` gives a weight's current (base)
 * values; the base itself is never modified. `family` is the model's (by default, what its targets
 * show: `familyOfLayers`); a LoRA of another family is refused.
 */
export async function mergeLoras<P extends ModelPart>(
  library: LoraLibrary,
  loras: readonly { lora: LoadedLora; weight: number }[],
  targets: ReadonlyMap<string, { part: P; target: WeightTarget }>,
  read: (part: P, initializer: string) => Float32Array,
  modelName: string,
  family: ModelFamily = familyOfLayers([...targets].map(([key, { target }]) => ({ key, inDim: targetShape(target).inChannels }))),
): Promise<MergeResult> {
  const overrides: MergeResult['overrides'] = { textEncoder: new Map(), textEncoder2: new Map(), unet: new Map() };
  const warnings: string[] = [];
  for (const { lora, weight } of loras) {
    const { placed, unmatched } = placeModules(lora, targets, family, modelName);
    for (const { key, module } of placed) {
      const hit = targets.get(key)!;
      const layer = targetShape(hit.target);
      if (module.out !== layer.out) throw shapeError(lora.name, module, layer, hit.target.dims);
      const delta = fitInner(await library.delta(lora.name, module.name), module.out, module, layer);
      if (!delta) throw shapeError(lora.name, module, layer, hit.target.dims);
      const part: Map<string, Float32Array> = overrides[hit.part];
      const values = part.get(hit.target.initializer) ?? read(hit.part, hit.target.initializer);
      addDelta(values, hit.target, delta, weight * module.scale, `${lora.name}: ${module.name}`);
      part.set(hit.target.initializer, values);
    }
    warnings.push(...loraWarnings(lora, unmatched, modelName));
  }
  return { overrides, warnings };
}

interface CacheEntry {
  stamp: string;
  lora: LoadedLora;
  deltas: Map<string, Float32Array>;
  bytes: number;
}

/** Bytes of a LoRA's tensors in memory. */
function factorBytes(lora: LoadedLora): number {
  let n = 0;
  for (const m of lora.modules.values()) n += m.bytes;
  return n;
}

/** Names of the LoRAs in a folder (file names without `.safetensors`), sorted; none when there is no folder. */
export function loraNames(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.safetensors'))
    .map((f) => f.slice(0, -'.safetensors'.length))
    .sort();
}

/** A LoRA tag's name as a file in the folder is named (the exact name, else ignoring case); undefined when none is. */
export function matchLoraName(names: readonly string[], name: string): string | undefined {
  return names.find((n) => n === name) ?? names.find((n) => n.toLowerCase() === name.toLowerCase());
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
    return loraNames(this.dir);
  }

  /** Loads a LoRA by name; an unknown name is an error listing close matches. */
  async get(name: string): Promise<LoadedLora> {
    return (await this.entry(name)).lora;
  }

  /** ΔW of one module (by its name in the file), unscaled, computed once per LoRA file. */
  async delta(name: string, module: string): Promise<Float32Array> {
    const entry = await this.entry(name);
    let delta = entry.deltas.get(module);
    if (!delta) {
      delta = fullDelta(entry.lora.modules.get(module)!);
      entry.deltas.set(module, delta);
      entry.bytes += delta.byteLength;
      this.evict(entry.lora.file);
    }
    return delta;
  }

  private async entry(name: string): Promise<CacheEntry> {
    const names = this.list();
    const exact = matchLoraName(names, name);
    if (!exact) {
      const close = closeMatches(name, names);
      throw new LoraError(
        `No LoRA named "${name}" in ${this.dir}.` +
          (close.length
            ? ` Did you mean: ${close.join(', ')}?`
            : names.length
              ? ` LoRAs there: ${names.slice(0, 12).join(', ')}.`
              : ' The folder has no .safetensors files.'),
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

/** Names within a small edit distance, or containing the query, best first (core/common's, which the forms use too). */
export { closeMatches };

/** The designers' field notes about LoRA weights, as hints for the settings linter. */
export function loraHints(loras: readonly { name: string; weight: number }[]): string[] {
  const hints: string[] = [];
  for (const lora of loras) {
    if (lora.weight > 1)
      hints.push(`${lora.name} at ${lora.weight}: above 1.0 tends to clone every pore and over-bake colours; 0.8 keeps "enough of you".`);
  }
  if (loras.some((l) => l.weight > 0.6)) hints.push('If faces smear, drop the LoRA weight to 0.6 before adding steps.');
  return hints;
}
