import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { hexToRgb, oklabToRgb, rgbToHex, rgbToOklab } from './oklab.js';
import { deltaE } from '../common/index.js';
import { aggregatePalettes, extractPalette, kmeansPalette } from './palette.js';

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

  it('never blends distinct colours of a board: yellow and white stay #FFD500 and #FFFFFF (not a cream #ECDE91)', () => {
    // A board of yellow-and-white shots among seven other colours: more colours than the board keeps.
    const others = ['#FE2C54', '#00E0FF', '#7A3CFF', '#18C964', '#FF8A00', '#2B2D42', '#C2185B'];
    const board = [
      [
        { hex: '#FFD500', share: 0.7 },
        { hex: '#FFFFFF', share: 0.3 },
      ],
      [
        { hex: '#FFFFFF', share: 0.6 },
        { hex: '#FFD500', share: 0.4 },
      ],
      ...others.map((hex) => [
        { hex, share: 0.9 },
        { hex: '#FFFFFF', share: 0.1 },
      ]),
    ];
    const inputs = new Set(board.flat().map((c) => c.hex));
    const result = aggregatePalettes(board);
    expect(result.slice(0, 2).map((c) => c.hex)).toEqual(['#FFFFFF', '#FFD500']);
    // Every colour is one of the board's own; none is within the merge distance of another.
    for (const c of result) expect(inputs.has(c.hex)).toBe(true);
    for (const a of result) for (const b of result) if (a !== b) expect(deltaE(a.hex, b.hex)).toBeGreaterThan(10);
    expect(result.reduce((s, c) => s + c.share, 0)).toBeLessThanOrEqual(1.001);
  });

  it('merges shades of one colour into its most common member, not their mean', () => {
    const result = aggregatePalettes([
      [{ hex: '#15CB74', share: 1 }],
      [
        { hex: '#12C070', share: 0.75 },
        { hex: '#FFD500', share: 0.25 },
      ],
      [{ hex: '#FFD500', share: 1 }],
    ]);
    expect(result.map((c) => c.hex)).toEqual(['#15CB74', '#FFD500']);
    expect(result[0]!.share).toBeCloseTo(0.583, 3);
  });

  it("reports an image's cluster by a colour of its own pixels", () => {
    // One cluster for an image of two colours: a member colour (the commoner), not the mean of both.
    const points = [...Array(30).fill(hexToRgb('#FFD500')), ...Array(20).fill(hexToRgb('#FFFFFF'))].map((rgb: [number, number, number]) =>
      rgbToOklab(...rgb),
    );
    expect(kmeansPalette(points, 1)).toEqual([{ hex: '#FFD500', share: 1 }]);
    expect(kmeansPalette(points, 5).map((c) => c.hex)).toEqual(['#FFD500', '#FFFFFF']);
  });
});
