import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { imageSeed, TorchGenerator } from './rng.js';
import { SCHEDULE_TYPES, type ScheduleType } from '../common/index.js';
import { parseSamplerName, parseScheduleType, sample, samplerSigmas, SAMPLERS, type SamplerContext, type SamplerName } from './samplers.js';
import { DiscreteSchedule } from './schedule.js';

// Numbers from PyTorch 1.13 running k-diffusion's samplers, transcribed in
// scripts/reference/samplers.py, with the toy denoiser and noise below (see the file's note).
interface RunReference {
  sigmas: number[];
  x_after_first_step: number[];
  x_final: number[];
}
interface Reference {
  note: string;
  seed: number;
  shape: number[];
  steps: number;
  samplers: Record<SamplerName, RunReference>;
  /** ComfyUI's sgm_uniform (checked equal to A1111's "SGM Uniform") by step count. */
  sgm_uniform_sigmas: Record<string, number[]>;
  /** A sampler on another schedule type: 'Euler / SGM Uniform', … */
  schedule_runs: Record<string, RunReference & { sampler: SamplerName; schedule_type: ScheduleType; steps: number }>;
}
const ref = JSON.parse(readFileSync(new URL('./testdata/samplers-reference.json', import.meta.url), 'utf8')) as Reference;

const schedule = new DiscreteSchedule();
const f32 = Math.fround;
const IMAGE_SIZE = 4 * 4 * 4;
const BATCH = 2;

/** The reference's model, in float32 steps as PyTorch evaluates it: tanh(x·c_in)·0.8 + 0.1·sin(3x). */
function toyDenoiser(x: Float32Array, sigma: number): Float32Array {
  const cIn = f32(1 / f32(Math.sqrt(f32(f32(sigma * sigma) + 1))));
  const out = new Float32Array(x.length);
  for (let j = 0; j < x.length; j++) {
    const a = f32(f32(Math.tanh(f32(x[j]! * cIn))) * 0.8);
    const b = f32(f32(0.1) * f32(Math.sin(f32(3 * x[j]!))));
    out[j] = f32(a + b);
  }
  return out;
}

/** One generator per image (seed + i): it draws the initial noise, then each later slice. */
function batchNoise(seed: number): () => Float32Array {
  const generators = Array.from({ length: BATCH }, (_, i) => new TorchGenerator(imageSeed(seed, i)));
  return () => {
    const out = new Float32Array(BATCH * IMAGE_SIZE);
    generators.forEach((g, i) => out.set(g.randn([1, 4, 4, 4]), i * IMAGE_SIZE));
    return out;
  };
}

function initialLatents(noise: () => Float32Array, sigma0: number): Float32Array {
  return noise().map((v) => f32(v * sigma0));
}

interface Run {
  final: Float32Array;
  steps: { step: number; total: number; x: Float32Array; denoised: Float32Array }[];
  denoiseCalls: number;
}

async function run(name: SamplerName, sigmas: Float32Array, extra: Partial<SamplerContext> = {}): Promise<Run> {
  const noise = batchNoise(ref.seed);
  const x = initialLatents(noise, sigmas[0]!);
  const result: Run = { final: new Float32Array(), steps: [], denoiseCalls: 0 };
  const ctx: SamplerContext = {
    denoise: (latents, sigma) => {
      result.denoiseCalls++;
      return Promise.resolve(toyDenoiser(latents, sigma));
    },
    noise,
    onStep: (step, total, latents, denoised) => {
      result.steps.push({ step, total, x: latents.slice(), denoised: denoised.slice() });
    },
    ...extra,
  };
  result.final = await sample(name, x, sigmas, ctx);
  return result;
}

function maxDifference(actual: ArrayLike<number>, expected: readonly number[]): number {
  expect(actual.length).toBe(expected.length);
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(actual[i]! - expected[i]!));
  return max;
}

