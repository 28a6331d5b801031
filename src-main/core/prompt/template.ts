/**
 * Prompt templates: literal text, `{a|b|c}` alternatives, named placeholders `{subject}` filled
 * from lists, `<lora:name:w>` tags kept as they are, and a `--ar W:H` suffix that sets the size.
 * Expansion is combinatorial (every combination, in order) or seeded-random; errors name the
 * position in the template.
 */
import { OnbrandError } from '../api/index.js';
import { problemText, readAspectFlag } from '../common/index.js';
import { extractLoraTags } from '../diffusion/index.js';

type Part = { kind: 'text'; text: string } | { kind: 'choice'; options: string[] } | { kind: 'list'; name: string; position: number };

/** A template that cannot be expanded: the message names the character (from 1) and what is wrong there. */
export class TemplateError extends OnbrandError {
  constructor(
    readonly position: number,
    detail: string,
  ) {
    super('invalid_input', `Template, character ${position + 1}: ${detail}`, 'template');
    this.name = 'TemplateError';
  }
}

export interface ParsedTemplate {
  parts: Part[];
  aspect: string | null;
}

export function parseTemplate(template: string, lists: Readonly<Record<string, readonly string[]>>): ParsedTemplate {
  // `--ar` is read (and its size checked) as a queued prompt's is, so a preview that shows means a queue that takes it.
  const trimmed = template.trim();
  const flag = readAspectFlag(trimmed);
  if ('problem' in flag) throw new TemplateError(flag.at, problemText(flag.problem));
  const aspect = flag.aspect;
  const body = aspect === null ? trimmed : trimmed.slice(0, trimmed.lastIndexOf('--ar')).trimEnd();
  const parts: Part[] = [];
  let text = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '}') throw new TemplateError(i, '"}" has no matching "{"');
    if (c !== '{') {
      text += c;
      continue;
    }
    const end = body.indexOf('}', i + 1);
    const nested = body.indexOf('{', i + 1);
    if (end < 0) throw new TemplateError(i, '"{" is never closed');
    if (nested >= 0 && nested < end) throw new TemplateError(nested, '"{" inside another "{…}"');
    const inner = body.slice(i + 1, end);
    if (text) parts.push({ kind: 'text', text });
    text = '';
    if (inner.includes('|')) {
      const options = inner.split('|').map((o) => o.trim());
      if (options.some((o) => o === '')) throw new TemplateError(i, `"{${inner}}" has an empty alternative`);
      parts.push({ kind: 'choice', options });
    } else {
      const name = inner.trim().toLowerCase();
      if (!name) throw new TemplateError(i, '"{}" is empty');
      if (!lists[name]) throw new TemplateError(i, `no list named "${name}" (lists: ${Object.keys(lists).join(', ')})`);
      parts.push({ kind: 'list', name, position: i });
    }
    i = end;
  }
  if (text) parts.push({ kind: 'text', text });
  return { parts, aspect };
}

function choices(part: Part, lists: Readonly<Record<string, readonly string[]>>): readonly string[] {
  if (part.kind === 'text') return [part.text];
  if (part.kind === 'choice') return part.options;
  return lists[part.name]!;
}

/** How many prompts the template makes. */
export function countTemplate(parsed: ParsedTemplate, lists: Readonly<Record<string, readonly string[]>>): number {
  return parsed.parts.reduce((n, p) => n * choices(p, lists).length, 1);
}

/** Every combination in order (the last placeholder varies fastest), up to `limit`. */
export function expandAll(parsed: ParsedTemplate, lists: Readonly<Record<string, readonly string[]>>, limit = 500): string[] {
  const sets = parsed.parts.map((p) => choices(p, lists));
  const total = sets.reduce((n, s) => n * s.length, 1);
  const out: string[] = [];
  for (let k = 0; k < Math.min(total, limit); k++) {
    let rest = k;
    const picked: string[] = new Array(sets.length);
    for (let i = sets.length - 1; i >= 0; i--) {
      const set = sets[i]!;
      picked[i] = set[rest % set.length]!;
      rest = Math.floor(rest / set.length);
    }
    out.push(tidy(picked.join('')));
  }
  return out;
}

/** `count` seeded picks (the same seed gives the same prompts). */
export function expandRandom(
  parsed: ParsedTemplate,
  lists: Readonly<Record<string, readonly string[]>>,
  count: number,
  seed: number,
): string[] {
  let state = seed >>> 0 || 0x9e3779b9;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () =>
    tidy(
      parsed.parts
        .map((p) => {
          const c = choices(p, lists);
          return c[Math.floor(random() * c.length)]!;
        })
        .join(''),
    ),
  );
}

function tidy(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/\s+,/g, ',').trim();
}

/** The LoRA tags a template carries (validated). */
export function templateLoras(template: string): { name: string; weight: number }[] {
  return extractLoraTags(template).loras;
}
