/**
 * The checks a designer's typed values get, once for both sides: the forms run them live and show
 * the message beside the field with the nearest value that passes; the core runs the very same
 * ones (the contract, the queue, the exporter) and refuses the input with the same words. Nothing
 * is clamped or rounded silently anywhere: a value that does not pass is named, never changed.
 */
import { sizeForAspect, type ModelFamily } from './aspects.js';
import { closeMatches } from './close-matches.js';
import { LORA_WEIGHT_RANGE, loraWeightValue, SETTING_LIMITS } from './limits.js';
import { NAME_TOKENS, type NameToken } from './presets.js';

export interface FieldProblem {
  /** What is wrong, in the designer's words, naming the field: "Width must be …". */
  message: string;
  /** The nearest value that passes: `label` is what to offer ("576"), `value` the field's whole new text. */
  fix?: { label: string; value: string };
}

/** The problem as one line, its fix offered: "Width must be … — use 576?". */
export function problemText(problem: FieldProblem): string {
  return problem.fix ? `${problem.message} — use ${problem.fix.label}?` : problem.message;
}

// ---- Sizes of generated images ----------------------------------------------------------------

const SIZE = SETTING_LIMITS.size;

/** The rule a generated image's side follows, as a message. */
export function sizeRule(label: string): string {
  return `${label} must be a multiple of ${SIZE.step} from ${SIZE.min} to ${SIZE.max} px`;
}

/** The side that passes nearest to `value`. */
export function nearestSize(value: number): number {
  if (!Number.isFinite(value)) return SIZE.min;
  return Math.min(SIZE.max, Math.max(SIZE.min, Math.round(value / SIZE.step) * SIZE.step));
}

/** A generated image's width or height, as typed (text) or sent (a number); null when it passes. */
export function sizeProblem(label: string, input: string | number): FieldProblem | null {
  const text = typeof input === 'number' ? String(input) : input.trim();
  const value = text === '' ? NaN : Number(text);
  if (!Number.isFinite(value)) return { message: sizeRule(label) };
  if (Number.isInteger(value) && value >= SIZE.min && value <= SIZE.max && value % SIZE.step === 0) return null;
  const nearest = String(nearestSize(value));
  return { message: sizeRule(label), fix: { label: nearest, value: nearest } };
}

// ---- Aspect ratios ----------------------------------------------------------------------------

/** The sides of `W:H` when both are 1 to 99, else null. */
function aspectSides(text: string): [number, number] | null {
  const match = /^(\d{1,2}):(\d{1,2})$/.exec(text);
  if (!match) return null;
  const sides: [number, number] = [Number(match[1]), Number(match[2])];
  return sides[0] > 0 && sides[1] > 0 ? sides : null;
}

function fits(aspect: string, family: ModelFamily): boolean {
  const { width, height } = sizeForAspect(aspect, family);
  return width <= SIZE.max && height <= SIZE.max && width >= SIZE.min && height >= SIZE.min;
}

/** The aspect with small sides (up to 16) nearest to `ratio` whose size passes. */
export function nearestAspect(ratio: number, family: ModelFamily = 'sd1'): string {
  let best = '1:1';
  let bestScore = Infinity;
  for (let a = 1; a <= 16; a++) {
    for (let b = 1; b <= 16; b++) {
      const aspect = `${a}:${b}`;
      // Ties go to the smaller sides (the loop meets them first): 16:9 rather than 32:18.
      const score = Math.abs(Math.log(a / b) - Math.log(ratio));
      if (score < bestScore - 1e-9 && fits(aspect, family)) {
        best = aspect;
        bestScore = score;
      }
    }
  }
  return best;
}

/**
 * An aspect ratio `W:H` (both sides 1 to 99) whose size (sizeForAspect) is one the queue takes;
 * null when it passes. `label` names where it was typed: "--ar", "Aspect".
 */
