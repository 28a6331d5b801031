/** Colour: palette extraction and brand analysis per image; LUT application in megapixels per second against ffmpeg's lut3d. */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { it } from 'vitest';
import { DEFAULT_PALETTE } from '../src-main/core/api/index.js';
import { analyseColour, applyLut, extractPalette, formatCube, paletteSnap } from '../src-main/core/color/index.js';
import { measure, median, report } from './support.js';

it('colour: palette, brand analysis, LUT', async () => {
  await measure('colour', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-bench-colour-'));
    const width = 1080;
    const height = 1920;
    const raw = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) raw.set([(x * 255) / width, (y * 255) / height, ((x + y) * 97) % 256], (y * width + x) * 3);
    const file = path.join(dir, 'gradient.png');
    await sharp(raw, { raw: { width, height, channels: 3 } })
      .png()
      .toFile(file);

    const palette: number[] = [];
    const brand: number[] = [];
    for (let i = 0; i < 10; i++) {
      let t = performance.now();
      await extractPalette(file);
      palette.push(performance.now() - t);
      t = performance.now();
      await analyseColour(file, DEFAULT_PALETTE);
      brand.push(performance.now() - t);
    }
    report(
      `colour: ${width}×${height} PNG on ${os.cpus().length} cores: palette extraction median ${median(palette).toFixed(0)} ms; brand analysis (CIEDE2000 coverage + palette) median ${median(brand).toFixed(0)} ms`,
    );

    const lut = paletteSnap(DEFAULT_PALETTE);
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const pixels = Buffer.from(raw);
      const t = performance.now();
      applyLut(pixels, 3, lut);
      runs.push(performance.now() - t);
    }
    const mp = (width * height) / 1e6;
    const ours = mp / (median(runs) / 1000);
    report(`colour: LUT (33³, tetrahedral) on raw pixels: ${ours.toFixed(1)} MP/s (${median(runs).toFixed(0)} ms for ${mp.toFixed(2)} MP)`);
    if (spawnSync('ffmpeg', ['-version']).status !== 0) {
      report('colour: ffmpeg not installed: no lut3d comparison');
      return;
    }
    const cube = path.join(dir, 'snap.cube');
    fs.writeFileSync(cube, formatCube(lut));
    const rawFile = path.join(dir, 'in.rgb');
    fs.writeFileSync(rawFile, raw);
    const ff: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      execFileSync('ffmpeg', [
        '-v',
        'error',
        '-y',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        '-s',
        `${width}x${height}`,
        '-i',
        rawFile,
        '-vf',
        `lut3d=file=${cube}:interp=tetrahedral`,
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        path.join(dir, 'out.rgb'),
      ]);
      ff.push(performance.now() - t);
    }
    const theirs = mp / (median(ff) / 1000);
    report(
      `colour: ffmpeg lut3d (tetrahedral, whole process incl. start-up and raw I/O): ${theirs.toFixed(1)} MP/s → ratio Onbrand / ffmpeg ${(ours / theirs).toFixed(2)}`,
    );
  });
});
