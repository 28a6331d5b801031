/**
 * 3D LUTs in the Adobe/Resolve `.cube` format: read (sizes 2–65, TITLE, DOMAIN_MIN/MAX, comments;
 * errors name the line), write, and apply with tetrahedral interpolation on raw pixels. And the
 * brand "palette snap": a LUT that lifts the brand magenta and crushes greens a little.
 */
import sharp from 'sharp';
import { OnbrandError, type BrandColour } from '../api/index.js';
import { hexToRgb, oklabToRgb, rgbToOklab } from './oklab.js';

export interface Lut3d {
  title: string;
  size: number;
  domainMin: [number, number, number];
  domainMax: [number, number, number];
  /** RGB triples, red varying fastest, then green, then blue (the .cube order). */
  table: Float32Array;
}

export class CubeError extends OnbrandError {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super('invalid_input', line > 0 ? `.cube line ${line}: ${detail}` : `.cube: ${detail}`);
    this.name = 'CubeError';
  }
}

export function parseCube(text: string): Lut3d {
  let title = '';
  let size = 0;
  let domainMin: [number, number, number] = [0, 0, 0];
  let domainMax: [number, number, number] = [1, 1, 1];
  const values: number[] = [];
  const lines = text.split(/\r?\n/);
  const triple = (parts: string[], line: number): [number, number, number] => {
    if (parts.length !== 3) throw new CubeError(line, `expected three numbers, found ${parts.length}`);
    const nums = parts.map(Number);
    if (nums.some((n) => !Number.isFinite(n))) throw new CubeError(line, `"${parts.join(' ')}" is not three numbers`);
    return nums as [number, number, number];
  };
  lines.forEach((raw, i) => {
    const line = i + 1;
    const text = raw.trim();
    if (!text || text.startsWith('#')) return;
    const [keyword, ...rest] = text.split(/\s+/);
    switch (keyword) {
      case 'TITLE':
        title = text.slice(5).trim().replace(/^"|"$/g, '');
        return;
      case 'LUT_3D_SIZE': {
        size = Number(rest[0]);
        if (!Number.isInteger(size) || size < 2 || size > 65) throw new CubeError(line, `LUT_3D_SIZE must be 2 to 65, not ${rest[0]}`);
        return;
      }
      case 'LUT_1D_SIZE':
        throw new CubeError(line, '1D LUTs are not supported; use a 3D .cube');
      case 'DOMAIN_MIN':
        domainMin = triple(rest, line);
        return;
      case 'DOMAIN_MAX':
        domainMax = triple(rest, line);
        return;
      default:
        if (/^[A-Z_]+$/.test(keyword!)) return; // other keywords (LUT_IN_VIDEO_RANGE, …) are ignored
        if (size === 0) throw new CubeError(line, 'data before LUT_3D_SIZE');
        values.push(...triple([keyword!, ...rest], line));
    }
  });
  if (size === 0) throw new CubeError(0, 'no LUT_3D_SIZE');
  const expected = size ** 3 * 3;
  if (values.length !== expected)
    throw new CubeError(lines.length, `expected ${size ** 3} entries for size ${size}, found ${values.length / 3}`);
  if (domainMin.some((v, c) => v >= domainMax[c]!)) throw new CubeError(0, 'DOMAIN_MIN must be below DOMAIN_MAX');
  return { title, size, domainMin, domainMax, table: Float32Array.from(values) };
}

export function formatCube(lut: Lut3d): string {
  const lines = [
    `TITLE "${lut.title}"`,
    `LUT_3D_SIZE ${lut.size}`,
    `DOMAIN_MIN ${lut.domainMin.join(' ')}`,
    `DOMAIN_MAX ${lut.domainMax.join(' ')}`,
  ];
  for (let i = 0; i < lut.table.length; i += 3)
    lines.push(`${lut.table[i]!.toFixed(6)} ${lut.table[i + 1]!.toFixed(6)} ${lut.table[i + 2]!.toFixed(6)}`);
  return lines.join('\n') + '\n';
}

/** A LUT from a function on RGB in 0..1. */
export function buildLut(size: number, title: string, f: (r: number, g: number, b: number) => [number, number, number]): Lut3d {
  const table = new Float32Array(size ** 3 * 3);
  let o = 0;
  for (let b = 0; b < size; b++)
    for (let g = 0; g < size; g++)
      for (let r = 0; r < size; r++) {
        const out = f(r / (size - 1), g / (size - 1), b / (size - 1));
        table[o++] = out[0];
        table[o++] = out[1];
        table[o++] = out[2];
      }
  return { title, size, domainMin: [0, 0, 0], domainMax: [1, 1, 1], table };
}

