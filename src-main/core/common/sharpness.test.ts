import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { sharpnessScore } from '../curation/index.js';
import { CRISP_FROM, SHARPNESS_CEILING, SOFT_BELOW, formatSharpness, loraTags, readSharpness } from './index.js';

/** A 512×512 field of random grey blocks: detail everywhere, like grain or foliage, blurred by `sigma` px. */
async function texture(sigma: number, block = 2): Promise<Buffer> {
  const size = 512;
  const raw = Buffer.alloc(size * size);
  let state = 12345;
  const cells = size / block;
  const values = Array.from({ length: cells * cells }, () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return 64 + ((state >>> 16) % 128);
  });
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) raw[y * size + x] = values[Math.floor(y / block) * cells + Math.floor(x / block)]!;
  const image = sharp(raw, { raw: { width: size, height: size, channels: 1 } });
  return (sigma > 0 ? image.blur(sigma) : image).png().toBuffer();
}

describe('readSharpness', () => {
  it('maps the raw variance of the Laplacian onto 0–100, logarithmically, capped at the ceiling', () => {
    expect(readSharpness(0)).toEqual({ score: 0, word: 'soft' });
    expect(readSharpness(SHARPNESS_CEILING).score).toBe(100);
    expect(readSharpness(SHARPNESS_CEILING * 50).score).toBe(100);
    expect(readSharpness(392).score).toBe(80);
    expect(readSharpness(100).score).toBe(52);
    expect(readSharpness(10).score).toBe(15);
    // Monotonic: a crisper image never reads lower.
    let last = -1;
    for (let v = 0; v <= 1200; v += 3) {
      const { score } = readSharpness(v);
      expect(score).toBeGreaterThanOrEqual(last);
      last = score;
    }
  });

  it('names the band: soft below 50, crisp from 75, ok between', () => {
    expect(SOFT_BELOW).toBe(50);
    expect(CRISP_FROM).toBe(75);
    expect(readSharpness(85).word).toBe('soft');
    expect(readSharpness(95).word).toBe('ok');
    expect(readSharpness(300).word).toBe('ok');
    expect(readSharpness(320).word).toBe('crisp');
    expect(readSharpness(2700).word).toBe('crisp');
  });

  it('reads nonsense as 0 and infinity as the top of the scale', () => {
    expect(readSharpness(-5).score).toBe(0);
    expect(readSharpness(Number.NaN).score).toBe(0);
    expect(readSharpness(Infinity).score).toBe(100);
  });

  it('formats a score for the cells, "…" while it is not computed', () => {
    expect(formatSharpness(null)).toBe('…');
    expect(formatSharpness(392)).toBe('80 crisp');
    expect(formatSharpness(40)).toBe('35 soft');
    expect(formatSharpness(150)).toBe('60 ok');
  });

  it('agrees with the core metric: a detailed image reads crisp, the same blurred reads ok, then soft', async () => {
    const crisp = readSharpness(await sharpnessScore(await texture(0)));
    const slightly = readSharpness(await sharpnessScore(await texture(1.2)));
    const blurred = readSharpness(await sharpnessScore(await texture(4)));
    expect(crisp.word).toBe('crisp');
    expect(blurred.word).toBe('soft');
    expect(slightly.word).toBe('ok');
    expect(crisp.score).toBeGreaterThan(slightly.score);
    expect(slightly.score).toBeGreaterThan(blurred.score);
  });
});

describe('loraTags', () => {
  it('finds every LoRA tag with its weight, in order', () => {
    expect(loraTags('portrait <lora:FluxPortraitTrainer:0.8>, teal <lyco:TypoTexture:0.4:0.2> <lora:Odd:x>')).toEqual([
      { name: 'FluxPortraitTrainer', weight: 0.8 },
      { name: 'TypoTexture', weight: 0.4 },
      { name: 'Odd', weight: null },
    ]);
    expect(loraTags('no tags here, <lora:broken>')).toEqual([]);
  });
});
