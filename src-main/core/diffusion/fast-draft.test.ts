/**
 * A fast draft end to end on a tiny SDXL-shaped model: the settings `draftSettings` picks for a
 * distilled model's name run through the engine on SGM Uniform, and the PNG's parameters read as
 * A1111 1.10's infotext would for the same job (modules/processing.py create_infotext: Steps,
 * Sampler, Schedule type, CFG scale, Seed, Size, Model hash, Model, …, RNG, Version).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { draftSettings } from '../common/index.js';
import { DiffusionEngine, type GenerateSettings } from './engine.js';
import { parseParameters, readSampler } from './parameters.js';
import { readPngText } from './png-text.js';
import { writeSdxlOnnx } from './testing/tiny-sdxl.js';

let root: string;
let modelDir: string;
let engine: DiffusionEngine;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-fast-draft-'));
  engine = new DiffusionEngine({ graphCacheDir: path.join(root, 'graphs') });
  // The folder's name says what it is, as SDXL-Turbo's does.
  modelDir = writeSdxlOnnx(path.join(root, 'tiny-sdxl-turbo'));
}, 120_000);

afterAll(async () => {
  await engine.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

it("a Turbo model's draft runs Euler a on SGM Uniform at CFG 1, and its PNG reads as A1111 1.10 writes it", async () => {
  const model = await engine.load(modelDir, 'cpu');
  expect(model.family).toBe('sdxl');
  const draft = draftSettings({
    family: model.family,
    modelName: model.folder.name,
    loras: [],
    settings: { sampler: 'DPM++ 2M Karras', steps: 25, cfg: 7 },
  });
  expect(draft).toMatchObject({
    mode: 'turbo',
    loraTag: null,
    settings: { sampler: 'Euler a', scheduleType: 'SGM Uniform', steps: 4, cfg: 1 },
  });

  const base: GenerateSettings = {
    prompt: 'a poster, magenta',
    negativePrompt: '',
    seed: 42,
    width: 64,
    height: 96,
    batchSize: 1,
    ...draft.settings,
  };
  const [image] = await engine.generate(base);
  const text = readPngText(image!.png).parameters!;
  expect(text.split('\n')[1]).toMatch(
    /^Steps: 4, Sampler: Euler a, Schedule type: SGM Uniform, CFG scale: 1, Seed: 42, Size: 64x96, Model hash: [0-9a-f]{10}, Model: tiny-sdxl-turbo, RNG: CPU, Version: onbrand \S+$/,
  );
  expect(readSampler(parseParameters(text).values)).toEqual({ sampler: 'Euler a', scheduleType: 'SGM Uniform' });

  // The schedule type reaches the sampler: the same job on the sampler's own sigmas is another image.
  const [automatic] = await engine.generate({ ...base, scheduleType: 'Automatic' });
  expect(readPngText(automatic!.png).parameters).not.toContain('Schedule type');
  const [a, b] = await Promise.all([sharp(image!.png).raw().toBuffer(), sharp(automatic!.png).raw().toBuffer()]);
  expect(a.equals(b)).toBe(false);
}, 120_000);
