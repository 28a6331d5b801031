/**
 * Drafting "five 25-word prompts, cinematic language, one camera verb, one lighting adjective":
 * offline from the brand skeleton and the vocabularies (deterministic per seed), or through any
 * OpenAI-compatible chat endpoint; every draft annotated against the brief (brief.ts).
 */
import { OnbrandError, type Skeleton } from '../api/index.js';
import { baseColourName, proseColourNames } from '../common/index.js';
import { appPackage, mulberry32 } from '../util/index.js';
import { BRIEF, briefTerms, countWords } from './brief.js';
import { and, capitalise, clause, nounPhrase, pronoun, type NounPhrase, type Verb } from './grammar.js';
import { CAMERA_VERB_FORMS, CAMERA_VERBS, FINISHING_PHRASES, LIGHTING_ADJECTIVES, SURFACE_NOUNS, type CameraVerb } from './vocabulary.js';

export { annotate } from './brief.js';

/** Seed 0 starts the generator at 1, as drafts always have (so saved seeds give the same drafts). */
function random(seed: number): () => number {
  return mulberry32(seed >>> 0 || 1);
}

const CAMERA: NounPhrase = { text: 'the camera', plural: false };
const CATCH: Verb = { singular: 'catches', plural: 'catch' };
/** Words a draft may repeat (the rest it says once). */
const FUNCTION_WORDS = new Set(['a', 'an', 'the', 'and', 'in', 'on', 'of', 'to', 'as', 'it', 'them', 'at', 'up', 'down']);

/** What one draft says, chosen before it is written. */
interface Slots {
  subject: NounPhrase;
  verb: (typeof CAMERA_VERB_FORMS)[CameraVerb];
  /** Null when the subject or a colour name already carries the draft's one lighting adjective. */
  light: string | null;
  /** One or two prose colour names, never two alike. */
  colours: string[];
  surfaces: [string, string];
  feel: string | null;
}

/** A part of a draft, between commas; optional ones go first when a draft runs long. */
interface Part {
  text: string;
  optional?: boolean;
}

const cameraVerb = (s: Slots): Verb => ({ singular: s.verb.third, plural: s.verb.base });
const lightPhrase = (s: Slots): string =>
  s.light ? `${s.light} ${s.light === 'backlit' || s.light === 'rim-lit' ? 'glow' : 'light'}` : 'light';
const moodPart = (s: Slots): Part[] => (s.feel ? [{ text: `${s.feel} mood`, optional: true }] : []);

/** The sentence shapes drafts take; each names the subject, one camera verb, the light once and the colours once. */
const FRAMES: ((s: Slots) => Part[])[] = [
  // The camera dollies toward a portrait, neon light spilling teal and magenta across the haze, …
  (s) => [
    { text: clause(CAMERA, cameraVerb(s), s.verb.to, s.subject.text) },
    { text: `${lightPhrase(s)} spilling ${and(s.colours)} across the ${s.surfaces[0]}` },
    ...moodPart(s),
  ],
  // Sneakers on a bench catch hazy light in teal and yellow as the camera glides past them, …
  (s) => [
    {
      text: `${clause(s.subject, CATCH, lightPhrase(s), 'in', and(s.colours))} as ${clause(CAMERA, cameraVerb(s), s.verb.to, pronoun(s.subject))}`,
    },
    ...moodPart(s),
  ],
  // Golden studio light on a portrait, teal haze against magenta chrome, the camera pushes in slowly, …
  (s) => [
    { text: `${s.light ? `${s.light} studio light` : 'studio light'} on ${s.subject.text}` },
    { text: `${s.colours[0]} ${s.surfaces[0]} against ${s.colours[1] ?? 'the'} ${s.surfaces[1]}` },
    { text: clause(CAMERA, cameraVerb(s), s.verb.alone) },
    ...moodPart(s),
  ],
  // A device close-up in dappled light, the camera tilts up slowly, teal and yellow reflections behind it, …
  (s) => [
    { text: `${s.subject.text} in ${lightPhrase(s)}` },
    { text: clause(CAMERA, cameraVerb(s), s.verb.alone) },
    { text: `${and(s.colours)} ${s.surfaces[0]} behind ${pronoun(s.subject)}` },
    ...moodPart(s),
  ],
];

