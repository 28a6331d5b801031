import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PALETTE } from '../api/index.js';
import { analyseColour, plainColourName } from './brand.js';
import { ciede2000, rgbToLab } from './ciede2000.js';
import { applyLut, buildLut, type CubeError, formatCube, paletteSnap, parseCube } from './lut.js';
import { rgbToOklab } from './oklab.js';

// Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula: implementation notes,
// supplementary test data, and mathematical observations", Table 1: 34 pairs and their ΔE00.
const SHARMA: [[number, number, number], [number, number, number], number][] = [
  [[50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485], 2.0425],
  [[50.0, 3.1571, -77.2803], [50.0, 0.0, -82.7485], 2.8615],
  [[50.0, 2.8361, -74.02], [50.0, 0.0, -82.7485], 3.4412],
  [[50.0, -1.3802, -84.2814], [50.0, 0.0, -82.7485], 1.0],
  [[50.0, -1.1848, -84.8006], [50.0, 0.0, -82.7485], 1.0],
  [[50.0, -0.9009, -85.5211], [50.0, 0.0, -82.7485], 1.0],
  [[50.0, 0.0, 0.0], [50.0, -1.0, 2.0], 2.3669],
  [[50.0, -1.0, 2.0], [50.0, 0.0, 0.0], 2.3669],
  [[50.0, 2.49, -0.001], [50.0, -2.49, 0.0009], 7.1792],
  [[50.0, 2.49, -0.001], [50.0, -2.49, 0.001], 7.1792],
  [[50.0, 2.49, -0.001], [50.0, -2.49, 0.0011], 7.2195],
  [[50.0, 2.49, -0.001], [50.0, -2.49, 0.0012], 7.2195],
  [[50.0, -0.001, 2.49], [50.0, 0.0009, -2.49], 4.8045],
  [[50.0, -0.001, 2.49], [50.0, 0.001, -2.49], 4.8045],
  [[50.0, -0.001, 2.49], [50.0, 0.0011, -2.49], 4.7461],
  [[50.0, -0.001, 2.49], [50.0, 0.0012, -2.49], 4.7461],
  [[50.0, 2.5, 0.0], [50.0, 0.0, -2.5], 4.3065],
  [[50.0, 2.5, 0.0], [73.0, 25.0, -18.0], 27.1492],
  [[50.0, 2.5, 0.0], [61.0, -5.0, 29.0], 22.8977],
  [[50.0, 2.5, 0.0], [56.0, -27.0, -3.0], 31.903],
  [[50.0, 2.5, 0.0], [58.0, 24.0, 15.0], 19.4535],
  [[50.0, 2.5, 0.0], [50.0, 3.1736, 0.5854], 1.0],
  [[50.0, 2.5, 0.0], [50.0, 3.2972, 0.0], 1.0],
  [[50.0, 2.5, 0.0], [50.0, 1.8634, 0.5757], 1.0],
  [[50.0, 2.5, 0.0], [50.0, 3.2592, 0.335], 1.0],
  [[60.2574, -34.0099, 36.2677], [60.4626, -34.1751, 39.4387], 1.2644],
  [[63.0109, -31.0961, -5.8663], [62.8187, -29.7946, -4.0864], 1.263],
  [[61.2901, 3.7196, -5.3901], [61.4292, 2.248, -4.962], 1.8731],
  [[35.0831, -44.1164, 3.7933], [35.0232, -40.0716, 1.5901], 1.8645],
  [[22.7233, 20.0904, -46.694], [23.0331, 14.973, -42.5619], 2.0373],
  [[36.4612, 47.858, 18.3852], [36.2715, 50.5065, 21.2231], 1.4146],
  [[90.8027, -2.0831, 1.441], [91.1528, -1.6435, 0.0447], 1.4441],
  [[90.9257, -0.5406, -0.9208], [88.6381, -0.8985, -0.7239], 1.5381],
  [[6.7747, -0.2908, -2.4247], [5.8714, -0.0985, -2.2286], 0.6377],
  [[2.0776, 0.0795, -1.135], [0.9033, -0.0636, -0.5514], 0.9082],
];

