/**
 * An Onbrand job as ComfyUI's API-format graph (issue 21): the checkpoint, a LoRA loader per
 * `<lora:…>` tag, the two prompts, the latent (empty or an uploaded image), KSampler, VAE decode and
 * SaveImage. One image per graph: the queue submits a graph per image with seed + i, so ComfyUI's
 * CPU noise for that one image starts where Onbrand's does.
 *
 * ComfyUI reads prompts with its own rules (`comfy/sd1_clip.py`: `token_weights`,
 * `escape_important`), not A1111's. The prompt is parsed here with A1111's rules (the engine's own
 * parser) and written back in ComfyUI's syntax, piece by piece with its absolute weight, so every
 * token gets the weight it gets locally; what ComfyUI still does differently is said in `notes`.
 * Pure functions, but for `comfyInitImage` (the img2img upload, made with sharp as the engine makes its input).
 */
import sharp from 'sharp';
import { OnbrandError, type GenerationSettings, type SamplerLabel, type ScheduleType } from '../api/index.js';
import { closeMatches } from '../common/index.js';
import { extractLoraTags, isBreak, parsePromptAttention, type PromptPiece } from '../diffusion/index.js';

/** ComfyUI's `sampler_name` and `scheduler` (members of `comfy.samplers.KSampler.SAMPLERS` / `SCHEDULERS`). */
export interface ComfySampler {
  sampler_name: string;
  scheduler: string;
}

/**
 * The A1111 samplers Onbrand offers, with their own ("Automatic") schedule as the engine walks it
 * (diffusion/samplers.ts): the Karras variants on Karras sigmas, DDIM on its uniform timesteps
 * (ComfyUI's `ddim_uniform` picks the same timesteps 1, 1 + T/n, …), the others on the default
 * discretisation, which is ComfyUI's `normal`. LCM is among the others: the engine walks the
 * default sigmas for it unless the schedule type says SGM Uniform (as the LCM draft preset does).
 */
const SAMPLERS: Record<SamplerLabel, ComfySampler> = {
  Euler: { sampler_name: 'euler', scheduler: 'normal' },
  'Euler a': { sampler_name: 'euler_ancestral', scheduler: 'normal' },
  'DPM++ 2M': { sampler_name: 'dpmpp_2m', scheduler: 'normal' },
  'DPM++ 2M Karras': { sampler_name: 'dpmpp_2m', scheduler: 'karras' },
  'DPM++ SDE Karras': { sampler_name: 'dpmpp_sde', scheduler: 'karras' },
  DDIM: { sampler_name: 'ddim', scheduler: 'ddim_uniform' },
  LCM: { sampler_name: 'lcm', scheduler: 'normal' },
};

const SCHEDULERS: Record<Exclude<ScheduleType, 'Automatic'>, string> = { Karras: 'karras', 'SGM Uniform': 'sgm_uniform' };

/**
 * An A1111 sampler and schedule type as ComfyUI's sampler and scheduler. DDIM walks its own
 * timesteps and, as in the local engine, takes no other schedule type.
 */
export function comfySampler(sampler: SamplerLabel, scheduleType?: ScheduleType): ComfySampler {
  const own = SAMPLERS[sampler];
  if (own === undefined) throw new OnbrandError('invalid_input', `ComfyUI has no sampler for "${String(sampler)}"`, 'sampler');
  if (scheduleType === undefined || scheduleType === 'Automatic') return { ...own };
  if (sampler === 'DDIM')
    throw new OnbrandError(
      'invalid_input',
      `DDIM walks its own timesteps: set the schedule type to Automatic, or pick another sampler for ${scheduleType}`,
      'scheduleType',
    );
  return { sampler_name: own.sampler_name, scheduler: SCHEDULERS[scheduleType] };
}

/** Model file extensions ComfyUI lists (folder_paths' supported_pt_extensions, the ones in use). */
const MODEL_EXTENSION = /\.(safetensors|ckpt|pt|bin|pth)$/i;

/** A name's file stem: no folders (either slash: a Windows server lists `SD1.5\\x.safetensors`), no model extension. */
function stem(name: string): string {
  return name
    .trim()
    .replace(/^.*[\\/]/, '')
    .replace(MODEL_EXTENSION, '');
}

