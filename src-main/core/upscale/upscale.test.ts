/** ESRGAN: conversion against TensorFlow.js itself, verification, tiling, user models, the CLI. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertLayersModel } from './convert.js';
import { ensureBuiltIn, listUpscalers, packageModelJson, probeInput, type BuiltIn } from './models.js';
import { upscaleRgb, type RgbImage } from './tiled.js';
import { loadReferenceModel } from './testing/tfjs-reference.js';
import { Upscaler } from './upscaler.js';

const modelJson = (pkg: string, scale: number): string => packageModelJson(pkg as BuiltIn, scale);
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-upscale-'));
});

/** TensorFlow.js running the package's own layers model on NCHW 0..1 input; NCHW 0..1 output. */
async function reference(
  json: string,
  range: [number, number],
  input: Float32Array,
  h: number,
  w: number,
  scale: number,
): Promise<Float32Array> {
  const m = await loadReferenceModel(json);
  const nhwc = new Float32Array(h * w * 3);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) nhwc[(y * w + x) * 3 + c] = input[(c * h + y) * w + x]! * (range[1] - range[0]) + range[0];
  const out = (m.predict(tf.tensor4d(nhwc, [1, h, w, 3])) as tf.Tensor).dataSync();
  m.dispose();
  const oh = h * scale;
  const ow = w * scale;
  const nchw = new Float32Array(3 * oh * ow);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++)
        nchw[(c * oh + y) * ow + x] = Math.min(1, Math.max(0, (out[(y * ow + x) * 3 + c]! - range[0]) / (range[1] - range[0])));
  return nchw;
}

