import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { SAMPLER_NAMES, SCHEDULE_TYPES, type SamplerLabel, type ScheduleType } from '../api/index.js';
import { parsePromptAttention, PromptSyntaxError } from '../diffusion/index.js';
import {
  closestComfyName,
  COMFY_NOTES,
  engineImg2img,
  comfyImg2img,
  comfyInitImage,
  comfyPromptText,
  comfySampler,
  matchComfyName,
  MissingLoraError,
  toComfyGraph,
  type ComfyJob,
} from './comfy-graph.js';
import { COMFY_SAMPLERS, COMFY_SCHEDULERS } from './testing/comfy-imitation.js';

/**
 * ComfyUI's prompt reading, ported line for line from comfy/sd1_clip.py (`escape_important`,
 * `parse_parentheses`, `token_weights`, `unescape_important`): the (text, weight) segments
 * `tokenize_with_weights` tokenizes. The translation is checked against this, not against itself.
 */
function comfyReads(text: string): { text: string; weight: number }[] {
  const escaped = text.replaceAll('\\)', '\0\x01').replaceAll('\\(', '\0\x02');
  return tokenWeights(escaped, 1).map(([t, weight]) => ({ text: t.replaceAll('\0\x01', ')').replaceAll('\0\x02', '('), weight }));
}
function parseParentheses(string: string): string[] {
  const result: string[] = [];
  let current = '';
  let nesting = 0;
  for (const char of string) {
    if (char === '(') {
      if (nesting === 0) {
        if (current) result.push(current);
        current = '(';
      } else current += char;
      nesting += 1;
    } else if (char === ')') {
      nesting -= 1;
      if (nesting === 0) {
        result.push(current + ')');
        current = '';
      } else current += char;
    } else current += char;
  }
  if (current) result.push(current);
  return result;
}
function tokenWeights(string: string, currentWeight: number): [string, number][] {
  const out: [string, number][] = [];
  for (let x of parseParentheses(string)) {
    let weight = currentWeight;
    if (x.length >= 2 && x.endsWith(')') && x.startsWith('(')) {
      x = x.slice(1, -1);
      const xx = x.lastIndexOf(':');
      weight *= 1.1;
      if (xx > 0) {
        const f = pythonFloat(x.slice(xx + 1));
        if (f !== null) {
          weight = f;
          x = x.slice(0, xx);
        }
      }
      out.push(...tokenWeights(x, weight));
    } else out.push([x, currentWeight]);
  }
  return out;
}
/** Python's float() of a decimal string (what the translation writes), or null where it raises. */
function pythonFloat(text: string): number | null {
  const t = text.trim();
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : null;
}

/** Segments with their weights to 4 decimals, empty ones out, equal neighbours merged: what the text encoder weights. */
function weighted(pieces: readonly { text: string; weight: number }[]): { text: string; weight: number }[] {
  const out: { text: string; weight: number }[] = [];
  for (const { text, weight } of pieces) {
    if (text === '') continue;
    const w = Number(weight.toFixed(4));
    const last = out.at(-1);
    if (last && last.weight === w) last.text += text;
    else out.push({ text, weight: w });
  }
  return out;
}

const BRAND_LOOP: ComfyJob = {
  prompt: 'brand poster of a sneaker, magenta and teal <lora:Brand:0.8>',
  negativePrompt: 'text, watermark',
  settings: { width: 576, height: 1024, steps: 25, cfg: 7, sampler: 'DPM++ 2M Karras' },
  seed: 1234,
  ckptName: 'SD1.5/dreamshaper_8.safetensors',
  loras: { Brand: 'brand_v3.safetensors' },
  filenamePrefix: 'onbrand/job-7-image-0',
};

