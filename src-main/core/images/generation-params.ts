/**
 * Generation parameters inside an imported image, from the tools a designer is likely to bring:
 * A1111 and its forks (and Onbrand itself: the `parameters` PNG text, or EXIF UserComment in JPEG
 * and WebP), ComfyUI (the API-format node graph in the `prompt` PNG text) and InvokeAI
 * (`invokeai_metadata`, and the older `sd-metadata`). Whatever the source, the result carries A1111
 * text, the form Onbrand stores and export writes, so an imported generation travels on like one
 * made here. Damaged or foreign metadata gives null: the image still imports, without parameters.
 */
import path from 'node:path';
import { loraTags } from '../common/index.js';
import { formatParameterText, parseParameters, readPngText, readSampler } from '../diffusion/index.js';
import { readExifText } from './exif-text.js';

export type Generator = 'a1111' | 'comfyui' | 'invokeai';

export interface GenerationLora {
  name: string;
  /** Null when the source names the LoRA without its weight (A1111 `Lora hashes` only). */
  weight: number | null;
}

export interface ImportedGeneration {
  generator: Generator;
  /** A1111 text: as found in A1111-style files, composed from the parts for ComfyUI and InvokeAI. */
  parameters: string;
  /** Null when absent, or beyond what a JavaScript number holds exactly (2^53). */
  seed: number | null;
  prompt: string;
  negativePrompt: string;
  steps: number | null;
  /** The sampler as A1111 names it, Karras folded in where we have that variant ("DPM++ 2M Karras"). */
  sampler: string | null;
  /** A1111's `Schedule type` when it is not the sampler's own (`SGM Uniform`); null for `Automatic` or none. */
  scheduleType: string | null;
  cfg: number | null;
  model: string | null;
  loras: GenerationLora[];
}

/** Longer parameter text is not taken: export's EXIF UserComment holds about 32,000 characters. */
export const MAX_PARAMETERS_CHARS = 30_000;
/** Links followed from a sampler node before giving up (a real graph needs a handful). */
const MAX_LINK_DEPTH = 16;

interface ImageFacts {
  format: string;
  width: number;
  height: number;
  /** The raw EXIF block, as sharp's metadata() returns it. */
  exif?: Buffer | undefined;
}

/** The parameters of an imported image, or null when it has none that can be read. */
export function readGeneration(bytes: Buffer, image: ImageFacts): ImportedGeneration | null {
  const candidates: (() => ImportedGeneration | null)[] = [];
  if (image.format === 'png') {
    let text: Record<string, string> = {};
    try {
      text = readPngText(bytes);
    } catch {
      // Not a PNG after all: no text chunks.
    }
    if (text.parameters !== undefined) candidates.push(() => fromA1111(text.parameters!));
    if (text.invokeai_metadata !== undefined) candidates.push(() => fromInvokeAi(text.invokeai_metadata!, image));
    if (text['sd-metadata'] !== undefined) candidates.push(() => fromInvokeAiLegacy(text['sd-metadata']!, image));
    if (text.prompt !== undefined) candidates.push(() => fromComfyUi(text.prompt!, image));
  }
  const exif = readExifText(image.exif);
  if (exif.userComment !== null) candidates.push(() => fromA1111(exif.userComment!));
  if (exif.imageDescription !== null) candidates.push(() => fromA1111(exif.imageDescription!));

  for (const candidate of candidates) {
    try {
      const found = candidate();
      if (found && found.parameters.length <= MAX_PARAMETERS_CHARS && !garbled(found.parameters)) return found;
    } catch {
      // Not JSON, not the expected shape: this source has nothing usable; try the next.
    }
  }
  return null;
}

/** Control characters (other than tab and newline) or U+FFFD: bytes that were never text. */
function garbled(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || c === 0x7f || c === 0xfffd) return true;
  }
  return false;
}

// ---- A1111 ------------------------------------------------------------------------------------

/** A1111 text, recognised by its `Steps: …` line (every A1111 version writes it). */
function fromA1111(raw: string): ImportedGeneration | null {
  const text = raw.replace(/\r\n?/g, '\n');
  const { prompt, negativePrompt, values } = parseParameters(text);
  if (values.Steps === undefined) return null;
  const loras = loraTags(prompt);
  if (loras.length === 0 && values['Lora hashes']) {
    for (const entry of values['Lora hashes'].split(',')) {
      const name = entry.split(':')[0]!.trim();
      if (name) loras.push({ name, weight: null });
    }
  }
  return {
    generator: 'a1111',
    parameters: text,
    seed: seedOf(values.Seed),
    prompt,
    negativePrompt,
    steps: numberOf(values.Steps),
    ...readSampler(values),
    cfg: numberOf(values['CFG scale']),
    model: values.Model ?? null,
    loras,
  };
}