/** Applies the LUT in place to interleaved 8-bit pixels (tetrahedral interpolation). */
export function applyLut(pixels: Uint8Array, channels: number, lut: Lut3d): void {
  const { size, table, domainMin, domainMax } = lut;
  const n = size - 1;
  const s1 = 3;
  const s2 = size * 3;
  const s3 = size * size * 3;
  const scale = [0, 1, 2].map((c) => n / (255 * (domainMax[c]! - domainMin[c]!)));
  const offset = [0, 1, 2].map((c) => (domainMin[c]! * n) / (domainMax[c]! - domainMin[c]!));
  for (let p = 0; p < pixels.length; p += channels) {
    const fr = Math.min(n, Math.max(0, pixels[p]! * scale[0]! - offset[0]!));
    const fg = Math.min(n, Math.max(0, pixels[p + 1]! * scale[1]! - offset[1]!));
    const fb = Math.min(n, Math.max(0, pixels[p + 2]! * scale[2]! - offset[2]!));
    const r0 = Math.min(n - 1, Math.floor(fr));
    const g0 = Math.min(n - 1, Math.floor(fg));
    const b0 = Math.min(n - 1, Math.floor(fb));
    const dr = fr - r0;
    const dg = fg - g0;
    const db = fb - b0;
    const base = r0 * s1 + g0 * s2 + b0 * s3;
    const c000 = base;
    const c111 = base + s1 + s2 + s3;
    let ca: number, cb: number, wa: number, wb: number, wc: number;
    // Tetrahedral: pick the tetrahedron by the order of the fractional parts.
    if (dr > dg) {
      if (dg > db) [ca, cb, wa, wb, wc] = [base + s1, base + s1 + s2, dr - dg, dg - db, db];
      else if (dr > db) [ca, cb, wa, wb, wc] = [base + s1, base + s1 + s3, dr - db, db - dg, dg];
      else [ca, cb, wa, wb, wc] = [base + s3, base + s1 + s3, db - dr, dr - dg, dg];
    } else {
      if (db > dg) [ca, cb, wa, wb, wc] = [base + s3, base + s2 + s3, db - dg, dg - dr, dr];
      else if (db > dr) [ca, cb, wa, wb, wc] = [base + s2, base + s2 + s3, dg - db, db - dr, dr];
      else [ca, cb, wa, wb, wc] = [base + s2, base + s1 + s2, dg - dr, dr - db, db];
    }
    const w0 = 1 - wa - wb - wc;
    for (let c = 0; c < 3; c++) {
      const v = w0 * table[c000 + c]! + wa * table[ca + c]! + wb * table[cb + c]! + wc * table[c111 + c]!;
      pixels[p + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
}

/** Applies a LUT to an image file (or buffer); returns raw-applied sharp output in the input's format. */
export async function applyLutToImage(
  input: string | Buffer,
  lut: Lut3d,
): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(input).raw().toBuffer({ resolveWithObject: true });
  applyLut(data, info.channels, lut);
  return { data, width: info.width, height: info.height, channels: info.channels };
}

export interface SnapOptions {
  /** How much to lift the brand magenta: 1 = the designers' default (+8 % chroma, a touch brighter). */
  lift?: number;
  /** How much to crush greens: 0.05 = 5 % less chroma and lightness. */
  crushGreens?: number;
  size?: number;
}

/**
 * The brand "palette snap": lifts colours near the brand's magenta (the palette colour named
 * magenta, else the reddest-purple one) and crushes greens (hues away from every brand colour in
 * the green range), with smooth falloff so gradients stay clean.
 */
export function paletteSnap(palette: readonly BrandColour[], options: SnapOptions = {}): Lut3d {
  const lift = options.lift ?? 1;
  const crush = options.crushGreens ?? 0.05;
  const hueOf = (hex: string): number => {
    const [, a, b] = rgbToOklab(...hexToRgb(hex));
    return ((Math.atan2(b, a) * 180) / Math.PI + 360) % 360;
  };
  const magenta =
    palette.find((c) => c.name.toLowerCase() === 'magenta') ??
    [...palette].sort((x, y) => Math.abs(hueOf(x.hex) - 0) - Math.abs(hueOf(y.hex) - 0))[0];
  const magentaHue = magenta ? hueOf(magenta.hex) : 0;
  const brandHues = palette.map((c) => hueOf(c.hex));
  const GREEN = 142; // OKLCh hue of a mid green
  const distance = (a: number, b: number): number => Math.min(Math.abs(a - b), 360 - Math.abs(a - b));
  const falloff = (d: number, width: number): number => (d >= width ? 0 : 0.5 * (1 + Math.cos((Math.PI * d) / width)));
  // Greens that are themselves a brand colour are left alone.
  const greenIsBrand = brandHues.some((h) => distance(h, GREEN) < 25);
  return buildLut(options.size ?? 33, `Onbrand palette snap (lift ${lift}, crush greens ${crush})`, (r, g, b) => {
    let [L, A, B] = rgbToOklab(r * 255, g * 255, b * 255);
    const chroma = Math.hypot(A, B);
    if (chroma < 0.02) return [r, g, b];
    const hue = ((Math.atan2(B, A) * 180) / Math.PI + 360) % 360;
    const wMagenta = falloff(distance(hue, magentaHue), 35);
    const wGreen = greenIsBrand ? 0 : falloff(distance(hue, GREEN), 45);
    const chromaScale = 1 + 0.08 * lift * wMagenta - crush * wGreen;
    L = L * (1 + 0.02 * lift * wMagenta - crush * wGreen);
    A *= chromaScale;
    B *= chromaScale;
    const [or, og, ob] = oklabToRgb([L, A, B]);
    return [or / 255, og / 255, ob / 255];
  });
}
