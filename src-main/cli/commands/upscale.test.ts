import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { runCaptured as cli } from '../capture.js';

describe('onbrand upscale', () => {
  it('upscales with a built-in model (converted on first use) and never overwrites', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-cli-upscale-'));
    const models = path.join(dir, 'models');
    const input = path.join(dir, 'in.png');
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#00E0FF' } })
      .png()
      .toFile(input);
    const output = path.join(dir, 'out.jpg');
    const result = await cli([
      'upscale',
      '--model',
      'esrgan-slim',
      '--scale',
      '2',
      '--provider',
      'cpu',
      '--models-dir',
      models,
      input,
      output,
      '--json',
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({ model: 'esrgan-slim', scale: 2, provider: 'cpu', width: 80, height: 60 });
    expect((await sharp(output).metadata()).width).toBe(80);
    expect(fs.existsSync(path.join(models, 'upscalers', 'esrgan-slim-x2.onnx'))).toBe(true);
    expect((await cli(['upscale', '--model', 'esrgan-slim', '--scale', '2', '--models-dir', models, input, output])).err).toMatch(
      /exists; Onbrand never overwrites/,
    );
    expect((await cli(['upscale', '--model', 'esrgan-slim', '--scale', '5', input, path.join(dir, 'x.png')])).code).toBe(2);
    expect((await cli(['upscale', input, path.join(dir, 'x.png')])).err).toMatch(/--model is required/);
  }, 60_000);
});
