/**
 * Drafting "five 25-word prompts, cinematic language, one camera verb, one lighting adjective":
 * offline from the brand skeleton and the vocabularies (deterministic per seed), or through any
 * OpenAI-compatible chat endpoint; every draft annotated against the brief.
 */
import { OnbrandError, type DraftAnnotations, type Skeleton } from '../api/index.js';
import { appPackage, mulberry32 } from '../util/index.js';
import { CAMERA_VERBS, CINEMATIC_NOUNS, LIGHTING_ADJECTIVES } from './vocabulary.js';

const WORD = /[\p{L}\p{N}'’-]+/gu;

/** Word count, camera verbs and lighting adjectives found, brand colours named, and what misses the brief. */
export function annotate(text: string, palette: readonly { name: string; hex: string }[]): DraftAnnotations {
  const lower = text.toLowerCase();
  const words = (
    text
      .replace(/<lora:[^>]*>/gi, ' ')
      .replace(/--ar\s+\S+/g, ' ')
      .match(WORD) ?? []
  ).length;
  // Inflections on the first word: "pans", "panned", "racks focus", "pushing in".
  const has = (term: string): boolean => {
    const [head, ...rest] = term.split(' ').map((w) => w.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&'));
    const tail = rest.length ? ` ${rest.join(' ')}` : '';
    return new RegExp(`(^|[^\\p{L}])${head}(s|es|ed|d|ing|ned|ning)?${tail}(?=$|[^\\p{L}])`, 'iu').test(lower);
  };
  const cameraVerbs = CAMERA_VERBS.filter(has);
  const lightingAdjectives = LIGHTING_ADJECTIVES.filter(has);
  const brandColours = palette.filter((c) => has(c.name.toLowerCase()) || lower.includes(c.hex.toLowerCase())).map((c) => c.name);
  const problems: string[] = [];
  if (words < 20 || words > 30) problems.push(`${words} words (aim for about 25)`);
  if (cameraVerbs.length !== 1)
    problems.push(cameraVerbs.length === 0 ? 'no camera verb' : `${cameraVerbs.length} camera verbs (${cameraVerbs.join(', ')}); keep one`);
  if (lightingAdjectives.length !== 1)
    problems.push(
      lightingAdjectives.length === 0
        ? 'no lighting adjective'
        : `${lightingAdjectives.length} lighting adjectives (${lightingAdjectives.join(', ')}); keep one`,
    );
  if (brandColours.length === 0) problems.push('no brand colour named');
  return { words, cameraVerbs, lightingAdjectives, brandColours, problems };
}

/** Seed 0 starts the generator at 1, as drafts always have (so saved seeds give the same drafts). */
function random(seed: number): () => number {
  return mulberry32(seed >>> 0 || 1);
}

/** Offline drafts: the same skeleton and seed give the same drafts; each meets the brief by construction. */
export function draftOffline(skeleton: Skeleton, n: number, seed: number): string[] {
  const rand = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const mood = skeleton.mood
    .split(/[/,]/)
    .map((m) => m.trim())
    .filter(Boolean);
  const colours = skeleton.palette.map((c) => c.name);
  const drafts: string[] = [];
  for (let i = 0; i < n; i++) {
    const subject = skeleton.subjects[(i + Math.floor(rand() * skeleton.subjects.length)) % skeleton.subjects.length] ?? 'portrait';
    const verb = pick(CAMERA_VERBS);
    const light = pick(LIGHTING_ADJECTIVES);
    const [c1, c2] = [pick(colours), pick(colours)];
    const feel = mood.length ? pick(mood) : 'confident';
    const nouns = [pick(CINEMATIC_NOUNS), pick(CINEMATIC_NOUNS)];
    const patterns = [
      `Camera ${third(verb)} toward ${a(`${feel} ${subject}`)}, ${light} light spilling ${c1} and ${c2} across ${nouns[0]}, shallow depth, 35 mm film, quiet ${nouns[1]} and bold city energy`,
      `${cap(a(`${feel} ${subject}`))} held close as the camera ${third(verb)} slowly, ${light} glow of ${c1} meeting ${c2}, floating ${nouns[0]}, crisp ${nouns[1]}, anamorphic lens, cinematic stillness`,
      `${light[0]!.toUpperCase()}${light.slice(1)} studio light on ${a(subject)}, the camera ${third(verb)} past ${c1} ${nouns[0]} into ${c2} ${nouns[1]}, ${feel} mood, editorial layout, fine grain, shallow focus`,
    ];
    drafts.push(fit(patterns[i % patterns.length]!, verb, light, 25));
  }
  return drafts;
}

const a = (phrase: string): string => `${/^[aeiou]/i.test(phrase) ? 'an' : 'a'} ${phrase}`;
const cap = (text: string): string => text[0]!.toUpperCase() + text.slice(1);

/** Third person: "push in" → "pushes in", "pan" → "pans". */
function third(verb: string): string {
  const [head, ...rest] = verb.split(' ');
  const h = head!;
  const conjugated = /(s|sh|ch|x|z)$/.test(h) ? `${h}es` : `${h}s`;
  return [conjugated, ...rest].join(' ');
}

/** Trims or pads with neutral cinematic words to about `target` words, keeping the verb and adjective. */
function fit(text: string, _verb: string, _light: string, target: number): string {
  const words = text.split(/\s+/);
  if (words.length > target + 3) return words.slice(0, target).join(' ').replace(/,$/, '');
  const pad = ['soft', 'contrast,', 'clean', 'composition'];
  while (words.length < target - 3) words.push(pad[words.length % pad.length]!);
  return words.join(' ');
}

export interface LlmConfig {
  baseUrl: string;
  model: string;
  apiKey: string | null;
  timeoutMs?: number;
}

/** A language model that could not be used; the message says why, plainly. */
export class LlmError extends OnbrandError {
  constructor(message: string) {
    super('io', message);
    this.name = 'LlmError';
  }
}

/** Drafts through an OpenAI-compatible `/chat/completions` endpoint (works with local servers). */
export async function draftWithLlm(config: LlmConfig, skeleton: Skeleton, n: number): Promise<string[]> {
  const prompt = [
    `Brand palette: ${skeleton.palette.map((c) => `${c.hex} ${c.name}`).join(', ')}`,
    `Mood: ${skeleton.mood || 'confident'}`,
    `Subject placeholders: {${skeleton.subjects.join(' | ')}}`,
    `Aspect: ${skeleton.aspect}`,
    '',
    `Give me ${n} 25-word prompts, cinematic language, one camera verb, one lighting adjective. One prompt per line, no numbering, no quotes.`,
  ].join('\n');
  const url = `${config.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      signal: AbortSignal.timeout(config.timeoutMs ?? 60_000),
      headers: {
        'content-type': 'application/json',
        'user-agent': `Onbrand/${appPackage().version}`,
        ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}),
      },
      body: JSON.stringify({
        model: config.model,
        messages: [
          { role: 'system', content: 'You write short, cinematic image-generation prompts.' },
          { role: 'user', content: prompt },
        ],
        temperature: 0.9,
      }),
    });
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `did not answer within ${Math.round((config.timeoutMs ?? 60_000) / 1000)} s`
        : `cannot be reached (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message})`;
    throw new LlmError(`The language model at ${config.baseUrl} ${reason}`);
  }
  if (response.status === 401 || response.status === 403)
    throw new LlmError(`The language model at ${config.baseUrl} refused the API key (HTTP ${response.status})`);
  if (!response.ok) throw new LlmError(`The language model at ${config.baseUrl} answered HTTP ${response.status}`);
  let content: unknown;
  try {
    content = ((await response.json()) as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content;
  } catch {
    content = undefined;
  }
  if (typeof content !== 'string')
    throw new LlmError(`The language model at ${config.baseUrl} answered something that is not a chat completion`);
  const lines = content
    .split('\n')
    .map((l) =>
      l
        .replace(/^\s*(\d+[.)]|[-*•])\s*/, '')
        .replace(/^["“]|["”]$/g, '')
        .trim(),
    )
    .filter((l) => l.split(/\s+/).length >= 5);
  if (lines.length === 0) throw new LlmError(`The language model at ${config.baseUrl} answered without any prompt`);
  return lines.slice(0, n);
}
