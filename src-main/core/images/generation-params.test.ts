/** Reading generation parameters from real files as A1111, ComfyUI, InvokeAI and exiftool write them. */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addPngText, formatParameters, parseParameters } from '../diffusion/index.js';
import { exifSegment, withExifSegment } from '../export/index.js';
import { readExifText } from './exif-text.js';
import { readGeneration } from './generation-params.js';

const exiftool = spawnSync('exiftool', ['-ver']).status === 0;
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-genparams-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const solid = (width = 16, height = 24): Sharp => sharp({ create: { width, height, channels: 3, background: '#FE2C54' } });

/** What the importer hands over: the file's bytes and sharp's header facts. */
async function read(bytes: Buffer): Promise<ReturnType<typeof readGeneration>> {
  const meta = await sharp(bytes).metadata();
  return readGeneration(bytes, { format: meta.format!, width: meta.width, height: meta.height, exif: meta.exif });
}

async function pngWith(chunks: Record<string, string>): Promise<Buffer> {
  let png: Buffer = await solid().png().toBuffer();
  for (const [keyword, text] of Object.entries(chunks)) png = addPngText(png, keyword, text);
  return png;
}

/** Onbrand's own `parameters` text, exactly as `onbrand generate` writes it (LoRA tags in the prompt). */
const ONBRAND = formatParameters({
  prompt: 'portrait of a café owner, magenta rim light <lora:brand-face:0.7>',
  negativePrompt: 'text, watermark',
  steps: 25,
  sampler: 'DPM++ 2M Karras',
  cfg: 7,
  seed: 4242,
  width: 16,
  height: 24,
  modelHash: 'abcdef0123',
  modelName: 'sd15',
  loraHashes: 'brand-face: 0123456789ab',
  version: '0.1.0',
});

/** A ComfyUI API graph as its SaveImage node writes it: two LoRAs, and a hires pass after the first sampler. */
const COMFY_PROMPT = {
  '2': {
    inputs: {
      seed: 99,
      steps: 12,
      cfg: 6,
      sampler_name: 'euler',
      scheduler: 'normal',
      denoise: 0.45,
      model: ['11', 0],
      positive: ['6', 0],
      negative: ['7', 0],
      latent_image: ['13', 0],
    },
    class_type: 'KSampler',
  },
  '3': {
    inputs: {
      seed: 156680208700286,
      steps: 20,
      cfg: 8,
      sampler_name: 'dpmpp_2m',
      scheduler: 'karras',
      denoise: 1,
      model: ['11', 0],
      positive: ['6', 0],
      negative: ['7', 0],
      latent_image: ['5', 0],
    },
    class_type: 'KSampler',
    _meta: { title: 'KSampler' },
  },
  '4': { inputs: { ckpt_name: 'SDXL\\sd_xl_base_1.0.safetensors' }, class_type: 'CheckpointLoaderSimple' },
  '5': { inputs: { width: 832, height: 1216, batch_size: 1 }, class_type: 'EmptyLatentImage' },
  '6': { inputs: { text: 'brand hero shot, magenta rim light', clip: ['11', 1] }, class_type: 'CLIPTextEncode' },
  '7': { inputs: { text: 'text, watermark', clip: ['11', 1] }, class_type: 'CLIPTextEncode' },
  '8': { inputs: { samples: ['2', 0], vae: ['4', 2] }, class_type: 'VAEDecode' },
  '9': { inputs: { filename_prefix: 'ComfyUI', images: ['8', 0] }, class_type: 'SaveImage' },
  '10': {
    inputs: { lora_name: 'styles/neon_glow.safetensors', strength_model: 0.8, strength_clip: 0.8, model: ['4', 0], clip: ['4', 1] },
    class_type: 'LoraLoader',
  },
  '11': {
    inputs: { lora_name: 'brand_face.safetensors', strength_model: 0.5, strength_clip: 1, model: ['10', 0], clip: ['10', 1] },
    class_type: 'LoraLoader',
  },
  '13': { inputs: { upscale_method: 'nearest-exact', scale_by: 1.5, samples: ['3', 0] }, class_type: 'LatentUpscaleBy' },
};
const COMFY_WORKFLOW = {
  last_node_id: 13,
  nodes: [{ id: 3, type: 'KSampler', widgets_values: [156680208700286, 'fixed', 20, 8, 'dpmpp_2m', 'karras', 1] }],
  links: [],
  version: 0.4,
};

