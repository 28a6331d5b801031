"""Reference numbers for src-main/core/diffusion/samplers.ts.

Kept for the record; the TypeScript tests read the JSON this writes and never need Python.
Run with Debian's PyTorch (python3-torch): /usr/bin/python3 scripts/reference/samplers.py

The samplers are transcribed from k-diffusion's k_diffusion/sampling.py (crowsonkb/k-diffusion;
`sample_lcm` as A1111 and ComfyUI define it on top of k-diffusion), with no tqdm, extra_args or
torchsde. DPM++ SDE takes the default noise sampler (randn_like) instead of the Brownian tree, as
samplers.ts does. DDIM is written independently here, in alpha space as diffusers' DDIMScheduler
(eta 0) steps, so the TypeScript's "DDIM is an Euler step in sigma space" is checked, not assumed.

Schedule types: "SGM Uniform" is ComfyUI's sgm_uniform (comfy/samplers.py normal_scheduler with
sgm=True, over ModelSamplingDiscrete's timestep/sigma), checked equal here to A1111's sgm_uniform
(modules/sd_schedulers.py, over k-diffusion's fractional sigma_to_t); "Karras" is get_sigmas_karras
for any sampler. A few samplers run on them with the fast draft modes' step counts.

LCM here is k-diffusion's sample_lcm on whatever sigmas it is given (ComfyUI's "lcm" sampler). A1111's
own LCM sampler (modules/sd_samplers_lcm.py) also swaps in an LCMCompVisDenoiser (the 50 original LCM
timesteps, quantized, with LCM's boundary-condition scalings); that denoiser is not reproduced.
"""

import json
import math
import os
import sys

import torch

SEED = 1234
BATCH = 2
SHAPE = [1, 4, 4, 4]
STEPS = 10

# --- The SD 1.x schedule (k-diffusion DiscreteEpsDDPMDenoiser over the LDM betas) ---------------

betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
alphas_cumprod = torch.cumprod(1.0 - betas, dim=0).to(torch.float32)
schedule_sigmas = ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5
log_sigmas = schedule_sigmas.log()


def append_zero(x):
    return torch.cat([x, x.new_zeros([1])])


def t_to_sigma(t):
    t = t.float()
    low_idx, high_idx, w = t.floor().long(), t.ceil().long(), t.frac()
    log_sigma = (1 - w) * log_sigmas[low_idx] + w * log_sigmas[high_idx]
    return log_sigma.exp()


def get_sigmas(n):
    t = torch.linspace(len(schedule_sigmas) - 1, 0, n)
    return append_zero(t_to_sigma(t))


def get_sigmas_karras(n, sigma_min, sigma_max, rho=7.0):
    ramp = torch.linspace(0, 1, n)
    min_inv_rho = sigma_min ** (1 / rho)
    max_inv_rho = sigma_max ** (1 / rho)
    sigmas = (max_inv_rho + ramp * (min_inv_rho - max_inv_rho)) ** rho
    return append_zero(sigmas)


def sigma_to_t(sigma, quantize=False):
    # k-diffusion DiscreteSchedule.sigma_to_t (A1111's CompVisDenoiser, quantize off).
    log_sigma = sigma.log()
    dists = log_sigma - log_sigmas[:, None]
    if quantize:
        return dists.abs().argmin(dim=0).view(sigma.shape)
    low_idx = dists.ge(0).cumsum(dim=0).argmax(dim=0).clamp(max=log_sigmas.shape[0] - 2)
    high_idx = low_idx + 1
    low, high = log_sigmas[low_idx], log_sigmas[high_idx]
    w = (low - log_sigma) / (low - high)
    w = w.clamp(0, 1)
    t = (1 - w) * low_idx + w * high_idx
    return t.view(sigma.shape)


