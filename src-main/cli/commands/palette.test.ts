import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { runCaptured } from '../capture.js';

const cli = runCaptured;

describe('onbrand palette', () => {
  it('prints the palette JSON of the issue', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-cli-colour-'));
    const image = path.join(dir, 'teal.png');
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#00E0FF' } })
      .png()
      .toFile(image);
    const result = await cli(['palette', image, '--json']);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.out) as {
      dominant: { hex: string; share: number }[];
      brand: { name: string; coverage: number; present: boolean }[];
      dominantBrand: unknown;
    };
    expect(json.dominant[0]).toEqual({ hex: '#00E0FF', share: 1 });
    expect(json.brand.map((b) => [b.name, b.coverage, b.present])).toEqual([
      ['magenta', 0, false],
      ['teal', 1, true],
      ['yellow', 0, false],
    ]);
    expect(json.dominantBrand).toEqual({ name: 'teal', hex: '#00E0FF' });
    expect((await cli(['palette', image, '--brand', 'nope'])).err).toMatch(/--brand: "nope" is not a colour/);
  });
});
