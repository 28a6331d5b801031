/**
 * The graphs Onbrand runs for a model folder: its own graphs (memory-efficient attention, LoRA
 * side branches, the provider's precision) built from the folder's weights (an ONNX export's
 * initializers or a diffusers folder's safetensors) and cached on disk; or, when an ONNX export's
 * graphs cannot be mapped onto them (an already-fused export, a toy model), the folder's graphs
 * as they are, with the reason said once. A diffusers folder has no graphs of its own: one that
 * cannot be mapped is an error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { OnbrandError } from '../api/index.js';
import {
  DiffusersWeights,
  ensureBuilt,
  ExportWeights,
  inferTextEncoder,
  inferUnet,
  inferVae,
  mergeConfig,
  WeightMappingError,
  type BuildOptions,
  type BuiltModel,
  type SdConfig,
  type SdPart,
  type WeightSource,
} from './graph/index.js';
import type { ProviderName } from './backend.js';
import type { ModelFolder } from './model-folder.js';
import { OnnxGraph } from './onnx-graph.js';

/** GPUs run float16 graphs (WebGPU through shader-f16); the CPU (and CoreML, which falls back to it for many ops) float32. */
export function buildOptionsFor(provider: ProviderName): BuildOptions {
  return {
    precision: provider === 'cuda' || provider === 'dml' || provider === 'webgpu' ? 'float16' : 'float32',
    attention: 'fused',
    loraBranches: true,
  };
}

/** Paths, sizes and modification times of every file of the folder's parts: a changed file means a new build. */
export function folderIdentity(folder: ModelFolder): string {
  const entries: string[] = [folder.dir];
  for (const part of ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', 'vae_encoder'] as const) {
    const file = folder.parts[part];
    if (!file) continue;
    const partDir = path.dirname(file);
    for (const name of fs.readdirSync(partDir).sort()) {
      const stat = fs.statSync(path.join(partDir, name));
      if (stat.isFile()) entries.push(`${part}/${name}:${stat.size}:${Math.round(stat.mtimeMs)}`);
    }
  }
  return entries.join('|');
}

function readConfig(file: string): Record<string, unknown> | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new WeightMappingError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** One part's architecture: its config.json over what its weights' shapes say. */
function partConfig(part: SdPart, file: string, source: WeightSource): Partial<SdConfig> {
  const shape = (name: string): number[] | undefined => source.shape(name);
  const configFile = path.join(path.dirname(file), 'config.json');
  const raw = readConfig(configFile);
  try {
    switch (part) {
      case 'unet': {
        const inferred = inferUnet(shape);
        return { unet: raw ? mergeConfig(inferred, raw, configFile) : inferred };
      }
      case 'text_encoder':
      case 'text_encoder_2': {
        const inferred = inferTextEncoder(shape);
        const merged = raw ? mergeConfig(inferred, raw, configFile) : inferred;
        return part === 'text_encoder' ? { textEncoder: merged } : { textEncoder2: merged };
      }
      default: {
        const inferred = inferVae(shape);
        return { vae: raw ? mergeConfig(inferred, raw, configFile) : inferred };
      }
    }
  } catch (error) {
    if (error instanceof WeightMappingError) throw error;
    throw new WeightMappingError(`${part}: ${(error as Error).message}`);
  }
}

/** A diffusers folder whose weights do not fit Stable Diffusion's graphs; the message names the tensor. */
export class ModelWeightsError extends OnbrandError {
  constructor(message: string) {
    super('internal', message);
    this.name = 'ModelWeightsError';
  }
}

/** Reasons already said in this process, by folder identity. */
const said = new Set<string>();

export interface FolderGraphs {
  built: BuiltModel | null;
  /** Why the folder's own graphs run (null when Onbrand's run). */
  reason: string | null;
}

/**
 * Onbrand's graphs for an ONNX model folder at `options`, built on first use.
 */
export async function graphsForFolder(
  folder: ModelFolder,
  cacheRoot: string,
  options: BuildOptions,
  log: (message: string) => void = () => undefined,
): Promise<FolderGraphs> {
  const identity = folderIdentity(folder);
  const request = {
    cacheRoot,
    name: folder.name,
    identity,
    options,
    openPart: async (part: SdPart) => {
      const file = folder.parts[part];
      if (!file) return null;
      let source: WeightSource;
      try {
        source =
          folder.layout === 'diffusers' ? await DiffusersWeights.open(file) : new ExportWeights(await OnnxGraph.load(file, { lazy: true }));
      } catch (error) {
        if (error instanceof WeightMappingError) throw error;
        throw new WeightMappingError((error as Error).message);
      }
      return { source, config: partConfig(part, file, source), file: readConfig(path.join(path.dirname(file), 'config.json')) ?? null };
    },
    onPart: (part: SdPart) => log(`Building Onbrand's ${options.precision} ${part} graph for ${folder.name}…`),
  };
  const known = unmappableFolders.get(identity);
  if (known) return unmappable(known, identity, log);
  try {
    return { built: await ensureBuilt(request), reason: null };
  } catch (error) {
    if (!(error instanceof WeightMappingError)) throw error;
    if (folder.layout === 'diffusers') throw new ModelWeightsError(`${folder.name}: ${error.message}`);
    unmappableFolders.set(identity, error.message);
    return unmappable(error.message, identity, log);
  }
}

/**
 * Folders found unmappable in this process, by identity: not read again until their files change.
 * (Not kept on disk: finding out again costs a read of the graphs' structure, not their weights.)
 */
const unmappableFolders = new Map<string, string>();

function unmappable(reason: string, key: string, log: (message: string) => void): FolderGraphs {
  if (!said.has(key)) {
    said.add(key);
    log(
      `The model's own graphs run as they are (Onbrand cannot map them onto its graphs: ${reason}); memory-efficient attention and fast LoRA switching need a standard diffusers export.`,
    );
  }
  return { built: null, reason };
}