def sgm_uniform_a1111(n):
    # A1111 modules/sd_schedulers.py `sgm_uniform` (Schedule type "SGM Uniform") on the k-diffusion model wrapper.
    sigma_min, sigma_max = schedule_sigmas[0].item(), schedule_sigmas[-1].item()
    start = sigma_to_t(torch.tensor(sigma_max))
    end = sigma_to_t(torch.tensor(sigma_min))
    sigs = [t_to_sigma(ts) for ts in torch.linspace(start, end, n + 1)[:-1]]
    sigs += [0.0]
    return torch.FloatTensor(sigs)


def comfy_timestep(sigma):
    # ComfyUI comfy/model_sampling.py ModelSamplingDiscrete.timestep: the nearest training timestep.
    dists = sigma.log() - log_sigmas[:, None]
    return dists.abs().argmin(dim=0).view(sigma.shape)


def comfy_sigma(timestep):
    # ComfyUI ModelSamplingDiscrete.sigma: log-sigma interpolation, clamped to the schedule.
    t = torch.clamp(timestep.float(), min=0, max=(len(schedule_sigmas) - 1))
    low_idx, high_idx, w = t.floor().long(), t.ceil().long(), t.frac()
    log_sigma = (1 - w) * log_sigmas[low_idx] + w * log_sigmas[high_idx]
    return log_sigma.exp()


def get_sigmas_sgm_uniform(n):
    # ComfyUI comfy/samplers.py normal_scheduler(model_sampling, steps, sgm=True): scheduler "sgm_uniform".
    start = comfy_timestep(schedule_sigmas[-1])
    end = comfy_timestep(schedule_sigmas[0])
    timesteps = torch.linspace(start, end, n + 1)[:-1]
    sig = [float(comfy_sigma(ts)) for ts in timesteps]
    sig += [0.0]
    return torch.FloatTensor(sig)


def ddim_timesteps(n):
    # diffusers DDIMScheduler.set_timesteps, SD config: 'leading' spacing, steps_offset 1.
    step_ratio = 1000 // n
    return [t + 1 for t in range(0, 1000, step_ratio)][:n][::-1]


def get_sigmas_ddim(n):
    return append_zero(schedule_sigmas[torch.tensor(ddim_timesteps(n))])


# --- k-diffusion samplers -------------------------------------------------------------------------


def append_dims(x, target_dims):
    dims_to_append = target_dims - x.ndim
    return x[(...,) + (None,) * dims_to_append]


def to_d(x, sigma, denoised):
    return (x - denoised) / append_dims(sigma, x.ndim)


def get_ancestral_step(sigma_from, sigma_to, eta=1.0):
    if not eta:
        return sigma_to, 0.0
    sigma_up = min(sigma_to, eta * (sigma_to ** 2 * (sigma_from ** 2 - sigma_to ** 2) / sigma_from ** 2) ** 0.5)
    sigma_down = (sigma_to ** 2 - sigma_up ** 2) ** 0.5
    return sigma_down, sigma_up


def sample_euler(model, x, sigmas, callback=None, noise_sampler=None, s_churn=0.0, s_tmin=0.0, s_tmax=float('inf'), s_noise=1.0):
    s_in = x.new_ones([x.shape[0]])
    for i in range(len(sigmas) - 1):
        gamma = min(s_churn / (len(sigmas) - 1), 2 ** 0.5 - 1) if s_tmin <= sigmas[i] <= s_tmax else 0.0
        eps = torch.randn_like(x) * s_noise  # the global generator, unused with s_churn 0
        sigma_hat = sigmas[i] * (gamma + 1)
        if gamma > 0:
            x = x + eps * (sigma_hat ** 2 - sigmas[i] ** 2) ** 0.5
        denoised = model(x, sigma_hat * s_in)
        d = to_d(x, sigma_hat, denoised)
        if callback is not None:
            callback({'x': x, 'i': i, 'sigma': sigmas[i], 'sigma_hat': sigma_hat, 'denoised': denoised})
        dt = sigmas[i + 1] - sigma_hat
        x = x + d * dt
    return x