/** InvokeAI 4's `invokeai_metadata`. */
const INVOKE_METADATA = {
  generation_mode: 'txt2img',
  positive_prompt: 'a brand poster, neon magenta',
  negative_prompt: 'blurry',
  width: 512,
  height: 768,
  seed: 3216549870,
  rand_device: 'cpu',
  cfg_scale: 7.5,
  steps: 30,
  scheduler: 'dpmpp_2m_k',
  model: { key: 'a1b2', hash: 'blake3:abcd', name: 'Juggernaut XL v9', base: 'sdxl', type: 'main' },
  loras: [{ model: { key: 'k', hash: 'h', name: 'neon-style', base: 'sdxl', type: 'lora' }, weight: 0.75 }],
  app_version: '4.2.4',
};

/** InvokeAI 2's `sd-metadata`. */
const INVOKE_LEGACY = {
  model: 'stable diffusion',
  model_weights: 'stable-diffusion-1.5',
  app_id: 'invoke-ai/InvokeAI',
  app_version: '2.3.0',
  image: {
    prompt: [{ prompt: 'a red fox in snow', weight: 1 }],
    steps: 50,
    cfg_scale: 7.5,
    height: 512,
    width: 512,
    seed: 1234567,
    type: 'txt2img',
    sampler: 'k_lms',
  },
};