// ---- ComfyUI ----------------------------------------------------------------------------------

type Inputs = Record<string, unknown>;
interface ComfyNode {
  class_type: string;
  inputs: Inputs;
}
type Graph = Map<string, ComfyNode>;
type Link = [string, number];

/**
 * ComfyUI's API graph: the sampler node (KSampler, KSamplerAdvanced and look-alikes; the first
 * full-strength one when a graph has a second hires pass), its prompts followed through the
 * conditioning links to the text encoders, its model through the LoRA loaders to the checkpoint.
 */
function fromComfyUi(raw: string, image: ImageFacts): ImportedGeneration | null {
  const parsed: unknown = JSON.parse(raw);
  if (!isRecord(parsed)) return null;
  const graph: Graph = new Map();
  for (const [id, node] of Object.entries(parsed)) {
    if (isRecord(node) && typeof node.class_type === 'string' && isRecord(node.inputs))
      graph.set(id, { class_type: node.class_type, inputs: node.inputs });
  }
  const samplers = [...graph.entries()]
    .filter(([, n]) => /KSampler/i.test(n.class_type) && isLink(n.inputs.positive))
    .sort(([a, x], [b, y]) => Number(partial(x)) - Number(partial(y)) || Number(a) - Number(b) || a.localeCompare(b));
  if (samplers.length === 0) return null;
  const sampler = samplers[0]![1];

  const seed = seedOf(scalar(graph, sampler.inputs, 'seed') ?? scalar(graph, sampler.inputs, 'noise_seed'));
  const steps = numberOf(scalar(graph, sampler.inputs, 'steps'));
  if (steps === null) return null;
  const cfg = numberOf(scalar(graph, sampler.inputs, 'cfg'));
  const samplerName = stringOf(scalar(graph, sampler.inputs, 'sampler_name'));
  const scheduler = stringOf(scalar(graph, sampler.inputs, 'scheduler'));
  const denoise = numberOf(scalar(graph, sampler.inputs, 'denoise'));
  const prompt = promptText(graph, sampler.inputs.positive) ?? '';
  const negativePrompt = promptText(graph, sampler.inputs.negative) ?? '';
  const { model, loras } = modelChain(graph, sampler.inputs.model);
  const named = samplerName === null ? null : a1111Sampler(samplerName, scheduler);

  const pairs: [string, string | number][] = [['Steps', steps]];
  if (named) pairs.push(['Sampler', named.sampler]);
  if (named?.scheduleType) pairs.push(['Schedule type', named.scheduleType]);
  if (cfg !== null) pairs.push(['CFG scale', cfg]);
  if (seed !== null) pairs.push(['Seed', seed]);
  pairs.push(['Size', `${image.width}x${image.height}`]);
  if (model) pairs.push(['Model', model]);
  if (denoise !== null && denoise < 1) pairs.push(['Denoising strength', denoise]);
  pairs.push(['Version', 'ComfyUI']);
  return {
    generator: 'comfyui',
    parameters: formatParameterText(withLoraTags(prompt, loras), negativePrompt, pairs),
    seed,
    prompt,
    negativePrompt,
    steps,
    sampler: named?.sampler ?? null,
    scheduleType: named?.scheduleType ?? null,
    cfg,
    model,
    loras,
  };
}

/** A sampler that only refines (denoise below 1) sorts after one that starts from noise. */
function partial(node: ComfyNode): boolean {
  const denoise = node.inputs.denoise;
  return typeof denoise === 'number' && denoise < 1;
}

function isLink(value: unknown): value is Link {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    (typeof value[0] === 'string' || typeof value[0] === 'number') &&
    typeof value[1] === 'number'
  );
}

/** An input's value, following links to the node that holds it (a primitive or a seed node). */
function scalar(graph: Graph, inputs: Inputs, key: string, depth = 0): string | number | null {
  const value = inputs[key];
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (!isLink(value) || depth >= MAX_LINK_DEPTH) return null;
  const source = graph.get(String(value[0]));
  if (!source) return null;
  for (const name of [key, 'value', 'seed', 'int', 'float', 'string', 'text', 'number']) {
    if (name in source.inputs) {
      const found = scalar(graph, source.inputs, name, depth + 1);
      if (found !== null) return found;
    }
  }
  return null;
}

/** The text behind a conditioning link: the encoder's `text` (`text_g` for SDXL's), through combine and ControlNet nodes. */
function promptText(graph: Graph, link: unknown, depth = 0): string | null {
  if (!isLink(link) || depth >= MAX_LINK_DEPTH) return null;
  const node = graph.get(String(link[0]));
  if (!node) return null;
  for (const key of ['text', 'text_g', 'prompt']) {
    if (key in node.inputs) {
      const text = scalar(graph, node.inputs, key);
      if (typeof text === 'string') return text;
    }
  }
  for (const [key, value] of Object.entries(node.inputs)) {
    if (!/conditioning|positive|negative/i.test(key)) continue;
    const text = promptText(graph, value, depth + 1);
    if (text !== null) return text;
  }
  return null;
}

