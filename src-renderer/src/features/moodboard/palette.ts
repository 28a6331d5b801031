/** Merging the mood board's colours into the brand palette, named as the core names colours. */
import type { BrandColour, PaletteEntry } from '../../../../src-main/core/api/index';
import { DISTINCT_COLOURS, MAX_BRAND_COLOURS, deltaE, hexToLab, plainColourName } from '../../../../src-main/core/common/index';

/**
 * A name for a colour that no colour in `taken` (lower case) has yet: its plain name ("yellow"),
 * else the plain name with a word for its lightness ("light teal", "deep teal"), and only when
 * those are taken too a number. Drafts and file names read these names: "teal 2" reads badly there.
 */
export function uniqueColourName(hex: string, taken: ReadonlySet<string>): string {
  const plain = plainColourName(hex);
  const light = hexToLab(hex)[0] >= 60;
  const candidates = [plain, ...(light ? ['light', 'pale', 'bright'] : ['dark', 'deep', 'rich']).map((w) => `${w} ${plain}`)];
  const free = candidates.find((name) => !taken.has(name.toLowerCase()));
  if (free) return free;
  let n = 2;
  while (taken.has(`${plain} ${n}`)) n++;
  return `${plain} ${n}`;
}

/**
 * The brand palette after taking the board's colours: `replace` makes them the palette, `append`
 * adds those it lacks. A board colour within DISTINCT_COLOURS (ΔE00) of a brand colour is that
 * brand colour, kept as the brand has it (its exact hex and name): a photo's #FE2D55 does not
 * replace the brand's #FE2C54. A new colour is named from its own hex ("white", "yellow").
 */
export function mergePalette(current: readonly BrandColour[], board: readonly PaletteEntry[], how: 'replace' | 'append'): BrandColour[] {
  const result: BrandColour[] = how === 'append' ? current.map((c) => ({ ...c })) : [];
  const names = new Set(result.map((c) => c.name.toLowerCase()));
  for (const entry of board) {
    if (result.length >= MAX_BRAND_COLOURS) break;
    const hex = entry.hex.toUpperCase();
    const brand = nearest(current, hex);
    const colour = brand ? { name: brand.name, hex: brand.hex.toUpperCase() } : { name: uniqueColourName(hex, names), hex };
    if (result.some((c) => c.hex.toUpperCase() === colour.hex || deltaE(c.hex, colour.hex) <= DISTINCT_COLOURS)) continue;
    names.add(colour.name.toLowerCase());
    result.push(colour);
  }
  return result;
}

/** The brand colour within DISTINCT_COLOURS of `hex`, the closest, or null. */
function nearest(palette: readonly BrandColour[], hex: string): BrandColour | null {
  let best: BrandColour | null = null;
  let distance = DISTINCT_COLOURS;
  for (const colour of palette) {
    const d = deltaE(colour.hex, hex);
    if (d <= distance) [best, distance] = [colour, d];
  }
  return best;
}
