/**
 * Installing a Stable Diffusion 1.x / 2.x model into the models folder, without Python, from
 * - a single-file checkpoint (`.safetensors`, LDM/CompVis key names): its tensors are copied, in
 *   their own precision and without conversion, into a diffusers folder by diffusers names
 *   (`CheckpointWeights` maps them as diffusers' single-file loader does);
 * - a diffusers folder (safetensors weights): its files are copied;
 * - a diffusers ONNX folder: its files are copied.
 *
 * The architecture of a checkpoint comes, in this order, from `configDir` (a diffusers-style
 * folder of `config.json` files, as `from_single_file(config=…)` takes it), from an LDM YAML with
 * the checkpoint's name beside it (A1111/ComfyUI convention), or from the tensors' shapes with SD's
 * fixed conventions; the report says which. Every weight the graphs need is checked (names and
 * shapes) before anything is written. The model is written into a staging folder and renamed into
 * place when complete: nobody sees half a model, an existing model is never replaced, and the
 * source is only read.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  buildPart,
  checkCoverage,
  CheckpointError,
  CheckpointWeights,
  describeUnexpected,
  DiffusersWeights,
  folderLayout,
  inferTextEncoder,
  inferUnet,
  inferVae,
  MANIFEST_FILE,
  mergeConfig,
  modelFamily,
  readModelFolder,
  SafetensorsFile,
  SD_PARTS,
  SECOND_ENCODER,
  settleConfig,
  textEncoderConfigFile,
  WeightMappingError,
  writeSafetensorsFile,
  type CheckpointReport,
  type ModelLayout,
  type ModelManifest,
  type PredictionType,
  type SdConfig,
  type SdPart,
  type TensorToWrite,
  type WeightSource,
} from '../diffusion/index.js';
import { sweepDeadFolders } from '../util/index.js';
import { OnbrandError, type ApiErrorCode } from '../api/index.js';
import type { ModelFamily } from '../common/index.js';
import { readLdmConfig, type SchedulerFields } from './ldm-config.js';

export type ImportPhase = 'checking' | 'hashing' | 'writing' | 'copying' | 'finishing';

export interface ImportProgress {
  phase: ImportPhase;
  bytesDone: number;
  bytesTotal: number;
}

export interface ImportOptions {
  /** A `.safetensors` checkpoint, a diffusers folder or a diffusers ONNX folder. */
  source: string;
  /** The model's name: its folder in the models folder and how `--model` and the app call it. */
  name: string;
  modelsDir: string;
  /** A diffusers-style folder whose `unet/`, `vae/`, `text_encoder/` configs, `scheduler/` and `tokenizer/` describe the checkpoint. */
  configDir?: string;
  /** A `tokenizer/` folder (vocab.json, merges.txt) for a checkpoint (which has none). */
  tokenizerDir?: string;
  /** Overrides the prediction type from any other source. */
  predictionType?: PredictionType;
  licence?: string | null;
  /** Where a download came from (recorded in the manifest). */
  origin?: { url?: string; repo?: string; revision?: string };
  signal?: AbortSignal;
  onProgress?(progress: ImportProgress): void;
  /** Asked for CLIP's tokenizer files when none is at hand (e.g. fetched from the Hugging Face Hub); returns a folder. */
  fetchTokenizer?(): Promise<string>;
  /** The source folder is Onbrand's own download staging: its files are moved, not copied. */
  consume?: boolean;
  /** Of an ONNX folder, install only these files (`/`-separated; a download's own list). */
  onlyFiles?: readonly string[];
  /** With `consume`: told how to put the moved files back, should the install fail after moving them. */
  onMoved?(undo: () => void): void;
  /** Free bytes on the models folder's disk; default `fs.statfsSync` (a seam for tests). */
  freeSpace?(dir: string): number;
}

export interface ImportReport {
  name: string;
  dir: string;
  layout: ModelLayout;
  family: ModelFamily;
  sourceKind: ModelManifest['source']['kind'];
  architectureFrom: ModelManifest['architectureFrom'];
  predictionType: PredictionType;
  /** Where the tokenizer came from. */
  tokenizerFrom: string;
  /** For a checkpoint: keys used, ignored (by reason) and not understood. */
  checkpoint: CheckpointReport | null;
  /** Things worth saying (unexpected keys, guesses made). */
  notes: string[];
  bytes: number;
  seconds: number;
  hash: string;
}

export type ImportFailure =
  | 'bad_name'
  | 'exists'
  | 'not_found'
  | 'unsupported'
  | 'pickle'
  | 'family'
  | 'weights'
  | 'tokenizer'
  | 'config'
  | 'cancelled'
  | 'disk_full';

/** The contract's code for each kind of import failure. */
const IMPORT_CODES: Record<ImportFailure, ApiErrorCode> = {
  bad_name: 'invalid_input',
  exists: 'conflict',
  not_found: 'not_found',
  unsupported: 'invalid_input',
  pickle: 'invalid_input',
  family: 'invalid_input',
  weights: 'invalid_input',
  tokenizer: 'not_found', // no tokenizer beside the checkpoint, none given, none fetched
  config: 'invalid_input',
  cancelled: 'conflict',
  disk_full: 'io',
};

/** An import that cannot be done; the message says what was wrong and what to do. Nothing is installed. */
export class ModelImportError extends OnbrandError {
  constructor(
    readonly reason: ImportFailure,
    message: string,
  ) {
    super(IMPORT_CODES[reason], message, reason === 'bad_name' ? 'name' : undefined);
    this.name = 'ModelImportError';
  }
}

const NAME = /^[A-Za-z0-9][\w .()+-]{0,63}$/;

