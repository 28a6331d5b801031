/**
 * A Stable Diffusion model folder, checked before any session is made: every part present, every
 * JSON file readable, so a broken download gets an error that names the file rather than an
 * onnxruntime trace. Two layouts:
 * - `onnx`: a diffusers ONNX export (`unet/model.onnx`, `text_encoder/model.onnx`,
 *   `vae_decoder/model.onnx`, optional `vae_encoder/model.onnx`);
 * - `diffusers`: a diffusers folder of safetensors weights (`unet/diffusion_pytorch_model[.fp16].safetensors`,
 *   `vae/…`, `text_encoder/model[.fp16].safetensors`, each with its `config.json`), which is also
 *   the layout of the models Onbrand imports (with an `onbrand-model.json` manifest beside them).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OnbrandError } from '../api/index.js';
import type { BetaSchedule } from './schedule.js';

export type ModelPart = 'text_encoder' | 'text_encoder_2' | 'unet' | 'vae_decoder' | 'vae_encoder';
export type PredictionType = 'epsilon' | 'v_prediction';

export type ModelLayout = 'onnx' | 'diffusers';

/** What Onbrand records about a model it installed (`onbrand-model.json`). */
export interface ModelManifest {
  format: 'onbrand-model';
  version: 1;
  name: string;
  layout: ModelLayout;
  family: 'sd1' | 'sd2' | 'sdxl';
  /** Where it came from: a file or folder that was imported, or a download. */
  source: {
    kind: 'checkpoint' | 'diffusers' | 'onnx';
    path?: string;
    url?: string;
    repo?: string;
    revision?: string;
    sha256?: string;
    bytes?: number;
  };
  licence: string | null;
  /** What the architecture was read from. */
  architectureFrom: 'config' | 'yaml' | 'shapes' | 'folder';
  predictionType: PredictionType;
  /** A1111's short model hash: the first 10 hex digits of the source checkpoint's (or UNet file's) SHA-256. */
  hash: string;
  /** Every file of the model with its size and SHA-256 (for `models verify`). */
  files: Record<string, { bytes: number; sha256: string }>;
  installedAt: string;
}

export const MANIFEST_FILE = 'onbrand-model.json';

export interface ModelFolder {
  dir: string;
  /** The folder's name, shown to the user and written as A1111's `Model:`. */
  name: string;
  layout: ModelLayout;
  /** Onbrand's manifest, for a model it installed. */
  manifest: ModelManifest | null;
  /**
   * Each part's file: `model.onnx` (onnx layout) or its safetensors weights (diffusers layout; both
   * VAE parts name the VAE's file). SDXL's second text encoder is null for SD 1.x / 2.x.
   */
  parts: Record<Exclude<ModelPart, 'vae_encoder' | 'text_encoder_2'>, string> & {
    vae_encoder: string | null;
    text_encoder_2: string | null;
  };
  tokenizerDir: string;
  /** SDXL's second tokenizer (the same vocabulary, padded with "!"); null without a second encoder. */
  tokenizer2Dir: string | null;
  schedule: BetaSchedule;
  predictionType: PredictionType;
  /** Latent scaling of the VAE (0.18215 for SD 1.x/2.x, 0.13025 for SDXL). */
  vaeScale: number;
}

/** A model folder is missing a part or has an unreadable file; `file` names it. */
export class ModelFolderError extends OnbrandError {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super('internal', message);
    this.name = 'ModelFolderError';
  }
}

function readJson(file: string, required: boolean): Record<string, unknown> | undefined {
  if (!fs.existsSync(file)) {
    if (required) throw new ModelFolderError(`${file} is missing: not a diffusers model folder`, file);
    return undefined;
  }
  try {
    const value = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new ModelFolderError(`${file} is not valid JSON: ${(error as Error).message}`, file);
  }
}

/** The weights file of a diffusers part: full precision first, then the fp16 variant, then a shard index; a pickle `.bin` is named as such. */
function diffusersWeights(dir: string, part: 'unet' | 'vae' | 'text_encoder' | 'text_encoder_2'): string {
  const base = part.startsWith('text_encoder') ? 'model' : 'diffusion_pytorch_model';
  const partDir = path.join(dir, part);
  for (const name of [
    `${base}.safetensors`,
    `${base}.fp16.safetensors`,
    `${base}.safetensors.index.json`,
    `${base}.fp16.safetensors.index.json`,
  ]) {
    const file = path.join(partDir, name);
    if (fs.existsSync(file)) {
      if (fs.statSync(file).size === 0) throw new ModelFolderError(`${file} is empty`, file);
      return file;
    }
  }
  const bin = path.join(partDir, `${base}.bin`);
  if (fs.existsSync(bin))
    throw new ModelFolderError(
      `${path.join(part, `${base}.bin`)} is a PyTorch pickle, which Onbrand does not open (it can run code); use the folder's .safetensors weights`,
      bin,
    );
  throw new ModelFolderError(`${path.join(part, `${base}.safetensors`)} is missing in ${dir}`, path.join(partDir, `${base}.safetensors`));
}

function readManifest(dir: string): ModelManifest | null {
  const raw = readJson(path.join(dir, MANIFEST_FILE), false);
  if (!raw) return null;
  if (raw.format !== 'onbrand-model' || typeof raw.name !== 'string')
    throw new ModelFolderError(`${path.join(dir, MANIFEST_FILE)} is not an Onbrand model manifest`, path.join(dir, MANIFEST_FILE));
  return raw as unknown as ModelManifest;
}

