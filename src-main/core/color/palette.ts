/**
 * Dominant colours of an image with their shares: k-means in OKLab on a downsampled copy,
 * deterministic (k-means++ with a fixed seed), sorted by share.
 */
import sharp from 'sharp';
import { ciede2000, DISTINCT_COLOURS, hexToLab } from './ciede2000.js';
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

/**
 * k-means on OKLab points. Each cluster is reported by a colour of its own members (the most
 * common one, within a step of 8 per channel), never by the clusters' mean, which for a cluster
 * of two colours would be a third colour found nowhere in the image; clusters of the same colour merge.
 */
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
  // Per cluster, the members by colour bin (5 bits a channel): the fullest bin's mean is the cluster's colour.
  const bins = centres.map(() => new Map<number, { n: number; r: number; g: number; b: number }>());
  points.forEach((p, i) => {
    const [r, g, b] = oklabToRgb(p);
    const key = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
    const cluster = bins[assignment[i]!]!;
    const bin = cluster.get(key);
    if (bin) {
      bin.n++;
      bin.r += r;
      bin.g += g;
      bin.b += b;
    } else cluster.set(key, { n: 1, r, g, b });
  });
  return bins
    .map((cluster) => {
      let count = 0;
      let top: { n: number; r: number; g: number; b: number } | null = null;
      for (const bin of cluster.values()) {
        count += bin.n;
        if (!top || bin.n > top.n) top = bin;
      }
      const hex = top ? rgbToHex(Math.round(top.r / top.n), Math.round(top.g / top.n), Math.round(top.b / top.n)) : '#000000';
      return { hex, share: count / points.length };
    })
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

/**
 * The palette of a set of palettes (a mood board), each image weighing the same. Colours within
 * DISTINCT_COLOURS (ΔE00) of a heavier one count as that one; colours farther apart stay apart:
 * the board's colours are its images' own colours, never an average of distinct ones (a yellow
 * and a white never become a cream). The `k` heaviest are returned, with their shares of the board.
 */
export function aggregatePalettes(palettes: readonly PaletteColour[][], k = 8): PaletteColour[] {
  const weights = new Map<string, number>();
  for (const palette of palettes) {
    const total = palette.reduce((sum, c) => sum + c.share, 0);
    if (total <= 0) continue;
    for (const colour of palette) {
      const hex = colour.hex.toUpperCase();
      weights.set(hex, (weights.get(hex) ?? 0) + colour.share / total);
    }
  }
  const all = [...weights].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const groups: { hex: string; lab: Lab; weight: number }[] = [];
  for (const [hex, weight] of all) {
    const lab = hexToLab(hex);
    let nearest: { hex: string; lab: Lab; weight: number } | null = null;
    let best = Infinity;
    for (const group of groups) {
      const d = ciede2000(lab, group.lab);
      if (d < best) [best, nearest] = [d, group];
    }
    if (nearest && best <= DISTINCT_COLOURS) nearest.weight += weight;
    else groups.push({ hex, lab, weight });
  }
  const sum = groups.reduce((s, g) => s + g.weight, 0);
  return groups
    .sort((a, b) => b.weight - a.weight)
    .slice(0, k)
    .map((g) => ({ hex: g.hex, share: Math.round((g.weight / sum) * 1000) / 1000 }));
}
