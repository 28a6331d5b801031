/**
 * Onbrand's graphs for a model, built once per model, precision and attention form and cached on
 * disk: `<cache>/<name>-<precision>-<attention>-<hash>/` with one `.onnx` + `.onnx.weights` per
 * part and a manifest written last (a folder without it is an unfinished build and is replaced).
 * Parts are built one at a time, so building holds one part's source weights in memory at most.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { settleConfig, type SdConfig } from './configs.js';
import type { BuildOptions, GraphBuilder, LoraBranch } from './graph-builder.js';
import { buildTextEncoder, buildUnet, buildVaeDecoder, buildVaeEncoder, type SdPart } from './sd-graphs.js';
import { sweepDeadFolders } from '../../util/index.js';
import { checkCoverage, writeGraph, type WeightSource } from './weights.js';

/** Bumped whenever the graphs change, so old cached builds are not reused. */
export const BUILDER_VERSION = 3;

export const SD_PARTS: readonly SdPart[] = ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', 'vae_encoder'];

/** The parts a model of this architecture has (the second text encoder only with SDXL's). */
export function partsOf(config: SdConfig): SdPart[] {
  return SD_PARTS.filter((p) => p !== 'text_encoder_2' || config.textEncoder2 !== undefined);
}

/** Parts a model may lack: the VAE encoder (img2img only), the second text encoder (SDXL only). */
const OPTIONAL_PARTS: ReadonlySet<SdPart> = new Set(['text_encoder_2', 'vae_encoder']);

export interface BuiltModel {
  dir: string;
  config: SdConfig;
  options: BuildOptions;
  /** The .onnx file of each part (null: the source has no VAE encoder, or no second text encoder). */
  files: Record<SdPart, string | null>;
  /** LoRA side branches of the text encoders and UNet (none for a second encoder the model lacks). */
  branches: { text_encoder: LoraBranch[]; text_encoder_2: LoraBranch[]; unet: LoraBranch[] };
  /** True when this call built the graphs (false: found in the cache). */
  built: boolean;
}

/**
 * The options a part is built with: the model's, except a VAE that must decode in float32
 * (`force_upcast`, SDXL's) when the model runs in float16.
 */
export function partOptions(part: SdPart, config: SdConfig, options: BuildOptions): BuildOptions {
  const vae = part === 'vae_decoder' || part === 'vae_encoder';
  return vae && config.vae.force_upcast && options.precision === 'float16' ? { ...options, precision: 'float32' } : options;
}

export function buildPart(part: SdPart, config: SdConfig, options: BuildOptions): GraphBuilder {
  const own = partOptions(part, config, options);
  switch (part) {
    case 'text_encoder':
      return buildTextEncoder(config.textEncoder, own);
    case 'text_encoder_2':
      if (!config.textEncoder2) throw new Error('this model has no second text encoder');
      return buildTextEncoder(config.textEncoder2, own);
    case 'unet':
      return buildUnet(config.unet, own);
    case 'vae_decoder':
      return buildVaeDecoder(config.vae, own);
    case 'vae_encoder':
      return buildVaeEncoder(config.vae, own);
  }
}

export interface BuildRequest {
  cacheRoot: string;
  /** The model's name, for the folder name. */
  name: string;
  /** What identifies the weights (paths, sizes, modification times, or a content hash). */
  identity: string;
  options: BuildOptions;
  /**
   * Opens one part's weights and says its architecture (called only when building; null = the part
   * is absent). `file`: the part's config.json as written (null or absent: none).
   */
  openPart(part: SdPart): Promise<{ source: WeightSource; config: Partial<SdConfig>; file?: Record<string, unknown> | null } | null>;
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
    text_encoder_2: manifest.config.textEncoder2 ? buildPart('text_encoder_2', manifest.config, options).loraBranches : [],
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
    // The architecture of each part comes from its own weights (sources open lazily: headers
    // only), settled for the whole model, then checked: the UNet's cross-attention width must
    // match the text encoders'. Parts are then built one at a time.
    const config: Partial<SdConfig> = {};
    const opened = new Map<SdPart, WeightSource>();
    let vaeFile: Record<string, unknown> | null = null;
    for (const part of SD_PARTS) {
      const part_ = await request.openPart(part);
      if (!part_) {
        if (OPTIONAL_PARTS.has(part)) continue;
        throw new Error(`${part} is missing`);
      }
      Object.assign(config, part_.config);
      if (part === 'vae_decoder') vaeFile = part_.file ?? null;
      opened.set(part, part_.source);
    }
    const full = settleConfig(config as SdConfig, vaeFile);
    const textWidth = full.textEncoder.hidden_size + (full.textEncoder2?.hidden_size ?? 0);
    if (full.unet.cross_attention_dim !== textWidth) {
      throw new Error(
        `the UNet attends to ${full.unet.cross_attention_dim}-wide text, the text encoder${full.textEncoder2 ? 's give' : ' gives'} ${textWidth}`,
      );
    }
    if (full.unet.addition_embed_type !== 'text_time' && full.textEncoder2)
      throw new Error('the model has a second text encoder (text_encoder_2) but its UNet does not take pooled text (not an SDXL UNet)');
    const parts: SdPart[] = [];
    for (const [part, source] of opened) {
      request.onPart?.(part);
      const builder = buildPart(part, full, request.options);
      checkCoverage(builder.params.values(), source, part);
      writeGraph(path.join(tmp, `${part}.onnx`), part, builder, source);
      parts.push(part);
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
