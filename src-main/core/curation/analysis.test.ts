/** The analysis worker: the same focus scores and colour analyses as in this thread, off the event loop. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PALETTE } from '../api/index.js';
import { BACKGROUND_NICE, ImageAnalyser, analyseImage } from './analysis.js';

// The built worker (npm test builds first); run from the sources alone, the worker tests are skipped.
const built = path.resolve('dist/main/core/curation/analysis-worker.js');
let dir: string;
let file: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'analysis-'));
  file = path.join(dir, 'noise.png');
  await sharp({
    create: { width: 256, height: 448, channels: 3, background: '#FE2C54', noise: { type: 'gaussian', mean: 128, sigma: 30 } },
  })
    .composite([{ input: { create: { width: 128, height: 448, channels: 3, background: '#00E0FF' } }, left: 0, top: 0 }])
    .png()
    .toFile(file);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ImageAnalyser', () => {
  it.skipIf(!fs.existsSync(built))('answers in a worker thread with exactly the results of this thread', async () => {
    const analyser = new ImageAnalyser(built);
    try {
      expect(analyser.threaded).toBe(true);
      const request = { path: file, sharpness: true, palette: [...DEFAULT_PALETTE] };
      const [threaded, here] = await Promise.all([analyser.analyse(request), analyseImage(request)]);
      expect(threaded).toEqual(here);
      expect(threaded.sharpness).toBeGreaterThan(0);
      expect(threaded.colour?.brand.find((b) => b.hex === '#00E0FF')?.present).toBe(true);
      // Only what is asked for is made.
      expect(await analyser.analyse({ path: file, sharpness: false, palette: null })).toEqual({});
    } finally {
      await analyser.close();
    }
  });

  it.skipIf(!fs.existsSync(built))('keeps the event loop free while it analyses', async () => {
    const analyser = new ImageAnalyser(built);
    try {
      await analyser.analyse({ path: file, sharpness: true, palette: [...DEFAULT_PALETTE] });
      // Timers keep firing on time while several analyses run in the worker.
      let worst = 0;
      let last = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        worst = Math.max(worst, now - last);
        last = now;
      }, 5);
      await Promise.all(Array.from({ length: 6 }, () => analyser.analyse({ path: file, sharpness: true, palette: [...DEFAULT_PALETTE] })));
      clearInterval(timer);
      expect(worst).toBeLessThan(50);
    } finally {
      await analyser.close();
    }
  });

  it.skipIf(!fs.existsSync(built))('names the file it cannot read, and goes on with the next', async () => {
    const analyser = new ImageAnalyser(built);
    try {
      const broken = path.join(dir, 'broken.png');
      fs.writeFileSync(broken, 'not a png');
      await expect(analyser.analyse({ path: broken, sharpness: true, palette: null })).rejects.toThrow();
      expect((await analyser.analyse({ path: file, sharpness: true, palette: null })).sharpness).toBeGreaterThan(0);
    } finally {
      await analyser.close();
    }
  });

  it.skipIf(!fs.existsSync(built) || process.platform !== 'linux')(
    'runs its thread at a lower priority than the app (Linux: nice is per thread)',
    async () => {
      const nice = (task: string): number => Number(fs.readFileSync(`/proc/self/task/${task}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
      const before = new Set(fs.readdirSync('/proc/self/task'));
      const analyser = new ImageAnalyser(built);
      try {
        await analyser.analyse({ path: file, sharpness: true, palette: null });
        const added = fs.readdirSync('/proc/self/task').filter((t) => !before.has(t));
        expect(added.map(nice)).toContain(BACKGROUND_NICE);
        // The app's own thread keeps its priority.
        expect(nice(String(process.pid))).toBe(0);
      } finally {
        await analyser.close();
      }
    },
  );

  it('runs in this thread where the built worker is missing, and refuses once closed', async () => {
    const analyser = new ImageAnalyser(path.join(dir, 'no-such-worker.js'));
    expect(analyser.threaded).toBe(false);
    const result = await analyser.analyse({ path: file, sharpness: true, palette: null });
    expect(result.sharpness).toBeGreaterThan(0);
    await analyser.close();
    await expect(analyser.analyse({ path: file, sharpness: true, palette: null })).rejects.toThrow('closed');
  });
});