const contentWords = (text: string): string[] =>
  (text.toLowerCase().match(/[\p{L}\p{N}'’-]+/gu) ?? []).filter((w) => !FUNCTION_WORDS.has(w));
const hasNoTerms = (text: string): boolean => {
  const t = briefTerms(text);
  return t.cameraVerbs.length === 0 && t.lightingAdjectives.length === 0;
};

/**
 * Offline drafts: the same skeleton and seed give the same drafts. Each is built to meet the brief
 * as `annotate` checks it: the subject, mood and colours it names carry no camera verb or lighting
 * adjective of their own (or lend the draft its one), every colour is named once and by a name
 * that reads ("pale teal", never "teal 2"), verbs agree with their subjects, and finishing touches
 * bring it to about 25 words. Only a skeleton whose every subject breaks the brief by itself (or a
 * palette with no colour) can give a draft the annotations fault.
 */
export function draftOffline(skeleton: Skeleton, n: number, seed: number): string[] {
  const rand = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const shuffled = <T>(list: readonly T[]): T[] => {
    const out = [...list];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };

  const given = skeleton.subjects.map((s) => s.trim()).filter(Boolean);
  const fits = (text: string): boolean => {
    const t = briefTerms(text);
    return t.cameraVerbs.length <= BRIEF.cameraVerbs && t.lightingAdjectives.length <= BRIEF.lightingAdjectives;
  };
  const subjects = given.filter(fits).length > 0 ? given.filter(fits) : given.length > 0 ? given : ['portrait'];
  const moods = skeleton.mood
    .split(/[/,]/)
    .map((m) => m.trim())
    .filter((m) => m && hasNoTerms(m));
  // Each colour by its prose name, with the words of its palette name: two that share one ("teal",
  // "teal 2"; "jet black", "off-black") are never named together.
  const prose = proseColourNames(skeleton.palette).map((name, i) => ({
    name,
    words: new Set([...contentWords(name), ...contentWords(baseColourName(skeleton.palette[i]!.name))].flatMap((w) => w.split('-'))),
  }));
  const plainColours = prose.filter((c) => hasNoTerms(c.name));
  const colours = plainColours.length > 0 ? plainColours : prose;

  const subjectStart = Math.floor(rand() * subjects.length);
  const frameStart = Math.floor(rand() * FRAMES.length);
  const drafts: string[] = [];
  for (let i = 0; i < n; i++) {
    const subject = subjects[(subjectStart + i) % subjects.length]!;
    // Colours that, with the subject, still leave at most one camera verb and one lighting adjective.
    const fitting = colours.filter((c) => fits(`${subject}, ${c.name}`));
    const pool = fitting.length > 0 ? fitting : colours;
    const first = pool.length ? pick(pool) : null;
    const partners = first
      ? pool.filter((c) => ![...c.words].some((w) => first.words.has(w)) && fits(`${subject}, ${first.name}, ${c.name}`))
      : [];
    const named = (first === null ? [] : partners.length > 0 ? [first, pick(partners)] : [first]).map((c) => c.name);
    // A camera verb or lighting adjective the subject or a colour already says is the draft's one.
    const carried = briefTerms([subject, ...named].join(', '));
    const verb = CAMERA_VERB_FORMS[carried.cameraVerbs[0] ?? pick(CAMERA_VERBS)];
    const light = carried.lightingAdjectives.length > 0 ? null : pick(LIGHTING_ADJECTIVES);
    const used = new Set(contentWords([subject, ...named].join(' ')));
    const surfaces = shuffled(SURFACE_NOUNS.filter((s) => !used.has(s)));
    const slots: Slots = {
      subject: nounPhrase(subject),
      verb,
      light,
      colours: named,
      surfaces: [surfaces[0]!, surfaces[1]!],
      feel: moods.length ? pick(moods) : null,
    };
    drafts.push(write(FRAMES[(frameStart + i) % FRAMES.length]!(slots), rand, shuffled));
  }
  return drafts;
}

/** The parts joined, shortened by their optional parts if long, then finished to about 25 words. */
function write(parts: Part[], rand: () => number, shuffled: <T>(list: readonly T[]) => T[]): string {
  let kept = parts;
  const text = (ps: Part[]): string => ps.map((p) => p.text).join(', ');
  while (countWords(text(kept)) > BRIEF.words.max && kept.some((p) => p.optional))
    kept = kept.filter((p) => p !== kept.findLast((q) => q.optional));
  const { target, min, max } = BRIEF.words;
  const aim = target - 2 + Math.floor(rand() * 5);
  let words = countWords(text(kept));
  const said = new Set(contentWords(text(kept)));
  const finishing: Part[] = [];
  const add = (phrase: string, upTo: number): void => {
    const n = countWords(phrase);
    if (words + n > upTo || contentWords(phrase).some((w) => said.has(w))) return;
    finishing.push({ text: phrase });
    contentWords(phrase).forEach((w) => said.add(w));
    words += n;
  };
  const pool = shuffled(FINISHING_PHRASES);
  for (const phrase of pool) if (words < aim) add(phrase, aim);
  for (const phrase of pool) if (words < min) add(phrase, max);
  const all = [...kept, ...finishing];
  return capitalise(text(all));
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

/** Why a connection failed, in words (the system's code kept for a search). */
function unreachable(cause: { code?: string; message?: string } | undefined): string {
  const code = cause?.code;
  const words: Record<string, string> = {
    ECONNREFUSED: 'nothing answers at that address and port',
    ENOTFOUND: 'no computer has that name',
    EAI_AGAIN: 'the name could not be looked up (no network?)',
    ECONNRESET: 'the connection was dropped',
    ETIMEDOUT: 'the connection timed out',
    EHOSTUNREACH: 'that computer cannot be reached from here',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed',
    CERT_HAS_EXPIRED: 'its certificate has expired',
  };
  if (code) return `${words[code] ?? 'the connection failed'} (${code})`;
  // fetch refuses ports browsers block (1, 22, 25, 6000, …) before connecting.
  if (cause?.message === 'bad port') return 'that port is one web requests may not use; the server needs another port';
  return cause?.message ? `the connection failed (${cause.message})` : 'the connection failed';
}

/** The endpoint's chat completions URL. */
export function chatUrl(config: LlmConfig): string {
  return `${config.baseUrl.replace(/\/+$/, '')}/chat/completions`;
}

/**
 * POSTs a chat completion request (`model` is added) to the configured endpoint with its key;
 * no answer in `timeoutMs`, or none at all, is an LlmError that says which.
 */
export async function postChat(config: LlmConfig, body: Record<string, unknown>, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(chatUrl(config), {
      method: 'POST',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': `Onbrand/${appPackage().version}`,
        ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}),
      },
      body: JSON.stringify({ model: config.model, ...body }),
    });
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `did not answer within ${Math.round(timeoutMs / 1000)} s`
        : `cannot be reached: ${unreachable((error as { cause?: { code?: string; message?: string } }).cause)}`;
    throw new LlmError(`The language model at ${config.baseUrl} ${reason}.`);
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
  const response = await postChat(
    config,
    {
      messages: [
        { role: 'system', content: 'You write short, cinematic image-generation prompts.' },
        { role: 'user', content: prompt },
      ],
      temperature: 0.9,
    },
    config.timeoutMs ?? 60_000,
  );
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