describe('A1111 parameters', () => {
  it("reads Onbrand's own PNG `parameters` (seed, prompt, sampler, model, LoRAs) and keeps the text as written", async () => {
    const g = (await read(await pngWith({ parameters: ONBRAND })))!;
    expect(g).toMatchObject({
      generator: 'a1111',
      parameters: ONBRAND,
      seed: 4242,
      prompt: 'portrait of a café owner, magenta rim light <lora:brand-face:0.7>',
      negativePrompt: 'text, watermark',
      steps: 25,
      sampler: 'DPM++ 2M Karras',
      cfg: 7,
      model: 'sd15',
      loras: [{ name: 'brand-face', weight: 0.7 }],
    });
  });

  it('reads A1111 text with Windows line ends and lines after the settings (Dynamic Prompts)', async () => {
    const text =
      'a fox\r\nNegative prompt: blur\r\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 3301, Size: 16x24, Model: v1-5, Lora hashes: "fox: abc, snow: def"\r\nTemplate: a {fox|cat}';
    const g = (await read(await pngWith({ parameters: text })))!;
    expect(g).toMatchObject({
      seed: 3301,
      prompt: 'a fox',
      negativePrompt: 'blur',
      sampler: 'Euler a',
      loras: [
        { name: 'fox', weight: null },
        { name: 'snow', weight: null },
      ],
    });
    expect(g.parameters).not.toContain('\r');
  });

  it("reads A1111 1.10's `Schedule type`: a Karras schedule folds into our sampler name, SGM Uniform is kept", async () => {
    // A1111 1.10 infotext (modules/processing.py create_infotext) for an SDXL job and an SDXL-Lightning one.
    const karras =
      'a poster\nNegative prompt: text\nSteps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 2417592015, Size: 832x1216, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Version: v1.10.1';
    expect(await read(await pngWith({ parameters: karras }))).toMatchObject({ sampler: 'DPM++ 2M Karras', scheduleType: null, steps: 25 });
    const lightning =
      'a poster <lora:sdxl_lightning_4step_lora:1>\nSteps: 4, Sampler: Euler, Schedule type: SGM Uniform, CFG scale: 1, Seed: 77, Size: 1024x1024, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Version: v1.10.1';
    expect(await read(await pngWith({ parameters: lightning }))).toMatchObject({
      sampler: 'Euler',
      scheduleType: 'SGM Uniform',
      cfg: 1,
      loras: [{ name: 'sdxl_lightning_4step_lora', weight: 1 }],
    });
  });

  it('a seed beyond 2^53 is not stored as a number (it would be rounded), the text keeps it exactly', async () => {
    const text = 'x\nSteps: 20, Seed: 18446744073709551615, Size: 16x24';
    const g = (await read(await pngWith({ parameters: text })))!;
    expect(g.seed).toBeNull();
    expect(g.parameters).toContain('Seed: 18446744073709551615');
  });

  it('parses a very long settings line in linear time (the text comes from any file)', () => {
    // The earlier pattern took about 18 s on this line (quadratic); one pass takes milliseconds.
    const line = `Steps: 20, ${'word '.repeat(20_000)}`;
    const started = performance.now();
    expect(parseParameters(`x\n${line}`).values.Steps).toBe('20');
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('ComfyUI', () => {
  it('follows the first full-strength sampler to its prompts, LoRA loaders and checkpoint, and composes A1111 text', async () => {
    const g = (await read(await pngWith({ prompt: JSON.stringify(COMFY_PROMPT), workflow: JSON.stringify(COMFY_WORKFLOW) })))!;
    expect(g).toMatchObject({
      generator: 'comfyui',
      seed: 156680208700286,
      prompt: 'brand hero shot, magenta rim light',
      negativePrompt: 'text, watermark',
      steps: 20,
      sampler: 'DPM++ 2M Karras',
      cfg: 8,
      model: 'sd_xl_base_1.0',
      loras: [
        { name: 'neon_glow', weight: 0.8 },
        { name: 'brand_face', weight: 0.5 },
      ],
    });
    // The composed text reads back as A1111 text, LoRAs as prompt tags (A1111's convention).
    const parsed = parseParameters(g.parameters);
    expect(parsed.prompt).toBe('brand hero shot, magenta rim light <lora:neon_glow:0.8> <lora:brand_face:0.5>');
    expect(parsed.negativePrompt).toBe('text, watermark');
    expect(parsed.values).toMatchObject({
      Steps: '20',
      Sampler: 'DPM++ 2M Karras',
      'CFG scale': '8',
      Seed: '156680208700286',
      Size: '16x24',
      Model: 'sd_xl_base_1.0',
      Version: 'ComfyUI',
    });
  });

  it('follows a seed held by another node and prompts through conditioning nodes (KSamplerAdvanced, SDXL encoder)', async () => {
    const graph = {
      '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'juggernaut.safetensors' } },
      '2': { class_type: 'CLIPTextEncodeSDXL', inputs: { text_g: 'poster, bold type', text_l: 'poster', clip: ['1', 1] } },
      '3': { class_type: 'ConditioningCombine', inputs: { conditioning_1: ['2', 0], conditioning_2: ['2', 0] } },
      '4': { class_type: 'CLIPTextEncode', inputs: { text: 'lowres', clip: ['1', 1] } },
      '5': { class_type: 'Seed (rgthree)', inputs: { seed: 777 } },
      '6': {
        class_type: 'KSamplerAdvanced',
        inputs: {
          add_noise: 'enable',
          noise_seed: ['5', 0],
          steps: 30,
          cfg: 5.5,
          sampler_name: 'euler_ancestral',
          scheduler: 'sgm_uniform',
          model: ['1', 0],
          positive: ['3', 0],
          negative: ['4', 0],
        },
      },
    };
    const g = (await read(await pngWith({ prompt: JSON.stringify(graph) })))!;
    expect(g).toMatchObject({
      seed: 777,
      prompt: 'poster, bold type',
      negativePrompt: 'lowres',
      steps: 30,
      sampler: 'Euler a',
      model: 'juggernaut',
      loras: [],
    });
    // ComfyUI's scheduler name as A1111 labels it (modules/sd_schedulers.py).
    expect(g.scheduleType).toBe('SGM Uniform');
    expect(parseParameters(g.parameters).values['Schedule type']).toBe('SGM Uniform');
  });
});

describe('InvokeAI', () => {
  it('reads invokeai_metadata (version 3 and later)', async () => {
    const g = (await read(await pngWith({ invokeai_metadata: JSON.stringify(INVOKE_METADATA) })))!;
    expect(g).toMatchObject({
      generator: 'invokeai',
      seed: 3216549870,
      prompt: 'a brand poster, neon magenta',
      negativePrompt: 'blurry',
      steps: 30,
      sampler: 'DPM++ 2M Karras',
      cfg: 7.5,
      model: 'Juggernaut XL v9',
      loras: [{ name: 'neon-style', weight: 0.75 }],
    });
    expect(parseParameters(g.parameters).values).toMatchObject({ Seed: '3216549870', Size: '512x768', Version: 'InvokeAI 4.2.4' });
    expect(parseParameters(g.parameters).prompt).toBe('a brand poster, neon magenta <lora:neon-style:0.75>');
  });

  it('reads the older sd-metadata (version 2)', async () => {
    const g = (await read(await pngWith({ 'sd-metadata': JSON.stringify(INVOKE_LEGACY) })))!;
    expect(g).toMatchObject({
      generator: 'invokeai',
      seed: 1234567,
      prompt: 'a red fox in snow',
      steps: 50,
      sampler: 'LMS',
      cfg: 7.5,
      model: 'stable-diffusion-1.5',
    });
  });
});

describe('EXIF UserComment (JPEG and WebP)', () => {
  const TEXT = 'café poster, neon\nNegative prompt: blur\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 31337, Size: 16x24, Model: v1-5';

  it.skipIf(!exiftool)('reads UNICODE UserComment as exiftool writes it, in either byte order, in JPEG and WebP', async () => {
    for (const [ext, order] of [
      ['jpg', 'MM'],
      ['jpg', 'II'],
      ['webp', 'MM'],
    ] as const) {
      const file = path.join(dir, `${order}.${ext}`);
      await (ext === 'jpg' ? solid().jpeg() : solid().webp()).toFile(file);
      execFileSync('exiftool', ['-q', '-overwrite_original', `-ExifByteOrder=${order}`, `-UserComment=${TEXT}`, file]);
      const g = await read(fs.readFileSync(file));
      expect(g, `${order}.${ext}`).toMatchObject({ generator: 'a1111', parameters: TEXT, seed: 31337, prompt: 'café poster, neon' });
    }
  });

  it("reads the UTF-16 big-endian UserComment that A1111 (piexif) and Onbrand's export write, and ASCII from sharp", async () => {
    const a1111 = withExifSegment(await solid().jpeg().toBuffer(), exifSegment('test', TEXT));
    expect((await read(a1111))?.seed).toBe(31337);
    const ascii = 'poster\nSteps: 20, Seed: 5, Size: 16x24';
    const fromSharp = await solid()
      .jpeg()
      .withExif({ IFD2: { UserComment: ascii } })
      .toBuffer();
    expect(readExifText((await sharp(fromSharp).metadata()).exif).userComment).toBe(ascii);
    expect((await read(fromSharp))?.seed).toBe(5);
  });

  it('takes A1111 text from ImageDescription, and ignores a description that is not generation text', async () => {
    const described = await solid()
      .jpeg()
      .withExif({ IFD0: { ImageDescription: 'poster\nSteps: 20, Seed: 6, Size: 16x24' } })
      .toBuffer();
    expect((await read(described))?.seed).toBe(6);
    const camera = await solid()
      .jpeg()
      .withExif({ IFD0: { ImageDescription: 'OLYMPUS DIGITAL CAMERA' } })
      .toBuffer();
    expect(await read(camera)).toBeNull();
  });
});

describe('damaged or foreign metadata', () => {
  it('gives null, never an error: bad JSON, wrong shapes, binary garbage, a graph without a sampler', async () => {
    const cases: Record<string, string>[] = [
      { prompt: '{"3": {"class_type": "KSampler", "inputs": {"seed": 1' },
      { prompt: '[1, 2, 3]' },
      { prompt: JSON.stringify({ '1': { class_type: 'SaveImage', inputs: { images: ['2', 0] } } }) },
      { invokeai_metadata: '{"positive_prompt": ' },
      { invokeai_metadata: '"just a string"' },
      { 'sd-metadata': '{"image": 5}' },
      { parameters: 'a prompt with no settings line' },
      { parameters: 'x\u0001\u0002\u0003\nSteps: 20, Seed: 5' },
      { Comment: 'made with love' },
    ];
    for (const chunks of cases) expect(await read(await pngWith(chunks)), JSON.stringify(chunks)).toBeNull();
  });

  it('a graph whose links go round in circles ends (what it holds directly is still read)', async () => {
    const cyclic = {
      '1': { class_type: 'KSampler', inputs: { positive: ['1', 0], negative: ['1', 0], model: ['1', 0], seed: ['1', 0], steps: 2 } },
    };
    expect(await read(await pngWith({ prompt: JSON.stringify(cyclic) }))).toMatchObject({ seed: null, steps: 2, prompt: '', model: null });
  });

  it('a damaged EXIF block gives no text, whatever its bytes', () => {
    const good = exifSegment('test', 'hello\nSteps: 1').subarray(4);
    expect(readExifText(good).userComment).toBe('hello\nSteps: 1');
    for (let cut = 0; cut < good.length; cut += 7) expect(() => readExifText(good.subarray(0, cut))).not.toThrow();
    let seed = 1;
    for (let i = 0; i < 200; i++) {
      const noisy = Buffer.from(good);
      for (let j = 0; j < 8; j++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        noisy[seed % noisy.length] = seed & 0xff;
      }
      expect(() => readExifText(noisy)).not.toThrow();
    }
    expect(readExifText(Buffer.from('Exif\u0000\u0000MM\u0000\u002a\u00ff\u00ff\u00ff\u00ff', 'latin1'))).toEqual({
      userComment: null,
      imageDescription: null,
    });
  });

  it('a text chunk with a bad length or bad compressed data is passed over; the others are read', async () => {
    const png = await pngWith({ parameters: 'x\nSteps: 1, Seed: 2' });
    // A zTXt chunk of garbage before the real one.
    const garbage = Buffer.concat([Buffer.from('prompt\u0000\u0000', 'latin1'), Buffer.from([1, 2, 3, 4, 5])]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(garbage.length);
    const zTXt = Buffer.concat([length, Buffer.from('zTXt', 'latin1'), garbage, Buffer.alloc(4)]);
    const withGarbage = Buffer.concat([png.subarray(0, 33), zTXt, png.subarray(33)]);
    const g = readGeneration(withGarbage, { format: 'png', width: 16, height: 24 });
    expect(g?.seed).toBe(2);
  });
});
