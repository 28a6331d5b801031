import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DiscreteSchedule, linspace32 } from './schedule.js';

// Numbers from PyTorch 1.13 and k-diffusion (see testdata/README.md).
const ref = JSON.parse(readFileSync(new URL('./testdata/torch-sigmas.json', import.meta.url), 'utf8')) as Record<string, number[]> & {
  sigma_min: number;
  sigma_max: number;
};

function expectClose(actual: ArrayLike<number>, expected: readonly number[], relative = 2e-6, absolute = 1e-7): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i]! - expected[i]!) > absolute + relative * Math.abs(expected[i]!)) {
      throw new Error(`value ${i}: ${actual[i]} differs from the reference ${expected[i]}`);
    }
  }
}

const schedule = new DiscreteSchedule();

describe('DiscreteSchedule (SD 1.x)', () => {
  it('alphas_cumprod and the 1000 sigmas match PyTorch', () => {
    expectClose(schedule.alphasCumprod, ref.alphas_cumprod!);
    expectClose(schedule.sigmas, ref.sigmas_1000!);
    expect(schedule.sigmaMin).toBeCloseTo(ref.sigma_min, 7);
    expect(schedule.sigmaMax).toBeCloseTo(ref.sigma_max, 5);
  });

  for (const steps of [15, 20, 25]) {
    it(`default discretisation for ${steps} steps matches k-diffusion's get_sigmas`, () => {
      const sigmas = schedule.defaultSigmas(steps);
      expectClose(sigmas, ref[`get_sigmas_${steps}`]!);
      const nonZero = Array.from(sigmas.subarray(0, steps));
      expectClose(
        nonZero.map((s) => schedule.sigmaToT(s)),
        ref[`get_sigmas_${steps}_t_fractional`]!,
        1e-5,
        2e-3,
      );
      expect(nonZero.map((s) => schedule.sigmaToT(s, true))).toEqual(ref[`get_sigmas_${steps}_t_quantized`]);
    });
  }

  for (const steps of [20, 25]) {
    it(`Karras sigmas (rho 7) for ${steps} steps match k-diffusion's get_sigmas_karras`, () => {
      expectClose(schedule.karrasSigmas(steps), ref[`karras_${steps}`]!);
    });
  }

  it('timesteps of the Karras sigmas, fractional and quantized, match k-diffusion', () => {
    const sigmas = Array.from(schedule.karrasSigmas(25).subarray(0, 25));
    expectClose(
      sigmas.map((s) => schedule.sigmaToT(s)),
      ref.karras_25_t_fractional!,
      1e-5,
      2e-3,
    );
    expect(sigmas.map((s) => schedule.sigmaToT(s, true))).toEqual(ref.karras_25_t_quantized);
  });

  it('linspace computes from both ends like torch.linspace', () => {
    expect(Array.from(linspace32(999, 0, 5))).toEqual([999, 749.25, 499.5, 249.75, 0]);
    expect(Array.from(linspace32(0, 1, 1))).toEqual([0]);
  });
});
