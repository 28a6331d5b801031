/** The field checks the forms run live and the core runs again: messages and the nearest value that passes. */
import { describe, expect, it } from 'vitest';
import { aspectProblem, fillNameTemplate, loraProblem, nameTemplateProblem, problemText, readAspectFlag, sizeProblem } from './index.js';

describe('sizeProblem', () => {
  it('names the rule and offers the nearest size, never changing the value itself', () => {
    expect(sizeProblem('Width', '576')).toBeNull();
    expect(sizeProblem('Width', 64)).toBeNull();
    expect(sizeProblem('Width', 2048)).toBeNull();
    const rule = 'Width must be a multiple of 64 from 64 to 2048 px';
    expect(sizeProblem('Width', '577')).toEqual({ message: rule, fix: { label: '576', value: '576' } });
    expect(sizeProblem('Width', '99999')?.fix?.value).toBe('2048');
    expect(sizeProblem('Width', '0')?.fix?.value).toBe('64');
    expect(sizeProblem('Width', '-64')?.fix?.value).toBe('64');
    expect(sizeProblem('Width', '600.5')?.fix?.value).toBe('576');
    expect(sizeProblem('Height', '')).toEqual({ message: 'Height must be a multiple of 64 from 64 to 2048 px' });
    expect(sizeProblem('Height', 'abc')).toEqual({ message: 'Height must be a multiple of 64 from 64 to 2048 px' });
    expect(problemText(sizeProblem('Width', 577)!)).toBe(`${rule} — use 576?`);
  });
});

describe('aspectProblem and readAspectFlag', () => {
  it('take W:H with sides 1–99 whose size the queue takes', () => {
    for (const ok of ['9:16', '1:1', '16:9', '3:2', '1:16', '16:1']) expect(aspectProblem('--ar', ok), ok).toBeNull();
    expect(aspectProblem('--ar', '9:0')).toEqual({ message: '--ar must be W:H with both sides from 1 to 99 (like 9:16), not "9:0"' });
    expect(aspectProblem('--ar', '1:99')).toEqual({
      message: '--ar 1:99 makes 64×5120 px; the height must be at most 2048 px',
      fix: { label: '1:16', value: '1:16' },
    });
    expect(aspectProblem('--ar', '99:2')?.fix?.value).toBe('16:1');
    expect(aspectProblem('Aspect', '1920:1080')?.fix?.value).toBe('16:9');
    expect(aspectProblem('Aspect', '9x16')?.fix?.value).toBe('9:16');
  });

  it('split a trailing --ar off a prompt; a bad one is named where it starts, with the whole text fixed', () => {
    expect(readAspectFlag('teal glass --ar 9:16')).toEqual({ text: 'teal glass', aspect: '9:16' });
    expect(readAspectFlag('teal glass')).toEqual({ text: 'teal glass', aspect: null });
    expect(readAspectFlag('teal glass --ar 1:99')).toEqual({
      at: 11,
      problem: {
        message: '--ar 1:99 makes 64×5120 px; the height must be at most 2048 px',
        fix: { label: '--ar 1:16', value: 'teal glass --ar 1:16' },
      },
    });
    expect(readAspectFlag('teal --ar 9:16 glass')).toEqual({ at: 5, problem: { message: '--ar must come last, as --ar W:H' } });
  });
});

describe('loraProblem: weights', () => {
  it('names a weight that is not a number or is out of range, offering a valid one', () => {
    const installed = ['FluxPortraitTrainer'];
    expect(loraProblem('Prompt', 'a <lora:FluxPortraitTrainer:-2>, b <lora:FluxPortraitTrainer:1.5>', installed)).toBeNull();
    expect(loraProblem('Prompt', '<lora:FluxPortraitTrainer:abc> portrait', installed)).toEqual({
      message:
        'Prompt: the LoRA FluxPortraitTrainer at character 1 has the weight "abc", which is not a number (write <lora:FluxPortraitTrainer:0.8>)',
      fix: { label: '0.8', value: '<lora:FluxPortraitTrainer:0.8> portrait' },
    });
    expect(loraProblem('Prompt', 'x <lora:FluxPortraitTrainer:3>', installed)).toEqual({
      message: 'Prompt: the LoRA FluxPortraitTrainer at character 3 has the weight 3; it must be from -2 to 2',
      fix: { label: '2', value: 'x <lora:FluxPortraitTrainer:2>' },
    });
  });
});

describe('loraProblem', () => {
  const installed = ['FluxPortraitTrainer', 'TypoTexture'];
  it('takes installed names in any case and refuses others, with the closest installed name put in the tag', () => {
    expect(loraProblem('Prompt', '<lora:fluxportraittrainer:0.8>, portrait', installed)).toBeNull();
    expect(loraProblem('Prompt', 'portrait, no tags', [])).toBeNull();
    expect(loraProblem('Prompt', 'a <lora:FluxPortrait:0.8>, portrait', installed)).toEqual({
      message: 'Prompt: no LoRA named "FluxPortrait" is installed',
      fix: { label: 'FluxPortraitTrainer', value: 'a <lora:FluxPortraitTrainer:0.8>, portrait' },
    });
    expect(loraProblem('Prompt', '<lora:nope:1>', installed)).toEqual({
      message: 'Prompt: no LoRA named "nope" is installed (installed: FluxPortraitTrainer, TypoTexture)',
    });
    expect(loraProblem('Prompt', '<lora:nope:1>', [])?.message).toMatch(/none is: LoRA files go in the models folder's loras\//);
    expect(loraProblem('Prompt', 'x <lora:nope', installed)?.message).toBe('Prompt: the LoRA tag at character 3 has no closing ">"');
  });
});

describe('name templates', () => {
  it('take only the known tokens; an unknown one is named with the known ones and the closest', () => {
    expect(nameTemplateProblem('{yyyymmdd}_{section}_{colour}_{seed}.jpg')).toBeNull();
    expect(nameTemplateProblem('{nope}_{seed}.jpg')?.message).toBe(
      'Name template: {nope} is not a token; the tokens are {yyyymmdd}, {section}, {colour}, {seed}, {rating}, {index}, {project}',
    );
    expect(nameTemplateProblem('{color}_{seed}')?.fix).toEqual({ label: '{colour}', value: '{colour}_{seed}' });
    expect(nameTemplateProblem('hero_{seed')?.message).toBe('Name template, character 6: "{" is never closed');
    expect(nameTemplateProblem('hero}')?.message).toBe('Name template, character 5: "}" has no "{" before it');
  });

  it('fill a template as the exporter names files', () => {
    const values = { projectName: 'Teal drop', section: 'hero', colour: 'teal', seed: 1247, rating: 4, index: 1 };
    expect(fillNameTemplate('{yyyymmdd}_{section}_{colour}_{seed}.jpg', values, new Date(2026, 0, 2))).toBe('20260102_hero_teal_1247.jpg');
    expect(fillNameTemplate('{project} {index}', { ...values, seed: null })).toBe('Teal-drop-01.jpg');
    expect(fillNameTemplate('{seed}.png', values)).toBe('1247.jpg');
  });
});