def sample_euler_ancestral(model, x, sigmas, callback=None, noise_sampler=None, eta=1.0, s_noise=1.0):
    s_in = x.new_ones([x.shape[0]])
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        sigma_down, sigma_up = get_ancestral_step(sigmas[i], sigmas[i + 1], eta=eta)
        if callback is not None:
            callback({'x': x, 'i': i, 'sigma': sigmas[i], 'sigma_hat': sigmas[i], 'denoised': denoised})
        d = to_d(x, sigmas[i], denoised)
        dt = sigma_down - sigmas[i]
        x = x + d * dt
        if sigmas[i + 1] > 0:
            x = x + noise_sampler(sigmas[i], sigmas[i + 1]) * s_noise * sigma_up
    return x


def sample_dpmpp_2m(model, x, sigmas, callback=None, noise_sampler=None):
    s_in = x.new_ones([x.shape[0]])
    sigma_fn = lambda t: t.neg().exp()
    t_fn = lambda sigma: sigma.log().neg()
    old_denoised = None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        if callback is not None:
            callback({'x': x, 'i': i, 'sigma': sigmas[i], 'sigma_hat': sigmas[i], 'denoised': denoised})
        t, t_next = t_fn(sigmas[i]), t_fn(sigmas[i + 1])
        h = t_next - t
        if old_denoised is None or sigmas[i + 1] == 0:
            x = (sigma_fn(t_next) / sigma_fn(t)) * x - (-h).expm1() * denoised
        else:
            h_last = t - t_fn(sigmas[i - 1])
            r = h_last / h
            denoised_d = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old_denoised
            x = (sigma_fn(t_next) / sigma_fn(t)) * x - (-h).expm1() * denoised_d
        old_denoised = denoised
    return x


def sample_dpmpp_sde(model, x, sigmas, callback=None, noise_sampler=None, eta=1.0, s_noise=1.0, r=1 / 2):
    # noise_sampler: the default one (randn_like), not k-diffusion's BrownianTreeNoiseSampler.
    s_in = x.new_ones([x.shape[0]])
    sigma_fn = lambda t: t.neg().exp()
    t_fn = lambda sigma: sigma.log().neg()
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        if callback is not None:
            callback({'x': x, 'i': i, 'sigma': sigmas[i], 'sigma_hat': sigmas[i], 'denoised': denoised})
        if sigmas[i + 1] == 0:
            d = to_d(x, sigmas[i], denoised)
            dt = sigmas[i + 1] - sigmas[i]
            x = x + d * dt
        else:
            t, t_next = t_fn(sigmas[i]), t_fn(sigmas[i + 1])
            h = t_next - t
            s = t + h * r
            fac = 1 / (2 * r)

            sd, su = get_ancestral_step(sigma_fn(t), sigma_fn(s), eta)
            s_ = t_fn(sd)
            x_2 = (sigma_fn(s_) / sigma_fn(t)) * x - (t - s_).expm1() * denoised
            x_2 = x_2 + noise_sampler(sigma_fn(t), sigma_fn(s)) * s_noise * su
            denoised_2 = model(x_2, sigma_fn(s) * s_in)

            sd, su = get_ancestral_step(sigma_fn(t), sigma_fn(t_next), eta)
            t_next_ = t_fn(sd)
            denoised_d = (1 - fac) * denoised + fac * denoised_2
            x = (sigma_fn(t_next_) / sigma_fn(t)) * x - (t - t_next_).expm1() * denoised_d
            x = x + noise_sampler(sigma_fn(t), sigma_fn(t_next)) * s_noise * su
    return x


def sample_lcm(model, x, sigmas, callback=None, noise_sampler=None):
    s_in = x.new_ones([x.shape[0]])
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        if callback is not None:
            callback({'x': x, 'i': i, 'sigma': sigmas[i], 'sigma_hat': sigmas[i], 'denoised': denoised})
        x = denoised
        if sigmas[i + 1] > 0:
            x += sigmas[i + 1] * noise_sampler(sigmas[i], sigmas[i + 1])
    return x