describe('comfySampler', () => {
  it('maps the brief’s pairs', () => {
    expect(comfySampler('DPM++ 2M Karras')).toEqual({ sampler_name: 'dpmpp_2m', scheduler: 'karras' });
    expect(comfySampler('Euler a')).toEqual({ sampler_name: 'euler_ancestral', scheduler: 'normal' });
    expect(comfySampler('Euler')).toEqual({ sampler_name: 'euler', scheduler: 'normal' });
    expect(comfySampler('DPM++ 2M')).toEqual({ sampler_name: 'dpmpp_2m', scheduler: 'normal' });
    expect(comfySampler('DPM++ SDE Karras')).toEqual({ sampler_name: 'dpmpp_sde', scheduler: 'karras' });
    expect(comfySampler('DDIM')).toEqual({ sampler_name: 'ddim', scheduler: 'ddim_uniform' });
    // The engine walks LCM on the default sigmas unless told SGM Uniform (as the LCM draft preset does).
    expect(comfySampler('LCM')).toEqual({ sampler_name: 'lcm', scheduler: 'normal' });
    expect(comfySampler('LCM', 'SGM Uniform')).toEqual({ sampler_name: 'lcm', scheduler: 'sgm_uniform' });
  });

  it('gives every sampler × schedule type a pair from ComfyUI’s own lists (DDIM takes only its own)', () => {
    const table: Record<string, string> = {};
    for (const sampler of SAMPLER_NAMES)
      for (const type of [undefined, ...SCHEDULE_TYPES] as (ScheduleType | undefined)[]) {
        const key = `${sampler} / ${type ?? '(none)'}`;
        if (sampler === 'DDIM' && type !== undefined && type !== 'Automatic') {
          expect(() => comfySampler(sampler, type), key).toThrow(/DDIM walks its own timesteps/);
          continue;
        }
        const { sampler_name, scheduler } = comfySampler(sampler, type);
        expect(COMFY_SAMPLERS, key).toContain(sampler_name);
        expect(COMFY_SCHEDULERS, key).toContain(scheduler);
        table[key] = `${sampler_name} + ${scheduler}`;
      }
    expect(table).toEqual({
      'Euler / (none)': 'euler + normal',
      'Euler / Automatic': 'euler + normal',
      'Euler / Karras': 'euler + karras',
      'Euler / SGM Uniform': 'euler + sgm_uniform',
      'Euler a / (none)': 'euler_ancestral + normal',
      'Euler a / Automatic': 'euler_ancestral + normal',
      'Euler a / Karras': 'euler_ancestral + karras',
      'Euler a / SGM Uniform': 'euler_ancestral + sgm_uniform',
      'DPM++ 2M / (none)': 'dpmpp_2m + normal',
      'DPM++ 2M / Automatic': 'dpmpp_2m + normal',
      'DPM++ 2M / Karras': 'dpmpp_2m + karras',
      'DPM++ 2M / SGM Uniform': 'dpmpp_2m + sgm_uniform',
      'DPM++ 2M Karras / (none)': 'dpmpp_2m + karras',
      'DPM++ 2M Karras / Automatic': 'dpmpp_2m + karras',
      'DPM++ 2M Karras / Karras': 'dpmpp_2m + karras',
      'DPM++ 2M Karras / SGM Uniform': 'dpmpp_2m + sgm_uniform',
      'DPM++ SDE Karras / (none)': 'dpmpp_sde + karras',
      'DPM++ SDE Karras / Automatic': 'dpmpp_sde + karras',
      'DPM++ SDE Karras / Karras': 'dpmpp_sde + karras',
      'DPM++ SDE Karras / SGM Uniform': 'dpmpp_sde + sgm_uniform',
      'DDIM / (none)': 'ddim + ddim_uniform',
      'DDIM / Automatic': 'ddim + ddim_uniform',
      'LCM / (none)': 'lcm + normal',
      'LCM / Automatic': 'lcm + normal',
      'LCM / Karras': 'lcm + karras',
      'LCM / SGM Uniform': 'lcm + sgm_uniform',
    });
  });

  it('refuses a sampler it does not know, naming it', () => {
    expect(() => comfySampler('Heun' as SamplerLabel)).toThrow('ComfyUI has no sampler for "Heun"');
  });
});

