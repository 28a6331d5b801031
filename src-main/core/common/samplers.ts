/** Sampler names as A1111 shows them: the engine's list, which the contract and the Generate form offer. */
export const SAMPLER_NAMES = ['Euler', 'Euler a', 'DPM++ 2M', 'DPM++ 2M Karras', 'DPM++ SDE Karras', 'DDIM', 'LCM'] as const;
export type SamplerLabel = (typeof SAMPLER_NAMES)[number];
