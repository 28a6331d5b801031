/** Generation parameters in A1111's text format, so A1111, ComfyUI and exiftool read them back. */
import { SAMPLER_NAMES, SCHEDULE_TYPES } from '../common/index.js';

export interface GenerationParameters {
  prompt: string;
  negativePrompt: string;
  steps: number;
  sampler: string;
  /** A1111's `Schedule type` (`SGM Uniform`, `Karras`); absent or `Automatic` writes none, as before schedule types. */
  scheduleType?: string | undefined;
  cfg: number;
  seed: number;
  width: number;
  height: number;
  modelHash: string;
  modelName: string;
  /** img2img only. */
  denoisingStrength?: number;
  /** A1111's `Lora hashes`: `name: hash, name2: hash2`. */
  loraHashes?: string;
  /** More `Key: value` pairs, written after `Lora hashes` and before `Version` (A1111's place for extras), in order. */
  extra?: readonly (readonly [string, string | number])[];
  version: string;
}

/** The `parameters` text: prompt, `Negative prompt: …`, then `Key: value` pairs on one line. */
export function formatParameters(p: GenerationParameters): string {
  const scheduled = p.scheduleType !== undefined && p.scheduleType !== 'Automatic';
  // A1111 1.9 and later: the sampler's plain name, then its schedule ("DPM++ 2M, Schedule type: Karras").
  const sampler: [string, string][] = scheduled
    ? [
        ['Sampler', p.sampler.replace(/ Karras$/, '')],
        ['Schedule type', p.scheduleType!],
      ]
    : [['Sampler', p.sampler]];
  const pairs: [string, string | number][] = [
    ['Steps', p.steps],
    ...sampler,
    ['CFG scale', p.cfg],
    ['Seed', p.seed],
    ['Size', `${p.width}x${p.height}`],
    ['Model hash', p.modelHash],
    ['Model', p.modelName],
  ];
  if (p.denoisingStrength !== undefined) pairs.push(['Denoising strength', p.denoisingStrength]);
  // A1111's order: RNG, then extra parameters such as Lora hashes, then Version.
  pairs.push(['RNG', 'CPU']);
  if (p.loraHashes) pairs.push(['Lora hashes', p.loraHashes]);
  for (const [key, value] of p.extra ?? []) pairs.push([key, value]);
  pairs.push(['Version', `onbrand ${p.version}`]);
  return formatParameterText(p.prompt, p.negativePrompt, pairs);
}

/**
 * A1111 text from its parts, for parameters that came from elsewhere (an imported ComfyUI or
 * InvokeAI image): only the pairs given, in their order, values quoted as A1111 quotes them.
 */
export function formatParameterText(
  prompt: string,
  negativePrompt: string,
  pairs: readonly (readonly [string, string | number])[],
): string {
  const line = pairs.map(([k, v]) => `${k}: ${quote(String(v))}`).join(', ');
  return [prompt, ...(negativePrompt ? [`Negative prompt: ${negativePrompt}`] : []), ...(line ? [line] : [])].join('\n');
}

/** A1111 quotes values that contain a comma, colon or quote. */
function quote(value: string): string {
  return /[,:"\n]/.test(value) ? JSON.stringify(value) : value;
}

/**
 * The sampler and schedule type of A1111 pairs. A1111 before 1.9 folds Karras into the sampler's
 * name ("DPM++ 2M Karras"); 1.9 and later write the plain name and `Schedule type: Karras` (and
 * `Schedule type: Automatic` for the sampler's own). A Karras schedule on a sampler we have a Karras
 * variant of reads as that variant; `Automatic` or no schedule type gives null (the sampler's own);
 * our schedule types come back spelled as ours, others as written.
 */
export function readSampler(values: Record<string, string>): { sampler: string | null; scheduleType: string | null } {
  const sampler = values.Sampler?.trim() || null;
  const written = values['Schedule type']?.trim() || null;
  if (written === null) return { sampler, scheduleType: null };
  const key = written.toLowerCase().replace(/[\s_-]/g, '');
  const scheduleType = SCHEDULE_TYPES.find((t) => t.toLowerCase().replace(/\s/g, '') === key) ?? written;
  if (scheduleType === 'Automatic') return { sampler, scheduleType: null };
  const combined = `${sampler} ${scheduleType}`;
  if (sampler !== null && (SAMPLER_NAMES as readonly string[]).includes(combined)) return { sampler: combined, scheduleType: null };
  return { sampler, scheduleType };
}

/**
 * Reads A1111 `parameters` text back: prompt, negative prompt and the key/value pairs. The pairs are
 * on the last line that starts with `Steps: `; extensions (Dynamic Prompts' `Template:`) may add
 * lines after it, which are left out of the prompt.
 */
export function parseParameters(text: string): { prompt: string; negativePrompt: string; values: Record<string, string> } {
  const lines = text.split('\n');
  let pairsAt = -1;
  for (let i = lines.length - 1; i >= 0 && pairsAt < 0; i--) if (/^\s*Steps: /.test(lines[i]!)) pairsAt = i;
  const hasPairs = pairsAt >= 0;
  const body = hasPairs ? lines.slice(0, pairsAt) : lines;
  const negIndex = body.findIndex((l) => l.startsWith('Negative prompt:'));
  const prompt = (negIndex >= 0 ? body.slice(0, negIndex) : body).join('\n');
  const negativePrompt =
    negIndex >= 0
      ? body
          .slice(negIndex)
          .join('\n')
          .replace(/^Negative prompt:\s?/, '')
      : '';
  return { prompt, negativePrompt, values: hasPairs ? parsePairs(lines[pairsAt]!) : {} };
}

/**
 * `Key: value, Key: "quoted, value", …` in one pass (the text may come from any file, so no
 * pattern that backtracks over a long line). A key is the run of letters, digits, `_` and spaces
 * before its colon.
 */
function parsePairs(line: string): Record<string, string> {
  const values: Record<string, string> = {};
  let i = 0;
  while (i < line.length) {
    const colon = line.indexOf(':', i);
    if (colon < 0) break;
    let keyStart = colon;
    while (keyStart > i && /[\w ]/.test(line[keyStart - 1]!)) keyStart--;
    const key = line.slice(keyStart, colon).trim();
    let v = colon + 1;
    while (line[v] === ' ') v++;
    let value: string | null = null;
    if (line[v] === '"') {
      let j = v + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      let after = j + 1;
      while (line[after] === ' ') after++;
      if (j < line.length && (after >= line.length || line[after] === ',')) {
        value = unquote(line.slice(v, j + 1));
        i = after + 1;
      }
    }
    if (value === null) {
      const comma = line.indexOf(',', v);
      const end = comma < 0 ? line.length : comma;
      value = line.slice(v, end).trim();
      i = end + 1;
    }
    if (key) values[key] = value;
  }
  return values;
}

/** A quoted A1111 value; one that is not valid JSON (a stray backslash) is kept as written, quotes dropped. */
function unquote(raw: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw.slice(1, -1);
  }
}