describe('CIEDE2000', () => {
  SHARMA.forEach(([a, b, expected], i) => {
    it(`Sharma pair ${i + 1}: ${expected}`, () => {
      expect(ciede2000(a, b).toFixed(4)).toBe(expected.toFixed(4));
      expect(ciede2000(b, a).toFixed(4)).toBe(expected.toFixed(4));
    });
  });

  it('converts sRGB to CIELAB (D65) as the standard primaries say', () => {
    const red = rgbToLab(255, 0, 0);
    expect(red[0]).toBeCloseTo(53.24, 1);
    expect(red[1]).toBeCloseTo(80.09, 1);
    expect(red[2]).toBeCloseTo(67.2, 1);
    expect(rgbToLab(255, 255, 255)[0]).toBeCloseTo(100, 2);
  });
});

async function composition(parts: { hex: string; share: number }[], width = 200, height = 100): Promise<Buffer> {
  let x = 0;
  const layers = [];
  for (const part of parts) {
    const w = Math.round(width * part.share);
    if (w > 0)
      layers.push({
        input: await sharp({ create: { width: w, height, channels: 3, background: part.hex } })
          .png()
          .toBuffer(),
        left: x,
        top: 0,
      });
    x += w;
  }
  return sharp({ create: { width, height, channels: 3, background: '#000000' } })
    .composite(layers)
    .png()
    .toBuffer();
}

describe('brand match', () => {
  it("measures each brand colour's coverage and names the dominant one", async () => {
    const image = await composition([
      { hex: '#F52A50', share: 0.3 }, // near the brand magenta (ΔE00 < 12)
      { hex: '#2E7D32', share: 0.6 }, // a green
      { hex: '#00E0FF', share: 0.05 }, // a little teal, below the 8 % threshold
      { hex: '#777777', share: 0.05 },
    ]);
    const result = await analyseColour(image, DEFAULT_PALETTE);
    const byName = Object.fromEntries(result.brand.map((b) => [b.name, b]));
    expect(byName.magenta!.coverage).toBeCloseTo(0.3, 1);
    expect(byName.magenta!.present).toBe(true);
    expect(byName.teal!.coverage).toBeCloseTo(0.05, 1);
    expect(byName.teal!.present).toBe(false);
    expect(byName.yellow!.coverage).toBe(0);
    expect(result.dominantBrand).toEqual({ name: 'magenta', hex: '#FE2C54' });
    expect(result.colourName).toBe('magenta');
    expect(result.dominant[0]!.share).toBeCloseTo(0.6, 1);
  });

  it('falls back to a plain colour name when no brand colour is clearly present', async () => {
    const result = await analyseColour(await composition([{ hex: '#1565C0', share: 1 }]), DEFAULT_PALETTE);
    expect(result.dominantBrand).toBeNull();
    expect(result.colourName).toBe('blue');
    expect(
      [
        '#000000',
        '#FFFFFF',
        '#808080',
        '#2E7D32',
        '#FF9800',
        '#FFEB3B',
        '#009688',
        '#7B1FA2',
        '#D81B9C',
        '#795548',
        '#D32F2F',
        '#F8BBD0',
      ].map(plainColourName),
    ).toEqual(['black', 'white', 'grey', 'green', 'orange', 'yellow', 'teal', 'purple', 'magenta', 'brown', 'red', 'pink']);
  });
});

