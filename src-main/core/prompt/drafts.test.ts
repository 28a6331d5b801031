/**
 * A thousand offline drafts, read as a designer would: each meets the brief by the app's own
 * annotations, reads grammatically (camera verbs spelled and agreeing, "a"/"an" right, plural
 * subjects without "a"), and names colours plainly (no "teal 2", no "black and black", no word
 * twice in a row, no doubled spaces or punctuation). The lists of good forms here are written out
 * by hand, not taken from the drafter, so a wrong form in its vocabulary fails.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PALETTE } from '../api/index.js';
import { plainColourName } from '../common/index.js';
import { annotate, draftOffline } from './drafts.js';

type Colour = { name: string; hex: string };

/** Names as "Use as brand palette" gives them: a plain colour name, made unique with a number ("teal 2"). */
function boardPalette(hexes: string[]): Colour[] {
  const names = new Set<string>();
  return hexes.map((hex) => {
    let name = plainColourName(hex);
    if (names.has(name)) {
      let n = 2;
      while (names.has(`${name} ${n}`)) n++;
      name = `${name} ${n}`;
    }
    names.add(name);
    return { name, hex };
  });
}

const PALETTES: Colour[][] = [
  [...DEFAULT_PALETTE],
  boardPalette(['#0A0A0A', '#00E0FF', '#00B3C7', '#FFFFFF']),
  boardPalette(['#000000']),
  boardPalette(['#00E0FF', '#0A8F9E']),
  boardPalette(['#050505', '#FAFAFA']),
  boardPalette(['#111111', '#050505', '#F5F5F5', '#FE2C54', '#FFD500', '#00E0FF']),
  [
    { name: 'Signal red', hex: '#E10600' },
    { name: 'Midnight', hex: '#0B1E3F' },
    { name: 'Paper', hex: '#F4F1EA' },
  ],
  boardPalette(['#00E0FF', '#007A8A', '#5FF5FF', '#000000', '#0F0F0F']),
];

/** Every subject, with whether it is plural (for "a", and for the verb that follows it). */
const SUBJECTS: Record<string, boolean> = {
  portrait: false,
  'device close-up': false,
  'abstract shape': false,
  'phone in hand': false,
  'sneakers on a bench': true,
  'two friends laughing': true,
};

const MOODS = ['hopeful / rebellious finance', 'moody, dramatic', 'calm', '', 'playful / warm / soft', 'sweeping, epic'];

/** Camera verbs in the third person singular ("the camera dollies"), spelled out by hand. */
const CAMERA_THIRD = new Set([
  'dollies',
  'pans',
  'tilts',
  'tracks',
  'orbits',
  'cranes',
  'pushes',
  'pulls',
  'zooms',
  'glides',
  'sweeps',
  'racks',
  'frames',
  'drifts',
  'swoops',
]);
/** Every good form of the camera verbs; any other word that starts like one is a misspelling ("dollys", "pushs"). */
const CAMERA_FORMS = new Set([
  ...CAMERA_THIRD,
  ...['dolly', 'dollied', 'dollying', 'pan', 'panned', 'panning', 'tilt', 'tilted', 'tilting', 'track', 'tracked', 'tracking'],
  ...['orbit', 'orbited', 'orbiting', 'crane', 'craned', 'craning', 'push', 'pushed', 'pushing', 'pull', 'pulled', 'pulling'],
  ...['zoom', 'zoomed', 'zooming', 'glide', 'glided', 'gliding', 'sweep', 'swept', 'sweeping', 'rack', 'racked', 'racking'],
  ...['frame', 'framed', 'framing', 'drift', 'drifted', 'drifting', 'swoop', 'swooped', 'swooping'],
]);
const CAMERA_STEM = /^(doll|pan|tilt|track|orbit|cran|push|pull|zoom|glid|sweep|swept|rack|fram|drift|swoop)/;
/** Verbs that may follow a subject, singular and plural. */
const AGREEMENT: Record<string, 'singular' | 'plural'> = Object.fromEntries(
  ['catch', 'sit', 'stand', 'hold', 'glow', 'rest', 'meet', 'take', 'fill', 'float', 'shine', 'wear', 'stay', 'turn', 'wait'].flatMap(
    (v) => [
      [v, 'plural'],
      [/(ch|sh|s|x|z)$/.test(v) ? `${v}es` : `${v}s`, 'singular'],
    ],
  ),
) as Record<string, 'singular' | 'plural'>;