/** The checkpoint behind a sampler's model link, and the LoRAs loaded on the way, in load order. */
function modelChain(graph: Graph, link: unknown): { model: string | null; loras: GenerationLora[] } {
  const loras: GenerationLora[] = [];
  let next = link;
  for (let depth = 0; depth < MAX_LINK_DEPTH && isLink(next); depth++) {
    const node = graph.get(String(next[0]));
    if (!node) break;
    const checkpoint = stringOf(node.inputs.ckpt_name) ?? stringOf(node.inputs.unet_name);
    if (checkpoint !== null) return { model: stem(checkpoint), loras: loras.reverse() };
    const lora = stringOf(node.inputs.lora_name);
    if (lora !== null) loras.push({ name: stem(lora), weight: numberOf(node.inputs.strength_model ?? node.inputs.strength) });
    next = node.inputs.model;
  }
  return { model: null, loras: loras.reverse() };
}

// ---- InvokeAI ---------------------------------------------------------------------------------

/** InvokeAI 3 and later: `invokeai_metadata`, one flat JSON object. */
function fromInvokeAi(raw: string, image: ImageFacts): ImportedGeneration | null {
  const m: unknown = JSON.parse(raw);
  if (!isRecord(m)) return null;
  const prompt = stringOf(m.positive_prompt);
  if (prompt === null) return null;
  const model = isRecord(m.model) ? (stringOf(m.model.name) ?? stringOf(m.model.model_name)) : stringOf(m.model);
  const loras: GenerationLora[] = [];
  for (const entry of Array.isArray(m.loras) ? m.loras : []) {
    if (!isRecord(entry)) continue;
    const ref = isRecord(entry.model) ? entry.model : isRecord(entry.lora) ? entry.lora : null;
    const name = ref ? (stringOf(ref.name) ?? stringOf(ref.model_name)) : null;
    if (name) loras.push({ name, weight: numberOf(entry.weight) });
  }
  const version = stringOf(m.app_version);
  return invokeAi(
    {
      prompt,
      negativePrompt: stringOf(m.negative_prompt) ?? '',
      seed: seedOf(m.seed),
      steps: numberOf(m.steps),
      cfg: numberOf(m.cfg_scale),
      scheduler: stringOf(m.scheduler),
      model,
      loras,
    },
    sizeOf(m, image),
    version ? `InvokeAI ${version}` : 'InvokeAI',
  );
}

/** InvokeAI 2: `sd-metadata`, the settings under `image`, the prompt as text or weighted parts. */
function fromInvokeAiLegacy(raw: string, image: ImageFacts): ImportedGeneration | null {
  const m: unknown = JSON.parse(raw);
  if (!isRecord(m) || !isRecord(m.image)) return null;
  const settings = m.image;
  const prompt = Array.isArray(settings.prompt)
    ? settings.prompt
        .map((p) => (isRecord(p) ? stringOf(p.prompt) : null))
        .filter((p): p is string => p !== null)
        .join(' ')
    : stringOf(settings.prompt);
  if (prompt === null) return null;
  const version = stringOf(m.app_version);
  return invokeAi(
    {
      prompt,
      negativePrompt: '',
      seed: seedOf(settings.seed),
      steps: numberOf(settings.steps),
      cfg: numberOf(settings.cfg_scale),
      scheduler: stringOf(settings.sampler),
      model: stringOf(m.model_weights),
      loras: [],
    },
    sizeOf(settings, image),
    version ? `InvokeAI ${version}` : 'InvokeAI',
  );
}

interface InvokeAiParts {
  prompt: string;
  negativePrompt: string;
  seed: number | null;
  steps: number | null;
  cfg: number | null;
  scheduler: string | null;
  model: string | null;
  loras: GenerationLora[];
}

function invokeAi(p: InvokeAiParts, size: string, version: string): ImportedGeneration | null {
  if (p.steps === null) return null;
  // InvokeAI names a scheduler with its Karras variant as `dpmpp_2m_k`; version 2 as `k_dpmpp_2`.
  const karras = p.scheduler !== null && /_k$/.test(p.scheduler);
  const named = p.scheduler === null ? null : a1111Sampler(p.scheduler.replace(/_k$/, ''), karras ? 'karras' : null);
  const pairs: [string, string | number][] = [['Steps', p.steps]];
  if (named) pairs.push(['Sampler', named.sampler]);
  if (p.cfg !== null) pairs.push(['CFG scale', p.cfg]);
  if (p.seed !== null) pairs.push(['Seed', p.seed]);
  pairs.push(['Size', size]);
  if (p.model) pairs.push(['Model', p.model]);
  pairs.push(['Version', version]);
  return {
    generator: 'invokeai',
    parameters: formatParameterText(withLoraTags(p.prompt, p.loras), p.negativePrompt, pairs),
    seed: p.seed,
    prompt: p.prompt,
    negativePrompt: p.negativePrompt,
    steps: p.steps,
    sampler: named?.sampler ?? null,
    scheduleType: null,
    cfg: p.cfg,
    model: p.model,
    loras: p.loras,
  };
}

