/**
 * Noise schedules with k-diffusion's semantics for a discrete epsilon-prediction model
 * (`DiscreteEpsDDPMDenoiser`): sigmas from the scheduler's betas, timestep ↔ sigma by log-sigma
 * interpolation, the default discretisation and Karras's. Float32 where PyTorch computes in float32,
 * so the numbers match k-diffusion's. Pure TypeScript.
 */

const f32 = Math.fround;

export interface BetaSchedule {
  betaStart: number;
  betaEnd: number;
  /** `scaled_linear` (Stable Diffusion) or `linear`. */
  betaSchedule: 'scaled_linear' | 'linear';
  trainTimesteps: number;
}

/** Stable Diffusion 1.x and 2.x: scaled-linear betas 0.00085–0.012 over 1000 steps. */
export const SD_SCHEDULE: BetaSchedule = { betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear', trainTimesteps: 1000 };

/** `torch.linspace(start, end, steps)` in float32, computed from both ends as PyTorch does. */
export function linspace32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const step = f32(f32(end - start) / (steps - 1));
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < half ? f32(start + f32(step * i)) : f32(end - f32(step * (steps - i - 1)));
  return out;
}

/** The model's discrete schedule: alphas_cumprod (float64 → float32), sigmas and their logs (float32). */
export class DiscreteSchedule {
  readonly alphasCumprod: Float32Array;
  readonly sigmas: Float32Array;
  readonly logSigmas: Float32Array;

  constructor(schedule: BetaSchedule = SD_SCHEDULE) {
    const n = schedule.trainTimesteps;
    const betas = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const frac = n === 1 ? 0 : i / (n - 1);
      betas[i] =
        schedule.betaSchedule === 'scaled_linear'
          ? (Math.sqrt(schedule.betaStart) + frac * (Math.sqrt(schedule.betaEnd) - Math.sqrt(schedule.betaStart))) ** 2
          : schedule.betaStart + frac * (schedule.betaEnd - schedule.betaStart);
    }
    this.alphasCumprod = new Float32Array(n);
    this.sigmas = new Float32Array(n);
    this.logSigmas = new Float32Array(n);
    let product = 1;
    for (let i = 0; i < n; i++) {
      product *= 1 - betas[i]!;
      const ac = f32(product);
      this.alphasCumprod[i] = ac;
      this.sigmas[i] = f32(Math.sqrt(f32(f32(1 - ac) / ac)));
      this.logSigmas[i] = f32(Math.log(this.sigmas[i]!));
    }
  }

  get sigmaMin(): number {
    return this.sigmas[0]!;
  }

  get sigmaMax(): number {
    return this.sigmas[this.sigmas.length - 1]!;
  }

  /** Sigma at a (fractional) timestep, interpolating log-sigma. */
  tToSigma(t: number): number {
    const low = Math.floor(t);
    const high = Math.ceil(t);
    const w = f32(t - low);
    const logSigma = f32(f32(f32(1 - w) * this.logSigmas[low]!) + f32(w * this.logSigmas[high]!));
    return f32(Math.exp(logSigma));
  }

  /** Timestep of a sigma: fractional (log-sigma interpolation), or the nearest integer when `quantize`. */
  sigmaToT(sigma: number, quantize = false): number {
    const logSigma = f32(Math.log(sigma));
    const logs = this.logSigmas;
    if (quantize) {
      let best = 0;
      for (let i = 1; i < logs.length; i++) if (Math.abs(logSigma - logs[i]!) < Math.abs(logSigma - logs[best]!)) best = i;
      return best;
    }
    // The last index whose log-sigma is <= log_sigma, clamped so that low + 1 exists.
    let low = 0;
    for (let i = 0; i < logs.length; i++) if (logSigma - logs[i]! >= 0) low = i;
    low = Math.min(low, logs.length - 2);
    const high = low + 1;
    let w = f32(f32(logs[low]! - logSigma) / f32(logs[low]! - logs[high]!));
    w = Math.min(1, Math.max(0, w));
    return f32(f32(f32(1 - w) * low) + f32(w * high));
  }

  /** k-diffusion's default discretisation: t = linspace(T-1, 0, n), sigma(t), then a final 0. */
  defaultSigmas(steps: number): Float32Array {
    const ts = linspace32(this.sigmas.length - 1, 0, steps);
    const out = new Float32Array(steps + 1);
    ts.forEach((t, i) => (out[i] = this.tToSigma(t)));
    return out;
  }

  /**
   * ComfyUI's `sgm_uniform` (`normal_scheduler(model_sampling, steps, sgm=True)`; A1111's "SGM
   * Uniform"): timesteps linspace(t(sigma_max), t(sigma_min), steps + 1) without the last, sigma of
   * each, then 0. For 4 steps that is t = 999, 749.25, 499.5, 249.75: the "trailing" spacing
   * SDXL-Lightning, Hyper-SD and the other distilled models were trained on.
   */
  sgmUniformSigmas(steps: number): Float32Array {
    const ts = linspace32(this.sigmaToT(this.sigmaMax), this.sigmaToT(this.sigmaMin), steps + 1);
    const out = new Float32Array(steps + 1);
    for (let i = 0; i < steps; i++) out[i] = this.tToSigma(ts[i]!);
    return out;
  }

  /** Karras et al. (2022) sigmas with rho 7 between the model's sigma_min and sigma_max, then a final 0. */
  karrasSigmas(steps: number, rho = 7): Float32Array {
    return karrasSigmas(steps, this.sigmaMin, this.sigmaMax, rho);
  }
}

/** k-diffusion `get_sigmas_karras`: float32 ramp, sigma bounds as doubles. */
export function karrasSigmas(steps: number, sigmaMin: number, sigmaMax: number, rho = 7): Float32Array {
  const ramp = linspace32(0, 1, steps);
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  const out = new Float32Array(steps + 1);
  for (let i = 0; i < steps; i++) {
    const base = f32(f32(maxInvRho) + f32(ramp[i]! * f32(minInvRho - maxInvRho)));
    out[i] = f32(base ** rho);
  }
  return out;
}
