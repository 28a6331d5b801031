/**
 * Dominant colours of an image with their shares: k-means in OKLab on a downsampled copy,
 * deterministic (k-means++ with a fixed seed), sorted by share.
 */
import sharp from 'sharp';
import { oklabToRgb, rgbToHex, rgbToOklab, type Lab } from './oklab.js';

export interface PaletteColour {
  hex: string;
  /** Fraction of the image's pixels, 0..1. */
  share: number;
}

const SAMPLE_SIDE = 64;

export async function extractPalette(input: string | Buffer, k = 5): Promise<PaletteColour[]> {
  const { data, info } = await sharp(input)
    .removeAlpha()
    .resize(SAMPLE_SIDE, SAMPLE_SIDE, { fit: 'inside' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const points: Lab[] = [];
  for (let i = 0; i < info.width * info.height; i++) points.push(rgbToOklab(data[i * 3]!, data[i * 3 + 1]!, data[i * 3 + 2]!));
  return kmeansPalette(points, k);
}

/** k-means on OKLab points; clusters merged when closer than a just-noticeable step. */
export function kmeansPalette(points: readonly Lab[], k: number): PaletteColour[] {
  if (points.length === 0) return [];
  let seed = 0x9e3779b9;
  const random = (): number => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return seed / 4294967296;
  };
  const distance = (p: Lab, q: Lab): number => (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 + (p[2] - q[2]) ** 2;
  // k-means++ initialisation.
  const centres: Lab[] = [points[Math.floor(random() * points.length)]!];
  while (centres.length < Math.min(k, points.length)) {
    const d = points.map((p) => Math.min(...centres.map((c) => distance(p, c))));
    const total = d.reduce((a, b) => a + b, 0);
    if (total === 0) break;
    let r = random() * total;
    let index = 0;
    while (r > d[index]! && index < d.length - 1) r -= d[index++]!;
    centres.push(points[index]!);
  }
  const assignment = new Int32Array(points.length);
  for (let iteration = 0; iteration < 12; iteration++) {
    points.forEach((p, i) => {
      let best = 0;
      for (let c = 1; c < centres.length; c++) if (distance(p, centres[c]!) < distance(p, centres[best]!)) best = c;
      assignment[i] = best;
    });
    const sums = centres.map(() => [0, 0, 0, 0]);
    points.forEach((p, i) => {
      const s = sums[assignment[i]!]!;
      s[0]! += p[0];
      s[1]! += p[1];
      s[2]! += p[2];
      s[3]! += 1;
    });
    sums.forEach((s, c) => {
      if (s[3]! > 0) centres[c] = [s[0]! / s[3]!, s[1]! / s[3]!, s[2]! / s[3]!];
    });
  }
  const counts = centres.map(() => 0);
  for (const a of assignment) counts[a]!++;
  return centres
    .map((c, i) => ({ hex: rgbToHex(...oklabToRgb(c)), share: counts[i]! / points.length }))
    .filter((c) => c.share > 0)
    .sort((a, b) => b.share - a.share)
    .reduce<PaletteColour[]>((merged, colour) => {
      const same = merged.find((m) => m.hex === colour.hex);
      if (same) same.share += colour.share;
      else merged.push({ ...colour });
      return merged;
    }, [])
    .map((c) => ({ hex: c.hex, share: Math.round(c.share * 1000) / 1000 }));
}

/** The palette of a set of palettes (a mood board): shares weighted equally per image. */
export function aggregatePalettes(palettes: readonly PaletteColour[][], k = 6): PaletteColour[] {
  const points: Lab[] = [];
  for (const palette of palettes) {
    for (const colour of palette) {
      const n = Math.max(1, Math.round(colour.share * 100));
      const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(colour.hex.slice(i, i + 2), 16)) as [number, number, number];
      const lab = rgbToOklab(r, g, b);
      for (let i = 0; i < n; i++) points.push(lab);
    }
  }
  return kmeansPalette(points, k);
}
