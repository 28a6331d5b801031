import { describe, expect, it } from 'vitest';
import { formatParameters, parseParameters, readSampler, type GenerationParameters } from './parameters.js';

describe('A1111 parameters', () => {
  it('formats as A1111 does and parses back, quoting values with commas', () => {
    const text = formatParameters({
      prompt: '<lora:x:0.8>, portrait, (neon:1.2)\nsecond line',
      negativePrompt: 'text, watermark',
      steps: 25,
      sampler: 'DPM++ 2M Karras',
      cfg: 7,
      seed: 4294967295,
      width: 576,
      height: 1024,
      modelHash: 'abcdef0123',
      modelName: 'my, model',
      version: '0.1.0',
    });
    expect(text.split('\n')).toEqual([
      '<lora:x:0.8>, portrait, (neon:1.2)',
      'second line',
      'Negative prompt: text, watermark',
      'Steps: 25, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 4294967295, Size: 576x1024, Model hash: abcdef0123, Model: "my, model", RNG: CPU, Version: onbrand 0.1.0',
    ]);
    const parsed = parseParameters(text);
    expect(parsed.prompt).toBe('<lora:x:0.8>, portrait, (neon:1.2)\nsecond line');
    expect(parsed.negativePrompt).toBe('text, watermark');
    expect(parsed.values).toMatchObject({ Steps: '25', Seed: '4294967295', Model: 'my, model', 'CFG scale': '7' });
  });

  it('reads a real A1111 parameters block', () => {
    const parsed = parseParameters(
      'masterpiece, portrait\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 3301, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.10.1',
    );
    expect(parsed.values).toMatchObject({ Sampler: 'Euler a', Seed: '3301', 'Model hash': '6ce0161689', Size: '512x768' });
  });
});

/** An SDXL job's parameters: the fast draft modes' settings on SDXL base at 1024². */
const SDXL: GenerationParameters = {
  prompt: 'brand poster, magenta and teal',
  negativePrompt: 'text, watermark',
  steps: 4,
  sampler: 'Euler',
  scheduleType: 'SGM Uniform',
  cfg: 1,
  seed: 1234,
  width: 1024,
  height: 1024,
  modelHash: '31e35c80fc',
  modelName: 'sd_xl_base_1.0',
  loraHashes: 'sdxl_lightning_4step_lora: 0123456789ab',
  version: '0.1.0',
};