function sizeOf(m: Record<string, unknown>, image: ImageFacts): string {
  const width = numberOf(m.width);
  const height = numberOf(m.height);
  return width !== null && height !== null ? `${width}x${height}` : `${image.width}x${image.height}`;
}

// ---- Shared -----------------------------------------------------------------------------------

/** k-diffusion / ComfyUI / InvokeAI sampler names → A1111's. Unknown names are kept as written. */
const A1111_SAMPLERS: Record<string, string> = {
  euler: 'Euler',
  euler_ancestral: 'Euler a',
  euler_a: 'Euler a',
  heun: 'Heun',
  dpm_2: 'DPM2',
  kdpm_2: 'DPM2',
  dpm_2_ancestral: 'DPM2 a',
  dpm_2_a: 'DPM2 a',
  kdpm_2_a: 'DPM2 a',
  lms: 'LMS',
  dpm_fast: 'DPM fast',
  dpm_adaptive: 'DPM adaptive',
  dpmpp_2s_ancestral: 'DPM++ 2S a',
  dpmpp_2s: 'DPM++ 2S a',
  dpmpp_2: 'DPM++ 2M',
  dpmpp_sde: 'DPM++ SDE',
  dpmpp_sde_gpu: 'DPM++ SDE',
  dpmpp_2m: 'DPM++ 2M',
  dpmpp_2m_sde: 'DPM++ 2M SDE',
  dpmpp_2m_sde_gpu: 'DPM++ 2M SDE',
  dpmpp_3m_sde: 'DPM++ 3M SDE',
  dpmpp_3m_sde_gpu: 'DPM++ 3M SDE',
  ddim: 'DDIM',
  plms: 'PLMS',
  uni_pc: 'UniPC',
  unipc: 'UniPC',
  lcm: 'LCM',
  restart: 'Restart',
};

/** ComfyUI scheduler names → A1111's `Schedule type` labels (modules/sd_schedulers.py). Unknown names are kept as written. */
const A1111_SCHEDULES: Record<string, string> = {
  sgm_uniform: 'SGM Uniform',
  ddim_uniform: 'DDIM',
  beta: 'Beta',
  kl_optimal: 'KL Optimal',
  align_your_steps: 'Align Your Steps',
};

/** A1111 folds the Karras and exponential schedules into the sampler's name; others go in `Schedule type`, as A1111 labels them. */
function a1111Sampler(name: string, scheduler: string | null): { sampler: string; scheduleType: string | null } {
  const key = name.toLowerCase().replace(/^k_/, '');
  const sampler = A1111_SAMPLERS[key] ?? name;
  const schedule = scheduler?.toLowerCase() ?? 'normal';
  if (schedule === 'karras') return { sampler: `${sampler} Karras`, scheduleType: null };
  if (schedule === 'exponential') return { sampler: `${sampler} Exponential`, scheduleType: null };
  if (schedule === 'normal' || schedule === 'simple' || schedule === '') return { sampler, scheduleType: null };
  return { sampler, scheduleType: A1111_SCHEDULES[schedule] ?? scheduler };
}

/** A1111's convention for LoRAs from elsewhere: a `<lora:name:weight>` tag in the prompt for each not already there. */
function withLoraTags(prompt: string, loras: readonly GenerationLora[]): string {
  const present = new Set(loraTags(prompt).map((l) => l.name));
  const tags = loras.filter((l) => !present.has(l.name)).map((l) => `<lora:${l.name}:${l.weight ?? 1}>`);
  return [prompt, ...tags].filter((part) => part !== '').join(' ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOf(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function numberOf(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : null;
}

/** A seed the catalogue can hold exactly: a whole number from 0 to 2^53 − 1. */
function seedOf(value: unknown): number | null {
  const n = typeof value === 'string' && /^\d{1,20}$/.test(value.trim()) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** A model file's name without folder or extension, as A1111 names models and LoRAs. */
function stem(file: string): string {
  const base = path.basename(file.replace(/\\/g, '/'));
  return base.replace(/\.(safetensors|ckpt|pt|pth|bin|gguf|sft)$/i, '');
}