/** Checks a model name: letters, digits, space and `_ . ( ) + -`, at most 64 characters, not starting with a dot. */
export function checkModelName(name: string): string {
  const trimmed = name.trim();
  if (!NAME.test(trimmed) || trimmed.endsWith('.')) {
    throw new ModelImportError(
      'bad_name',
      `"${name}" cannot be a model name: use letters, digits, spaces and _ . ( ) + -, up to 64 characters, starting with a letter or digit and not ending with a dot`,
    );
  }
  if (RESERVED.has(trimmed.toLowerCase()))
    throw new ModelImportError(
      'bad_name',
      `"${trimmed}" is the name of the models folder's ${trimmed.toLowerCase()}/ folder; choose another name`,
    );
  return trimmed;
}

/** Folders of the models folder that are not models. */
const RESERVED = new Set(['loras', 'upscalers', 'lora', 'embeddings', 'vae']);

const STAGING = '.staging';

/** The staging folder of an import (a hidden folder of the models folder, so the rename stays on one file system). */
function stagingFolder(modelsDir: string, name: string): string {
  return path.join(modelsDir, STAGING, `${name.replace(/[^\w.-]+/g, '_')}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`);
}

/** Removes staging folders of processes that are gone (an import killed midway). */
export function sweepStaging(modelsDir: string): void {
  sweepDeadFolders(path.join(modelsDir, STAGING), /-(\d+)-[0-9a-f]{6}$/);
}

function readJsonFile(file: string): Record<string, unknown> {
  try {
    const value = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new ModelImportError('config', `${file} is not readable JSON: ${(error as Error).message}`);
  }
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ModelImportError('cancelled', 'The import was cancelled; nothing was installed');
}

async function sha256File(file: string, onBytes?: (n: number) => void, signal?: AbortSignal): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) {
    checkAborted(signal);
    hash.update(chunk as Buffer);
    onBytes?.((chunk as Buffer).length);
  }
  return hash.digest('hex');
}

/** Copies a file (a clone where the file system can), returning its SHA-256. */
async function copyFile(
  from: string,
  to: string,
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): Promise<{ bytes: number; sha256: string }> {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const hash = crypto.createHash('sha256');
  const out = fs.openSync(to, 'w');
  let bytes = 0;
  try {
    for await (const chunk of fs.createReadStream(from, { highWaterMark: 4 * 1024 * 1024 })) {
      checkAborted(signal);
      const buffer = chunk as Buffer;
      hash.update(buffer);
      let done = 0;
      while (done < buffer.length) done += fs.writeSync(out, buffer, done, buffer.length - done, bytes + done);
      bytes += buffer.length;
      onBytes(buffer.length);
    }
    fs.fsyncSync(out);
  } finally {
    fs.closeSync(out);
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Files below `dir` (hidden ones left out), following symbolic links as the Hugging Face cache's snapshots use them. */
function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const full = path.join(dir, name);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(full);
    } catch {
      continue; // A dangling link.
    }
    if (stat.isDirectory()) out.push(...listFiles(full, base));
    else if (stat.isFile()) out.push(path.relative(base, full));
  }
  return out.sort();
}