describe('toComfyGraph', () => {
  it('builds the brand loop’s graph (DPM++ 2M Karras, 25 steps, CFG 7, one LoRA, 576×1024)', () => {
    expect(toComfyGraph(BRAND_LOOP)).toEqual({
      graph: {
        '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'SD1.5/dreamshaper_8.safetensors' } },
        '2': {
          class_type: 'LoraLoader',
          inputs: { model: ['1', 0], clip: ['1', 1], lora_name: 'brand_v3.safetensors', strength_model: 0.8, strength_clip: 0.8 },
        },
        '3': { class_type: 'CLIPTextEncode', inputs: { text: 'brand poster of a sneaker, magenta and teal ', clip: ['2', 1] } },
        '4': { class_type: 'CLIPTextEncode', inputs: { text: 'text, watermark', clip: ['2', 1] } },
        '5': { class_type: 'EmptyLatentImage', inputs: { width: 576, height: 1024, batch_size: 1 } },
        '6': {
          class_type: 'KSampler',
          inputs: {
            model: ['2', 0],
            seed: 1234,
            steps: 25,
            cfg: 7,
            sampler_name: 'dpmpp_2m',
            scheduler: 'karras',
            positive: ['3', 0],
            negative: ['4', 0],
            latent_image: ['5', 0],
            denoise: 1,
          },
        },
        '7': { class_type: 'VAEDecode', inputs: { samples: ['6', 0], vae: ['1', 2] } },
        '8': { class_type: 'SaveImage', inputs: { images: ['7', 0], filename_prefix: 'onbrand/job-7-image-0' } },
      },
      outputNode: '8',
      notes: [],
    });
  });

  it('is JSON as ComfyUI’s /prompt takes it, ids in order', () => {
    const { graph } = toComfyGraph(BRAND_LOOP);
    expect(Object.keys(graph)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    expect(JSON.parse(JSON.stringify(graph))).toEqual(graph);
  });

  it('starts img2img from the uploaded image: LoadImage → VAEEncode, KSampler walking the engine’s steps', () => {
    const { graph, outputNode, notes } = toComfyGraph({
      ...BRAND_LOOP,
      seed: 1235,
      init: { image: 'onbrand/init-42.png', strength: 0.55 },
    });
    expect(graph['5']).toEqual({ class_type: 'LoadImage', inputs: { image: 'onbrand/init-42.png' } });
    expect(graph['6']).toEqual({ class_type: 'VAEEncode', inputs: { pixels: ['5', 0], vae: ['1', 2] } });
    expect(graph['7']!.class_type).toBe('KSampler');
    // The engine runs ⌊0.55 × 25⌋ + 1 = 14 steps, the tail of its 25-step schedule: ComfyUI's 25-step schedule is 14 / (14 / 25.5) = 25.5 → 25.
    expect(graph['7']!.inputs).toMatchObject({ seed: 1235, steps: 14, denoise: 14 / 25.5, latent_image: ['6', 0] });
    expect(Object.values(graph).map((n) => n.class_type)).not.toContain('EmptyLatentImage');
    expect(outputNode).toBe('9');
    expect(graph['9']).toEqual({ class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'onbrand/job-7-image-0' } });
    expect(notes).toEqual([]);
  });

  it('gives img2img KSampler settings whose sigmas are the engine’s, for every step count and strength', () => {
    // ComfyUI's KSampler.set_steps (comfy/samplers.py): denoise above 0.9999 walks the whole `steps`-step
    // schedule; else the last steps + 1 sigmas of an int(steps / denoise)-step one.
    const comfyWindow = (steps: number, denoise: number) =>
      denoise > 0.9999 ? { schedule: steps, sigmas: steps + 1 } : { schedule: Math.trunc(steps / denoise), sigmas: steps + 1 };
    // engine.ts: the `steps`-step schedule sliced from steps − tEnc − 1, tEnc = ⌊min(strength, 0.999) × steps⌋.
    const engineWindow = (steps: number, strength: number) => {
      const tEnc = Math.floor(Math.min(strength, 0.999) * steps);
      return { schedule: steps, sigmas: steps + 1 - (steps - tEnc - 1) };
    };
    for (let steps = 1; steps <= 150; steps++)
      for (let percent = 1; percent <= 100; percent++) {
        const strength = percent / 100;
        const comfy = comfyImg2img(steps, strength);
        expect(comfy.denoise, `${steps} steps at ${strength}`).toBeLessThanOrEqual(1);
        expect(comfyWindow(comfy.steps, comfy.denoise), `${steps} steps at ${strength}`).toEqual(engineWindow(steps, strength));
        // And back, as a server imitating ComfyUI reads the graph with the engine.
        const back = engineImg2img(comfy.steps, comfy.denoise);
        expect(engineWindow(back.steps, back.strength), `${steps} steps at ${strength}`).toEqual(engineWindow(steps, strength));
      }
    // A graph written as ComfyUI users write it (denoise = strength) reads as what ComfyUI walks.
    expect(engineWindow(engineImg2img(25, 0.55).steps, engineImg2img(25, 0.55).strength)).toEqual(comfyWindow(25, 0.55));
    expect(engineImg2img(20, 1)).toEqual({ steps: 20, strength: 1 });
  });

  it('chains two LoRAs in prompt order, each with its weight for model and CLIP; the encoders use the last CLIP', () => {
    const { graph } = toComfyGraph({
      ...BRAND_LOOP,
      prompt: '<lora:Style:0.6>studio shot <lora:Brand> of a sneaker',
      loras: { Brand: 'brand_v3.safetensors', Style: 'styles/flat-style.safetensors' },
    });
    expect(graph['2']).toEqual({
      class_type: 'LoraLoader',
      inputs: { model: ['1', 0], clip: ['1', 1], lora_name: 'styles/flat-style.safetensors', strength_model: 0.6, strength_clip: 0.6 },
    });
    expect(graph['3']).toEqual({
      class_type: 'LoraLoader',
      inputs: { model: ['2', 0], clip: ['2', 1], lora_name: 'brand_v3.safetensors', strength_model: 1, strength_clip: 1 },
    });
    // Tags leave the text exactly as the engine takes them out.
    expect(graph['4']).toEqual({ class_type: 'CLIPTextEncode', inputs: { text: 'studio shot  of a sneaker', clip: ['3', 1] } });
    expect(graph['5']!.inputs.clip).toEqual(['3', 1]);
    expect(graph['7']!.inputs.model).toEqual(['3', 0]);
  });

  it('drops LoRA tags from the negative prompt, as the engine ignores them', () => {
    const { graph } = toComfyGraph({ ...BRAND_LOOP, negativePrompt: 'blurry <lora:Missing:1>' });
    expect(graph['4']!.inputs.text).toBe('blurry ');
    expect(Object.values(graph).filter((n) => n.class_type === 'LoraLoader')).toHaveLength(1);
  });

  it('refuses a LoRA the server has no name for, naming it', () => {
    const job = { ...BRAND_LOOP, prompt: 'poster <lora:Brand:0.8> <lora:Neon Glow:0.5>' };
    expect(() => toComfyGraph(job)).toThrow(MissingLoraError);
    expect(() => toComfyGraph(job)).toThrow(
      'The LoRA "Neon Glow" (<lora:Neon Glow:0.5> in the prompt) is not on this ComfyUI server: put its file in the server\'s models/loras folder, or map the name to one of the server\'s LoRAs',
    );
    try {
      toComfyGraph(job);
    } catch (error) {
      expect((error as MissingLoraError).lora).toBe('Neon Glow');
    }
    // An inherited property is no mapping.
    expect(() => toComfyGraph({ ...BRAND_LOOP, prompt: '<lora:constructor:1>' })).toThrow(MissingLoraError);
  });

  it('passes the engine’s errors for a malformed tag through', () => {
    expect(() => toComfyGraph({ ...BRAND_LOOP, prompt: 'poster <lora:Brand:0.8' })).toThrow(PromptSyntaxError);
  });

  it('zeroes an empty SDXL negative prompt as A1111 does, when asked', () => {
    const { graph } = toComfyGraph({ ...BRAND_LOOP, negativePrompt: '<lora:x:1>', zeroEmptyNegative: true });
    expect(graph['4']).toEqual({ class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['2', 1] } });
    expect(graph['5']).toEqual({ class_type: 'ConditioningZeroOut', inputs: { conditioning: ['4', 0] } });
    expect(graph['7']!.inputs.negative).toEqual(['5', 0]);
    // A negative prompt with words is encoded.
    const worded = toComfyGraph({ ...BRAND_LOOP, zeroEmptyNegative: true }).graph;
    expect(Object.values(worded).map((n) => n.class_type)).not.toContain('ConditioningZeroOut');
  });
});

