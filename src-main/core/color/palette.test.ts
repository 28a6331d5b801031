import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { hexToRgb, oklabToRgb, rgbToHex, rgbToOklab } from './oklab.js';
import { aggregatePalettes, extractPalette } from './palette.js';

describe('OKLab', () => {
  it('matches the published reference values and round-trips sRGB', () => {
    // Björn Ottosson's reference: sRGB white → L 1, a 0, b 0; pure red → (0.628, 0.2249, 0.1258).
    const white = rgbToOklab(255, 255, 255);
    expect(white[0]).toBeCloseTo(1, 3);
    expect(Math.abs(white[1]) + Math.abs(white[2])).toBeLessThan(1e-3);
    const red = rgbToOklab(255, 0, 0);
    expect(red[0]).toBeCloseTo(0.628, 3);
    expect(red[1]).toBeCloseTo(0.2249, 3);
    expect(red[2]).toBeCloseTo(0.1258, 3);
    for (const hex of ['#FE2C54', '#00E0FF', '#FFD500', '#000000', '#808080'])
      expect(rgbToHex(...oklabToRgb(rgbToOklab(...hexToRgb(hex))))).toBe(hex);
  });
});

describe('palette', () => {
  it('finds the dominant colours of an image with their shares', async () => {
    const image = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#00E0FF' } })
      .composite([
        {
          input: await sharp({ create: { width: 100, height: 25, channels: 3, background: '#FE2C54' } })
            .png()
            .toBuffer(),
          top: 0,
          left: 0,
        },
      ])
      .png()
      .toBuffer();
    const palette = await extractPalette(image);
    expect(palette.slice(0, 2).map((c) => c.hex)).toEqual(['#00E0FF', '#FE2C54']);
    expect(palette[0]!.share).toBeCloseTo(0.75, 1);
    expect(palette[1]!.share).toBeCloseTo(0.25, 1);
    expect(palette.reduce((s, c) => s + c.share, 0)).toBeCloseTo(1, 2);
  });

  it('aggregates a board of palettes', () => {
    const board = aggregatePalettes([
      [{ hex: '#FE2C54', share: 1 }],
      [
        { hex: '#FFD500', share: 0.6 },
        { hex: '#00E0FF', share: 0.4 },
      ],
    ]);
    expect(board.map((c) => c.hex).sort()).toEqual(['#00E0FF', '#FE2C54', '#FFD500']);
  });
});
