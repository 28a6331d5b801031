/**
 * A Stable Diffusion model folder in the diffusers ONNX layout, checked before any session is
 * made: every part present, every JSON file readable, so a broken download gets an error that
 * names the file rather than an onnxruntime trace.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { BetaSchedule } from './schedule.js';

export type ModelPart = 'text_encoder' | 'unet' | 'vae_decoder' | 'vae_encoder';
export type PredictionType = 'epsilon' | 'v_prediction';

export interface ModelFolder {
  dir: string;
  /** The folder's name, shown to the user and written as A1111's `Model:`. */
  name: string;
  parts: Record<Exclude<ModelPart, 'vae_encoder'>, string> & { vae_encoder: string | null };
  tokenizerDir: string;
  schedule: BetaSchedule;
  predictionType: PredictionType;
  /** Latent scaling of the VAE (0.18215 for SD 1.x/2.x). */
  vaeScale: number;
}

/** A model folder is missing a part or has an unreadable file; `file` names it. */
export class ModelFolderError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'ModelFolderError';
  }
}

function readJson(file: string, required: boolean): Record<string, unknown> | undefined {
  if (!fs.existsSync(file)) {
    if (required) throw new ModelFolderError(`${file} is missing: not a diffusers ONNX model folder`, file);
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
  const scheduler = readJson(path.join(resolved, 'scheduler', 'scheduler_config.json'), false) ?? {};
  const tokenizerDir = path.join(resolved, 'tokenizer');
  for (const f of ['vocab.json', 'merges.txt']) {
    const file = path.join(tokenizerDir, f);
    if (!fs.existsSync(file)) throw new ModelFolderError(`${path.join('tokenizer', f)} is missing in ${resolved}`, file);
  }
  const vaeConfig = readJson(path.join(resolved, 'vae_decoder', 'config.json'), false);

  const betaSchedule = String(scheduler.beta_schedule ?? 'scaled_linear');
  if (betaSchedule !== 'scaled_linear' && betaSchedule !== 'linear') {
    throw new ModelFolderError(`scheduler_config.json: beta_schedule "${betaSchedule}" is not supported (scaled_linear or linear)`, path.join(resolved, 'scheduler', 'scheduler_config.json'));
  }
  const prediction = String(scheduler.prediction_type ?? 'epsilon');
  if (prediction !== 'epsilon' && prediction !== 'v_prediction') {
    throw new ModelFolderError(`scheduler_config.json: prediction_type "${prediction}" is not supported (epsilon or v_prediction)`, path.join(resolved, 'scheduler', 'scheduler_config.json'));
  }
  const vaeEncoder = path.join(resolved, 'vae_encoder', 'model.onnx');
  return {
    dir: resolved,
    name: path.basename(resolved),
    parts: {
      text_encoder: requirePart(resolved, 'text_encoder'),
      unet: requirePart(resolved, 'unet'),
      vae_decoder: requirePart(resolved, 'vae_decoder'),
      vae_encoder: fs.existsSync(vaeEncoder) ? vaeEncoder : null,
    },
    tokenizerDir,
    schedule: {
      betaStart: Number(scheduler.beta_start ?? 0.00085),
      betaEnd: Number(scheduler.beta_end ?? 0.012),
      betaSchedule,
      trainTimesteps: Number(scheduler.num_train_timesteps ?? 1000),
    },
    predictionType: prediction,
    vaeScale: Number(vaeConfig?.scaling_factor ?? 0.18215),
  };
}

const hashCache = new Map<string, string>();

/**
 * A1111's `Model hash`: the first 10 hex digits of the SHA-256 of the UNet file (streamed;
 * remembered per file, size and modification time).
 */
export async function modelHash(model: ModelFolder): Promise<string> {
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