/** Refuses an import that would fill the disk (the bytes to write and a margin). */
function checkFreeSpace(options: ImportOptions, bytes: number): void {
  const margin = 64 * 1024 * 1024;
  let free: number;
  try {
    free = options.freeSpace
      ? options.freeSpace(options.modelsDir)
      : (() => {
          const stat = fs.statfsSync(options.modelsDir);
          return stat.bavail * stat.bsize;
        })();
  } catch {
    return;
  }
  if (free < bytes + margin) {
    throw new ModelImportError(
      'disk_full',
      `Not enough free space in ${options.modelsDir}: the model needs ${(bytes / 1e9).toFixed(2)} GB, ${(free / 1e9).toFixed(2)} GB are free. Free some space and import again; nothing was installed.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Architecture

interface Architecture {
  config: SdConfig;
  from: ModelManifest['architectureFrom'];
  scheduler: SchedulerFields & Record<string, unknown>;
  notes: string[];
}

const DEFAULT_SCHEDULER: SchedulerFields = {
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000,
  prediction_type: 'epsilon',
};

/** The LDM YAML beside a checkpoint (`name.yaml` or `name.yml`), as A1111 and ComfyUI find it. */
function yamlBeside(file: string): string | null {
  const base = file.slice(0, file.length - path.extname(file).length);
  for (const ext of ['.yaml', '.yml']) if (fs.existsSync(base + ext)) return base + ext;
  return null;
}

/** The architecture from the weights' shapes; `second`: SDXL's second text encoder's weights. */
function inferred(source: WeightSource, second?: WeightSource | null): SdConfig {
  const shape = (name: string): number[] | undefined => source.shape(name);
  try {
    const config: SdConfig = { unet: inferUnet(shape), vae: inferVae(shape), textEncoder: inferTextEncoder(shape) };
    if (second) config.textEncoder2 = inferTextEncoder((name) => second.shape(name));
    return config;
  } catch (error) {
    throw new ModelImportError('weights', `${source.label}: ${(error as Error).message}`);
  }
}

/** The family an architecture belongs to (a toy one counts as SD 1.x). */
function familyOf(config: SdConfig): ModelFamily {
  return modelFamily(config.unet) ?? 'sd1';
}

function checkpointArchitecture(file: string, source: CheckpointWeights, options: ImportOptions): Architecture {
  const sdxl = source.info.family === 'sdxl';
  let config = inferred(source, sdxl ? source.part('text_encoder_2') : null);
  const family = sdxl ? 'sdxl' : config.unet.cross_attention_dim === 1024 || source.info.family === 'sd2' ? 'sd2' : 'sd1';
  let vaeFile: Record<string, unknown> | null = null;
  const notes: string[] = [];
  let scheduler: Architecture['scheduler'] = { ...DEFAULT_SCHEDULER };
  let from: Architecture['from'] = 'shapes';
  if (options.configDir) {
    const dir = path.resolve(options.configDir);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
      throw new ModelImportError('not_found', `--config ${options.configDir}: no such folder`);
    const partFiles = {
      unet: path.join(dir, 'unet', 'config.json'),
      vae: path.join(dir, 'vae', 'config.json'),
      textEncoder: path.join(dir, 'text_encoder', 'config.json'),
      textEncoder2: path.join(dir, 'text_encoder_2', 'config.json'),
    };
    if (!Object.values(partFiles).some((f) => fs.existsSync(f)))
      throw new ModelImportError(
        'config',
        `${dir} has none of unet/config.json, vae/config.json, text_encoder/config.json: not a diffusers-style config folder`,
      );
    try {
      if (fs.existsSync(partFiles.unet)) config.unet = mergeConfig(config.unet, readJsonFile(partFiles.unet), partFiles.unet);
      if (fs.existsSync(partFiles.vae)) config.vae = mergeConfig(config.vae, readJsonFile(partFiles.vae), partFiles.vae);
      if (fs.existsSync(partFiles.textEncoder))
        config.textEncoder = mergeConfig(config.textEncoder, readJsonFile(partFiles.textEncoder), partFiles.textEncoder);
      if (config.textEncoder2 && fs.existsSync(partFiles.textEncoder2))
        config.textEncoder2 = mergeConfig(config.textEncoder2, readJsonFile(partFiles.textEncoder2), partFiles.textEncoder2);
      vaeFile = fs.existsSync(partFiles.vae) ? readJsonFile(partFiles.vae) : null;
    } catch (error) {
      if (error instanceof ModelImportError) throw error;
      throw new ModelImportError('config', (error as Error).message);
    }
    const schedulerFile = path.join(dir, 'scheduler', 'scheduler_config.json');
    if (fs.existsSync(schedulerFile)) scheduler = { ...scheduler, ...readJsonFile(schedulerFile) } as Architecture['scheduler'];
    from = 'config';
  } else {
    const yaml = yamlBeside(file);
    if (yaml && sdxl) {
      notes.push(`${path.basename(yaml)} was not read: SDXL's architecture is fixed and read from the weights.`);
    } else if (yaml) {
      let ldm;
      try {
        ldm = readLdmConfig(yaml);
      } catch (error) {
        throw new ModelImportError('config', (error as Error).message);
      }
      config.unet = { ...config.unet, ...ldm.unet };
      config.vae = { ...config.vae, ...ldm.vae };
      scheduler = { ...scheduler, ...ldm.scheduler };
      from = 'yaml';
      notes.push(`Architecture and scheduler from ${path.basename(yaml)}.`);
    } else if (family === 'sd2') {
      // diffusers' default for an SD 2.x checkpoint without a config is SD 2.1 (768, v-prediction), with attention upcast.
      scheduler.prediction_type = 'v_prediction';
      config.unet.upcast_attention = true;
      notes.push(
        'SD 2.x checkpoint without a config: v-prediction assumed (as diffusers and SD 2.1 768 do). For a 512 "base" model that predicts noise, import again with --prediction epsilon.',
      );
    }
  }
  if (sdxl && source.info.vPrediction && !options.predictionType && from !== 'config') {
    scheduler.prediction_type = 'v_prediction';
    notes.push('The checkpoint has a v_pred key: v-prediction (as ComfyUI reads it).');
  }
  if (options.predictionType) scheduler.prediction_type = options.predictionType;
  try {
    config = settleConfig(config, vaeFile);
  } catch (error) {
    throw new ModelImportError('weights', `${path.basename(file)}: ${(error as Error).message}`);
  }
  return { config, from, scheduler, notes };
}

