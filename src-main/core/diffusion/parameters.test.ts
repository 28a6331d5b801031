import { describe, expect, it } from 'vitest';
import { formatParameters, parseParameters } from './parameters.js';

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