const caseKey = (name: string): string => stem(name).toLowerCase();
const looseKey = (name: string): string => caseKey(name).replace(/[-_\s]/g, '');
const pathKey = (name: string): string => name.trim().replace(/\\/g, '/').replace(MODEL_EXTENSION, '').toLowerCase();

/**
 * The server's name for a model or LoRA Onbrand calls `wanted`, or null when there is none or
 * more than one could be meant. The user's mapping table entry (`mapped`) wins when the server has
 * it; otherwise by file name: the stem (no folders, no `.safetensors`/`.ckpt`/`.pt`/`.bin`/`.pth`),
 * ignoring case; then, as a second pass, also ignoring `-`, `_` and spaces. Where several files
 * share the stem (`SD1.5/x` and `SDXL/x`), a folder in `wanted` that matches picks one; else null.
 */
export function matchComfyName(wanted: string, available: readonly string[], mapped?: string): string | null {
  if (mapped !== undefined && available.includes(mapped)) return mapped;
  if (available.includes(wanted)) return wanted;
  for (const key of [caseKey, looseKey]) {
    const target = key(wanted);
    if (target === '') return null;
    const found = available.filter((name) => key(name) === target);
    if (found.length === 1) return found[0]!;
    if (found.length > 1) {
      const samePath = found.filter((name) => pathKey(name) === pathKey(wanted));
      return samePath.length === 1 ? samePath[0]! : null;
    }
  }
  return null;
}

/** The server's name closest to `wanted` (for "did you mean …?"), or null when none is close. */
export function closestComfyName(wanted: string, available: readonly string[]): string | null {
  const exact = matchComfyName(wanted, available);
  if (exact !== null) return exact;
  const keys = [...new Set(available.map(looseKey))];
  const [best] = closeMatches(looseKey(wanted), keys, 1);
  return best === undefined ? null : (available.find((name) => looseKey(name) === best) ?? null);
}

/** The notes, in designer words, for where ComfyUI reads a job differently from Onbrand (A1111). */
export const COMFY_NOTES = {
  weights: 'weights like (word:1.3) are applied the ComfyUI way, without A1111’s mean rescale',
  square: '[word] is sent as (word:0.9091): ComfyUI has no [ ] de-emphasis',
  break: 'BREAK is read as a word: ComfyUI has no BREAK',
  long: 'over 75 tokens: ComfyUI splits the prompt into chunks at other places',
} as const;

/** CLIP's pre-tokenizer pattern (diffusion/tokenizer.ts): every match is at least one token. */
const CLIP_WORDS = /'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/**
 * A lower bound on a piece's CLIP tokens (a word may be several): enough to know a prompt is over
 * 75 tokens, where A1111 ends a chunk at a comma near its end and ComfyUI before the word that does not fit.
 */
function minTokens(text: string): number {
  return [...text.matchAll(CLIP_WORDS)].length;
}

/** Samplers that add noise at every step: ComfyUI draws that noise its own way. */
const STEP_NOISE: Partial<Record<SamplerLabel, string>> = {
  'Euler a': 'Euler a',
  'DPM++ SDE Karras': 'DPM++ SDE',
  LCM: 'LCM',
};

/** The note for a sampler whose per-step noise ComfyUI draws differently, or null. */
export function samplerNote(sampler: SamplerLabel): string | null {
  const name = STEP_NOISE[sampler];
  return name === undefined ? null : `${name} step noise differs in ComfyUI: not seed-identical`;
}

/** Weights as ComfyUI's `float()` reads them, to 4 decimals (`[x]` → 0.9091, `((x))` → 1.21). */
function formatWeight(weight: number): string {
  return String(Number(weight.toFixed(4)) || 0);
}

/** Literal parentheses as ComfyUI's `escape_important` reads them back (`\(`, `\)`); nothing else is special there. */
function escapeParens(text: string): string {
  return text.replace(/[()]/g, '\\$&');
}

/** Whether A1111 reads a `[` in the text as de-emphasis (one not escaped as `\[`). */
function hasSquareBracket(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      if ('()[]\\'.includes(text[i + 1] ?? '')) i++;
    } else if (c === '[') return true;
  }
  return false;
}

/**
 * A prompt (LoRA tags already out) in ComfyUI's syntax with the weights A1111 gives it: each piece
 * at weight 1 as plain text, each other piece as `(text:weight)` with its absolute weight (ComfyUI
 * replaces, A1111 multiplies, so nesting is flattened here), literal parentheses escaped, `BREAK`
 * left as a word. Returns the text and the notes for what ComfyUI still reads differently.
 */