describe('.cube LUTs', () => {
  it('round-trips a LUT and names the line of a bad file', () => {
    const lut = buildLut(3, 'warm', (r, g, b) => [Math.min(1, r * 1.1), g, b * 0.9]);
    const parsed = parseCube(`# a comment\n${formatCube(lut)}`);
    expect(parsed.size).toBe(3);
    expect(parsed.title).toBe('warm');
    expect(Array.from(parsed.table).map((v) => v.toFixed(4))).toEqual(Array.from(lut.table).map((v) => v.toFixed(4)));
    const bad = (text: string): CubeError => {
      try {
        parseCube(text);
      } catch (error) {
        return error as CubeError;
      }
      throw new Error('parsed');
    };
    expect(bad('LUT_3D_SIZE 2\n0 0 0\n1 0 x\n').message).toBe('.cube line 3: "1 0 x" is not three numbers');
    expect(bad('LUT_3D_SIZE 99\n').message).toMatch(/line 1: LUT_3D_SIZE must be 2 to 65/);
    expect(bad('LUT_3D_SIZE 2\n0 0 0\n').message).toMatch(/expected 8 entries for size 2, found 1/);
    expect(bad('0 0 0\n').message).toMatch(/line 1: data before LUT_3D_SIZE/);
  });

  it('the identity LUT changes nothing; tetrahedral interpolation is exact on a linear LUT', () => {
    const pixels = Uint8Array.from({ length: 3 * 1000 }, (_, i) => (i * 37) % 256);
    const copy = Uint8Array.from(pixels);
    applyLut(
      copy,
      3,
      buildLut(17, 'identity', (r, g, b) => [r, g, b]),
    );
    expect(Array.from(copy)).toEqual(Array.from(pixels));
    const inverted = Uint8Array.from(pixels);
    applyLut(
      inverted,
      3,
      buildLut(5, 'invert', (r, g, b) => [1 - r, 1 - g, 1 - b]),
    );
    for (let i = 0; i < pixels.length; i++) expect(Math.abs(inverted[i]! - (255 - pixels[i]!))).toBeLessThanOrEqual(1);
  });

  it.skipIf(spawnSync('ffmpeg', ['-version']).status !== 0)("matches ffmpeg's lut3d (tetrahedral) within 2 levels", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-lut-'));
    const input = path.join(dir, 'in.png');
    // A gradient image: every interpolation case is exercised.
    const w = 256;
    const h = 64;
    const raw = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set([x, (y * 4) % 256, (x * 3 + y * 7) % 256], (y * w + x) * 3);
    await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(input);
    const cube = path.join(dir, 'snap.cube');
    const lut = paletteSnap(DEFAULT_PALETTE, { crushGreens: 0.3, lift: 3, size: 17 });
    fs.writeFileSync(cube, formatCube(lut));
    const ffOut = path.join(dir, 'ff.png');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', input, '-vf', `lut3d=file=${cube}:interp=tetrahedral`, '-pix_fmt', 'rgb24', ffOut]);
    const ours = Buffer.from(raw);
    applyLut(ours, 3, lut);
    const theirs = await sharp(ffOut).removeAlpha().raw().toBuffer();
    let max = 0;
    for (let i = 0; i < ours.length; i++) max = Math.max(max, Math.abs(ours[i]! - theirs[i]!));
    expect(max).toBeLessThanOrEqual(2);
    expect(ours.equals(raw)).toBe(false);
  });

  it('palette snap lifts the brand magenta, crushes greens and leaves neutrals alone', () => {
    const lut = paletteSnap(DEFAULT_PALETTE);
    const through = (hex: string): [number, number, number] => {
      const px = Uint8Array.from([1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)));
      applyLut(px, 3, lut);
      return [px[0]!, px[1]!, px[2]!];
    };
    const chroma = (rgb: [number, number, number]): number => Math.hypot(...rgbToOklab(...rgb).slice(1));
    expect(chroma(through('#E0306A'))).toBeGreaterThan(chroma([0xe0, 0x30, 0x6a]));
    expect(chroma(through('#2E9D42'))).toBeLessThan(chroma([0x2e, 0x9d, 0x42]) * 0.97);
    expect(through('#808080')).toEqual([128, 128, 128]);
  });
});