/** The layout of a model folder, or null when it is neither. */
export function folderLayout(dir: string): ModelLayout | null {
  if (fs.existsSync(path.join(dir, 'unet', 'model.onnx'))) return 'onnx';
  if (fs.existsSync(path.join(dir, 'unet', 'config.json'))) return 'diffusers';
  return null;
}

function requirePart(dir: string, part: ModelPart): string {
  const file = path.join(dir, part, 'model.onnx');
  if (!fs.existsSync(file)) throw new ModelFolderError(`${path.join(part, 'model.onnx')} is missing in ${dir}`, file);
  if (fs.statSync(file).size === 0) throw new ModelFolderError(`${file} is empty`, file);
  return file;
}

/** Reads and checks a model folder (no sessions yet). */
export function readModelFolder(dir: string): ModelFolder {
  const resolved = path.resolve(dir);
  if (!fs.existsSync(resolved) || !fs.statSync(resolved).isDirectory()) {
    throw new ModelFolderError(`The model folder ${resolved} does not exist`, resolved);
  }
  readJson(path.join(resolved, 'model_index.json'), true);
  const manifest = readManifest(resolved);
  const layout = folderLayout(resolved) ?? 'onnx';
  const scheduler = readJson(path.join(resolved, 'scheduler', 'scheduler_config.json'), false) ?? {};
  const tokenizerDir = path.join(resolved, 'tokenizer');
  for (const f of ['vocab.json', 'merges.txt']) {
    const file = path.join(tokenizerDir, f);
    if (!fs.existsSync(file)) throw new ModelFolderError(`${path.join('tokenizer', f)} is missing in ${resolved}`, file);
  }
  const vaeConfig = readJson(path.join(resolved, layout === 'onnx' ? 'vae_decoder' : 'vae', 'config.json'), false);
  // SDXL: a second text encoder and its tokenizer (folders named as diffusers names them).
  const second = fs.existsSync(path.join(resolved, 'text_encoder_2'));
  const tokenizer2Dir = second ? path.join(resolved, 'tokenizer_2') : null;
  if (tokenizer2Dir)
    for (const f of ['vocab.json', 'merges.txt']) {
      const file = path.join(tokenizer2Dir, f);
      if (!fs.existsSync(file)) throw new ModelFolderError(`${path.join('tokenizer_2', f)} is missing in ${resolved}`, file);
    }

  const betaSchedule = String(scheduler.beta_schedule ?? 'scaled_linear');
  if (betaSchedule !== 'scaled_linear' && betaSchedule !== 'linear') {
    throw new ModelFolderError(
      `scheduler_config.json: beta_schedule "${betaSchedule}" is not supported (scaled_linear or linear)`,
      path.join(resolved, 'scheduler', 'scheduler_config.json'),
    );
  }
  const prediction = String(scheduler.prediction_type ?? 'epsilon');
  if (prediction !== 'epsilon' && prediction !== 'v_prediction') {
    throw new ModelFolderError(
      `scheduler_config.json: prediction_type "${prediction}" is not supported (epsilon or v_prediction)`,
      path.join(resolved, 'scheduler', 'scheduler_config.json'),
    );
  }
  const vaeEncoder = path.join(resolved, 'vae_encoder', 'model.onnx');
  let parts: ModelFolder['parts'];
  if (layout === 'onnx') {
    parts = {
      text_encoder: requirePart(resolved, 'text_encoder'),
      text_encoder_2: second ? requirePart(resolved, 'text_encoder_2') : null,
      unet: requirePart(resolved, 'unet'),
      vae_decoder: requirePart(resolved, 'vae_decoder'),
      vae_encoder: fs.existsSync(vaeEncoder) ? vaeEncoder : null,
    };
  } else {
    for (const part of ['unet', 'vae', 'text_encoder', ...(second ? ['text_encoder_2'] : [])])
      readJson(path.join(resolved, part, 'config.json'), true);
    const vae = diffusersWeights(resolved, 'vae');
    parts = {
      text_encoder: diffusersWeights(resolved, 'text_encoder'),
      text_encoder_2: second ? diffusersWeights(resolved, 'text_encoder_2') : null,
      unet: diffusersWeights(resolved, 'unet'),
      vae_decoder: vae,
      vae_encoder: vae,
    };
  }
  return {
    dir: resolved,
    name: manifest?.name ?? path.basename(resolved),
    layout,
    manifest,
    parts,
    tokenizerDir,
    tokenizer2Dir,
    schedule: {
      betaStart: Number(scheduler.beta_start ?? 0.00085),
      betaEnd: Number(scheduler.beta_end ?? 0.012),
      betaSchedule,
      trainTimesteps: Number(scheduler.num_train_timesteps ?? 1000),
    },
    predictionType: prediction,
    // SDXL's VAE scales by 0.13025 (a folder with a second text encoder is SDXL).
    vaeScale: Number(vaeConfig?.scaling_factor ?? (second ? 0.13025 : 0.18215)),
  };
}

const hashCache = new Map<string, string>();

/**
 * A1111's `Model hash`: the first 10 hex digits of the SHA-256 of the checkpoint an installed
 * model was imported from (as A1111 hashes checkpoints), else of the UNet file (streamed;
 * remembered per file, size and modification time).
 */
export async function modelHash(model: ModelFolder): Promise<string> {
  if (model.manifest?.hash) return model.manifest.hash;
  const file = model.parts.unet;
  const stat = fs.statSync(file);
  const key = `${file}:${stat.size}:${stat.mtimeMs}`;
  const cached = hashCache.get(key);
  if (cached) return cached;
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  const digest = hash.digest('hex').slice(0, 10);
  hashCache.set(key, digest);
  return digest;
}