export function comfyPromptText(prompt: string): { text: string; notes: string[] } {
  const pieces = parsePromptAttention(prompt).filter((p) => p.text !== '');
  const notes = new Set<string>();
  const weighted = (p: PromptPiece): boolean => !isBreak(p) && p.weight !== 1;
  if (pieces.some(weighted)) {
    if (hasSquareBracket(prompt)) notes.add(COMFY_NOTES.square);
    notes.add(COMFY_NOTES.weights);
  }
  let run = 0;
  for (const piece of pieces) {
    run = isBreak(piece) ? 0 : run + minTokens(piece.text);
    if (run > 75) notes.add(COMFY_NOTES.long);
  }
  let text = '';
  pieces.forEach((piece, i) => {
    if (isBreak(piece)) {
      notes.add(COMFY_NOTES.break);
      text += ' BREAK ';
      return;
    }
    const escaped = escapeParens(piece.text);
    const next = pieces[i + 1];
    // A literal backslash right before a group's "(" would escape it: close the text in a weight-1 group instead.
    const beforeGroup = next !== undefined && weighted(next) && escaped.endsWith('\\');
    text += piece.weight === 1 && !beforeGroup ? escaped : `(${escaped}:${formatWeight(piece.weight)})`;
  });
  return { text, notes: [...notes] };
}

/** A node of ComfyUI's API-format graph: inputs are values or `[nodeId, outputIndex]` links. */
export interface ComfyNode {
  class_type: string;
  inputs: Record<string, unknown>;
}
export type ComfyGraph = Record<string, ComfyNode>;

/** One image of an Onbrand job, as the queue hands it to a ComfyUI backend (names already mapped to the server's). */
export interface ComfyJob {
  /** The prompt with its `<lora:…>` tags. */
  prompt: string;
  negativePrompt: string;
  settings: Pick<GenerationSettings, 'width' | 'height' | 'steps' | 'cfg' | 'sampler' | 'scheduleType'>;
  /** This image's seed (the job's seed + i). */
  seed: number;
  /** The server's checkpoint name (`CheckpointLoaderSimple.ckpt_name`). */
  ckptName: string;
  /** Tag name → the server's `LoraLoader.lora_name`. */
  loras: Record<string, string>;
  /**
   * img2img: the init image as `LoadImage` names it (`/upload/image`'s `name`, or `subfolder/name`
   * when it gave a subfolder), and the denoising strength. Upload `comfyInitImage`'s PNG: the graph
   * does not resize, and LoadImage encodes the image at the size it has.
   */
  init?: { image: string; strength: number };
  filenamePrefix: string;
  /**
   * SDXL with an empty negative prompt: A1111 (and the engine, unless told to encode it) uses zeros
   * for it; ComfyUI's `ConditioningZeroOut` does the same. Off: the empty text is encoded.
   */
  zeroEmptyNegative?: boolean;
}

/** A LoRA in the prompt that the server has no file for (`lora` is the tag's name). */
export class MissingLoraError extends OnbrandError {
  constructor(
    readonly lora: string,
    tag: string,
  ) {
    super(
      'not_found',
      `The LoRA "${lora}" (${tag} in the prompt) is not on this ComfyUI server: put its file in the server's models/loras folder, or map the name to one of the server's LoRAs`,
      'prompt',
    );
    this.name = 'MissingLoraError';
  }
}

/**
 * The init image for an img2img upload: RGB, resized to cover width × height as the engine does
 * before its VAE encoder (sharp's default Lanczos, centre crop), as a lossless PNG, so ComfyUI's
 * LoadImage → VAEEncode starts from the pixels the local engine would.
 */
export async function comfyInitImage(image: string | Buffer, width: number, height: number): Promise<Buffer> {
  try {
    return await sharp(image).removeAlpha().resize(width, height, { fit: 'cover' }).png().toBuffer();
  } catch (error) {
    throw new OnbrandError('invalid_input', `The init image cannot be read: ${(error as Error).message}`, 'init');
  }
}

/**
 * KSampler's `steps` and `denoise` for img2img that walk exactly the sigmas the engine walks (as
 * A1111 does): the last t + 1 steps of a `steps`-step schedule, t = ⌊min(strength, 0.999) × steps⌋.
 * ComfyUI's `KSampler.set_steps` instead takes the last `steps` steps of an ⌊steps / denoise⌋-step
 * schedule, so `denoise = strength` would run all 25 steps of a 25-step job over a 45-step schedule;
 * asking for t + 1 steps with denoise (t + 1) / (steps + ½) makes that schedule `steps` long.
 */