def sample_ddim(model, x, sigmas, callback=None, noise_sampler=None):
    """Deterministic DDIM (eta 0) as diffusers steps it, in alpha space; x and the result in sigma space.

    x_t = sqrt(a_t) * x_sigma with a = 1 / (1 + sigma^2); eps = (x_sigma - denoised) / sigma;
    x_prev = sqrt(a_prev) * x0 + sqrt(1 - a_prev) * eps with x0 = denoised; the last step goes to
    sigma 0 (a_prev = 1), so the result is the last x0.
    """
    s_in = x.new_ones([x.shape[0]])
    alpha = lambda sigma: 1 / (1 + sigma ** 2)
    x_t = x * alpha(sigmas[0]) ** 0.5
    for i in range(len(sigmas) - 1):
        a_t, a_prev = alpha(sigmas[i]), alpha(sigmas[i + 1])
        x_sigma = x_t / a_t ** 0.5
        denoised = model(x_sigma, sigmas[i] * s_in)
        if callback is not None:
            callback({'x': x_sigma, 'i': i, 'sigma': sigmas[i], 'sigma_hat': sigmas[i], 'denoised': denoised})
        eps = (x_t - a_t ** 0.5 * denoised) / (1 - a_t) ** 0.5
        pred_x0 = (x_t - (1 - a_t) ** 0.5 * eps) / a_t ** 0.5
        x_t = a_prev ** 0.5 * pred_x0 + (1 - a_prev) ** 0.5 * eps
    return x_t / alpha(sigmas[-1]) ** 0.5


# --- The run --------------------------------------------------------------------------------------


def toy_denoiser(x, sigma):
    """Smooth, non-linear, depends on sigma: stands in for the UNet with guidance applied."""
    c_in = append_dims(1 / (sigma ** 2 + 1) ** 0.5, x.ndim)
    return torch.tanh(x * c_in) * 0.8 + 0.1 * torch.sin(3 * x)


KARRAS = lambda n: get_sigmas_karras(n, schedule_sigmas[0].item(), schedule_sigmas[-1].item())

RUNS = {
    'Euler': (sample_euler, get_sigmas),
    'Euler a': (sample_euler_ancestral, get_sigmas),
    'DPM++ 2M': (sample_dpmpp_2m, get_sigmas),
    'DPM++ 2M Karras': (sample_dpmpp_2m, KARRAS),
    'DPM++ SDE Karras': (sample_dpmpp_sde, KARRAS),
    'DDIM': (sample_ddim, get_sigmas_ddim),
    'LCM': (sample_lcm, get_sigmas),
}


# Samplers on another schedule type (A1111's "Schedule type"; the fast draft modes' settings).
SCHEDULE_RUNS = {
    'Euler / SGM Uniform': ('Euler', 'SGM Uniform', sample_euler, get_sigmas_sgm_uniform, 4),
    'Euler a / SGM Uniform': ('Euler a', 'SGM Uniform', sample_euler_ancestral, get_sigmas_sgm_uniform, 4),
    'LCM / SGM Uniform': ('LCM', 'SGM Uniform', sample_lcm, get_sigmas_sgm_uniform, 6),
    'DPM++ 2M / SGM Uniform': ('DPM++ 2M', 'SGM Uniform', sample_dpmpp_2m, get_sigmas_sgm_uniform, 8),
    'Euler / Karras': ('Euler', 'Karras', sample_euler, KARRAS, 10),
    'Euler a / Karras': ('Euler a', 'Karras', sample_euler_ancestral, KARRAS, 10),
}
SGM_STEPS = [1, 2, 4, 6, 8, 10, 25]


def run(name):
    fn, make_sigmas = RUNS[name]
    return run_on(fn, make_sigmas(STEPS))


