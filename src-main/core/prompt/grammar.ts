/**
 * The little grammar drafts are written in: noun phrases that know their number, and verbs that
 * agree with them. A clause is built from a subject and a verb's forms, so "the camera dollies"
 * and "sneakers catch" come out of the structure, never from patching strings.
 */

export interface NounPhrase {
  /** As written in the middle of a sentence: "a portrait", "sneakers on a bench", "the camera". */
  text: string;
  plural: boolean;
}

/** A verb's present tense, by the number of its subject. */
export interface Verb {
  singular: string;
  plural: string;
}

const DETERMINERS = new Set(['a', 'an', 'the', 'this', 'that', 'these', 'those', 'my', 'your', 'his', 'her', 'its', 'our', 'their']);
const PLURAL_DETERMINERS = new Set(['two', 'three', 'four', 'five', 'six', 'several', 'many', 'some', 'both', 'few', 'these', 'those']);
const PREPOSITIONS = new Set(['in', 'on', 'at', 'with', 'of', 'under', 'over', 'by', 'near', 'against', 'from', 'for', 'beside', 'behind']);
const IRREGULAR_PLURALS = new Set(['people', 'children', 'men', 'women', 'feet', 'teeth', 'mice', 'geese']);
const SINGULAR_S = /(ss|us|is|ics|news)$/;

/** Whether a subject as a designer types it ("sneakers on a bench", "two friends", "phone in hand") is plural. */
export function isPlural(subject: string): boolean {
  const words = subject.trim().toLowerCase().split(/\s+/);
  if (PLURAL_DETERMINERS.has(words[0]!)) return true;
  const end = words.findIndex((w, i) => i > 0 && PREPOSITIONS.has(w));
  const head = words.slice(0, end === -1 ? words.length : end).filter((w, i) => i === 0 || !w.endsWith('ing'));
  const noun = head[head.length - 1] ?? '';
  return IRREGULAR_PLURALS.has(noun) || (noun.length > 2 && noun.endsWith('s') && !SINGULAR_S.test(noun));
}

/** "a" or "an" by how the next word sounds ("an abstract shape", "a unique", "an hour"). */
export function article(next: string): 'a' | 'an' {
  const w = next.toLowerCase();
  if (/^(hour|honest|honou?r|heir)/.test(w)) return 'an';
  if (/^(uni|use|usu|eu|one|once|ur[aeiou])/.test(w)) return 'a';
  return /^[aeiou]/.test(w) ? 'an' : 'a';
}

/** A noun phrase for a subject: "a portrait", "an abstract shape", plural ones bare ("sneakers on a bench"). */
export function nounPhrase(subject: string): NounPhrase {
  const text = subject.trim().replace(/\s+/g, ' ');
  const plural = isPlural(text);
  const first = text.split(' ')[0]!.toLowerCase();
  if (plural || DETERMINERS.has(first)) return { text, plural };
  return { text: `${article(text)} ${text}`, plural };
}

/** "it" or "them", as the noun phrase stands in for. */
export function pronoun(np: NounPhrase): string {
  return np.plural ? 'them' : 'it';
}

/** Subject and verb, agreeing: ("the camera", dollies) → "the camera dollies"; (sneakers, catch) → "sneakers catch". */
export function clause(subject: NounPhrase, verb: Verb, ...rest: string[]): string {
  return [subject.text, subject.plural ? verb.plural : verb.singular, ...rest].filter(Boolean).join(' ');
}

/** "teal", "teal and magenta". */
export function and(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export const capitalise = (text: string): string => (text ? text[0]!.toUpperCase() + text.slice(1) : text);