export function comfyImg2img(steps: number, strength: number): { steps: number; denoise: number } {
  const run = Math.floor(Math.min(strength, 0.999) * steps) + 1;
  return { steps: run, denoise: run / (steps + 0.5) };
}

/**
 * What a ComfyUI KSampler with this `steps` and `denoise` (below 1) walks, as the engine's steps and
 * strength: the inverse of `comfyImg2img`, for anything that reads ComfyUI graphs (the test server).
 * Denoise above 0.9999 is ComfyUI's full schedule: strength 1.
 */
export function engineImg2img(steps: number, denoise: number): { steps: number; strength: number } {
  if (denoise > 0.9999) return { steps, strength: 1 };
  const total = Math.floor(steps / denoise);
  return { steps: total, strength: (steps - 0.5) / total };
}

/**
 * The API-format graph for one image of a job, the SaveImage node whose images are the result, and
 * the notes for the image's metadata (`Backend: ComfyUI "name" (note; note)`); no notes when
 * ComfyUI reads the job as Onbrand does. Throws MissingLoraError for a tag not in `job.loras`, and
 * the engine's PromptSyntaxError for a malformed tag or weight.
 */
export function toComfyGraph(job: ComfyJob): { graph: ComfyGraph; outputNode: string; notes: string[] } {
  const { settings } = job;
  const graph: ComfyGraph = {};
  const add = (class_type: string, inputs: Record<string, unknown>): string => {
    const id = String(Object.keys(graph).length + 1);
    graph[id] = { class_type, inputs };
    return id;
  };
  // As the engine: tags leave the text; the negative prompt's are removed and ignored.
  const positive = extractLoraTags(job.prompt);
  const negative = extractLoraTags(job.negativePrompt);
  const { sampler_name, scheduler } = comfySampler(settings.sampler, settings.scheduleType);

  const checkpoint = add('CheckpointLoaderSimple', { ckpt_name: job.ckptName });
  let model: [string, number] = [checkpoint, 0];
  let clip: [string, number] = [checkpoint, 1];
  const vae: [string, number] = [checkpoint, 2];
  for (const { name, weight } of positive.loras) {
    const loraName = Object.hasOwn(job.loras, name) ? job.loras[name] : undefined;
    if (loraName === undefined) throw new MissingLoraError(name, `<lora:${name}:${weight}>`);
    const lora = add('LoraLoader', { model, clip, lora_name: loraName, strength_model: weight, strength_clip: weight });
    model = [lora, 0];
    clip = [lora, 1];
  }

  const positiveText = comfyPromptText(positive.text);
  const negativeText = comfyPromptText(negative.text);
  const positiveNode = add('CLIPTextEncode', { text: positiveText.text, clip });
  let negativeNode = add('CLIPTextEncode', { text: negativeText.text, clip });
  if (job.zeroEmptyNegative && negative.text === '') negativeNode = add('ConditioningZeroOut', { conditioning: [negativeNode, 0] });

  let latent: string;
  if (job.init) {
    const image = add('LoadImage', { image: job.init.image });
    latent = add('VAEEncode', { pixels: [image, 0], vae });
  } else {
    latent = add('EmptyLatentImage', { width: settings.width, height: settings.height, batch_size: 1 });
  }
  const { steps, denoise } = job.init ? comfyImg2img(settings.steps, job.init.strength) : { steps: settings.steps, denoise: 1 };
  const sampled = add('KSampler', {
    model,
    seed: job.seed,
    steps,
    cfg: settings.cfg,
    sampler_name,
    scheduler,
    positive: [positiveNode, 0],
    negative: [negativeNode, 0],
    latent_image: [latent, 0],
    denoise,
  });
  const decoded = add('VAEDecode', { samples: [sampled, 0], vae });
  const outputNode = add('SaveImage', { images: [decoded, 0], filename_prefix: job.filenamePrefix });

  const notes = new Set([...positiveText.notes, ...negativeText.notes]);
  const noise = samplerNote(settings.sampler);
  if (noise) notes.add(noise);
  return { graph, outputNode, notes: [...notes] };
}
