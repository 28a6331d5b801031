/**
 * A1111's prompt syntax: attention weights, ported from `parse_prompt_attention` in
 * `modules/prompt_parser.py` (same results, float for float), and `<lora:name:weight>` tags.
 * Pure TypeScript.
 */
import { OnbrandError } from '../api/index.js';
import { LORA_WEIGHT_RANGE, loraWeightValue } from '../common/index.js';

/** A run of prompt text and its attention weight. */
export interface PromptPiece {
  text: string;
  weight: number;
}

/** A problem in the prompt, with the 0-based character position where it starts. */
export class PromptSyntaxError extends OnbrandError {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super('invalid_input', message, 'prompt');
    this.name = 'PromptSyntaxError';
  }
}

/** A1111 marks a `BREAK` with this piece: text `BREAK`, weight -1. */
export const BREAK_TEXT = 'BREAK';
export const BREAK_WEIGHT = -1;

/**
 * Whether a piece is a chunk break. A1111 tests exactly this, so a `BREAK` inside brackets (whose -1
 * got multiplied) is tokenized as the word "break"; we keep that quirk.
 */
export function isBreak(piece: PromptPiece): boolean {
  return piece.text === BREAK_TEXT && piece.weight === BREAK_WEIGHT;
}

const ROUND_MULTIPLIER = 1.1;
const SQUARE_MULTIPLIER = 1 / 1.1;

/** Python's `\s` (str.isspace), which A1111's patterns mean; JavaScript's `\s` differs at the edges. */
const PY_SPACE = String.raw`[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]`;
/** Python's `\w` for str patterns: letters, numbers, underscore. */
const PY_WORD = String.raw`[\p{L}\p{N}_]`;

/**
 * A1111's `re_attention`, alternative for alternative (`\d` is Python's Unicode digit, `\p{Nd}`).
 * Every character matches some alternative, so `matchAll` walks the whole text.
 */
const ATTENTION = new RegExp(
  String.raw`\\\(|\\\)|\\\[|\\\]|\\\\|\\|\(|\[|:${PY_SPACE}*([+-]?[.\p{Nd}]+)${PY_SPACE}*\)|\)|\]|[^\\()\[\]:]+|:`,
  'gu',
);
/** A1111's `re_break`, `\s*\bBREAK\b\s*`, with Python's word boundary spelled out. */
const BREAK_SPLIT = new RegExp(`${PY_SPACE}*(?<!${PY_WORD})BREAK(?!${PY_WORD})${PY_SPACE}*`, 'u');

/**
 * Splits a prompt into pieces with attention weights, as A1111 does: `(x)` ×1.1, `[x]` ÷1.1,
 * `(x:1.3)` ×1.3, `\(` `\)` `\[` `\]` `\\` literal, unclosed brackets applied to the end,
 * unmatched closers kept as text, `BREAK` as its own piece, adjacent equal weights merged.
 */
export function parsePromptAttention(text: string): PromptPiece[] {
  const pieces: PromptPiece[] = [];
  const round: number[] = [];
  const square: number[] = [];
  const multiplyFrom = (start: number, multiplier: number): void => {
    for (let p = start; p < pieces.length; p++) pieces[p]!.weight *= multiplier;
  };
  for (const match of text.matchAll(ATTENTION)) {
    const token = match[0];
    const weight = match[1];
    if (token.startsWith('\\')) pieces.push({ text: token.slice(1), weight: 1 });
    else if (token === '(') round.push(pieces.length);
    else if (token === '[') square.push(pieces.length);
    else if (weight !== undefined && round.length > 0) multiplyFrom(round.pop()!, pythonFloat(weight, match.index));
    else if (token === ')' && round.length > 0) multiplyFrom(round.pop()!, ROUND_MULTIPLIER);
    else if (token === ']' && square.length > 0) multiplyFrom(square.pop()!, SQUARE_MULTIPLIER);
    else pushWithBreaks(pieces, token);
  }
  for (const start of round) multiplyFrom(start, ROUND_MULTIPLIER);
  for (const start of square) multiplyFrom(start, SQUARE_MULTIPLIER);
  if (pieces.length === 0) return [{ text: '', weight: 1 }];
  return mergeEqualWeights(pieces);
}