/** Every weight the graphs read exists with its shape, and the UNet fits the text encoder. */
function checkWeights(config: SdConfig, sources: Record<SdPart, WeightSource | null>): void {
  for (const part of SD_PARTS) {
    const source = sources[part];
    if (!source) continue;
    try {
      checkCoverage(
        buildPart(part, config, { precision: 'float32', attention: 'fused', loraBranches: false }).params.values(),
        source,
        part,
      );
    } catch (error) {
      if (error instanceof WeightMappingError) throw new ModelImportError('weights', error.message);
      throw new ModelImportError('config', `${part}: the architecture cannot be built (${(error as Error).message})`);
    }
  }
  const textWidth = config.textEncoder.hidden_size + (config.textEncoder2?.hidden_size ?? 0);
  if (config.unet.cross_attention_dim !== textWidth) {
    throw new ModelImportError(
      'weights',
      `the UNet attends to ${config.unet.cross_attention_dim}-wide text but the text encoder${config.textEncoder2 ? 's give' : ' gives'} ${textWidth}: the parts belong to different models`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

function vocabSize(dir: string): number | null {
  try {
    return Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8')) as object).length;
  } catch {
    return null;
  }
}

/** A tokenizer folder for a checkpoint: the config's, the one given, an installed model's with the same vocabulary, or a fetched one. */
async function findTokenizer(options: ImportOptions, vocab: number): Promise<{ dir: string; from: string; verbatim: boolean }> {
  const usable = (dir: string): boolean => fs.existsSync(path.join(dir, 'merges.txt')) && vocabSize(dir) === vocab;
  const candidates: { dir: string; from: string; verbatim: boolean }[] = [];
  if (options.configDir)
    candidates.push({
      dir: path.join(path.resolve(options.configDir), 'tokenizer'),
      from: `${options.configDir}/tokenizer`,
      verbatim: true,
    });
  if (options.tokenizerDir) candidates.push({ dir: path.resolve(options.tokenizerDir), from: options.tokenizerDir, verbatim: false });
  for (const candidate of candidates) {
    if (usable(candidate.dir)) return candidate;
    if (candidate.from === options.tokenizerDir)
      throw new ModelImportError(
        'tokenizer',
        `${options.tokenizerDir} is not a tokenizer folder for this model (it needs vocab.json with ${vocab} entries and merges.txt)`,
      );
  }
  if (fs.existsSync(options.modelsDir)) {
    for (const entry of fs.readdirSync(options.modelsDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const dir = path.join(options.modelsDir, entry.name, 'tokenizer');
      if (usable(dir)) return { dir, from: `the installed model ${entry.name}`, verbatim: false };
    }
  }
  if (options.fetchTokenizer) {
    let dir: string;
    try {
      dir = await options.fetchTokenizer();
    } catch (error) {
      throw new ModelImportError(
        'tokenizer',
        `CLIP's tokenizer could not be fetched (${(error as Error).message}); give --tokenizer DIR or --config DIR`,
      );
    }
    if (usable(dir)) return { dir, from: 'the Hugging Face Hub (openai/clip-vit-large-patch14)', verbatim: false };
  }
  throw new ModelImportError(
    'tokenizer',
    `No tokenizer for this checkpoint (a text encoder with ${vocab} tokens): a checkpoint carries no tokenizer files. Give --config DIR (a diffusers-style folder with tokenizer/) or --tokenizer DIR (vocab.json and merges.txt), install any SD model first (its tokenizer is reused), or connect to the internet once so Onbrand can fetch CLIP's.`,
  );
}

// ---------------------------------------------------------------------------------------------
// Writing

/** The diffusers part a mapped name belongs to. */
function partOf(name: string): 'unet' | 'vae' | 'text_encoder' | 'text_encoder_2' {
  if (name.startsWith(SECOND_ENCODER)) return 'text_encoder_2';
  if (name.startsWith('text_model.')) return 'text_encoder';
  if (/^(encoder|decoder|quant_conv|post_quant_conv)[.]/.test(name)) return 'vae';
  return 'unet';
}

const DIFFUSERS_VERSION = '0.30.0';

function partConfigs(config: SdConfig, scheduler: Architecture['scheduler'], family: ModelFamily): Record<string, unknown> {
  const sdxl = family === 'sdxl';
  return {
    'unet/config.json': {
      _class_name: 'UNet2DConditionModel',
      _diffusers_version: DIFFUSERS_VERSION,
      ...config.unet,
      // SDXL's fields only for SDXL (diffusers reads null as "none").
      ...(sdxl ? {} : { addition_embed_type: null, addition_time_embed_dim: null, projection_class_embeddings_input_dim: null }),
      sample_size: sdxl ? 128 : family === 'sd2' && scheduler.prediction_type === 'v_prediction' ? 96 : 64,
    },
    'vae/config.json': {
      _class_name: 'AutoencoderKL',
      _diffusers_version: DIFFUSERS_VERSION,
      ...config.vae,
      down_block_types: config.vae.block_out_channels.map(() => 'DownEncoderBlock2D'),
      up_block_types: config.vae.block_out_channels.map(() => 'UpDecoderBlock2D'),
      act_fn: 'silu',
    },
    'text_encoder/config.json': textEncoderConfigFile(config.textEncoder),
    ...(config.textEncoder2 ? { 'text_encoder_2/config.json': textEncoderConfigFile(config.textEncoder2) } : {}),
    // SDXL base's scheduler as stabilityai ships it (Euler, leading spacing, offset 1).
    'scheduler/scheduler_config.json': sdxl
      ? {
          _class_name: 'EulerDiscreteScheduler',
          _diffusers_version: DIFFUSERS_VERSION,
          interpolation_type: 'linear',
          timestep_spacing: 'leading',
          steps_offset: 1,
          use_karras_sigmas: false,
          sample_max_value: 1,
          ...scheduler,
        }
      : {
          _class_name: 'PNDMScheduler',
          _diffusers_version: DIFFUSERS_VERSION,
          set_alpha_to_one: false,
          skip_prk_steps: true,
          steps_offset: 1,
          clip_sample: false,
          ...scheduler,
        },
    'model_index.json': sdxl
      ? {
          _class_name: 'StableDiffusionXLPipeline',
          _diffusers_version: DIFFUSERS_VERSION,
          unet: ['diffusers', 'UNet2DConditionModel'],
          vae: ['diffusers', 'AutoencoderKL'],
          text_encoder: ['transformers', 'CLIPTextModel'],
          text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
          tokenizer: ['transformers', 'CLIPTokenizer'],
          tokenizer_2: ['transformers', 'CLIPTokenizer'],
          scheduler: ['diffusers', 'EulerDiscreteScheduler'],
          force_zeros_for_empty_prompt: true,
        }
      : {
          _class_name: 'StableDiffusionPipeline',
          _diffusers_version: DIFFUSERS_VERSION,
          unet: ['diffusers', 'UNet2DConditionModel'],
          vae: ['diffusers', 'AutoencoderKL'],
          text_encoder: ['transformers', 'CLIPTextModel'],
          tokenizer: ['transformers', 'CLIPTokenizer'],
          scheduler: ['diffusers', 'PNDMScheduler'],
          safety_checker: [null, null],
          feature_extractor: [null, null],
          requires_safety_checker: false,
        },
  };
}

interface Staged {
  files: ModelManifest['files'];
  bytes: number;
}

function writeJson(staging: string, relative: string, value: unknown, staged: Staged): void {
  const file = path.join(staging, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const text = `${JSON.stringify(value, null, 2)}\n`;
  fs.writeFileSync(file, text);
  const key = relative.split(path.sep).join('/');
  staged.bytes += Buffer.byteLength(text) - (staged.files[key]?.bytes ?? 0);
  staged.files[key] = { bytes: Buffer.byteLength(text), sha256: crypto.createHash('sha256').update(text).digest('hex') };
}

async function copyInto(
  staging: string,
  relative: string,
  from: string,
  staged: Staged,
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const result = await copyFile(from, path.join(staging, relative), onBytes, signal);
  staged.files[relative.split(path.sep).join('/')] = result;
  staged.bytes += result.bytes;
}

/**
 * Moves files of Onbrand's own download folder into the staging folder, all at once at the end
 * (renames: instant), so that a failure or a cancel before then leaves the download as it was, and
 * one during the renames puts back what was moved.
 */
function moveAll(moves: readonly { from: string; to: string }[]): void {
  const done: { from: string; to: string }[] = [];
  try {
    for (const move of moves) {
      fs.mkdirSync(path.dirname(move.to), { recursive: true });
      fs.renameSync(move.from, move.to);
      done.push(move);
    }
  } catch (error) {
    for (const move of done.reverse()) {
      try {
        fs.mkdirSync(path.dirname(move.from), { recursive: true });
        fs.renameSync(move.to, move.from);
      } catch {
        // Left in staging; the download fetches it again.
      }
    }
    throw error;
  }
}

/**
 * Tokenizer files: the config's folder verbatim; otherwise vocab + merges with the family's pad
 * token (SD 2.x pads with "!"). SDXL gets two: `tokenizer/` padded with the end-of-text token and
 * `tokenizer_2/` with "!" (as stabilityai's SDXL base ships them).
 */
async function writeTokenizer(
  staging: string,
  tokenizer: { dir: string; verbatim: boolean },
  family: ModelFamily,
  staged: Staged,
  folder = 'tokenizer',
): Promise<void> {
  const noop = (): void => undefined;
  if (family === 'sdxl' && folder === 'tokenizer') {
    await writeTokenizer(staging, { dir: tokenizer.dir, verbatim: false }, 'sd1', staged, 'tokenizer');
    await writeTokenizer(staging, { dir: tokenizer.dir, verbatim: false }, 'sd2', staged, 'tokenizer_2');
    return;
  }
  if (tokenizer.verbatim) {
    for (const relative of listFiles(tokenizer.dir))
      await copyInto(staging, path.join(folder, relative), path.join(tokenizer.dir, relative), staged, noop);
    return;
  }
  for (const f of ['vocab.json', 'merges.txt']) await copyInto(staging, path.join(folder, f), path.join(tokenizer.dir, f), staged, noop);
  const vocab = JSON.parse(fs.readFileSync(path.join(tokenizer.dir, 'vocab.json'), 'utf8')) as Record<string, number>;
  const pad = family === 'sd2' && '!' in vocab ? '!' : '<|endoftext|>';
  writeJson(
    staging,
    path.join(folder, 'special_tokens_map.json'),
    { bos_token: '<|startoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', pad_token: pad },
    staged,
  );
  writeJson(
    staging,
    path.join(folder, 'tokenizer_config.json'),
    { tokenizer_class: 'CLIPTokenizer', model_max_length: 77, do_lower_case: true, pad_token: pad },
    staged,
  );
}

/** Renames the staging folder to the model's folder, refusing to replace one that appeared meanwhile. */
function publish(staging: string, dir: string): void {
  if (fs.existsSync(dir))
    throw new ModelImportError(
      'exists',
      `A model named "${path.basename(dir)}" already exists in ${path.dirname(dir)}; remove it first (onbrand models rm) or choose another name`,
    );
  fs.renameSync(staging, dir);
}

function writeManifest(staging: string, manifest: Omit<ModelManifest, 'files' | 'installedAt'>, staged: Staged): ModelManifest {
  const full: ModelManifest = { ...manifest, files: staged.files, installedAt: new Date().toISOString() };
  fs.writeFileSync(path.join(staging, MANIFEST_FILE), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

// ---------------------------------------------------------------------------------------------
// The three sources

/** A LoRA, VAE or embedding picked by mistake: said as such, with where it goes instead. */
function notAModel(file: string, st: SafetensorsFile | null, modelsDir: string): void {
  if (!st) return; // The checkpoint reader names the problem.
  const keys = [...st.tensors.keys()];
  const base = path.basename(file);
  if (keys.some((k) => /^model\.diffusion_model\./.test(k))) return;
  if (keys.some((k) => /^(lora_unet_|lora_te\d?_)|\.(lora_down|lora_up|lora_A|lora_B|hada_w1_a|lokr_w1)(\.weight)?$|\.lokr_w1/.test(k))) {
    throw new ModelImportError(
      'unsupported',
      `${base} is a LoRA, not a model: copy it into ${path.join(modelsDir, 'loras')} and use it in a prompt as <lora:${path.basename(file, path.extname(file))}:0.8>`,
    );
  }
  if (
    keys.some((k) => /^(first_stage_model\.)?(decoder|encoder)\.(conv_in|up\.|down\.|up_blocks|down_blocks)/.test(k)) &&
    !keys.some((k) => /^(cond_stage_model|conditioner)\./.test(k))
  ) {
    throw new ModelImportError(
      'unsupported',
      `${base} is a VAE on its own, not a whole model: Onbrand imports complete checkpoints (UNet, VAE and text encoder in one file)`,
    );
  }
  if (keys.length <= 4 && keys.some((k) => /^(emb_params|string_to_param|clip_[lg])/.test(k) || k === '*')) {
    throw new ModelImportError('unsupported', `${base} is a textual-inversion embedding, not a model`);
  }
}

/** What an import of one source kind wrote into the staging folder. */
type Imported = Omit<ImportReport, 'dir' | 'seconds' | 'bytes'> & { source: ModelManifest['source']; staged: Staged };

async function importCheckpoint(
  file: string,
  name: string,
  staging: string,
  options: ImportOptions,
  progress: (phase: ImportPhase, n: number) => void,
  setTotal: (n: number) => void,
): Promise<Imported> {
  notAModel(file, await SafetensorsFile.open(file).catch(() => null), options.modelsDir);
  let source: CheckpointWeights;
  try {
    source = await CheckpointWeights.open(file);
  } catch (error) {
    if (error instanceof CheckpointError) throw new ModelImportError(error.reason === 'pickle' ? 'pickle' : 'family', error.message);
    throw new ModelImportError('weights', (error as Error).message);
  }
  const info = source.info;
  const sdxlFile = info.family === 'sdxl';
  const missing = [
    !info.parts.unet && 'the UNet (model.diffusion_model.*)',
    !info.parts.vae && 'the VAE (first_stage_model.*)',
    !info.parts.textEncoder &&
      (sdxlFile
        ? 'both text encoders (conditioner.embedders.0.transformer.* and conditioner.embedders.1.model.*)'
        : 'the text encoder (cond_stage_model.*)'),
  ].filter(Boolean);
  if (missing.length > 0)
    throw new ModelImportError(
      'weights',
      `${path.basename(file)} lacks ${missing.join(' and ')}: Onbrand imports complete checkpoints (UNet, VAE and text encoder${sdxlFile ? 's' : ''} in one file)`,
    );
  if (info.unetInChannels !== null && info.unetInChannels !== 4) {
    throw new ModelImportError(
      'unsupported',
      `${path.basename(file)} is ${info.unetInChannels === 9 ? 'an inpainting' : info.unetInChannels === 8 ? 'an instruct-pix2pix' : `a ${info.unetInChannels}-channel`} checkpoint: Onbrand imports text-to-image checkpoints (4 input channels)`,
    );
  }
  const arch = checkpointArchitecture(file, source, options);
  const family = familyOf(arch.config);
  const second = family === 'sdxl' ? source.part('text_encoder_2') : null;
  checkWeights(arch.config, { text_encoder: source, text_encoder_2: second, unet: source, vae_decoder: source, vae_encoder: source });
  const notes = [...arch.notes];
  const unexpected = describeUnexpected(source.report);
  if (unexpected) notes.push(`${unexpected} (not used).`);
  const tokenizer = await findTokenizer(options, arch.config.textEncoder.vocab_size);

  const names = source.names();
  const byPart = {
    unet: [] as TensorToWrite[],
    vae: [] as TensorToWrite[],
    text_encoder: [] as TensorToWrite[],
    text_encoder_2: [] as TensorToWrite[],
  };
  // Names as written (the second encoder's without its prefix) → names in the source.
  const sourceName = new Map<string, string>();
  let total = 0;
  for (const n of names) {
    const origin = source.origin(n)!;
    const dtype = source.dtypeOf(n) ?? 'F32';
    const part = partOf(n);
    const written = part === 'text_encoder_2' ? n.slice(SECOND_ENCODER.length) : n;
    sourceName.set(`${part}:${written}`, n);
    byPart[part].push({ name: written, dtype, shape: source.shape(n)! });
    total += origin.count * (dtype === 'F32' ? 4 : dtype === 'F64' ? 8 : 2);
  }
  const { size } = fs.statSync(file);
  checkFreeSpace(options, total);
  setTotal(size + total);
  const sha256 = await sha256File(file, (n) => progress('hashing', n), options.signal);
  const staged: Staged = { files: {}, bytes: 0 };
  const files = {
    unet: 'unet/diffusion_pytorch_model.safetensors',
    vae: 'vae/diffusion_pytorch_model.safetensors',
    text_encoder: 'text_encoder/model.safetensors',
    text_encoder_2: 'text_encoder_2/model.safetensors',
  } as const;
  for (const part of ['text_encoder', 'text_encoder_2', 'vae', 'unet'] as const) {
    if (byPart[part].length === 0) continue;
    const target = path.join(staging, files[part]);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const written = await writeSafetensorsFile(
      target,
      byPart[part],
      (n) => {
        checkAborted(options.signal);
        const raw = source.readRaw(sourceName.get(`${part}:${n}`)!);
        progress('writing', raw.bytes.length);
        return raw.bytes;
      },
      { format: 'pt', source: path.basename(file) },
    );
    staged.files[files[part]] = { bytes: written.bytes, sha256: written.sha256 };
    staged.bytes += written.bytes;
  }
  for (const [relative, value] of Object.entries(partConfigs(arch.config, arch.scheduler, family)))
    writeJson(staging, relative, value, staged);
  await writeTokenizer(staging, tokenizer, family, staged);
  const hash = sha256.slice(0, 10);
  return {
    name,
    layout: 'diffusers',
    family,
    sourceKind: 'checkpoint',
    architectureFrom: arch.from,
    predictionType: arch.scheduler.prediction_type,
    tokenizerFrom: tokenizer.from,
    checkpoint: source.report,
    notes,
    hash,
    staged,
    source: { kind: 'checkpoint', sha256, bytes: size, ...(options.origin ?? { path: file }) },
  };
}

async function importFolder(
  dir: string,
  name: string,
  staging: string,
  options: ImportOptions,
  progress: (phase: ImportPhase, n: number) => void,
  setTotal: (n: number) => void,
): Promise<Imported> {
  if (options.configDir)
    throw new ModelImportError(
      'config',
      'A config folder applies to single-file checkpoints; a model folder brings its own configs (only the prediction type can be changed).',
    );
  const layout = folderLayout(dir);
  if (!layout) {
    throw new ModelImportError(
      'unsupported',
      `${dir} is neither a diffusers folder (unet/config.json with safetensors weights) nor a diffusers ONNX folder (unet/model.onnx)`,
    );
  }
  let folder;
  try {
    folder = readModelFolder(dir);
  } catch (error) {
    throw new ModelImportError('weights', (error as Error).message);
  }
  let family: ModelFamily = 'sd1';
  const notes: string[] = [];
  let files: string[];
  if (layout === 'diffusers') {
    // Check every weight against the architecture before copying anything.
    let sources: Record<'unet' | 'vae' | 'text_encoder', DiffusersWeights>;
    let second: DiffusersWeights | null = null;
    try {
      sources = {
        unet: await DiffusersWeights.open(folder.parts.unet),
        vae: await DiffusersWeights.open(folder.parts.vae_decoder),
        text_encoder: await DiffusersWeights.open(folder.parts.text_encoder),
      };
      if (folder.parts.text_encoder_2) second = await DiffusersWeights.open(folder.parts.text_encoder_2);
    } catch (error) {
      throw new ModelImportError('weights', (error as Error).message);
    }
    const ofPart = (n: string): DiffusersWeights => sources[partOf(n) as 'unet' | 'vae' | 'text_encoder'];
    let config = inferred({ label: dir, shape: (n) => ofPart(n).shape(n), read: (n) => ofPart(n).read(n) }, second);
    try {
      config.unet = mergeConfig(config.unet, readJsonFile(path.join(dir, 'unet', 'config.json')), path.join(dir, 'unet', 'config.json'));
      config.vae = mergeConfig(config.vae, readJsonFile(path.join(dir, 'vae', 'config.json')), path.join(dir, 'vae', 'config.json'));
      config.textEncoder = mergeConfig(
        config.textEncoder,
        readJsonFile(path.join(dir, 'text_encoder', 'config.json')),
        path.join(dir, 'text_encoder', 'config.json'),
      );
      if (config.textEncoder2)
        config.textEncoder2 = mergeConfig(
          config.textEncoder2,
          readJsonFile(path.join(dir, 'text_encoder_2', 'config.json')),
          path.join(dir, 'text_encoder_2', 'config.json'),
        );
      config = settleConfig(config, readJsonFile(path.join(dir, 'vae', 'config.json')));
    } catch (error) {
      if (error instanceof ModelImportError) throw error;
      throw new ModelImportError('config', (error as Error).message);
    }
    checkWeights(config, {
      text_encoder: sources.text_encoder,
      text_encoder_2: second,
      unet: sources.unet,
      vae_decoder: sources.vae,
      vae_encoder: sources.vae,
    });
    family = familyOf(config);
    // Only what a Stable Diffusion pipeline needs: the parts' configs and chosen weights (with shards), tokenizers, scheduler.
    const partDirs = ['unet', 'vae', 'text_encoder', ...(second ? ['text_encoder_2'] : [])];
    const weightFiles = [
      folder.parts.unet,
      folder.parts.vae_decoder,
      folder.parts.text_encoder,
      ...(folder.parts.text_encoder_2 ? [folder.parts.text_encoder_2] : []),
    ].flatMap((f) => {
      if (!f.endsWith('.index.json')) return [f];
      const index = readJsonFile(f) as { weight_map?: Record<string, string> };
      return [f, ...new Set(Object.values(index.weight_map ?? {}).map((s) => path.join(path.dirname(f), s)))];
    });
    files = [
      'model_index.json',
      ...partDirs.map((p) => path.join(p, 'config.json')),
      ...weightFiles.map((f) => path.relative(dir, f)),
      ...listFiles(path.join(dir, 'tokenizer')).map((f) => path.join('tokenizer', f)),
      ...(second ? listFiles(path.join(dir, 'tokenizer_2')).map((f) => path.join('tokenizer_2', f)) : []),
      ...(fs.existsSync(path.join(dir, 'scheduler')) ? listFiles(path.join(dir, 'scheduler')).map((f) => path.join('scheduler', f)) : []),
    ];
    const skipped = listFiles(dir).filter(
      (f) => !files.includes(f) && f !== MANIFEST_FILE && !/^(safety_checker|feature_extractor)\//.test(f.split(path.sep).join('/')),
    );
    if (skipped.length > 0)
      notes.push(
        `${skipped.length} file${skipped.length === 1 ? '' : 's'} not needed for generation left behind (${skipped.slice(0, 3).join(', ')}${skipped.length > 3 ? ', …' : ''}).`,
      );
  } else {
    files = (options.onlyFiles ? options.onlyFiles.map((f) => f.split('/').join(path.sep)) : listFiles(dir)).filter(
      (f) => f !== MANIFEST_FILE,
    );
    const unetConfig = path.join(dir, 'unet', 'config.json');
    family = modelFamily(fs.existsSync(unetConfig) ? readJsonFile(unetConfig) : {}, folder.parts.text_encoder_2 !== null) ?? 'sd1';
  }
  const total = files.reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  setTotal(total);
  const staged: Staged = { files: {}, bytes: 0 };
  checkFreeSpace(options, options.consume ? 0 : total);
  if (options.consume) {
    // Onbrand's own verified download: hashed where it is (for the manifest), then moved.
    const moves: { from: string; to: string }[] = [];
    for (const relative of files) {
      const from = path.join(dir, relative);
      staged.files[relative.split(path.sep).join('/')] = {
        bytes: fs.statSync(from).size,
        sha256: await sha256File(from, (n) => progress('hashing', n), options.signal),
      };
      staged.bytes += fs.statSync(from).size;
      moves.push({ from, to: path.join(staging, relative) });
    }
    checkAborted(options.signal);
    moveAll(moves);
    options.onMoved?.(() => moveAll(moves.map(({ from, to }) => ({ from: to, to: from }))));
  } else {
    for (const relative of files)
      await copyInto(staging, relative, path.join(dir, relative), staged, (n) => progress('copying', n), options.signal);
  }
  if (options.predictionType) {
    // The folder's scheduler, with the prediction type asked for.
    const schedulerFile = path.join(dir, 'scheduler', 'scheduler_config.json');
    const scheduler = fs.existsSync(path.join(staging, 'scheduler', 'scheduler_config.json'))
      ? readJsonFile(path.join(staging, 'scheduler', 'scheduler_config.json'))
      : fs.existsSync(schedulerFile)
        ? readJsonFile(schedulerFile)
        : { ...DEFAULT_SCHEDULER };
    writeJson(staging, path.join('scheduler', 'scheduler_config.json'), { ...scheduler, prediction_type: options.predictionType }, staged);
  }
  const unetFile = path.relative(dir, folder.parts.unet).split(path.sep).join('/');
  const hash = (staged.files[unetFile]?.sha256 ?? '').slice(0, 10);
  return {
    name,
    layout,
    family,
    sourceKind: layout === 'onnx' ? 'onnx' : 'diffusers',
    architectureFrom: 'folder',
    predictionType: options.predictionType ?? folder.predictionType,
    tokenizerFrom: 'the folder',
    checkpoint: null,
    notes,
    hash,
    staged,
    source: { kind: layout === 'onnx' ? 'onnx' : 'diffusers', ...(options.origin ?? { path: dir }) },
  };
}

/** Imports a model (see the file's comment). Throws a ModelImportError, with nothing installed, when it cannot. */
export async function importModel(options: ImportOptions): Promise<ImportReport> {
  const started = performance.now();
  const name = checkModelName(options.name);
  const source = path.resolve(options.source);
  if (!fs.existsSync(source)) throw new ModelImportError('not_found', `${options.source} does not exist`);
  const modelsDir = path.resolve(options.modelsDir);
  const dir = path.join(modelsDir, name);
  if (fs.existsSync(dir))
    throw new ModelImportError(
      'exists',
      `A model named "${name}" already exists in ${modelsDir}; remove it first (onbrand models rm "${name}") or choose another name`,
    );
  fs.mkdirSync(path.join(modelsDir, STAGING), { recursive: true });
  sweepStaging(modelsDir);
  const staging = stagingFolder(modelsDir, name);
  fs.mkdirSync(staging, { recursive: true });
  let done = 0;
  let total = 0;
  let lastReport = 0;
  const progress = (phase: ImportPhase, n: number): void => {
    done += n;
    const now = performance.now();
    if (now - lastReport > 100 || done >= total) {
      lastReport = now;
      options.onProgress?.({ phase, bytesDone: Math.min(done, total), bytesTotal: total });
    }
  };
  let undoMoves: (() => void) | null = null;
  const folderOptions: ImportOptions = { ...options, onMoved: (undo) => (undoMoves = undo) };
  try {
    options.onProgress?.({ phase: 'checking', bytesDone: 0, bytesTotal: 0 });
    const isFolder = fs.statSync(source).isDirectory();
    if (!isFolder && path.extname(source).toLowerCase() !== '.safetensors' && !/\.(ckpt|pt|pth|bin|pkl|pickle)$/i.test(source)) {
      throw new ModelImportError(
        'unsupported',
        `${path.basename(source)}: Onbrand imports .safetensors checkpoints, diffusers folders and diffusers ONNX folders`,
      );
    }
    const result = isFolder
      ? await importFolder(source, name, staging, folderOptions, progress, (n) => (total = n))
      : await importCheckpoint(source, name, staging, options, progress, (n) => (total = n));
    checkAborted(options.signal);
    options.onProgress?.({ phase: 'finishing', bytesDone: total, bytesTotal: total });
    const { staged, source: origin, ...fields } = result;
    writeManifest(
      staging,
      {
        format: 'onbrand-model',
        version: 1,
        name,
        layout: fields.layout,
        family: fields.family,
        source: origin,
        licence: options.licence ?? null,
        architectureFrom: fields.architectureFrom,
        predictionType: fields.predictionType,
        hash: fields.hash,
      },
      staged,
    );
    // What is about to be installed opens as a model (every part, tokenizer and config there).
    try {
      readModelFolder(staging);
    } catch (error) {
      throw new ModelImportError(
        'weights',
        `The model would be incomplete: ${(error as Error).message.replaceAll(staging, name)}; nothing was installed`,
      );
    }
    publish(staging, dir);
    const report: ImportReport = { ...fields, dir, bytes: staged.bytes, seconds: (performance.now() - started) / 1000 };
    return report;
  } catch (error) {
    (undoMoves as (() => void) | null)?.();
    fs.rmSync(staging, { recursive: true, force: true });
    if (error instanceof ModelImportError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC')
      throw new ModelImportError(
        'disk_full',
        `The disk of ${modelsDir} is full; nothing was installed (the import needs about as much free space as the model's size)`,
      );
    throw error;
  }
}
