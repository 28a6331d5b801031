import { describe, expect, it } from 'vitest';
import { aspectOf, completeSettings, initialDraft, matchesPreset, parseDraft, presetSettings } from './draft';

describe('the Generate form draft', () => {
  it('starts as the Brand loop with three batches and a random seed', () => {
    const draft = initialDraft();
    expect(draft).toMatchObject({
      preset: 'Brand loop',
      sampler: 'DPM++ 2M Karras',
      steps: '25',
      cfg: '7',
      width: '576',
      height: '1024',
      aspect: '9:16',
      batchSize: '6',
      batches: '3',
      seed: '',
      negativePrompt: 'text, watermark, extra limbs, mushy face',
    });
  });

  it('names every field that is not right, and sends only valid ones for hints', () => {
    const parsed = parseDraft({ ...initialDraft(), steps: '0', width: '70', cfg: '', seed: '12x' });
    expect(parsed.errors).toMatchObject({
      steps: expect.stringContaining('Steps'),
      width: 'Width must be a multiple of 64 from 64 to 2048 px',
      cfg: 'CFG is empty',
      seed: expect.any(String),
      model: 'Choose a model',
      prompt: 'Write a prompt',
    });
    // The nearest value that passes is offered, never put in the field by itself.
    expect(parsed.fixes).toEqual({ width: { label: '64', value: '64' } });
    expect(parsed.settings).toEqual({ sampler: 'DPM++ 2M Karras', height: 1024, batchSize: 6, loraWeight: 0.8, aspect: '9:16' });
    expect(completeSettings(parsed)).toBeNull();
  });

  it('says what is wrong with each size the old form clamped or rounded without a word, with the nearest that passes', () => {
    const fix = (width: string) => parseDraft({ ...initialDraft(), width }).fixes.width?.value;
    expect([fix('99999'), fix('0'), fix('-64'), fix('577'), fix('576')]).toEqual(['2048', '64', '64', '576', undefined]);
    expect(parseDraft({ ...initialDraft(), height: '' }).errors.height).toBe('Height must be a multiple of 64 from 64 to 2048 px');
  });

  it('checks the prompt’s LoRAs against the installed ones once they are known', () => {
    const draft = { ...initialDraft(), model: 'tiny-sd', prompt: '<lora:FluxPortrait:0.8>, portrait' };
    expect(parseDraft(draft).errors.prompt).toBeUndefined();
    const parsed = parseDraft(draft, ['FluxPortraitTrainer']);
    expect(parsed.errors.prompt).toBe('Prompt: no LoRA named "FluxPortrait" is installed');
    expect(parsed.fixes.prompt).toEqual({ label: 'FluxPortraitTrainer', value: '<lora:FluxPortraitTrainer:0.8>, portrait' });
    expect(parseDraft({ ...draft, prompt: '<lora:nope:1> x' }, []).errors.prompt).toMatch(
      /^Prompt: no LoRA named "nope" is installed \(none is/,
    );
  });

  it('makes the settings to queue, with a seed only when one is given', () => {
    const draft = { ...initialDraft(), model: 'tiny-sd', prompt: 'portrait', width: '64', height: '64', aspect: '1:1', steps: '4' };
    const parsed = parseDraft(draft);
    expect(parsed.errors).toEqual({});
    expect(parsed.seed).toBeUndefined();
    expect(parsed.batches).toBe(3);
    expect(completeSettings(parsed)).toEqual({
      model: 'tiny-sd',
      sampler: 'DPM++ 2M Karras',
      steps: 4,
      cfg: 7,
      width: 64,
      height: 64,
      batchSize: 6,
      loraWeight: 0.8,
      aspect: '1:1',
    });
    expect(parseDraft({ ...draft, seed: '4294967295' }).seed).toBe(4294967295);
    expect(parseDraft({ ...draft, seed: '4294967296' }).errors.seed).toBeDefined();
  });

  it('knows the aspect of a size', () => {
    expect(aspectOf(576, 1024, '?')).toBe('9:16');
    expect(aspectOf(512, 640, '?')).toBe('4:5');
    expect(aspectOf(64, 64, '?')).toBe('1:1');
    expect(aspectOf(640, 384, '?')).toBe('5:3');
    expect(aspectOf(1016, 1000, '9:16')).toBe('1:1');
    expect(aspectOf(1016, 1008, '9:16')).toBe('1:1');
    expect(aspectOf(0, 64, '9:16')).toBe('9:16');
  });

  it('tells when the settings no longer match the preset', () => {
    const preset = {
      name: 'Brand loop',
      negativePrompt: 'text, watermark, extra limbs, mushy face',
      settings: { sampler: 'DPM++ 2M Karras', steps: 25, cfg: 7, width: 576, height: 1024, batchSize: 6, loraWeight: 0.8, aspect: '9:16' },
    } as const;
    const draft = { ...initialDraft(), prompt: 'anything', model: 'tiny-sd', seed: '5' };
    expect(matchesPreset(draft, preset)).toBe(true);
    expect(matchesPreset({ ...draft, steps: '4' }, preset)).toBe(false);
  });

  it('saves a preset without a prompt, model or seed, but not with a broken setting', () => {
    expect(presetSettings({ ...initialDraft(), seed: 'x' })).toEqual({
      sampler: 'DPM++ 2M Karras',
      steps: 25,
      cfg: 7,
      width: 576,
      height: 1024,
      batchSize: 6,
      loraWeight: 0.8,
      aspect: '9:16',
    });
    expect(presetSettings({ ...initialDraft(), cfg: '31' })).toBe('CFG must be from 0 to 30');
  });
});