def run_on(fn, sigmas):
    # Each image has its own generator (seed + i): it draws the image's initial noise, then every
    # later noise slice for that image.
    gens = [torch.Generator('cpu').manual_seed(SEED + i) for i in range(BATCH)]
    noise = lambda: torch.cat([torch.randn(SHAPE, generator=g) for g in gens])
    x = noise() * sigmas[0]
    seen = {}

    def callback(info):
        # k-diffusion's callback sees x before step i, so step 1's view is x after the first step.
        if info['i'] == 1:
            seen['x_after_first_step'] = info['x'].clone()

    x = fn(toy_denoiser, x, sigmas, callback=callback, noise_sampler=lambda sigma, sigma_next: noise())
    return {
        'sigmas': sigmas.tolist(),
        'x_after_first_step': seen['x_after_first_step'].flatten().tolist(),
        'x_final': x.flatten().tolist(),
    }


def main():
    torch.set_num_threads(1)
    samplers = {name: run(name) for name in RUNS}
    sgm = {}
    for n in SGM_STEPS:
        comfy, a1111 = get_sigmas_sgm_uniform(n), sgm_uniform_a1111(n)
        # A1111's fractional sigma_to_t and ComfyUI's nearest timestep agree at the schedule's ends (999 and 0).
        assert torch.equal(comfy, a1111), (n, comfy, a1111)
        sgm[str(n)] = comfy.tolist()
    schedule_runs = {}
    for key, (sampler, schedule_type, fn, make_sigmas, steps) in SCHEDULE_RUNS.items():
        schedule_runs[key] = {'sampler': sampler, 'schedule_type': schedule_type, 'steps': steps, **run_on(fn, make_sigmas(steps))}
    out = {
        'note': (
            f'Made by scripts/reference/samplers.py with PyTorch {torch.__version__} (CPU, float32): '
            "k-diffusion's sample_euler, sample_euler_ancestral (eta 1), sample_dpmpp_2m, sample_dpmpp_sde "
            '(eta 1, r 1/2, default randn noise sampler instead of the Brownian tree) and sample_lcm '
            'transcribed from k_diffusion/sampling.py, and deterministic DDIM (eta 0) stepped in alpha space '
            "as diffusers does on the 'leading' timesteps with steps_offset 1, ending at sigma 0. "
            'SD 1.x schedule (scaled-linear betas 0.00085-0.012, float64 cumprod -> float32); sigmas from '
            'get_sigmas (default), get_sigmas_karras (rho 7, Karras variants) or the DDIM timesteps. '
            f'{STEPS} steps on x of shape [{BATCH},4,4,4]: image i starts from torch.randn([1,4,4,4], '
            f'generator=manual_seed({SEED}+i)) * sigmas[0], and each noise draw takes the next '
            'torch.randn([1,4,4,4]) from the same generator per image, concatenated. The model is the toy '
            'denoiser tanh(x * c_in) * 0.8 + 0.1 * sin(3x), c_in = 1/sqrt(sigma^2 + 1). '
            'x_after_first_step is x after step index 0; values are flattened in C order.'
        ),
        'torch_version': torch.__version__,
        'seed': SEED,
        'shape': [BATCH] + SHAPE[1:],
        'steps': STEPS,
        'samplers': samplers,
        'schedule_types_note': (
            "SGM Uniform: ComfyUI's sgm_uniform (comfy/samplers.py normal_scheduler(model_sampling, steps, sgm=True): "
            'timesteps torch.linspace(timestep(sigma_max), timestep(sigma_min), steps + 1)[:-1], ModelSamplingDiscrete.sigma '
            "of each, then 0), checked equal to A1111's sgm_uniform (modules/sd_schedulers.py, k-diffusion's fractional "
            'sigma_to_t) for every step count listed. runs: a sampler on another schedule type (the fast draft modes: '
            'Euler / SGM Uniform 4 steps as SDXL-Lightning, Euler a / SGM Uniform as Turbo, LCM / SGM Uniform 6 steps '
            'as LCM-LoRA), same seeds, noise and toy denoiser as the samplers above.'
        ),
        'sgm_uniform_sigmas': sgm,
        'schedule_runs': schedule_runs,
    }
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), '..', '..', 'src-main', 'core', 'diffusion', 'testdata', 'samplers-reference.json')
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f'wrote {os.path.normpath(path)}')


if __name__ == '__main__':
    main()
