/**
 * The samplers, named as A1111 names them, with k-diffusion's semantics (`k_diffusion/sampling.py`):
 * each walks x down a list of sigmas that ends with 0, calling the model once or twice a step.
 * Element-wise math is done in doubles and stored in Float32Array, as PyTorch keeps float32 tensors.
 * Pure TypeScript, no onnxruntime: the model comes in through `SamplerContext.denoise`.
 */
import { SAMPLER_NAMES, SCHEDULE_TYPES, type SamplerLabel, type ScheduleType } from '../common/index.js';
import { type DiscreteSchedule } from './schedule.js';

/** The names live in `core/common` (the contract and the Generate form offer the same list). */
export type SamplerName = SamplerLabel;

export const SAMPLERS: readonly SamplerName[] = SAMPLER_NAMES;

export interface SamplerContext {
  /** The model: denoised prediction for the whole batch x at noise level sigma (classifier-free guidance already applied by the caller). */
  denoise(x: Float32Array, sigma: number): Promise<Float32Array>;
  /** Fresh standard-normal noise shaped like x (the caller draws each image's slice from that image's own generator). */
  noise(): Float32Array;
  /** Called after each step with the 0-based step index, the step count, the current x and the denoised prediction. */
  onStep?(step: number, total: number, x: Float32Array, denoised: Float32Array): void | Promise<void>;
  /** Checked between steps: an aborted signal stops sampling by throwing signal.reason (an AbortError). */
  signal?: AbortSignal;
}

type SigmaKind = 'default' | 'karras' | 'ddim';

/** One step: from x and the model's prediction at sigma to x at sigmaNext (a second model call allowed). */
type Step = (x: Float32Array, denoised: Float32Array, sigma: number, sigmaNext: number, i: number) => Float32Array | Promise<Float32Array>;

interface Sampler {
  sigmas: SigmaKind;
  /** A fresh stepper per run: multistep samplers keep state between steps. */
  makeStep(ctx: Checked, sigmas: Float32Array): Step;
}

const SPECS: Record<SamplerName, Sampler> = {
  Euler: { sigmas: 'default', makeStep: () => eulerStep },
  'Euler a': { sigmas: 'default', makeStep: (ctx) => eulerAncestralStep(ctx) },
  'DPM++ 2M': { sigmas: 'default', makeStep: (_ctx, sigmas) => dpmpp2mStep(sigmas) },
  'DPM++ 2M Karras': { sigmas: 'karras', makeStep: (_ctx, sigmas) => dpmpp2mStep(sigmas) },
  'DPM++ SDE Karras': { sigmas: 'karras', makeStep: (ctx) => dpmppSdeStep(ctx) },
  // Deterministic DDIM (eta 0): x_prev = sqrt(a_prev)·x0 + sqrt(1 - a_prev)·eps is, divided by
  // sqrt(a_prev), x0 + sigma_prev·eps, which is an Euler step in sigma space.
  DDIM: { sigmas: 'ddim', makeStep: () => eulerStep },
  LCM: { sigmas: 'default', makeStep: (ctx) => lcmStep(ctx) },
};

/**
 * The sigmas a sampler uses for `steps` steps on this schedule, ending with 0. The schedule type is
 * A1111's: `Automatic` is the sampler's own (Karras rho 7 for the Karras variants, the uniform
 * timestep spacing for DDIM, the default discretisation for the others); `Karras` and `SGM Uniform`
 * replace it for any sampler but DDIM, which is defined by its own timesteps and refuses another.
 */
