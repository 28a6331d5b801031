import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseParameters, readPngText } from '../../core/diffusion/index.js';
import { writeTinySd } from '../../core/diffusion/testing/tiny-sd.js';
import { runCaptured } from '../capture.js';

let root: string;
let model: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-cli-gen-'));
  model = writeTinySd(path.join(root, 'tiny'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const cli = runCaptured;

const common = ['--model', '', '--prompt', 'portrait, (teal light:1.2)', '--width', '64', '--height', '64', '--steps', '3'];
const args = (...extra: string[]): string[] => ['generate', ...common.map((a) => (a === '' ? model : a)), ...extra];

describe('onbrand generate', () => {
  it('writes one PNG per image with its seed, and --json lists them', async () => {
    const out = path.join(root, 'out');
    const result = await cli(args('--seed', '41', '--batch', '2', '--out', out, '--json', '--negative', 'text'));
    expect(result.code).toBe(0);
    const json = JSON.parse(result.out) as { files: { path: string; seed: number }[]; provider: string; width: number };
    expect(json.files.map((f) => f.seed)).toEqual([41, 42]);
    expect(json.width).toBe(64);
    for (const file of json.files) {
      const png = fs.readFileSync(file.path);
      expect((await sharp(png).metadata()).width).toBe(64);
      const params = parseParameters(readPngText(png).parameters!);
      expect(params.values.Seed).toBe(String(file.seed));
      expect(params.negativePrompt).toBe('text');
    }
    // Run again: same seeds, new names; nothing is overwritten.
    const again = JSON.parse((await cli(args('--seed', '41', '--batch', '2', '--out', out, '--json', '--negative', 'text'))).out) as {
      files: { path: string }[];
    };
    expect(path.basename(again.files[0]!.path)).toBe('41_2.png');
    expect(fs.readFileSync(again.files[0]!.path).equals(fs.readFileSync(json.files[0]!.path))).toBe(true);
  });

  it('picks and prints a random seed when none is given; --ar sets the size', async () => {
    const result = await cli([
      'generate',
      '--model',
      model,
      '--prompt',
      'x',
      '--ar',
      '1:1',
      '--steps',
      '2',
      '--out',
      path.join(root, 'ar'),
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Generated 1 image in .* \(seed \d+\)/);
    const file = fs.readdirSync(path.join(root, 'ar'))[0]!;
    expect((await sharp(path.join(root, 'ar', file)).metadata()).width).toBe(512);
  });

  it('a prompt over 4,000 characters is refused with its length (a 30 KB one once crashed onnxruntime)', async () => {
    const long = 'teal rim light, '.repeat(2000);
    const result = await cli(args('--out', path.join(root, 'long')).map((a) => (a === 'portrait, (teal light:1.2)' ? long : a)));
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/--prompt is 32000 characters; at most 4000 are accepted/);
    expect(fs.existsSync(path.join(root, 'long'))).toBe(false);
  });

  it('img2img with --init and --strength', async () => {
    const init = path.join(root, 'init.png');
    await sharp({ create: { width: 80, height: 80, channels: 3, background: '#FFD500' } })
      .png()
      .toFile(init);
    const result = await cli(args('--init', init, '--strength', '0.5', '--out', path.join(root, 'img2img'), '--json'));
    expect(result.code).toBe(0);
    const file = (JSON.parse(result.out) as { files: { path: string }[] }).files[0]!.path;
    expect(parseParameters(readPngText(fs.readFileSync(file)).parameters!).values['Denoising strength']).toBe('0.5');
  });

  it('--schedule "SGM Uniform" walks other sigmas and records A1111\'s Schedule type in the PNG', async () => {
    const run = async (dir: string, ...extra: string[]) => {
      const result = await cli(args('--seed', '5', '--sampler', 'Euler', '--out', path.join(root, dir), '--json', ...extra));
      expect(result.code, result.err).toBe(0);
      const json = JSON.parse(result.out) as { scheduleType: string; files: { path: string }[] };
      const png = fs.readFileSync(json.files[0]!.path);
      return { json, values: parseParameters(readPngText(png).parameters!).values, pixels: await sharp(png).raw().toBuffer() };
    };
    const automatic = await run('schedule-automatic');
    const sgm = await run('schedule-sgm', '--schedule', 'SGM Uniform');
    const comfy = await run('schedule-comfy', '--schedule', 'sgm_uniform');
    expect(automatic.json.scheduleType).toBe('Automatic');
    expect(automatic.values['Schedule type']).toBeUndefined();
    expect(sgm.json.scheduleType).toBe('SGM Uniform');
    expect(sgm.values).toMatchObject({ Sampler: 'Euler', 'Schedule type': 'SGM Uniform', Steps: '3' });
    // Other sigmas, another image; ComfyUI's name for it is the same schedule.
    expect(sgm.pixels.equals(automatic.pixels)).toBe(false);
    expect(comfy.pixels.equals(sgm.pixels)).toBe(true);
  });

  it('names the bad argument (exit 2)', async () => {
    const out = ['--out', path.join(root, 'bad')];
    const cases: [string[], RegExp][] = [
      [['generate', '--prompt', 'x', ...out], /--model is required/],
      [['generate', '--model', model, ...out], /--prompt is required/],
      [['generate', '--model', model, '--prompt', 'x'], /--out is required/],
      [args('--steps', 'many', ...out), /--steps must be a whole number/],
      [args('--cfg', 'high', ...out), /--cfg must be a number/],
      [args('--seed', '99999999999', ...out), /--seed must be a whole number/],
      [args('--sampler', 'Heun++', ...out), /--sampler: .*Euler/],
      [args('--schedule', 'trailing', ...out), /--schedule: Unknown schedule type "trailing": use one of Automatic, Karras, SGM Uniform/],
      [args('--sampler', 'DDIM', '--schedule', 'Karras', ...out), /--schedule: DDIM walks its own timesteps/],
      [args('--provider', 'tpu', ...out), /--provider must be/],
      [['generate', '--model', model, '--prompt', 'x', '--width', '100', '--height', '64', ...out], /width must be a multiple of 8/],
      [['generate', '--model', model, '--prompt', 'x', '--width', '64', ...out], /--width and --height go together/],
      [args('--ar', '9:16', ...out), /either --width\/--height or --ar/],
      [args('--strength', '0.5', ...out), /--strength needs --init/],
      [args('--init', path.join(root, 'missing.png'), ...out), /--init: no such file/],
      [['generate', '--model', path.join(root, 'nope'), '--prompt', 'x', ...out], /--model: no such folder/],
    ];
    for (const [argv, message] of cases) {
      const result = await cli(argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.err).toMatch(message);
    }
    expect(fs.existsSync(path.join(root, 'bad'))).toBe(false);
  });

  it('an unknown LoRA is a clear error naming close matches (exit 2)', async () => {
    const loras = path.join(root, 'loras');
    fs.mkdirSync(loras, { recursive: true });
    fs.writeFileSync(path.join(loras, 'FluxPortraitTrainer.safetensors'), '');
    const result = await cli([
      'generate',
      '--model',
      model,
      '--prompt',
      '<lora:FluxPortrait:0.8>, portrait',
      '--width',
      '64',
      '--height',
      '64',
      '--lora-dir',
      loras,
      '--out',
      path.join(root, 'lora'),
    ]);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/No LoRA named "FluxPortrait".*Did you mean: FluxPortraitTrainer\?/);
  });

  it('--help documents every option', async () => {
    const result = await cli(['generate', '--help']);
    for (const option of [
      '--model',
      '--prompt',
      '--negative',
      '--seed',
      '--steps',
      '--cfg',
      '--sampler',
      '--schedule',
      '--width',
      '--ar',
      '--batch',
      '--lora-dir',
      '--init',
      '--strength',
      '--provider',
      '--out',
      '--json',
    ]) {
      expect(result.out).toContain(option);
    }
  });
});