describe('notes: where ComfyUI reads the job differently', () => {
  const notesFor = (prompt: string, negativePrompt = '', sampler: SamplerLabel = 'DPM++ 2M Karras') =>
    toComfyGraph({ ...BRAND_LOOP, prompt, negativePrompt, settings: { ...BRAND_LOOP.settings, sampler } }).notes;

  it('says nothing for a plain prompt with a deterministic sampler', () => {
    expect(notesFor('brand poster, magenta and teal, 35mm', 'text, watermark')).toEqual([]);
    expect(notesFor('literal \\(parens\\) and \\[brackets\\]', '', 'Euler')).toEqual([]);
    expect(notesFor('a', '', 'DDIM')).toEqual([]);
  });

  it('names weights, [ ] de-emphasis and BREAK, from either prompt, once each', () => {
    expect(notesFor('poster, (magenta:1.3)')).toEqual([COMFY_NOTES.weights]);
    expect(notesFor('poster', '(worst quality:1.4), (blurry)')).toEqual([COMFY_NOTES.weights]);
    expect(notesFor('poster, [muted]')).toEqual([COMFY_NOTES.square, COMFY_NOTES.weights]);
    expect(notesFor('poster BREAK teal')).toEqual([COMFY_NOTES.break]);
    expect(notesFor('(a:1.2) BREAK [b]', '(c:1.1)')).toEqual([COMFY_NOTES.square, COMFY_NOTES.weights, COMFY_NOTES.break]);
    // An escaped bracket is text, in A1111 and in ComfyUI.
    expect(notesFor('\\[draft\\] (a:1.2)')).toEqual([COMFY_NOTES.weights]);
  });

  it('names a prompt over 75 tokens (counted at least), where ComfyUI ends its chunks elsewhere', () => {
    // Words that are one CLIP token each.
    const vocabulary = ['red', 'blue', 'green', 'cat', 'dog', 'sun', 'moon', 'tree', 'house', 'car'];
    const words = (n: number) => Array.from({ length: n }, (_, i) => vocabulary[i % vocabulary.length]).join(' ');
    expect(notesFor(words(76))).toEqual([COMFY_NOTES.long]);
    expect(notesFor('poster', words(76))).toEqual([COMFY_NOTES.long]);
    // 70 words and two commas: 72 tokens, one chunk in both.
    expect(notesFor(`${words(35)}, `.repeat(2))).toEqual([]);
    expect(notesFor(words(75))).toEqual([]);
    // BREAK starts a chunk in A1111: two halves of 50 are not long (BREAK is named instead).
    expect(notesFor(`${words(50)} BREAK ${words(50)}`)).toEqual([COMFY_NOTES.break]);
  });

  it('names the samplers whose step noise ComfyUI draws differently', () => {
    expect(notesFor('a', '', 'DPM++ SDE Karras')).toEqual(['DPM++ SDE step noise differs in ComfyUI: not seed-identical']);
    expect(notesFor('a', '', 'Euler a')).toEqual(['Euler a step noise differs in ComfyUI: not seed-identical']);
    expect(notesFor('a', '', 'LCM')).toEqual(['LCM step noise differs in ComfyUI: not seed-identical']);
    expect(notesFor('(a:1.2)', '', 'DPM++ SDE Karras')).toEqual([
      COMFY_NOTES.weights,
      'DPM++ SDE step noise differs in ComfyUI: not seed-identical',
    ]);
  });
});

