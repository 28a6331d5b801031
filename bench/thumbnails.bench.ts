/**
 * Thumbnails per second for 200 generated 1024×1792 PNGs: Onbrand's thumbnailer (sharp, as the
 * importer runs it) and the whole import, beside Debian's `vipsthumbnail` on the same files.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { it } from 'vitest';
import { resolveConfig } from '../src-main/core/config.js';
import { writeThumbnail } from '../src-main/core/images/index.js';
import { createServices } from '../src-main/core/services.js';
import { BENCH_OUT, measure, report } from './support.js';

const COUNT = 200;
const WIDTH = 1024;
const HEIGHT = 1792;

/** A generation-like picture: gradients, shapes and fine grain, so PNG decoding does real work. */
function generationSvg(i: number): Buffer {
  const hue = (i * 37) % 360;
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}">
    <defs>
      <linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
        <stop offset="0" stop-color="hsl(${hue},85%,55%)"/><stop offset="1" stop-color="hsl(${(hue + 140) % 360},80%,35%)"/>
      </linearGradient>
      <radialGradient id="r"><stop offset="0" stop-color="#FFD500"/><stop offset="1" stop-color="#FE2C54" stop-opacity="0"/></radialGradient>
      <filter id="n"><feTurbulence type="fractalNoise" baseFrequency="0.9" numOctaves="2" seed="${i}"/><feColorMatrix type="saturate" values="0"/><feComponentTransfer><feFuncA type="linear" slope="0.25"/></feComponentTransfer></filter>
    </defs>
    <rect width="100%" height="100%" fill="url(#g)"/>
    <circle cx="${300 + (i % 5) * 90}" cy="${700 + (i % 7) * 40}" r="${260 + (i % 3) * 40}" fill="url(#r)"/>
    <rect width="100%" height="100%" filter="url(#n)"/>
  </svg>`);
}

async function ensureSources(dir: string): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    const file = path.join(dir, `gen_${String(i).padStart(3, '0')}.png`);
    if (!fs.existsSync(file)) await sharp(generationSvg(i)).png().toFile(file);
    files.push(file);
  }
  return files;
}

/** Runs `work` over the files with the importer's concurrency (2). */
async function pool(files: string[], work: (file: string, index: number) => Promise<unknown>, concurrency = 2): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < files.length) {
        const i = next++;
        await work(files[i]!, i);
      }
    }),
  );
}

it('thumbnails per second: Onbrand (sharp) vs vipsthumbnail', async () => {
  await measure('thumbnails', async () => {
    const files = await ensureSources(path.join(BENCH_OUT, 'sources-1024x1792'));
    const mb = files.reduce((sum, f) => sum + fs.statSync(f).size, 0) / 2 ** 20;
    report(
      `thumbnails: ${files.length} PNGs ${WIDTH}×${HEIGHT} (${mb.toFixed(0)} MB) on ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}`,
    );

    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-bench-thumbs-'));
    let started = performance.now();
    await pool(files, (file, i) => writeThumbnail(fs.readFileSync(file), path.join(out, `${i}.webp`)));
    const onbrandSeconds = (performance.now() - started) / 1000;
    const onbrandRate = files.length / onbrandSeconds;
    report(
      `thumbnails: Onbrand writeThumbnail (sharp ${sharp.versions.sharp}, 512 px WebP q80): ${onbrandRate.toFixed(1)} /s (${onbrandSeconds.toFixed(2)} s)`,
    );

    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-bench-import-'));
    const services = createServices(resolveConfig({ dataDir }));
    try {
      const project = services.projects.create({ name: 'Bench' });
      started = performance.now();
      const result = await services.importer.import(project.id, [path.dirname(files[0]!)]);
      const importSeconds = (performance.now() - started) / 1000;
      report(
        `thumbnails: full import (read, hash, decode, thumbnail, copy, record): ${(result.imported.length / importSeconds).toFixed(1)} images/s (${importSeconds.toFixed(2)} s)`,
      );
    } finally {
      services.close();
    }

    const vips = spawnSync('vipsthumbnail', ['--vips-version'], { encoding: 'utf8' });
    if (vips.status !== 0) {
      report('thumbnails: vipsthumbnail not installed (apt-get install libvips-tools): no comparison');
      return;
    }
    const vipsOut = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-bench-vips-'));
    started = performance.now();
    execFileSync('vipsthumbnail', ['--size', '512', '-o', path.join(vipsOut, '%s.webp[Q=80]'), ...files]);
    const vipsSeconds = (performance.now() - started) / 1000;
    const vipsRate = files.length / vipsSeconds;
    report(`thumbnails: vipsthumbnail (${vips.stdout.trim()}, one process): ${vipsRate.toFixed(1)} /s (${vipsSeconds.toFixed(2)} s)`);
    // Two processes, one per core, as Onbrand runs two decodes at once.
    const half = Math.ceil(files.length / 2);
    started = performance.now();
    await Promise.all(
      [files.slice(0, half), files.slice(half)].map((part) =>
        promisify(execFile)('vipsthumbnail', ['--size', '512', '-o', path.join(vipsOut, '%s.webp[Q=80]'), ...part]),
      ),
    );
    const vips2Seconds = (performance.now() - started) / 1000;
    const vips2Rate = files.length / vips2Seconds;
    report(`thumbnails: vipsthumbnail (two processes): ${vips2Rate.toFixed(1)} /s (${vips2Seconds.toFixed(2)} s)`);
    report(
      `thumbnails: ratio Onbrand / vipsthumbnail = ${(onbrandRate / vipsRate).toFixed(2)} (one process), ${(onbrandRate / vips2Rate).toFixed(2)} (two processes)`,
    );
  });
});
