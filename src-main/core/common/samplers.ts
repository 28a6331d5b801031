/** Sampler names as A1111 shows them: the engine's list, which the contract and the Generate form offer. */
export const SAMPLER_NAMES = ['Euler', 'Euler a', 'DPM++ 2M', 'DPM++ 2M Karras', 'DPM++ SDE Karras', 'DDIM', 'LCM'] as const;
export type SamplerLabel = (typeof SAMPLER_NAMES)[number];

/**
 * Schedule types as A1111 names them (its "Schedule type" menu): which sigmas a sampler walks.
 * `Automatic` is the sampler's own (Karras for the "Karras" samplers, the default discretisation
 * otherwise); `SGM Uniform` is ComfyUI's sgm_uniform (timesteps evenly spaced from the top, the
 * "trailing" spacing SDXL-Lightning and Hyper-SD were distilled with).
 */
export const SCHEDULE_TYPES = ['Automatic', 'Karras', 'SGM Uniform'] as const;
export type ScheduleType = (typeof SCHEDULE_TYPES)[number];
