import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { imageSeed, TorchGenerator } from './rng.js';
import { parseSamplerName, sample, samplerSigmas, SAMPLERS, type SamplerContext, type SamplerName } from './samplers.js';
import { DiscreteSchedule } from './schedule.js';

// Numbers from PyTorch 1.13 running k-diffusion's samplers, transcribed in
// scripts/reference/samplers.py, with the toy denoiser and noise below (see the file's note).
interface Reference {
  note: string;
  seed: number;
  shape: number[];
  steps: number;
  samplers: Record<SamplerName, { sigmas: number[]; x_after_first_step: number[]; x_final: number[] }>;
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

describe('samplerSigmas', () => {
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