describe('schedule types in A1111 parameters', () => {
  // A1111 1.10's create_infotext (modules/processing.py) writes, in this order: Steps, Sampler,
  // Schedule type, CFG scale, Seed, Size, Model hash, Model, …, Denoising strength, …, RNG, then extra
  // parameters (Lora hashes), then Version. Its line for the same SDXL-Lightning job would be:
  //   Steps: 4, Sampler: Euler, Schedule type: SGM Uniform, CFG scale: 1, Seed: 1234, Size: 1024x1024,
  //   Model hash: 31e35c80fc, Model: sd_xl_base_1.0, RNG: CPU, Lora hashes: "sdxl_lightning_4step_lora: 0123456789ab", Version: v1.10.1
  it("writes `Schedule type` after `Sampler`, in A1111 1.10's order, for an SDXL job", () => {
    expect(formatParameters(SDXL).split('\n')[2]).toBe(
      'Steps: 4, Sampler: Euler, Schedule type: SGM Uniform, CFG scale: 1, Seed: 1234, Size: 1024x1024, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, RNG: CPU, Lora hashes: "sdxl_lightning_4step_lora: 0123456789ab", Version: onbrand 0.1.0',
    );
  });

  it('writes extra pairs after Lora hashes and before Version, quoted as A1111 quotes, and reads them back', () => {
    const text = formatParameters({
      ...SDXL,
      extra: [
        ['Backend', 'ComfyUI "gpu-box" (BREAK is read as a word: ComfyUI has no BREAK)'],
        ['Steps done', 4],
      ],
    });
    const line = text.split('\n')[2]!;
    expect(line).toBe(
      'Steps: 4, Sampler: Euler, Schedule type: SGM Uniform, CFG scale: 1, Seed: 1234, Size: 1024x1024, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, RNG: CPU, Lora hashes: "sdxl_lightning_4step_lora: 0123456789ab", Backend: "ComfyUI \\"gpu-box\\" (BREAK is read as a word: ComfyUI has no BREAK)", Steps done: 4, Version: onbrand 0.1.0',
    );
    expect(parseParameters(text).values).toMatchObject({
      Backend: 'ComfyUI "gpu-box" (BREAK is read as a word: ComfyUI has no BREAK)',
      'Steps done': '4',
      Version: 'onbrand 0.1.0',
    });
    // Without extras the line is as before.
    expect(formatParameters({ ...SDXL, extra: [] })).toBe(formatParameters(SDXL));
  });

  it('writes no schedule type for Automatic (a Karras sampler keeps its name), and the plain name with an explicit one', () => {
    const line = (sampler: string, scheduleType?: string) =>
      formatParameters({ ...SDXL, loraHashes: '', sampler, scheduleType }).split('\n')[2]!;
    expect(line('DPM++ 2M Karras')).toMatch(/^Steps: 4, Sampler: DPM\+\+ 2M Karras, CFG scale: 1,/);
    expect(line('DPM++ 2M Karras', 'Automatic')).toMatch(/^Steps: 4, Sampler: DPM\+\+ 2M Karras, CFG scale: 1,/);
    expect(line('Euler a', 'Automatic')).not.toContain('Schedule type');
    // As A1111 1.9+ writes a Karras schedule: "Sampler: DPM++ 2M, Schedule type: Karras".
    expect(line('DPM++ 2M Karras', 'Karras')).toMatch(/^Steps: 4, Sampler: DPM\+\+ 2M, Schedule type: Karras, CFG scale: 1,/);
    expect(line('DPM++ SDE Karras', 'SGM Uniform')).toMatch(/Sampler: DPM\+\+ SDE, Schedule type: SGM Uniform,/);
    expect(line('Euler', 'Karras')).toMatch(/Sampler: Euler, Schedule type: Karras,/);
  });

  it('reads back what it writes', () => {
    const cases: [string, string | undefined, string, string | null][] = [
      ['Euler', 'SGM Uniform', 'Euler', 'SGM Uniform'],
      ['LCM', 'SGM Uniform', 'LCM', 'SGM Uniform'],
      ['Euler a', undefined, 'Euler a', null],
      ['DPM++ 2M Karras', undefined, 'DPM++ 2M Karras', null],
      ['DPM++ 2M Karras', 'Karras', 'DPM++ 2M Karras', null],
      ['DPM++ SDE Karras', 'Karras', 'DPM++ SDE Karras', null],
      ['Euler', 'Karras', 'Euler', 'Karras'],
    ];
    for (const [sampler, scheduleType, readSamplerName, readType] of cases) {
      const { values } = parseParameters(formatParameters({ ...SDXL, sampler, scheduleType }));
      expect(readSampler(values)).toEqual({ sampler: readSamplerName, scheduleType: readType });
    }
  });

  it('reads A1111 1.9+ lines (A1111 1.10 and Forge infotext, as Civitai shows them) into our sampler names', () => {
    // Lines in A1111 1.10's infotext format (modules/processing.py create_infotext; Forge writes the same).
    const lines: [string, { sampler: string | null; scheduleType: string | null }][] = [
      [
        'Steps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 2417592015, Size: 832x1216, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Version: v1.10.1',
        { sampler: 'DPM++ 2M Karras', scheduleType: null },
      ],
      [
        'Steps: 6, Sampler: DPM++ SDE, Schedule type: Karras, CFG scale: 2, Seed: 1, Size: 1024x1024, Model: dreamshaperXL_lightningDPMSDE, Version: v1.10.1',
        { sampler: 'DPM++ SDE Karras', scheduleType: null },
      ],
      [
        'Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 3301, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.10.1',
        { sampler: 'Euler a', scheduleType: null },
      ],
      [
        'Steps: 4, Sampler: Euler, Schedule type: SGM Uniform, CFG scale: 1, Seed: 77, Size: 1024x1024, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Lora hashes: "sdxl_lightning_4step_lora: 1b7ba4ba3b80", Version: v1.10.1',
        { sampler: 'Euler', scheduleType: 'SGM Uniform' },
      ],
      // Forge's alias, and a schedule type we do not have (kept as written).
      ['Steps: 8, Sampler: Euler, Schedule type: SGMUniform, CFG scale: 1, Seed: 5', { sampler: 'Euler', scheduleType: 'SGM Uniform' }],
      [
        'Steps: 30, Sampler: DPM++ 2M SDE, Schedule type: Exponential, CFG scale: 5, Seed: 9',
        { sampler: 'DPM++ 2M SDE', scheduleType: 'Exponential' },
      ],
      // A1111 before 1.9: Karras in the name, no schedule type.
      [
        'Steps: 25, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1247, Size: 576x1024, Model hash: 1a2b3c4d5e, Model: DreamShaper 8, Version: v1.6.0',
        { sampler: 'DPM++ 2M Karras', scheduleType: null },
      ],
      ['Steps: 20, Seed: 4', { sampler: null, scheduleType: null }],
    ];
    for (const [line, expected] of lines) expect(readSampler(parseParameters(`a poster\n${line}`).values)).toEqual(expected);
  });
});