describe('converting the @upscalerjs ESRGAN models', () => {
  // Every converted model against TensorFlow.js on a small generated image: within 2 levels (of 255).
  for (const pkg of ['esrgan-slim', 'esrgan-medium', 'esrgan-thick'] as const) {
    for (const scale of [2, 3, 4, 8]) {
      it(`${pkg} ×${scale} computes what TensorFlow.js computes`, async () => {
        const range: [number, number] = pkg === 'esrgan-thick' ? [0, 1] : [0, 255];
        const converted = convertLayersModel(modelJson(pkg, scale), { inputRange: range });
        expect(converted.scale).toBe(scale);
        const session = await ort.InferenceSession.create(converted.onnx);
        const h = 7;
        const w = 6;
        const input = Float32Array.from({ length: 3 * h * w }, (_, i) => (Math.cos(i * 0.21) + 1) / 2);
        const ours = (await session.run({ input: new ort.Tensor('float32', input, [1, 3, h, w]) })).output!.data as Float32Array;
        const theirs = await reference(modelJson(pkg, scale), range, input, h, w, scale);
        let max = 0;
        for (let i = 0; i < theirs.length; i++) max = Math.max(max, Math.abs(Math.round(ours[i]! * 255) - Math.round(theirs[i]! * 255)));
        expect(max).toBeLessThanOrEqual(2);
        await session.release();
      }, 120_000);
    }
  }

  it('writes a verified model once, into the upscalers folder', async () => {
    const file = await ensureBuiltIn('esrgan-slim', 2, dir);
    expect(file).toBe(path.join(dir, 'esrgan-slim-x2.onnx'));
    const stat = fs.statSync(file);
    expect(await ensureBuiltIn('esrgan-slim', 2, dir)).toBe(file);
    expect(fs.statSync(file).mtimeMs).toBe(stat.mtimeMs);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('tiled upscaling', () => {
  const image = async (w: number, h: number): Promise<RgbImage> => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="#123456"/><circle cx="${w / 2}" cy="${h / 2}" r="${h / 3}" fill="#FE2C54"/><rect x="5" y="5" width="${w / 3}" height="8" fill="#FFD500"/></svg>`;
    const { data, info } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  };

  it('tiles with blended overlaps give the same picture as one piece, and no tile is larger than asked', async () => {
    const upscaler = new Upscaler(dir, 'cpu');
    const source = await image(200, 160);
    const whole = await upscaler.upscaleImage(source, 'esrgan-slim', 2, { tile: 1024 });
    const progress: number[] = [];
    const tiled = await upscaler.upscaleImage(source, 'esrgan-slim', 2, {
      tile: 64,
      overlap: 16,
      onProgress: (done) => progress.push(done),
    });
    expect([tiled.image.width, tiled.image.height]).toEqual([400, 320]);
    let max = 0;
    let sum = 0;
    for (let i = 0; i < whole.image.data.length; i++) {
      const d = Math.abs(whole.image.data[i]! - tiled.image.data[i]!);
      max = Math.max(max, d);
      sum += d;
    }
    // Convolutions see a little less context at tile edges; blended overlaps keep it to a few levels.
    console.log(`tiled (64 px tiles, 16 px overlap) vs whole: max ${max} levels, mean ${(sum / whole.image.data.length).toFixed(3)}`);
    expect(max).toBeLessThanOrEqual(4);
    expect(sum / whole.image.data.length).toBeLessThan(0.1);
    expect(progress.at(-1)).toBe(progress.length);
    expect(progress.length).toBeGreaterThan(4);
    await upscaler.dispose();
  }, 60_000);

  it('hands the model tiles bounded by the tile size, and stops between tiles when cancelled', async () => {
    const seen: [number, number][] = [];
    const runner = {
      scale: 2,
      run: async (tile: Float32Array, h: number, w: number) => {
        seen.push([h, w]);
        const out = new Float32Array(3 * h * 2 * w * 2);
        for (let c = 0; c < 3; c++)
          for (let y = 0; y < h * 2; y++)
            for (let x = 0; x < w * 2; x++) out[(c * h * 2 + y) * w * 2 + x] = tile[(c * h + (y >> 1)) * w + (x >> 1)]!;
        return out;
      },
    };
    const source = await image(300, 200);
    const result = await upscaleRgb(source, runner, { tile: 64, overlap: 8 });
    expect(seen.every(([h, w]) => h <= 64 && w <= 64)).toBe(true);
    // A nearest-neighbour "model": the tiled result is exactly the nearest upscale.
    expect(result.data[(2 * 600 + 2) * 3]).toBe(source.data[(1 * 300 + 1) * 3]);
    const controller = new AbortController();
    let calls = 0;
    const stopping = {
      scale: 2,
      run: async (t: Float32Array, h: number, w: number) => (++calls === 2 && controller.abort(), runner.run(t, h, w)),
    };
    await expect(upscaleRgb(source, stopping, { tile: 64, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toBe(2);
  });
});

describe('user models', () => {
  it('takes any ONNX super-resolution model in the folder, its scale read from the model', async () => {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-user-sr-'));
    fs.copyFileSync(await ensureBuiltIn('esrgan-slim', 3, dir), path.join(userDir, 'my-sr-model.onnx'));
    fs.writeFileSync(path.join(userDir, 'broken.onnx'), 'not a model');
    const list = await listUpscalers(userDir);
    expect(list.filter((u) => !u.builtIn)).toEqual([
      { name: 'my-sr-model', file: path.join(userDir, 'my-sr-model.onnx'), scale: 3, builtIn: false },
    ]);
    const upscaler = new Upscaler(userDir, 'cpu');
    const { image, scale } = await upscaler.upscaleImage({ data: Buffer.alloc(8 * 8 * 3, 128), width: 8, height: 8 }, 'my-sr-model');
    expect([scale, image.width]).toEqual([3, 24]);
    await expect(upscaler.resolve('nope')).rejects.toThrow(/No upscaler "nope": use esrgan-slim, esrgan-medium, esrgan-thick, my-sr-model/);
    await upscaler.dispose();
    expect(probeInput().length).toBe(192);
  });
});
