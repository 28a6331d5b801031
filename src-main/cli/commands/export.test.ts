import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { runCaptured as cli } from '../capture.js';

describe('onbrand rate, flag and export', () => {
  it('scripts a whole export from the command line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-cli-export-'));
    const data = ['--data-dir', path.join(dir, 'data')];
    const shots = path.join(dir, 'shots');
    fs.mkdirSync(shots);
    await sharp({ create: { width: 270, height: 480, channels: 3, background: '#FFD500' } })
      .png()
      .toFile(path.join(shots, 'y.png'));
    expect((await cli(['projects', 'create', 'Drop', ...data])).code).toBe(0);
    expect((await cli(['import', 'Drop', shots, ...data])).code).toBe(0);
    expect((await cli(['rate', 'Drop', '1', '4', ...data])).out).toMatch(/y\.png: ★★★★/);
    expect((await cli(['flag', 'Drop', '1', 'pick', ...data])).out).toMatch(/\(pick\)/);
    expect((await cli(['rate', 'Drop', '1', '9', ...data])).err).toMatch(/STARS must be 0 to 5/);
    const out = path.join(dir, 'out');
    const result = await cli([
      'export',
      'Drop',
      '--target',
      'folder',
      '--picks',
      '--dir',
      out,
      '--width',
      '270',
      '--height',
      '480',
      ...data,
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Exported 1 file to .*out/);
    expect(fs.readdirSync(out)[0]).toMatch(/^\d{8}_folder_yellow_noseed\.jpg$/);
    expect((await cli(['export', 'Drop', '--picks', ...data])).err).toMatch(/--target is required/);
  }, 60_000);
});