describe('comfyPromptText: ComfyUI reads each piece with the weight A1111 gives it', () => {
  const cases: [string, string][] = [
    ['brand poster, (magenta:1.3) and teal', 'brand poster, (magenta:1.3) and teal'],
    ['a (red) dress, ((bold)), [muted], [[quiet]]', 'a (red:1.1) dress, (bold:1.21), (muted:0.9091), (quiet:0.8264)'],
    // A1111 multiplies nested weights; ComfyUI's inner weight would replace the outer: written flat.
    ['((logo:1.3)) and (big (bright) sign:1.2)', '(logo:1.43) and (big :1.2)(bright:1.32)( sign:1.2)'],
    ['unclosed (glow and [haze', 'unclosed (glow and :1.1)haze'],
    ['literal \\(parens\\) and \\[brackets\\]', 'literal \\(parens\\) and [brackets]'],
    ['smiley :) and ratio 16:9, (wide 16:9:1.2)', 'smiley :\\) and ratio 16:9, (wide 16:9:1.2)'],
    // A literal backslash before a group would escape its "(": its text closes in a weight-1 group.
    ['end with backslash \\\\(b:1.2)', '(end with backslash \\:1)(b:1.2)'],
    ['backslash then paren \\\\\\(x\\)', 'backslash then paren \\\\(x\\)'],
    ['(ugly:-0.5), (faded:0)', '(ugly:-0.5), (faded:0)'],
    ['(a)(b:1.1)', '(ab:1.1)'],
  ];

  it.each(cases)('%s → %s', (prompt, expected) => {
    const { text } = comfyPromptText(prompt);
    expect(text).toBe(expected);
    expect(weighted(comfyReads(text))).toEqual(weighted(parsePromptAttention(prompt)));
  });

  it('keeps BREAK as a word between its neighbours', () => {
    const { text, notes } = comfyPromptText('poster BREAK teal, (logo:1.2)');
    expect(text).toBe('poster BREAK teal, (logo:1.2)');
    expect(notes).toContain(COMFY_NOTES.break);
    expect(comfyReads(text)).toEqual([
      { text: 'poster BREAK teal, ', weight: 1 },
      { text: 'logo', weight: 1.2 },
    ]);
  });
});