describe('samplers against k-diffusion (PyTorch reference, toy denoiser)', () => {
  for (const name of SAMPLERS) {
    it(`${name}: sigmas, x after the first step and the final x match`, async () => {
      const expected = ref.samplers[name];
      const sigmas = samplerSigmas(name, schedule, ref.steps);
      expect(maxDifference(sigmas, expected.sigmas)).toBeLessThan(2e-5);

      const { final, steps } = await run(name, sigmas);
      expect(steps).toHaveLength(ref.steps);
      // Latents after step 0 are tens in size at sigma ~8–15: float32 rounding is ~1e-6 there.
      expect(maxDifference(steps[0]!.x, expected.x_after_first_step)).toBeLessThan(1e-4);
      expect(maxDifference(final, expected.x_final)).toBeLessThan(1e-4);
    });
  }
});

describe('schedule types against A1111 and ComfyUI (PyTorch reference)', () => {
  it("SGM Uniform is ComfyUI's sgm_uniform: timesteps 999 down in steps + 1 even parts, the last left out, then 0", () => {
    for (const [steps, expected] of Object.entries(ref.sgm_uniform_sigmas)) {
      const sigmas = samplerSigmas('Euler', schedule, Number(steps), 'SGM Uniform');
      expect(maxDifference(sigmas, expected)).toBeLessThan(2e-6);
    }
    // 4 steps: t = 999, 749.25, 499.5, 249.75 (the "trailing" spacing SDXL-Lightning was distilled with).
    const four = samplerSigmas('Euler', schedule, 4, 'SGM Uniform');
    expect(four[0]).toBe(schedule.tToSigma(999));
    expect(four[1]).toBe(schedule.tToSigma(749.25));
    expect(four[3]).toBe(schedule.tToSigma(249.75));
    expect(four[4]).toBe(0);
  });

  for (const [key, expected] of Object.entries(ref.schedule_runs)) {
    it(`${key}, ${expected.steps} steps: sigmas, x after the first step and the final x match`, async () => {
      const sigmas = samplerSigmas(expected.sampler, schedule, expected.steps, expected.schedule_type);
      expect(maxDifference(sigmas, expected.sigmas)).toBeLessThan(2e-5);
      const { final, steps } = await run(expected.sampler, sigmas);
      expect(steps).toHaveLength(expected.steps);
      expect(maxDifference(steps[0]!.x, expected.x_after_first_step)).toBeLessThan(1e-4);
      expect(maxDifference(final, expected.x_final)).toBeLessThan(1e-4);
    });
  }
});