const PLAIN_COLOURS = ['black', 'white', 'grey', 'brown', 'pink', 'red', 'orange', 'yellow', 'green', 'teal', 'blue', 'purple', 'magenta'];
const escape = (s: string): string => s.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&');
const occurrences = (text: string, phrase: string): number =>
  (text.match(new RegExp(`(?<![\\p{L}])${escape(phrase)}(?![\\p{L}])`, 'giu')) ?? []).length;

/** What reads wrong in one draft, by check; empty when it reads right. */
function misreadings(draft: string, palette: Colour[], subjects: Record<string, boolean>): string[] {
  const found: string[] = [];
  const lower = draft.toLowerCase();
  const subjectNames = Object.keys(subjects);
  if (annotate(draft, palette, subjectNames).problems.length > 0) found.push('brief');
  const words = lower.match(/[\p{L}\p{N}'’-]+/gu) ?? [];
  if (words.some((w, i) => w === words[i + 1])) found.push('word twice in a row');
  const colourWords = new Set([...PLAIN_COLOURS, ...palette.map((c) => c.name.toLowerCase().replace(/\s+\d+$/, ''))]);
  if ([...colourWords].some((c) => new RegExp(`(?<![\\p{L}])${escape(c)}\\s*\\d`, 'iu').test(draft))) found.push('numbered colour');
  if ([...colourWords].some((c) => occurrences(draft, c) > 1)) found.push('colour named twice');
  const cameraWords = [...lower.matchAll(/\bcamera (\p{L}+)/gu)].map((m) => m[1]!);
  if (cameraWords.length === 0 || cameraWords.some((w) => !CAMERA_THIRD.has(w))) found.push('camera verb');
  if (words.some((w) => CAMERA_STEM.test(w) && !CAMERA_FORMS.has(w))) found.push('misspelt verb');
  for (const [subject, plural] of Object.entries(subjects)) {
    for (const m of lower.matchAll(new RegExp(`(?<![\\p{L}])${escape(subject)} (\\p{L}+)`, 'gu'))) {
      const number = AGREEMENT[m[1]!];
      if (number && number !== (plural ? 'plural' : 'singular')) found.push('agreement');
    }
    if (plural && new RegExp(`\\ban? ${escape(subject)}`).test(lower)) found.push('"a" before a plural');
  }
  if (/\ba [aeiou]/i.test(draft) || /\ban [^aeiouh\s]/i.test(draft)) found.push('a/an');
  if (/\s{2,}|[,;:.]\s*[,;:.]|\s[,;:.!?]|^\s|\s$|[,;:]$/.test(draft)) found.push('spaces or punctuation');
  return found;
}

describe('offline drafts, a thousand of them', () => {
  it('each meets the brief and reads like a person wrote it', () => {
    const failures: Record<string, number> = {};
    const examples: Record<string, string> = {};
    const seen = { subjects: new Set<string>(), palettes: new Set<number>(), moods: new Set<string>(), agreeing: new Set<string>() };
    let total = 0;
    for (let call = 0; call < 200; call++) {
      const paletteIndex = call % PALETTES.length;
      const palette = PALETTES[paletteIndex]!;
      const mood = MOODS[Math.floor(call / PALETTES.length) % MOODS.length]!;
      const seed = (call * 2_654_435_761) >>> 0;
      const skeleton = { projectId: 1, mood, subjects: Object.keys(SUBJECTS), aspect: '9:16', palette };
      const drafts = draftOffline(skeleton, 5, seed);
      expect(draftOffline(skeleton, 5, seed)).toEqual(drafts);
      for (const draft of drafts) {
        total++;
        for (const problem of misreadings(draft, palette, SUBJECTS)) {
          failures[problem] = (failures[problem] ?? 0) + 1;
          examples[problem] ??= draft;
        }
        for (const [subject, plural] of Object.entries(SUBJECTS)) {
          if (!draft.toLowerCase().includes(subject)) continue;
          seen.subjects.add(subject);
          const next = new RegExp(`${escape(subject)} (\\p{L}+)`, 'u').exec(draft.toLowerCase())?.[1];
          if (next && AGREEMENT[next]) seen.agreeing.add(plural ? 'plural' : 'singular');
        }
      }
      seen.palettes.add(paletteIndex);
      seen.moods.add(mood);
    }
    expect(total).toBe(1000);
    expect({ failures, examples }).toEqual({ failures: {}, examples: {} });
    expect([...seen.subjects].sort()).toEqual(Object.keys(SUBJECTS).sort());
    expect(seen.palettes.size).toBe(PALETTES.length);
    expect(seen.moods.size).toBe(MOODS.length);
    // Both numbers of subject were drafted with a verb of their own, so agreement was really checked.
    expect([...seen.agreeing].sort()).toEqual(['plural', 'singular']);
  });

  it('the checks above catch what the trial saw', () => {
    const palette = boardPalette(['#0A0A0A', '#00E0FF', '#00B3C7']);
    const subjects = { portrait: false, 'sneakers on a bench': true };
    expect(misreadings('Camera dollys toward a portrait', palette, subjects)).toContain('camera verb');
    expect(misreadings('A portrait as the camera pans, light spilling black and black', palette, subjects)).toContain('colour named twice');
    expect(misreadings('The camera pans past teal 2 depth', palette, subjects)).toContain('numbered colour');
    expect(misreadings('A sneakers on a bench catches light as the camera pans', palette, subjects)).toEqual(
      expect.arrayContaining(['agreement', '"a" before a plural']),
    );
    expect(misreadings('The camera pans  past a portrait, , soft', palette, subjects)).toContain('spaces or punctuation');
  });
});

describe('the brief checker', () => {
  const palette = boardPalette(['#0A0A0A', '#00E0FF', '#00B3C7']);

  it('finds camera verbs in any spelled form, and the brand colours by palette name, prose name or hex', () => {
    expect(annotate('The camera dollies in; it swept past, racking focus', palette).cameraVerbs).toEqual(['dolly', 'sweep', 'rack focus']);
    // "dollys" is not a form of "dolly": a misspelt verb is no camera verb.
    expect(annotate('Camera dollys toward a portrait', palette).cameraVerbs).toEqual([]);
    // palette: black, teal (#00E0FF, the lighter: "pale teal"), teal 2 (#00B3C7: "deep teal").
    expect(annotate('deep teal haze', palette).brandColours).toEqual(['teal 2']);
    expect(annotate('pale teal and #0a0a0a', palette).brandColours).toEqual(['black', 'teal']);
    expect(annotate('teal 2 glass', palette).brandColours).toEqual(['teal 2']);
  });

  it('holds a draft to the skeleton’s subjects when it has any', () => {
    const text =
      'The camera pans across a vase, neon light spilling black across the haze, shallow depth of field, 35 mm film, fine grain, crisp detail';
    expect(annotate(text, palette).problems).toEqual([]);
    expect(annotate(text, palette, ['portrait', 'phone in hand']).problems).toEqual([
      'no subject from the skeleton (portrait, phone in hand)',
    ]);
  });

  it('offline drafts still meet it when the skeleton’s own words are camera verbs or lights', () => {
    const skeleton = {
      projectId: 1,
      mood: 'moody / soft',
      subjects: ['golden retriever', 'crane in flight'],
      aspect: '1:1',
      palette: [
        { name: 'Neon pink', hex: '#FF4FA3' },
        { name: 'Golden hour', hex: '#F2B33D' },
      ],
    };
    for (let seed = 1; seed <= 20; seed++)
      for (const draft of draftOffline(skeleton, 5, seed))
        expect(annotate(draft, skeleton.palette, skeleton.subjects).problems, draft).toEqual([]);
  });
});
