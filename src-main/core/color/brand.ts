/**
 * Brand match: for each brand colour, the share of pixels within a CIEDE2000 threshold of it;
 * "clearly present" when that share passes a threshold. Else a plain colour name for file names.
 */
import sharp from 'sharp';
import type { BrandColour } from '../api/index.js';
import { plainColourName } from '../common/index.js';
import { ciede2000, rgbToLab } from './ciede2000.js';
import { hexToRgb, rgbToOklab } from './oklab.js';
import { kmeansPalette, type PaletteColour } from './palette.js';

export interface BrandMatchOptions {
  /** ΔE00 within which a pixel counts as the brand colour. */
  threshold?: number;
  /** Coverage from which a brand colour is "clearly present". */
  presentFrom?: number;
}

export interface BrandCoverage {
  name: string;
  hex: string;
  coverage: number;
  present: boolean;
}

export interface ColourAnalysis {
  dominant: PaletteColour[];
  brand: BrandCoverage[];
  dominantBrand: { name: string; hex: string } | null;
  /** The name for file names: the dominant brand colour, else a plain name of the dominant colour. */
  colourName: string;
}

export const DEFAULT_THRESHOLD = 12;
export const DEFAULT_PRESENT_FROM = 0.08;
const SIDE = 128;

export async function analyseColour(
  input: string | Buffer,
  palette: readonly BrandColour[],
  options: BrandMatchOptions = {},
): Promise<ColourAnalysis> {
  const { data, info } = await sharp(input).removeAlpha().resize(SIDE, SIDE, { fit: 'inside' }).raw().toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const presentFrom = options.presentFrom ?? DEFAULT_PRESENT_FROM;
  const brandLab = palette.map((c) => rgbToLab(...hexToRgb(c.hex)));
  const hits = palette.map(() => 0);
  const oklab: [number, number, number][] = [];
  // Many pixels share a colour: cache ΔE per colour.
  const cache = new Map<number, boolean[]>();
  for (let i = 0; i < n; i++) {
    const r = data[i * 3]!;
    const g = data[i * 3 + 1]!;
    const b = data[i * 3 + 2]!;
    oklab.push(rgbToOklab(r, g, b));
    const key = (r << 16) | (g << 8) | b;
    let within = cache.get(key);
    if (!within) {
      const lab = rgbToLab(r, g, b);
      within = brandLab.map((c) => ciede2000(lab, c) <= threshold);
      cache.set(key, within);
    }
    within.forEach((w, j) => w && hits[j]!++);
  }
  const brand = palette.map((c, j) => {
    const coverage = Math.round((hits[j]! / n) * 1000) / 1000;
    return { name: c.name, hex: c.hex.toUpperCase(), coverage, present: coverage >= presentFrom };
  });
  const dominant = kmeansPalette(oklab, 5);
  const best = brand.filter((b) => b.present).sort((a, b) => b.coverage - a.coverage)[0];
  const dominantBrand = best ? { name: best.name, hex: best.hex } : null;
  return { dominant, brand, dominantBrand, colourName: dominantBrand?.name ?? plainColourName(dominant[0]?.hex ?? '#808080') };
}

/** Plain colour names are shared with the UI: one list in core/common. */
export { plainColourName };