export function aspectProblem(label: string, input: string, family: ModelFamily = 'sd1'): FieldProblem | null {
  const text = input.trim();
  const sides = aspectSides(text);
  if (!sides) {
    const message = `${label} must be W:H with both sides from 1 to 99 (like 9:16), not "${text}"`;
    // "16x9", "1920:1080": the same ratio, written as it passes.
    const loose = /^(\d+)\s*[:x×/]\s*(\d+)$/i.exec(text);
    if (!loose || Number(loose[1]) === 0 || Number(loose[2]) === 0) return { message };
    const fixed = nearestAspect(Number(loose[1]) / Number(loose[2]), family);
    return { message, fix: { label: fixed, value: fixed } };
  }
  if (fits(text, family)) return null;
  const { width, height } = sizeForAspect(text, family);
  const side = width > SIZE.max ? 'width' : 'height';
  const fixed = nearestAspect(sides[0] / sides[1], family);
  return {
    message: `${label} ${text} makes ${width}×${height} px; the ${side} must be at most ${SIZE.max} px`,
    fix: { label: fixed, value: fixed },
  };
}

/** A prompt's or template's text without its `--ar`, and the aspect it asks for (null: none). */
export type AspectFlag = { text: string; aspect: string | null } | { problem: FieldProblem; at: number };

/**
 * Reads the `--ar W:H` a prompt or template ends with (its last words), checked as aspectProblem
 * checks it; `at` is where the flag starts, and a fix is the whole text with the nearest aspect.
 */
export function readAspectFlag(input: string, family: ModelFamily = 'sd1'): AspectFlag {
  const ar = /\s*--ar(?:\s+(\S*))?\s*$/.exec(input);
  if (ar) {
    const value = ar[1] ?? '';
    const at = ar.index + ar[0].indexOf('--ar');
    const problem = aspectProblem('--ar', value, family);
    if (!problem) return { text: input.slice(0, ar.index).trim(), aspect: value };
    if (!problem.fix) return { problem, at };
    return {
      at,
      problem: {
        message: problem.message,
        fix: { label: `--ar ${problem.fix.value}`, value: `${input.slice(0, at)}--ar ${problem.fix.value}` },
      },
    };
  }
  const stray = /(^|\s)--ar\b/.exec(input);
  if (stray) return { at: stray.index + stray[1]!.length, problem: { message: '--ar must come last, as --ar W:H' } };
  return { text: input.trim(), aspect: null };
}

// ---- LoRA names -------------------------------------------------------------------------------

/** The `<lora:name>` / `<lora:name:weight>` tags of a prompt: the name, where the tag starts, its length. */
export function loraTagSpans(prompt: string): { name: string; at: number; tag: string }[] {
  return [...prompt.matchAll(/<lora:([^>]*)>/gi)].map((m) => ({ name: m[1]!.split(':')[0]!.trim(), at: m.index, tag: m[0] }));
}

/** A tag's weight, when it has one, must be a number in the engine's range; the fix puts the nearest (or 0.8) in. */
function loraWeightProblem(
  label: string,
  prompt: string,
  { name, at, tag }: { name: string; at: number; tag: string },
): FieldProblem | null {
  const parts = tag.slice(1, -1).split(':');
  if (parts.length < 3) return null;
  const text = parts[2]!.trim();
  const value = loraWeightValue(text);
  const { min, max } = LORA_WEIGHT_RANGE;
  if (Number.isFinite(value) && value >= min && value <= max) return null;
  const nearest = Number.isFinite(value) ? String(Math.min(max, Math.max(min, value))) : '0.8';
  const message = Number.isFinite(value)
    ? `${label}: the LoRA ${name} at character ${at + 1} has the weight ${text}; it must be from ${min} to ${max}`
    : `${label}: the LoRA ${name} at character ${at + 1} has the weight "${text}", which is not a number (write <lora:${name}:0.8>)`;
  const fixedTag = `<${parts[0]}:${parts[1]}:${nearest}${parts.length > 3 ? `:${parts.slice(3).join(':')}` : ''}>`;
  return { message, fix: { label: nearest, value: prompt.slice(0, at) + fixedTag + prompt.slice(at + tag.length) } };
}