describe('samplerSigmas', () => {
  it('Automatic is each sampler’s own schedule; Karras and SGM Uniform replace it for every sampler but DDIM', () => {
    for (const name of SAMPLERS) {
      expect(samplerSigmas(name, schedule, 12, 'Automatic')).toEqual(samplerSigmas(name, schedule, 12));
      if (name === 'DDIM') continue;
      expect(samplerSigmas(name, schedule, 12, 'Karras')).toEqual(schedule.karrasSigmas(12));
      expect(samplerSigmas(name, schedule, 12, 'SGM Uniform')).toEqual(schedule.sgmUniformSigmas(12));
    }
    expect(samplerSigmas('Euler', schedule, 12, 'SGM Uniform')).not.toEqual(samplerSigmas('Euler', schedule, 12));
  });

  it('DDIM refuses another schedule type, saying what to do', () => {
    for (const type of ['Karras', 'SGM Uniform'] as const)
      expect(() => samplerSigmas('DDIM', schedule, 20, type)).toThrow('DDIM walks its own timesteps: set the schedule type to Automatic');
  });

  it('every schedule type gives steps + 1 decreasing sigmas ending with 0', () => {
    for (const type of SCHEDULE_TYPES) {
      for (const steps of [1, 2, 4, 8, 30]) {
        const sigmas = samplerSigmas('Euler a', schedule, steps, type);
        expect(sigmas).toHaveLength(steps + 1);
        expect(sigmas[0]).toBeCloseTo(schedule.sigmaMax, 4);
        expect(sigmas[steps]).toBe(0);
        for (let i = 1; i <= steps; i++) expect(sigmas[i]!).toBeLessThan(sigmas[i - 1]!);
      }
    }
  });

  it('gives steps + 1 sigmas ending with 0, decreasing, for every sampler', () => {
    for (const name of SAMPLERS) {
      for (const steps of [1, 4, 20, 50]) {
        const sigmas = samplerSigmas(name, schedule, steps);
        expect(sigmas).toHaveLength(steps + 1);
        expect(sigmas[steps]).toBe(0);
        for (let i = 1; i <= steps; i++) expect(sigmas[i]!).toBeLessThan(sigmas[i - 1]!);
      }
    }
  });

  it('Karras variants use the Karras schedule, the others the default discretisation', () => {
    expect(samplerSigmas('DPM++ 2M Karras', schedule, 20)).toEqual(schedule.karrasSigmas(20));
    expect(samplerSigmas('DPM++ SDE Karras', schedule, 20)).toEqual(schedule.karrasSigmas(20));
    expect(samplerSigmas('DPM++ 2M', schedule, 20)).toEqual(schedule.defaultSigmas(20));
    expect(samplerSigmas('Euler', schedule, 20)).toEqual(schedule.defaultSigmas(20));
    expect(samplerSigmas('DPM++ 2M Karras', schedule, 20)).not.toEqual(samplerSigmas('DPM++ 2M', schedule, 20));
  });

  it("DDIM takes sigma at A1111/diffusers' leading timesteps with offset 1 (951, 901, …, 1 for 20 steps)", () => {
    const sigmas = samplerSigmas('DDIM', schedule, 20);
    expect(sigmas[0]).toBe(schedule.sigmas[951]);
    expect(sigmas[19]).toBe(schedule.sigmas[1]);
  });

  it('refuses step counts that are not positive integers, and DDIM beyond the training steps', () => {
    expect(() => samplerSigmas('Euler', schedule, 0)).toThrow(RangeError);
    expect(() => samplerSigmas('Euler', schedule, 2.5)).toThrow(RangeError);
    expect(() => samplerSigmas('DDIM', schedule, 1000)).toThrow(RangeError);
    expect(samplerSigmas('DDIM', schedule, 999)[0]).toBe(schedule.sigmas[999]);
  });
});

