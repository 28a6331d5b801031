/**
 * Onbrand's graphs for a model, built once per model, precision and attention form and cached on
 * disk: `<cache>/<name>-<precision>-<attention>-<hash>/` with one `.onnx` + `.onnx.weights` per
 * part and a manifest written last (a folder without it is an unfinished build and is replaced).
 * Parts are built one at a time, so building holds one part's source weights in memory at most.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SdConfig } from './configs.js';
import type { BuildOptions, GraphBuilder, LoraBranch } from './graph-builder.js';
import { buildTextEncoder, buildUnet, buildVaeDecoder, buildVaeEncoder, type SdPart } from './sd-graphs.js';
import { sweepDeadFolders } from '../../util/index.js';
import { checkCoverage, writeGraph, type WeightSource } from './weights.js';

/** Bumped whenever the graphs change, so old cached builds are not reused. */
export const BUILDER_VERSION = 2;

export const SD_PARTS: readonly SdPart[] = ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder'];

export interface BuiltModel {
  dir: string;
  config: SdConfig;
  options: BuildOptions;
  /** The .onnx file of each part (null: the source has no VAE encoder). */
  files: Record<SdPart, string | null>;
  /** LoRA side branches of the text encoder and UNet. */
  branches: { text_encoder: LoraBranch[]; unet: LoraBranch[] };
  /** True when this call built the graphs (false: found in the cache). */
  built: boolean;
}

export function buildPart(part: SdPart, config: SdConfig, options: BuildOptions): GraphBuilder {
  switch (part) {
    case 'text_encoder':
      return buildTextEncoder(config.textEncoder, options);
    case 'unet':
      return buildUnet(config.unet, options);
    case 'vae_decoder':
      return buildVaeDecoder(config.vae, options);
    case 'vae_encoder':
      return buildVaeEncoder(config.vae, options);
  }
}

export interface BuildRequest {
  cacheRoot: string;
  /** The model's name, for the folder name. */
  name: string;
  /** What identifies the weights (paths, sizes, modification times, or a content hash). */
  identity: string;
  options: BuildOptions;
  /** Opens one part's weights and says its architecture (called only when building; null = the part is absent). */
  openPart(part: SdPart): Promise<{ source: WeightSource; config: Partial<SdConfig> } | null>;
  /** Called before each part is written, for progress. */
  onPart?(part: SdPart): void;
}

interface Manifest {
  version: number;
  identity: string;
  config: SdConfig;
  parts: SdPart[];
}

export function cacheFolder(request: Pick<BuildRequest, 'cacheRoot' | 'name' | 'identity' | 'options'>): string {
  const { options } = request;
  const key = crypto
    .createHash('sha256')
    .update(
      JSON.stringify([
        BUILDER_VERSION,
        request.identity,
        options.precision,
        options.attention,
        options.loraBranches,
        options.style ?? 'onbrand',
      ]),
    )
    .digest('hex')
    .slice(0, 12);
  const safe = request.name.replace(/[^\w.-]+/g, '_').slice(0, 40) || 'model';
  return path.join(request.cacheRoot, `${safe}-${options.precision}-${options.attention}-${key}`);
}

function result(dir: string, manifest: Manifest, options: BuildOptions, built: boolean): BuiltModel {
  const files = Object.fromEntries(SD_PARTS.map((p) => [p, manifest.parts.includes(p) ? path.join(dir, `${p}.onnx`) : null])) as Record<
    SdPart,
    string | null
  >;
  // Building the graph descriptions is cheap (no weights): it gives the LoRA branches.
  const branches = {
    text_encoder: buildPart('text_encoder', manifest.config, options).loraBranches,
    unet: buildPart('unet', manifest.config, options).loraBranches,
  };
  return { dir, config: manifest.config, options, files, branches, built };
}

/** The cached build, or builds it (atomically: into a temporary folder renamed into place). */
export async function ensureBuilt(request: BuildRequest): Promise<BuiltModel> {
  const dir = cacheFolder(request);
  const manifestFile = path.join(dir, 'manifest.json');
  if (fs.existsSync(manifestFile)) {
    try {
      const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
      if (manifest.version === BUILDER_VERSION && manifest.parts.every((p) => fs.existsSync(path.join(dir, `${p}.onnx`))))
        return result(dir, manifest, request.options, false);
    } catch {
      // An unreadable manifest: build again.
    }
  }
  fs.mkdirSync(request.cacheRoot, { recursive: true });
  sweepUnfinished(request.cacheRoot);
  const tmp = `${dir}.tmp-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  fs.mkdirSync(tmp, { recursive: true });
  try {
    const config: Partial<SdConfig> = {};
    const parts: SdPart[] = [];
    // The architecture of each part comes from its own weights; the UNet's cross-attention width
    // must match the text encoder, checked below.
    for (const part of SD_PARTS) {
      const opened = await request.openPart(part);
      if (!opened) {
        if (part === 'vae_encoder') continue;
        throw new Error(`${part} is missing`);
      }
      Object.assign(config, opened.config);
      const full = config as SdConfig;
      request.onPart?.(part);
      const builder = buildPart(part, full, request.options);
      checkCoverage(builder.params.values(), opened.source, part);
      writeGraph(path.join(tmp, `${part}.onnx`), part, builder, opened.source);
      parts.push(part);
    }
    const full = config as SdConfig;
    if (full.unet.cross_attention_dim !== full.textEncoder.hidden_size) {
      throw new Error(
        `the UNet attends to ${full.unet.cross_attention_dim}-wide text, the text encoder gives ${full.textEncoder.hidden_size}`,
      );
    }
    const manifest: Manifest = { version: BUILDER_VERSION, identity: request.identity, config: full, parts };
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    return result(dir, manifest, request.options, true);
  } catch (error) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** Removes unfinished builds of processes that are gone. */
function sweepUnfinished(root: string): void {
  sweepDeadFolders(root, /\.tmp-(\d+)-[0-9a-f]+$/);
}
