/**
 * Brand match: for each brand colour, the share of pixels within a CIEDE2000 threshold of it;
 * "clearly present" when that share passes a threshold. And plain colour names for file names.
 */
import sharp from 'sharp';
import type { BrandColour } from '../api/index.js';
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

export async function analyseColour(input: string | Buffer, palette: readonly BrandColour[], options: BrandMatchOptions = {}): Promise<ColourAnalysis> {
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

/** A plain name for a colour from a small fixed list (for file names when no brand colour is present). */
export function plainColourName(hex: string): string {
  const [r, g, b] = hexToRgb(hex).map((v) => v / 255) as [number, number, number];
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const l = (max + min) / 2;
  const d = max - min;
  const s = d === 0 ? 0 : d / (1 - Math.abs(2 * l - 1));
  if (l < 0.12) return 'black';
  if (l > 0.92 && s < 0.5) return 'white';
  if (s < 0.15 || d < 0.08) return 'grey';
  let h = 0;
  if (max === r) h = ((g - b) / d) % 6;
  else if (max === g) h = (b - r) / d + 2;
  else h = (r - g) / d + 4;
  h = (h * 60 + 360) % 360;
  if ((h < 45 || h >= 345) && l < 0.35 && h > 10 && h < 45) return 'brown';
  if (h >= 15 && h < 45 && l < 0.45) return 'brown';
  if (h < 15 || h >= 345) return l > 0.75 ? 'pink' : 'red';
  if (h < 45) return 'orange';
  if (h < 70) return 'yellow';
  if (h < 160) return 'green';
  if (h < 200) return 'teal';
  if (h < 255) return 'blue';
  if (h < 290) return 'purple';
  if (h < 330) return 'magenta';
  return 'pink';
}
