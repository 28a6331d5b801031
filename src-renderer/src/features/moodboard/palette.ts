/** Brand palette helpers: merging the mood board's colours in and naming colours plainly. */
import type { BrandColour, PaletteEntry } from '../../src-main/core/api/index';

/** The brand palette holds at most this many colours (the contract's limit). */
const MAX_BRAND = 16;

/**
 * The brand palette after taking the board's colours: `replace` makes them the palette, `append`
 * adds those not in it yet. A colour already in the palette keeps its name; a new one gets a plain
 * colour name, made unique ("teal 2").
 */
export function mergePalette(current: readonly BrandColour[], board: readonly PaletteEntry[], how: 'replace' | 'append'): BrandColour[] {
  const named = new Map(current.map((c) => [c.hex.toUpperCase(), c.name]));
  const result: BrandColour[] = how === 'append' ? current.map((c) => ({ ...c })) : [];
  const taken = new Set(result.map((c) => c.hex.toUpperCase()));
  const names = new Set(result.map((c) => c.name.toLowerCase()));
  for (const entry of board) {
    const hex = entry.hex.toUpperCase();
    if (taken.has(hex) || result.length >= MAX_BRAND) continue;
    let name = named.get(hex) ?? plainColourName(hex);
    if (names.has(name.toLowerCase())) {
      let n = 2;
      while (names.has(`${name} ${n}`.toLowerCase())) n++;
      name = `${name} ${n}`;
    }
    taken.add(hex);
    names.add(name.toLowerCase());
    result.push({ name, hex });
  }
  return result;
}

/** A plain name for a colour ("magenta", "teal", "dark grey"), from its hue, saturation and lightness. */
export function plainColourName(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => v / 255) as [number, number, number];
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const l = (max + min) / 2;
  const d = max - min;
  const s = d === 0 ? 0 : d / (1 - Math.abs(2 * l - 1));
  if (l < 0.1) return 'black';
  if (l > 0.94) return 'white';
  if (s < 0.15) return l < 0.35 ? 'dark grey' : l > 0.7 ? 'light grey' : 'grey';
  let h = 0;
  if (max === r) h = ((g - b) / d) % 6;
  else if (max === g) h = (b - r) / d + 2;
  else h = (r - g) / d + 4;
  h = (h * 60 + 360) % 360;
  const hues: [number, string][] = [
    [15, 'red'],
    [40, 'orange'],
    [65, 'yellow'],
    [165, 'green'],
    [200, 'teal'],
    [255, 'blue'],
    [290, 'purple'],
    [352, 'magenta'],
    [360, 'red'],
  ];
  const base = hues.find(([limit]) => h < limit)![1];
  if (base === 'orange' && l < 0.4) return 'brown';
  return l < 0.3 ? `dark ${base}` : base;
}