export function samplerSigmas(
  name: SamplerName,
  schedule: DiscreteSchedule,
  steps: number,
  scheduleType: ScheduleType = 'Automatic',
): Float32Array {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, not ${steps}`);
  const kind = SPECS[name].sigmas;
  if (kind === 'ddim' && scheduleType !== 'Automatic')
    throw new RangeError(`DDIM walks its own timesteps: set the schedule type to Automatic, or pick another sampler for ${scheduleType}`);
  switch (scheduleType) {
    case 'Karras':
      return schedule.karrasSigmas(steps);
    case 'SGM Uniform':
      return schedule.sgmUniformSigmas(steps);
    case 'Automatic':
      break;
  }
  switch (kind) {
    case 'default':
      return schedule.defaultSigmas(steps);
    case 'karras':
      return schedule.karrasSigmas(steps);
    case 'ddim':
      return ddimSigmas(schedule, steps);
  }
}

/**
 * A1111 and diffusers' DDIM timesteps for SD ('leading' spacing, steps_offset 1): every
 * T/steps-th timestep from 1, highest first, then a final 0 (diffusers' last step goes to
 * alphas_cumprod[0] instead; k-diffusion-style samplers end at sigma 0).
 */
function ddimSigmas(schedule: DiscreteSchedule, steps: number): Float32Array {
  const trainSteps = schedule.sigmas.length;
  const ratio = Math.floor(trainSteps / steps);
  // The offset puts the highest timestep past the schedule's end at `trainSteps` steps.
  if (ratio < 1 || (steps - 1) * ratio + 1 >= trainSteps) throw new RangeError(`DDIM takes at most ${trainSteps - 1} steps, not ${steps}`);
  const out = new Float32Array(steps + 1);
  for (let i = 0; i < steps; i++) out[i] = schedule.sigmas[(steps - 1 - i) * ratio + 1]!;
  return out;
}

/** Runs the sampler from x (already noise * sigmas[0]) down the sigma list; returns the final latents. */
export async function sample(name: SamplerName, x: Float32Array, sigmas: Float32Array, ctx: SamplerContext): Promise<Float32Array> {
  const total = sigmas.length - 1;
  if (total < 1) throw new RangeError('the sigma list needs at least two entries (one step)');
  const checked = checkedContext(ctx, x.length);
  const step = SPECS[name].makeStep(checked, sigmas);
  for (let i = 0; i < total; i++) {
    ctx.signal?.throwIfAborted();
    const sigma = sigmas[i]!;
    const denoised = await checked.denoise(x, sigma);
    x = await step(x, denoised, sigma, sigmas[i + 1]!, i);
    await ctx.onStep?.(i, total, x, denoised);
  }
  return x;
}

/** The context with the model's and the noise's lengths checked against x: a mismatch would read past the end silently. */
interface Checked {
  denoise(x: Float32Array, sigma: number): Promise<Float32Array>;
  noise(): Float32Array;
}

function checkedContext(ctx: SamplerContext, size: number): Checked {
  return {
    async denoise(x, sigma) {
      const out = await ctx.denoise(x, sigma);
      if (out.length !== size) throw new Error(`the model returned ${out.length} values for latents of ${size}`);
      return out;
    },
    noise() {
      const out = ctx.noise();
      if (out.length !== size) throw new Error(`noise() returned ${out.length} values for latents of ${size}`);
      return out;
    },
  };
}

/** k-diffusion `get_ancestral_step`: the sigma to step down to and the noise to add back. */
function ancestralStep(sigmaFrom: number, sigmaTo: number, eta = 1): { down: number; up: number } {
  if (!eta) return { down: sigmaTo, up: 0 };
  const up = Math.min(sigmaTo, eta * Math.sqrt((sigmaTo ** 2 * (sigmaFrom ** 2 - sigmaTo ** 2)) / sigmaFrom ** 2));
  return { down: Math.sqrt(sigmaTo ** 2 - up ** 2), up };
}

/** `sample_euler` with s_churn 0: x + d·(sigma_next − sigma), d = (x − denoised)/sigma. */
function eulerStep(x: Float32Array, denoised: Float32Array, sigma: number, sigmaNext: number): Float32Array {
  const out = new Float32Array(x.length);
  const dt = sigmaNext - sigma;
  for (let j = 0; j < x.length; j++) out[j] = x[j]! + ((x[j]! - denoised[j]!) / sigma) * dt;
  return out;
}

/** `sample_euler_ancestral`, eta 1: an Euler step down to sigma_down, then noise·sigma_up. */
function eulerAncestralStep(ctx: Checked): Step {
  return (x, denoised, sigma, sigmaNext) => {
    const { down, up } = ancestralStep(sigma, sigmaNext);
    const out = eulerStep(x, denoised, sigma, down);
    if (sigmaNext > 0) {
      const noise = ctx.noise();
      for (let j = 0; j < out.length; j++) out[j] = out[j]! + noise[j]! * up;
    }
    return out;
  };
}

/**
 * `sample_dpmpp_2m`: DPM-Solver++(2M) in t = −log sigma, first order on the first step and on the
 * step to sigma 0, otherwise extrapolating from the previous step's prediction.
 */
function dpmpp2mStep(sigmas: Float32Array): Step {
  let oldDenoised: Float32Array | undefined;
  return (x, denoised, sigma, sigmaNext, i) => {
    const out = new Float32Array(x.length);
    if (sigmaNext === 0) {
      // sigma_next/sigma = 0 and expm1(−h) = −1 with h = ∞: the prediction itself.
      out.set(denoised);
    } else {
      const t = -Math.log(sigma);
      const h = -Math.log(sigmaNext) - t;
      const ratio = sigmaNext / sigma;
      const coefficient = Math.expm1(-h);
      if (oldDenoised === undefined) {
        for (let j = 0; j < x.length; j++) out[j] = ratio * x[j]! - coefficient * denoised[j]!;
      } else {
        const hLast = t + Math.log(sigmas[i - 1]!);
        const r = hLast / h;
        const a = 1 + 1 / (2 * r);
        const b = 1 / (2 * r);
        for (let j = 0; j < x.length; j++) out[j] = ratio * x[j]! - coefficient * (a * denoised[j]! - b * oldDenoised[j]!);
      }
    }
    oldDenoised = denoised;
    return out;
  };
}

/**
 * `sample_dpmpp_sde` (eta 1, s_noise 1, r 1/2): two stochastic DPM-Solver++ substeps through the
 * log-midpoint sigma, a model call at each.
 *
 * Noise comes from the default noise sampler (fresh standard normals from ctx.noise()), not from
 * k-diffusion's BrownianTreeNoiseSampler: A1111 draws this sampler's noise from torchsde's Brownian
 * tree, which we do not reproduce, so the same seed gives a different (equally valid) image than A1111.
 */
function dpmppSdeStep(ctx: Checked, eta = 1, r = 1 / 2): Step {
  return async (x, denoised, sigma, sigmaNext) => {
    if (sigmaNext === 0) return eulerStep(x, denoised, sigma, sigmaNext);
    const t = -Math.log(sigma);
    const h = -Math.log(sigmaNext) - t;
    const sigmaS = Math.exp(-(t + h * r));
    const fac = 1 / (2 * r);

    // Substep 1: to the midpoint, then the model there.
    const first = ancestralStep(sigma, sigmaS, eta);
    const sPrime = -Math.log(first.down);
    const x2 = new Float32Array(x.length);
    let ratio = Math.exp(-sPrime) / sigma;
    let coefficient = Math.expm1(t - sPrime);
    let noise = ctx.noise();
    for (let j = 0; j < x.length; j++) x2[j] = ratio * x[j]! - coefficient * denoised[j]! + noise[j]! * first.up;
    const denoised2 = await ctx.denoise(x2, sigmaS);

    // Substep 2: the whole step, with the two predictions blended.
    const second = ancestralStep(sigma, sigmaNext, eta);
    const tNextPrime = -Math.log(second.down);
    ratio = Math.exp(-tNextPrime) / sigma;
    coefficient = Math.expm1(t - tNextPrime);
    noise = ctx.noise();
    const out = new Float32Array(x.length);
    for (let j = 0; j < x.length; j++) {
      const blended = (1 - fac) * denoised[j]! + fac * denoised2[j]!;
      out[j] = ratio * x[j]! - coefficient * blended + noise[j]! * second.up;
    }
    return out;
  };
}

/** `sample_lcm`: the prediction, renoised to sigma_next with fresh noise unless it is the last step. */
function lcmStep(ctx: Checked): Step {
  return (_x, denoised, _sigma, sigmaNext) => {
    const out = Float32Array.from(denoised);
    if (sigmaNext > 0) {
      const noise = ctx.noise();
      for (let j = 0; j < out.length; j++) out[j] = out[j]! + sigmaNext * noise[j]!;
    }
    return out;
  };
}

/** Names besides the A1111 ones, by lookup key: k-diffusion's function names and A1111's old `k_` aliases. */
const ALIASES = new Map<string, SamplerName>([
  ...SAMPLERS.map((name): [string, SamplerName] => [aliasKey(name), name]),
  ['keuler', 'Euler'],
  ['sampleeuler', 'Euler'],
  ['eulerancestral', 'Euler a'],
  ['keulera', 'Euler a'],
  ['keulerancestral', 'Euler a'],
  ['sampleeulerancestral', 'Euler a'],
  ['kdpmpp2m', 'DPM++ 2M'],
  ['sampledpmpp2m', 'DPM++ 2M'],
  ['kdpmpp2mkarras', 'DPM++ 2M Karras'],
  ['kdpmpp2mka', 'DPM++ 2M Karras'],
  ['dpmppsde', 'DPM++ SDE Karras'],
  ['kdpmppsde', 'DPM++ SDE Karras'],
  ['kdpmppsdekarras', 'DPM++ SDE Karras'],
  ['kdpmppsdeka', 'DPM++ SDE Karras'],
  ['sampledpmppsde', 'DPM++ SDE Karras'],
  ['klcm', 'LCM'],
  ['samplelcm', 'LCM'],
]);

/** The key a name is looked up by: lower case, '+' as 'p', no spaces, underscores, dashes or dots. */
function aliasKey(text: string): string {
  return text
    .toLowerCase()
    .replace(/\+/g, 'p')
    .replace(/[\s_\-.]/g, '');
}

/**
 * A sampler from user or API text: case- and space-insensitive, A1111 names ('DPM++ 2M Karras') and
 * k-diffusion names ('dpmpp_2m', 'euler_ancestral', 'k_euler_a'). 'dpmpp_sde' means DPM++ SDE Karras,
 * the only SDE variant here. Unknown names throw, listing the valid ones.
 */
export function parseSamplerName(text: string): SamplerName {
  const found = ALIASES.get(aliasKey(text));
  if (found === undefined) throw new Error(`Unknown sampler ${JSON.stringify(text)}: use one of ${SAMPLERS.join(', ')}`);
  return found;
}

const SCHEDULE_ALIASES = new Map<string, ScheduleType>([
  ...SCHEDULE_TYPES.map((type): [string, ScheduleType] => [aliasKey(type), type]),
  ['auto', 'Automatic'],
]);

/**
 * A schedule type from user or API text: A1111's labels ('SGM Uniform') and ComfyUI's scheduler
 * names ('sgm_uniform', 'karras'), case- and space-insensitive. Unknown names throw, listing the valid ones.
 */
export function parseScheduleType(text: string): ScheduleType {
  const found = SCHEDULE_ALIASES.get(aliasKey(text));
  if (found === undefined) throw new Error(`Unknown schedule type ${JSON.stringify(text)}: use one of ${SCHEDULE_TYPES.join(', ')}`);
  return found;
}
