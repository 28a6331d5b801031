/**
 * `images.info` through the RPC, on a real catalogue and real files: the histogram counts the
 * pixels the file holds, and the generation parameters come back in their parts, whether the
 * image was imported with A1111 text or has none.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImageInfo, ImageSummary } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { addPngText } from '../diffusion/index.js';
import { createRpc, type Rpc } from '../rpc.js';
import { createServices, type Services } from '../services.js';
import { generationFromText, imageHistogram } from './info.js';

const PARAMETERS = [
  'teal rim light portrait, 35 mm <lora:TypoTexture:0.4> <lora:FluxPortraitTrainer:0.8>',
  'Negative prompt: text, watermark, extra limbs',
  'Steps: 25, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234, Size: 576x1024, Model hash: abc123, Model: DreamShaper 8, RNG: CPU, Version: onbrand 1.0.0',
].join('\n');

let root: string;
let services: Services;
let rpc: Rpc;
let images: ImageSummary[];

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-info-'));
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data') }));
  rpc = createRpc(services, 'cli');
  const incoming = path.join(root, 'incoming');
  fs.mkdirSync(incoming);
  // Left half pure red (255, 0, 0), right half mid grey (128): 64 × 32 pixels each.
  const halves = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
    .composite([{ input: { create: { width: 32, height: 64, channels: 3, background: '#ff0000' } }, left: 0, top: 0 }])
    .png()
    .toBuffer();
  fs.writeFileSync(path.join(incoming, 'generated.png'), addPngText(halves, 'parameters', PARAMETERS));
  fs.writeFileSync(
    path.join(incoming, 'photo.jpg'),
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#000' } })
      .jpeg()
      .toBuffer(),
  );
  const projectId = services.projects.create({ name: 'Info' }).id;
  images = (await services.importer.import(projectId, [incoming])).imported;
});

afterEach(async () => {
  await services.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const byName = (name: string): ImageSummary => images.find((i) => i.fileName === name)!;

describe('images.info', () => {
  it('gives the histogram of the file and the generation parameters in their parts', async () => {
    const image = byName('generated.png');
    const info = (await rpc.invoke('images.info', { imageId: image.id })) as ImageInfo;
    expect(info.imageId).toBe(image.id);
    const { r, g, b, luma, pixels } = info.histogram;
    expect(pixels).toBe(64 * 64);
    for (const channel of [r, g, b, luma]) {
      expect(channel).toHaveLength(256);
      expect(channel.reduce((a, n) => a + n, 0)).toBe(pixels);
    }
    expect(r[255]).toBe(32 * 64);
    expect(r[128]).toBe(32 * 64);
    expect(g[0]).toBe(32 * 64);
    expect(b[128]).toBe(32 * 64);
    expect(luma[Math.round(0.2126 * 255)]).toBe(32 * 64);
    expect(luma[128]).toBe(32 * 64);

    expect(info.generation).toEqual({
      prompt: 'teal rim light portrait, 35 mm <lora:TypoTexture:0.4> <lora:FluxPortraitTrainer:0.8>',
      negativePrompt: 'text, watermark, extra limbs',
      seed: 1234,
      sampler: 'DPM++ 2M Karras',
      scheduleType: null,
      steps: 25,
      cfg: 7,
      width: 576,
      height: 1024,
      model: 'DreamShaper 8',
      loras: [
        { name: 'TypoTexture', weight: 0.4 },
        { name: 'FluxPortraitTrainer', weight: 0.8 },
      ],
      denoisingStrength: null,
      parameters: PARAMETERS,
    });
  });

  it('has no parameters for an image without them', async () => {
    const info = (await rpc.invoke('images.info', { imageId: byName('photo.jpg').id })) as ImageInfo;
    expect(info.generation).toBeNull();
    expect(info.histogram.luma[0]).toBe(40 * 30);
  });

  it('names an unknown image and refuses a malformed id', async () => {
    await expect(rpc.invoke('images.info', { imageId: 99_999 })).rejects.toMatchObject({ code: 'not_found' });
    await expect(rpc.invoke('images.info', { imageId: 'one' })).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(rpc.invoke('images.info', { imageId: 1, path: '/etc/passwd' })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('says when the file can no longer be read', async () => {
    const image = byName('generated.png');
    fs.writeFileSync(image.path, 'not an image any more');
    await expect(rpc.invoke('images.info', { imageId: image.id })).rejects.toMatchObject({
      code: 'io',
      message: expect.stringContaining('generated.png'),
    });
  });
});

describe('generationFromText', () => {
  it('falls back to the names in Lora hashes, and reads img2img strength', () => {
    const g = generationFromText('a poster\nSteps: 4, Seed: 7, Denoising strength: 0.55, Lora hashes: "Typo: 1a2b, Grain: 3c4d"');
    expect(g?.loras).toEqual([
      { name: 'Typo', weight: null },
      { name: 'Grain', weight: null },
    ]);
    expect(g?.denoisingStrength).toBe(0.55);
    expect(g?.sampler).toBeNull();
    expect(g?.scheduleType).toBeNull();
    expect(g?.width).toBeNull();
  });

  it("reads A1111 1.10's schedule type: Karras into the sampler's name where we have that variant, SGM Uniform as is", () => {
    const karras = generationFromText(
      'a poster\nSteps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1, Size: 832x1216',
    );
    expect(karras).toMatchObject({ sampler: 'DPM++ 2M Karras', scheduleType: null, width: 832, height: 1216 });
    const lightning = generationFromText(
      'a poster\nSteps: 4, Sampler: Euler, Schedule type: SGM Uniform, CFG scale: 1, Seed: 1, Size: 1024x1024',
    );
    expect(lightning).toMatchObject({ sampler: 'Euler', scheduleType: 'SGM Uniform', steps: 4, cfg: 1 });
  });

  it('is null for text that is not A1111 parameters', () => {
    expect(generationFromText('just a caption')).toBeNull();
  });
});

describe('imageHistogram', () => {
  it('counts a grey image the same in every channel', async () => {
    const grey = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#404040' } })
      .greyscale()
      .png()
      .toBuffer();
    const h = await imageHistogram(grey);
    expect(h.r[64]).toBe(100);
    expect(h.g[64]).toBe(100);
    expect(h.b[64]).toBe(100);
    expect(h.luma[64]).toBe(100);
  });
});
