/**
 * Colour names for prose (prompts, drafts): a palette's names as a person would write them. The
 * palette's own names stay as they are (file names and badges use them); only the words change.
 */

/** Told-apart words for colours that name alike, darkest first, by how many share the name. */
const QUALIFIERS: readonly (readonly string[])[] = [
  [],
  [''],
  ['deep', 'pale'],
  ['deep', 'bright', 'pale'],
  ['dark', 'deep', 'bright', 'pale'],
  ['dark', 'deep', 'bright', 'light', 'pale'],
];
/** Darkest to lightest: when more colours share a name than QUALIFIERS has words for, and when a qualified name is taken. */
const MORE_QUALIFIERS = ['dark', 'deep', 'dusky', 'rich', 'muted', 'dusty', 'vivid', 'clear', 'bright', 'misty', 'light', 'pale'];
/** Black and white read better with their own words than as "pale black". */
const ACHROMATIC: Record<string, readonly string[]> = { black: ['jet black', 'off-black'], white: ['off-white', 'bright white'] };

/** "teal 2" → "teal": the number "Use as brand palette" adds to tell two alike colours apart. */
export function baseColourName(name: string): string {
  const trimmed = name.trim().replace(/\s+/g, ' ');
  const base = trimmed.replace(/\s+\d{1,2}$/, '');
  return /\p{L}/u.test(base) ? base : trimmed;
}

function lightness(hex: string): number {
  const n = Number.parseInt(hex.replace('#', ''), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  return (Math.max(r, g, b) + Math.min(r, g, b)) / 510;
}

/**
 * One prose name per colour, in the palette's order, no two alike: the name without its number
 * ("teal 2" → "teal"), and where several colours share that name, told apart by how light each is
 * ("deep teal", "pale teal"; "jet black", "off-black"). Never a number.
 */
export function proseColourNames(colours: readonly { name: string; hex: string }[]): string[] {
  const bases = colours.map((c) => baseColourName(c.name));
  const names = [...bases];
  const groups = new Map<string, number[]>();
  bases.forEach((base, i) => groups.set(base.toLowerCase(), [...(groups.get(base.toLowerCase()) ?? []), i]));
  const taken = new Set([...groups.entries()].filter(([, members]) => members.length === 1).map(([key]) => key));
  for (const [key, members] of groups) {
    if (members.length === 1) continue;
    const ordered = [...members].sort(
      (a, b) => lightness(colours[a]!.hex) - lightness(colours[b]!.hex) || colours[a]!.hex.localeCompare(colours[b]!.hex) || a - b,
    );
    const special = ACHROMATIC[key]?.length === ordered.length ? ACHROMATIC[key] : undefined;
    const words = QUALIFIERS[ordered.length] ?? spread(ordered.length);
    ordered.forEach((index, rank) => {
      const base = bases[index]!;
      // Failing its own word, the nearest one on the same side (a light colour stays "light", "misty"…).
      const position = (rank * (MORE_QUALIFIERS.length - 1)) / Math.max(1, ordered.length - 1);
      const near = [...MORE_QUALIFIERS].sort(
        (a, b) => Math.abs(MORE_QUALIFIERS.indexOf(a) - position) - Math.abs(MORE_QUALIFIERS.indexOf(b) - position),
      );
      const candidates = [
        special ? special[rank]! : `${words[rank]} ${base}`,
        ...near.map((q) => `${q} ${base}`),
        ...near.flatMap((q) => near.filter((r) => r !== q).map((r) => `${q} ${r} ${base}`)),
      ];
      const name = candidates.find((c) => !taken.has(c.toLowerCase())) ?? base;
      taken.add(name.toLowerCase());
      names[index] = name;
    });
  }
  return names;
}

/** `count` qualifiers from MORE_QUALIFIERS, darkest first, spread over the list. */
function spread(count: number): string[] {
  return Array.from({ length: count }, (_, i) => MORE_QUALIFIERS[Math.round((i * (MORE_QUALIFIERS.length - 1)) / Math.max(1, count - 1))]!);
}
