import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { parseCube } from '../../core/color/index.js';
import { runCaptured as cli } from '../capture.js';

describe('onbrand lut', () => {
  it('writes the snap LUT and applies a LUT, never over an existing file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-cli-lut-'));
    const cube = path.join(dir, 'snap.cube');
    expect((await cli(['lut', 'snap', '--brand', '#FE2C54,#00E0FF', '--crush-greens', '0.05', '--out', cube])).code).toBe(0);
    expect(parseCube(fs.readFileSync(cube, 'utf8')).size).toBe(33);
    expect((await cli(['lut', 'snap', '--out', cube])).err).toMatch(/exists; Onbrand never overwrites/);
    const input = path.join(dir, 'in.png');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#2E9D42' } })
      .png()
      .toFile(input);
    const output = path.join(dir, 'out.png');
    const applied = await cli(['lut', 'apply', '--cube', cube, input, output]);
    expect(applied.code).toBe(0);
    const { data } = await sharp(output).raw().toBuffer({ resolveWithObject: true });
    expect([...data.subarray(0, 3)]).not.toEqual([0x2e, 0x9d, 0x42]);
    fs.writeFileSync(path.join(dir, 'bad.cube'), 'LUT_3D_SIZE 2\n0 0 0\n');
    expect((await cli(['lut', 'apply', '--cube', path.join(dir, 'bad.cube'), input, path.join(dir, 'o2.png')])).err).toMatch(
      /expected 8 entries/,
    );
  });
});
