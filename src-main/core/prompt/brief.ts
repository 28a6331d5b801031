/**
 * The brief drafts are held to, and the one check of it: "five 25-word prompts, cinematic
 * language, one camera verb, one lighting adjective", naming a brand colour and, where the
 * skeleton has subjects, one of them. The annotations every draft shows come from `annotate`; the
 * offline drafter builds to the same numbers and the same word finders, so what it drafts passes.
 */
import type { DraftAnnotations } from '../api/index.js';
import { proseColourNames } from '../common/index.js';
import { CAMERA_VERB_FORMS, CAMERA_VERBS, LIGHTING_ADJECTIVES, type CameraVerb } from './vocabulary.js';

export const BRIEF = {
  /** About 25 words: 20 to 30 pass. */
  words: { target: 25, min: 20, max: 30 },
  cameraVerbs: 1,
  lightingAdjectives: 1,
} as const;

const WORD = /[\p{L}\p{N}'’-]+/gu;

/** Words as the brief counts them: LoRA tags and `--ar` left out; "close-up" and "35" are one word each. */
export function countWords(text: string): number {
  return (
    text
      .replace(/<lora:[^>]*>/gi, ' ')
      .replace(/--ar\s+\S+/g, ' ')
      .match(WORD) ?? []
  ).length;
}

const escape = (s: string): string => s.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&');
/** A word or phrase standing on its own (not inside another word), any case. */
const phrase = (words: readonly string[]): RegExp =>
  new RegExp(`(?<![\\p{L}])(?:${words.map((w) => escape(w).replace(/ /g, '\\s+')).join('|')})(?![\\p{L}])`, 'iu');

const VERB_PATTERNS = CAMERA_VERBS.map((verb) => {
  const f = CAMERA_VERB_FORMS[verb];
  return [verb, phrase([f.base, f.third, f.past, f.ing])] as const;
});
const ADJECTIVE_PATTERNS = LIGHTING_ADJECTIVES.map((adjective) => [adjective, phrase([adjective])] as const);

/** The camera verbs (any form: "pans", "panned", "racking focus") and lighting adjectives in a text. */
export function briefTerms(text: string): { cameraVerbs: CameraVerb[]; lightingAdjectives: string[] } {
  return {
    cameraVerbs: VERB_PATTERNS.filter(([, p]) => p.test(text)).map(([v]) => v),
    lightingAdjectives: ADJECTIVE_PATTERNS.filter(([, p]) => p.test(text)).map(([a]) => a),
  };
}

/**
 * The palette's colours a text names, by their palette name ("teal 2"), the name drafts write
 * ("pale teal") or their hex; the longest name found first, so "deep teal" is not also "teal".
 */
export function brandColoursIn(text: string, palette: readonly { name: string; hex: string }[]): string[] {
  const prose = proseColourNames(palette);
  const aliases = palette
    .flatMap((c, i) => [c.name, prose[i]!, c.hex].map((alias) => ({ alias: alias.trim(), index: i })))
    .filter((a) => a.alias.length > 0)
    .sort((a, b) => b.alias.length - a.alias.length);
  let rest = text;
  const found = new Set<number>();
  for (const { alias, index } of aliases) {
    const pattern = new RegExp(phrase([alias]).source, 'giu');
    if (!pattern.test(rest)) continue;
    found.add(index);
    rest = rest.replace(pattern, (m) => ' '.repeat(m.length));
  }
  return palette.filter((_, i) => found.has(i)).map((c) => c.name);
}

/**
 * Word count, camera verbs and lighting adjectives found, brand colours named, and what misses the
 * brief. `subjects` (the skeleton's) adds "names one of them" to the brief when there are any.
 */
export function annotate(
  text: string,
  palette: readonly { name: string; hex: string }[],
  subjects: readonly string[] = [],
): DraftAnnotations {
  const words = countWords(text);
  const { cameraVerbs, lightingAdjectives } = briefTerms(text);
  const brandColours = brandColoursIn(text, palette);
  const problems: string[] = [];
  if (words < BRIEF.words.min || words > BRIEF.words.max) problems.push(`${words} words (aim for about ${BRIEF.words.target})`);
  if (cameraVerbs.length !== BRIEF.cameraVerbs)
    problems.push(cameraVerbs.length === 0 ? 'no camera verb' : `${cameraVerbs.length} camera verbs (${cameraVerbs.join(', ')}); keep one`);
  if (lightingAdjectives.length !== BRIEF.lightingAdjectives)
    problems.push(
      lightingAdjectives.length === 0
        ? 'no lighting adjective'
        : `${lightingAdjectives.length} lighting adjectives (${lightingAdjectives.join(', ')}); keep one`,
    );
  if (brandColours.length === 0) problems.push('no brand colour named');
  const named = subjects.map((s) => s.trim()).filter(Boolean);
  if (named.length > 0 && !phrase(named).test(text)) problems.push(`no subject from the skeleton (${named.join(', ')})`);
  return { words, cameraVerbs, lightingAdjectives, brandColours, problems };
}
