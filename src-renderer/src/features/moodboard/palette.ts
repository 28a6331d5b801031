/** Merging the mood board's colours into the brand palette, named as the core names colours. */
import type { BrandColour, PaletteEntry } from '../../../../src-main/core/api/index';
import { MAX_BRAND_COLOURS, plainColourName } from '../../../../src-main/core/common/index';

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
    if (taken.has(hex) || result.length >= MAX_BRAND_COLOURS) continue;
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
