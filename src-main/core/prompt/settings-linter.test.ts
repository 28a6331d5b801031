import { describe, expect, it } from 'vitest';
import { lintSettings } from './settings-linter.js';

describe('settings linter (field notes)', () => {
  it('says nothing for the Brand loop settings', () => {
    expect(lintSettings('portrait, teal light', { cfg: 7, steps: 25, aspect: '9:16', width: 576, height: 1024 })).toEqual([]);
  });

  it('warns about CFG above 9, more than 30 steps, LoRA weights, and 1:1 for abstract shapes', () => {
    const hints = lintSettings('abstract shape <lora:FluxPortraitTrainer:1.2>', {
      cfg: 11,
      steps: 40,
      aspect: '9:16',
      width: 576,
      height: 1024,
    });
    expect(hints).toEqual([
      expect.stringMatching(/^CFG 11: above 9 colours scream but posterise/),
      expect.stringMatching(/^40 steps: past 30 returns diminish/),
      expect.stringMatching(/^FluxPortraitTrainer at 1\.2: above 1\.0/),
      'If faces smear, drop the LoRA weight to 0.6 before adding steps.',
      'Abstract backgrounds: try 1:1; Sora squashes less on scroll.',
    ]);
    expect(lintSettings('abstract shape', { aspect: '1:1', width: 512, height: 512 })).toEqual([]);
  });

  it('says when a fast-draft LoRA runs at a CFG it was not made for', () => {
    expect(lintSettings('poster <lora:sdxl_lightning_4step_lora:1>', { cfg: 7, steps: 25 })).toEqual([
      'sdxl_lightning_4step_lora is made for SDXL-Lightning: it wants CFG 1 and 4 steps (Euler, SGM Uniform); at CFG 7 images burn.',
    ]);
    expect(lintSettings('poster <lora:lcm-lora-sdxl:1>', { cfg: 1.5, steps: 6 })).toEqual([]);
    expect(lintSettings('poster <lora:lcm-lora-sdxl:1>', { cfg: 4 })).toHaveLength(1);
  });

  it('stays quiet about a malformed LoRA tag (reported when queued)', () => {
    expect(lintSettings('x <lora:a:9>', { cfg: 7 })).toEqual([]);
  });
});