describe('sample', () => {
  const sigmas = samplerSigmas('Euler a', schedule, 6);

  it('calls onStep once per step with increasing indices, the step count and that step’s x', async () => {
    for (const name of SAMPLERS) {
      const { steps, final, denoiseCalls } = await run(name, samplerSigmas(name, schedule, 6));
      expect(steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(steps.every((s) => s.total === 6)).toBe(true);
      expect(steps[5]!.x).toEqual(final);
      // One model call a step; DPM++ SDE makes a second on every step but the last.
      expect(denoiseCalls).toBe(name === 'DPM++ SDE Karras' ? 11 : 6);
    }
  });

  it('an abort between steps throws the AbortError and calls the model no more', async () => {
    const controller = new AbortController();
    let stepsSeen = 0;
    const attempt = run('Euler a', sigmas, {
      signal: controller.signal,
      onStep: (step) => {
        stepsSeen++;
        if (step === 2) controller.abort();
      },
    });
    await expect(attempt).rejects.toMatchObject({ name: 'AbortError' });
    expect(stepsSeen).toBe(3);

    // The same, counting model calls: three steps' worth, none after the abort.
    const counting = new AbortController();
    let calls = 0;
    const x = initialLatents(batchNoise(ref.seed), sigmas[0]!);
    await expect(
      sample('Euler a', x, sigmas, {
        denoise: (latents, sigma) => {
          calls++;
          return Promise.resolve(toyDenoiser(latents, sigma));
        },
        noise: batchNoise(ref.seed + 100),
        onStep: (step) => {
          if (step === 2) counting.abort();
        },
        signal: counting.signal,
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toBe(3);
  });

  it('an already aborted signal stops before the first model call', async () => {
    let calls = 0;
    const x = initialLatents(batchNoise(ref.seed), sigmas[0]!);
    const promise = sample('DPM++ 2M', x, sigmas, {
      denoise: (latents) => {
        calls++;
        return Promise.resolve(latents);
      },
      noise: batchNoise(1),
      signal: AbortSignal.abort(),
    });
    await expect(promise).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toBe(0);
  });

  it('leaves the caller’s latents untouched', async () => {
    const noise = batchNoise(ref.seed);
    const x = initialLatents(noise, sigmas[0]!);
    const copy = x.slice();
    await sample('Euler a', x, sigmas, { denoise: (l, s) => Promise.resolve(toyDenoiser(l, s)), noise });
    expect(x).toEqual(copy);
  });

  it('refuses a model or noise of the wrong size, and a sigma list with no step', async () => {
    const x = new Float32Array(8);
    const noise = () => new Float32Array(8);
    await expect(sample('Euler', x, sigmas, { denoise: () => Promise.resolve(new Float32Array(4)), noise })).rejects.toThrow(/4 values/);
    await expect(
      sample('Euler a', x, sigmas, { denoise: (l) => Promise.resolve(l.slice()), noise: () => new Float32Array(3) }),
    ).rejects.toThrow(/3 values/);
    await expect(sample('Euler', x, new Float32Array([1]), { denoise: (l) => Promise.resolve(l), noise })).rejects.toThrow(RangeError);
  });
});

describe('parseScheduleType', () => {
  it("accepts A1111's labels and ComfyUI's names in any case and spacing", () => {
    for (const type of SCHEDULE_TYPES) expect(parseScheduleType(type.toLowerCase())).toBe(type);
    expect(parseScheduleType('sgm_uniform')).toBe('SGM Uniform');
    expect(parseScheduleType('SGMUniform')).toBe('SGM Uniform');
    expect(parseScheduleType(' KARRAS ')).toBe('Karras');
    expect(parseScheduleType('auto')).toBe('Automatic');
  });

  it('rejects unknown names, listing the valid ones', () => {
    expect(() => parseScheduleType('exponential')).toThrow(
      'Unknown schedule type "exponential": use one of Automatic, Karras, SGM Uniform',
    );
  });
});

describe('parseSamplerName', () => {
  it('accepts the A1111 names in any case and spacing', () => {
    for (const name of SAMPLERS) {
      expect(parseSamplerName(name)).toBe(name);
      expect(parseSamplerName(name.toUpperCase())).toBe(name);
      expect(parseSamplerName(` ${name.toLowerCase().replace(/ /g, '')} `)).toBe(name);
    }
    expect(parseSamplerName('dpm++ 2m  karras')).toBe('DPM++ 2M Karras');
    expect(parseSamplerName('euler A')).toBe('Euler a');
  });

  it("accepts k-diffusion's and A1111's older names", () => {
    expect(parseSamplerName('euler')).toBe('Euler');
    expect(parseSamplerName('k_euler')).toBe('Euler');
    expect(parseSamplerName('euler_ancestral')).toBe('Euler a');
    expect(parseSamplerName('k_euler_a')).toBe('Euler a');
    expect(parseSamplerName('sample_euler_ancestral')).toBe('Euler a');
    expect(parseSamplerName('dpmpp_2m')).toBe('DPM++ 2M');
    expect(parseSamplerName('k_dpmpp_2m')).toBe('DPM++ 2M');
    expect(parseSamplerName('dpmpp_2m_karras')).toBe('DPM++ 2M Karras');
    expect(parseSamplerName('k_dpmpp_2m_ka')).toBe('DPM++ 2M Karras');
    expect(parseSamplerName('dpmpp_sde')).toBe('DPM++ SDE Karras');
    expect(parseSamplerName('k_dpmpp_sde_ka')).toBe('DPM++ SDE Karras');
    expect(parseSamplerName('ddim')).toBe('DDIM');
    expect(parseSamplerName('k_lcm')).toBe('LCM');
  });

  it('rejects unknown names, listing the valid ones', () => {
    for (const text of ['heun', 'dpmpp_2m_sde', '', 'constructor', 'toString']) {
      expect(() => parseSamplerName(text)).toThrow(
        /use one of Euler, Euler a, DPM\+\+ 2M, DPM\+\+ 2M Karras, DPM\+\+ SDE Karras, DDIM, LCM/,
      );
    }
  });
});