/**
 * Every LoRA a prompt names must be installed (names compare as the engine resolves them, case
 * aside); null when all are. The fix puts the closest installed name in the tag.
 */
export function loraProblem(label: string, prompt: string, installed: readonly string[]): FieldProblem | null {
  const open = prompt.search(/<lora:(?![^<>]*>)/i);
  if (open >= 0) return { message: `${label}: the LoRA tag at character ${open + 1} has no closing ">"` };
  for (const { name, at, tag } of loraTagSpans(prompt)) {
    if (name === '') return { message: `${label}: the LoRA tag at character ${at + 1} has no name (write <lora:Name:0.8>)` };
    const weight = loraWeightProblem(label, prompt, { name, at, tag });
    if (weight) return weight;
    if (installed.some((n) => n.toLowerCase() === name.toLowerCase())) continue;
    const close = closeMatches(name, installed, 1)[0];
    const listed = installed.length > 8 ? `${installed.slice(0, 8).join(', ')}, …` : installed.join(', ');
    const message =
      `${label}: no LoRA named "${name}" is installed` +
      (close ? '' : installed.length > 0 ? ` (installed: ${listed})` : " (none is: LoRA files go in the models folder's loras/)");
    if (!close) return { message };
    const fixedTag = tag.replace(/^(<lora:\s*)[^:>]*/i, `$1${close}`);
    return { message, fix: { label: close, value: prompt.slice(0, at) + fixedTag + prompt.slice(at + tag.length) } };
  }
  return null;
}

// ---- Export name templates --------------------------------------------------------------------

const TOKEN_LIST = NAME_TOKENS.map((t) => `{${t}}`).join(', ');

/** An export name template uses only NAME_TOKENS, each in one pair of braces; null when it does. */
export function nameTemplateProblem(template: string): FieldProblem | null {
  const text = template.trim();
  if (text === '') return { message: `Name template is empty; use tokens such as ${TOKEN_LIST}` };
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '}') return { message: `Name template, character ${i + 1}: "}" has no "{" before it` };
    if (text[i] !== '{') continue;
    const end = text.indexOf('}', i + 1);
    const nested = text.indexOf('{', i + 1);
    if (end < 0 || (nested >= 0 && nested < end)) return { message: `Name template, character ${i + 1}: "{" is never closed` };
    const token = text.slice(i + 1, end);
    if (!(NAME_TOKENS as readonly string[]).includes(token)) {
      const message = `Name template: {${token}} is not a token; the tokens are ${TOKEN_LIST}`;
      const close = closeMatches(token, NAME_TOKENS, 1)[0];
      return close ? { message, fix: { label: `{${close}}`, value: `${text.slice(0, i)}{${close}}${text.slice(end + 1)}` } } : { message };
    }
    i = end;
  }
  return null;
}

/** What fills a name template's tokens for one image. */
export interface NameValues {
  projectName: string;
  section: string;
  colour: string;
  seed: number | null;
  rating: number;
  /** 1-based place in the export. */
  index: number;
}

/** Fills a (checked) name template; unsafe characters become "-", the extension is always .jpg. */
export function fillNameTemplate(template: string, v: NameValues, now = new Date()): string {
  const tokens: Record<NameToken, string> = {
    yyyymmdd: `${now.getFullYear()}${String(now.getMonth() + 1).padStart(2, '0')}${String(now.getDate()).padStart(2, '0')}`,
    section: v.section,
    colour: v.colour,
    seed: v.seed === null ? 'noseed' : String(v.seed),
    rating: String(v.rating),
    index: String(v.index).padStart(2, '0'),
    project: v.projectName,
  };
  const filled = template.replace(/\{(\w+)\}/g, (whole, key: string) => tokens[key as NameToken] ?? whole);
  const stem =
    filled
      // The export is a JPEG: another image extension typed in the template gives way to .jpg.
      .replace(/\.(jpe?g|png|webp|tiff?|gif|heic|avif)$/i, '')
      .replace(/[^\w.-]+/g, '-')
      .replace(/-{2,}/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '') || 'export';
  return `${stem.slice(0, 180)}.jpg`;
}
