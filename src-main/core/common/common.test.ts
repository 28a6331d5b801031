/**
 * core/common holds one copy of each value both sides need: the core uses these very values, and
 * names and sizes come out of the core's own paths (file names, the engine) as common says. The
 * renderer's side: src-renderer/src/shared/common-values.test.ts.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import * as api from '../api/index.js';
import * as color from '../color/index.js';
import { parseSamplerName, sizeForAspect as engineSize } from '../diffusion/index.js';
import { fileName } from '../export/index.js';
import {
  BRAND_LOOP_PRESET,
  DEFAULT_NAME_TEMPLATE,
  NAME_TOKENS,
  SAMPLER_NAMES,
  SETTING_LIMITS,
  formatBytes,
  formatCount,
  plainColourName,
  sizeForAspect,
  suggestModelName,
} from './index.js';

/** Colours the UI's old copy of the naming called otherwise ("magenta", "dark blue", "dark grey"). */
const DRIFTED = ['#FE2C54', '#2B2D42', '#1C1C1C', '#EBEBEB', '#C2185B'];

describe('core/common', () => {
  it('is what the contract, the engine and the colour module use', () => {
    expect(api.SAMPLER_NAMES).toBe(SAMPLER_NAMES);
    expect(api.BRAND_LOOP_PRESET).toBe(BRAND_LOOP_PRESET);
    expect(api.DEFAULT_NAME_TEMPLATE).toBe(DEFAULT_NAME_TEMPLATE);
    expect(color.plainColourName).toBe(plainColourName);
    expect(engineSize).toBe(sizeForAspect);
    // The engine reads every name the contract offers as itself.
    for (const name of SAMPLER_NAMES) expect(parseSamplerName(name)).toBe(name);
  });

  it('names a colour in file names as the mood board names it', async () => {
    for (const hex of DRIFTED) {
      const image = await sharp({ create: { width: 32, height: 32, channels: 3, background: hex } })
        .png()
        .toBuffer();
      expect((await color.analyseColour(image, [])).colourName, hex).toBe(plainColourName(hex));
    }
    expect(DRIFTED.map(plainColourName)).toEqual(['red', 'blue', 'black', 'white', 'pink']);
  });

  it('lists the name tokens the exporter fills', () => {
    const template = NAME_TOKENS.map((t) => `{${t}}`).join('_');
    const project = { name: 'Launch' } as api.Project;
    const image = { seed: 7, rating: 4 } as api.ImageSummary;
    expect(fileName(template, { project, image, section: 'hero', colour: 'teal', index: 3 }, new Date(2026, 0, 2))).toBe(
      '20260102_hero_teal_7_4_03_Launch.jpg',
    );
  });

  it('holds the contract to the limits the Generate form checks', () => {
    const settings = { ...BRAND_LOOP_PRESET.settings, model: 'm' };
    const parse = (patch: Partial<api.GenerationSettings>) => api.generationSettingsSchema.safeParse({ ...settings, ...patch }).success;
    expect(parse({})).toBe(true);
    for (const key of ['steps', 'cfg', 'batchSize', 'loraWeight'] as const) {
      const { min, max } = SETTING_LIMITS[key];
      expect([parse({ [key]: min }), parse({ [key]: max }), parse({ [key]: min - 1 }), parse({ [key]: max + 1 })], key).toEqual([
        true,
        true,
        false,
        false,
      ]);
    }
    expect([parse({ width: SETTING_LIMITS.size.max }), parse({ width: SETTING_LIMITS.size.max + 8 })]).toEqual([true, false]);
  });

  it('writes sizes and suggests model names one way for the core and the UI', () => {
    expect([formatBytes(1), formatBytes(512), formatBytes(1_500_000), formatBytes(4_265_000_000)]).toEqual([
      '1 byte',
      '512 bytes',
      '1.5 MB',
      '4.3 GB',
    ]);
    expect(suggestModelName('/m/DreamShaper_8_pruned.safetensors')).toBe('DreamShaper_8_pruned');
    expect(suggestModelName('C:\\models\\Realistic Vision V6.0\\')).toBe('Realistic Vision V6.0');
    expect(suggestModelName('/m/___.ckpt')).toBe('model');
    expect(suggestModelName('/m/___.ckpt', '')).toBe('');
  });
});

describe('formatCount', () => {
  it('groups thousands as en-US does, without the number formatting data', () => {
    for (const n of [0, 7, 999, 1000, 10_000, 100_000, 1_234_567, -4200]) expect(formatCount(n)).toBe(n.toLocaleString('en-US'));
  });
});