describe('matching names with the server’s', () => {
  const checkpoints = [
    'SD1.5/dreamshaper_8.safetensors',
    'SDXL\\juggernautXL_v9.safetensors',
    'v1-5-pruned-emaonly.ckpt',
    'brand/Brand_Style.safetensors',
    'brand-style.pt',
    'SD2/sdxl_base.safetensors',
    'SDXL/sdxl_base.safetensors',
  ];

  it('takes the user’s mapping when the server has it, else matches by file name', () => {
    expect(matchComfyName('dreamshaper_8', checkpoints, 'v1-5-pruned-emaonly.ckpt')).toBe('v1-5-pruned-emaonly.ckpt');
    // A mapping to a file the server does not have falls back to the file name.
    expect(matchComfyName('dreamshaper_8', checkpoints, 'gone.safetensors')).toBe('SD1.5/dreamshaper_8.safetensors');
  });

  it('matches stems without folders or extensions, ignoring case, either slash', () => {
    expect(matchComfyName('dreamshaper_8', checkpoints)).toBe('SD1.5/dreamshaper_8.safetensors');
    expect(matchComfyName('DreamShaper_8.safetensors', checkpoints)).toBe('SD1.5/dreamshaper_8.safetensors');
    expect(matchComfyName('/home/ana/models/dreamshaper_8', checkpoints)).toBe('SD1.5/dreamshaper_8.safetensors');
    expect(matchComfyName('juggernautxl_v9', checkpoints)).toBe('SDXL\\juggernautXL_v9.safetensors');
    expect(matchComfyName('v1-5-pruned-emaonly', checkpoints)).toBe('v1-5-pruned-emaonly.ckpt');
    expect(matchComfyName('SD1.5/dreamshaper_8.safetensors', checkpoints)).toBe('SD1.5/dreamshaper_8.safetensors');
  });

  it('ignores -, _ and spaces as a second pass, only when one file fits', () => {
    expect(matchComfyName('juggernaut XL v9', checkpoints)).toBe('SDXL\\juggernautXL_v9.safetensors');
    expect(matchComfyName('v1 5 pruned emaonly', checkpoints)).toBe('v1-5-pruned-emaonly.ckpt');
    // "Brand Style" fits Brand_Style and brand-style: which one is meant is not for us to guess.
    expect(matchComfyName('Brand Style', checkpoints)).toBeNull();
    // The first pass still tells them apart.
    expect(matchComfyName('brand-style', checkpoints)).toBe('brand-style.pt');
    expect(matchComfyName('brand_style', checkpoints)).toBe('brand/Brand_Style.safetensors');
  });

  it('gives null for a stem in two folders unless the folder says which, and for no match', () => {
    expect(matchComfyName('sdxl_base', checkpoints)).toBeNull();
    expect(matchComfyName('SDXL/sdxl_base', checkpoints)).toBe('SDXL/sdxl_base.safetensors');
    // A file of that very name at the top wins over the same stem in a folder.
    expect(matchComfyName('sdxl_base', ['SDXL/sdxl_base.safetensors', 'sdxl_base.safetensors'])).toBe('sdxl_base.safetensors');
    expect(matchComfyName('dreamshaper_7', checkpoints)).toBeNull();
    expect(matchComfyName('', checkpoints)).toBeNull();
    expect(matchComfyName('dreamshaper_8', [])).toBeNull();
  });

  it('suggests the closest name for an error message', () => {
    expect(closestComfyName('dreamshaper_7', checkpoints)).toBe('SD1.5/dreamshaper_8.safetensors');
    expect(closestComfyName('juggernaut', checkpoints)).toBe('SDXL\\juggernautXL_v9.safetensors');
    expect(closestComfyName('dreamshaper_8', checkpoints)).toBe('SD1.5/dreamshaper_8.safetensors');
    expect(closestComfyName('watercolour', checkpoints)).toBeNull();
  });
});

describe('comfyInitImage', () => {
  it('is a PNG at the job’s size whose RGB pixels are those the engine feeds its VAE encoder', async () => {
    // A 90×40 RGBA picture with a gradient and half-transparent pixels, for a 64×64 job (cover: centre crop).
    const [w, h] = [90, 40];
    const rgba = Buffer.alloc(w * h * 4);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgba.set([x * 2, y * 5, (x * y) % 256, x % 2 ? 128 : 255], (y * w + x) * 4);
    const source = await sharp(rgba, { raw: { width: w, height: h, channels: 4 } })
      .png()
      .toBuffer();

    const png = await comfyInitImage(source, 64, 64);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', 64, 64, 3]);
    // As engine.ts encodeImage reads an init image.
    const engine = await sharp(source).removeAlpha().resize(64, 64, { fit: 'cover' }).raw().toBuffer();
    // As ComfyUI's LoadImage reads the upload: image.convert("RGB").
    const comfy = await sharp(png).removeAlpha().raw().toBuffer();
    expect(comfy.equals(engine)).toBe(true);
  });

  it('says when the init image cannot be read', async () => {
    await expect(comfyInitImage(Buffer.from('not an image'), 64, 64)).rejects.toThrow(/^The init image cannot be read: /);
  });
});