/** Plain text, with a break piece wherever `BREAK` stands as a word. */
function pushWithBreaks(pieces: PromptPiece[], text: string): void {
  text.split(BREAK_SPLIT).forEach((part, i) => {
    if (i > 0) pieces.push({ text: BREAK_TEXT, weight: BREAK_WEIGHT });
    pieces.push({ text: part, weight: 1 });
  });
}

/** Joins neighbours whose weights are exactly equal (A1111 compares floats with `==`). */
function mergeEqualWeights(pieces: PromptPiece[]): PromptPiece[] {
  const merged: PromptPiece[] = [];
  for (const piece of pieces) {
    const last = merged.at(-1);
    if (last !== undefined && last.weight === piece.weight) last.text += piece.text;
    else merged.push({ ...piece });
  }
  return merged;
}

/**
 * Python's `float()` of a `[+-]?[.\d]+` match: Unicode digits count, and `1.2.3` or `.` is an error
 * (A1111 raises ValueError there).
 */
function pythonFloat(text: string, position: number): number {
  const value = Number(text.replace(/\p{Nd}/gu, (digit) => String(digitValue(digit.codePointAt(0)!))));
  if (Number.isNaN(value)) throw new PromptSyntaxError(`Attention weight "${text}" at character ${position + 1} is not a number`, position);
  return value;
}

/** A decimal digit's value: Unicode encodes each Nd block as runs of 0–9, so count from the run's start. */
function digitValue(codePoint: number): number {
  const isDigit = (cp: number): boolean => /\p{Nd}/u.test(String.fromCodePoint(cp));
  let start = codePoint;
  while (isDigit(start - 1)) start--;
  return (codePoint - start) % 10;
}

/** A LoRA named in the prompt and its strength. */
export interface LoraTag {
  name: string;
  weight: number;
}

export const LORA_WEIGHT_MIN = LORA_WEIGHT_RANGE.min;
export const LORA_WEIGHT_MAX = LORA_WEIGHT_RANGE.max;

const LORA_OPEN = /<lora:/gi;

/**
 * Removes `<lora:name:weight>` and `<lora:name>` (weight 1) tags from a prompt, as A1111 does before
 * parsing attention (the tag is replaced by nothing; the text around it is left as it was).
 * Tags are returned in prompt order, repeats included. `<lora:` is matched in any case.
 */
export function extractLoraTags(prompt: string): { text: string; loras: LoraTag[] } {
  const loras: LoraTag[] = [];
  let text = '';
  let from = 0;
  for (const open of prompt.matchAll(LORA_OPEN)) {
    if (open.index < from) continue;
    const end = prompt.indexOf('>', open.index);
    if (end < 0) throw new PromptSyntaxError(`LoRA tag at character ${open.index + 1} has no closing ">"`, open.index);
    loras.push(parseLoraTag(prompt.slice(open.index, end + 1), open.index));
    text += prompt.slice(from, open.index);
    from = end + 1;
  }
  return { text: text + prompt.slice(from), loras };
}

/** One `<lora:…>` tag → name and weight; errors name the tag and its position. */
function parseLoraTag(tag: string, position: number): LoraTag {
  const fail = (problem: string): never => {
    throw new PromptSyntaxError(`LoRA tag ${tag} at character ${position + 1}: ${problem}`, position);
  };
  const args = tag.slice('<lora:'.length, -1).split(':');
  const name = args[0]!.trim();
  if (name === '') fail('the name is empty');
  if (args.length > 2) fail('expected <lora:name> or <lora:name:weight>');
  if (args.length === 1) return { name, weight: 1 };
  const weightText = args[1]!.trim();
  const weight = loraWeightValue(weightText);
  if (Number.isNaN(weight)) fail(`the weight "${weightText}" is not a number`);
  if (weight < LORA_WEIGHT_MIN || weight > LORA_WEIGHT_MAX) fail(`the weight ${weight} is outside ${LORA_WEIGHT_MIN}..${LORA_WEIGHT_MAX}`);
  return { name, weight };
}
