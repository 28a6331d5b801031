/**
 * An original LDM/CompVis inference YAML (`v1-inference.yaml`, `v2-inference-v.yaml`, …), the file
 * A1111 and ComfyUI read beside a checkpoint of the same name, turned into diffusers' config
 * fields as diffusers' `create_unet_diffusers_config_from_ldm`, `create_vae_diffusers_config_from_ldm`
 * and `create_scheduler_from_ldm` do (single_file_utils.py at commit 58eb52c).
 */
import fs from 'node:fs';
import { parse } from 'yaml';
import { OnbrandError } from '../api/index.js';
import type { PredictionType, UnetConfig, VaeConfig } from '../diffusion/index.js';

export interface SchedulerFields {
  beta_start: number;
  beta_end: number;
  beta_schedule: 'scaled_linear' | 'linear';
  num_train_timesteps: number;
  prediction_type: PredictionType;
}

export interface LdmConfig {
  file: string;
  unet: Partial<UnetConfig>;
  vae: Partial<VaeConfig>;
  scheduler: Partial<SchedulerFields>;
  /** `FrozenCLIPEmbedder` (SD 1.x) or `FrozenOpenCLIPEmbedder` (SD 2.x), when named. */
  textEncoder: 'clip' | 'open_clip' | null;
}

/** An LDM YAML that cannot be read; the message names the file and the field. */
export class LdmConfigError extends OnbrandError {
  constructor(message: string) {
    super('internal', message);
    this.name = 'LdmConfigError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readLdmConfig(file: string): LdmConfig {
  let doc: unknown;
  try {
    doc = parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new LdmConfigError(`${file} is not readable YAML: ${(error as Error).message}`);
  }
  return ldmConfigFrom(doc, file);
}

export function ldmConfigFrom(doc: unknown, file: string): LdmConfig {
  const model = isObj(doc) && isObj(doc.model) ? doc.model : null;
  const params = model && isObj(model.params) ? model.params : null;
  if (!params) throw new LdmConfigError(`${file} has no model.params: not an LDM inference config`);
  const num = (obj: Obj, key: string, where: string): number | undefined => {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number') throw new LdmConfigError(`${file}: ${where}.${key} should be a number, not ${JSON.stringify(v)}`);
    return v;
  };
  const list = (obj: Obj, key: string, where: string): number[] | undefined => {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number'))
      throw new LdmConfigError(`${file}: ${where}.${key} should be a list of numbers, not ${JSON.stringify(v)}`);
    return v as number[];
  };

  const unet: Partial<UnetConfig> = {};
  // SGM-style configs (SD 2.1 Turbo, …) call it network_config, as diffusers also reads it.
  const network = isObj(params.unet_config) ? params.unet_config : isObj(params.network_config) ? params.network_config : null;
  const unetConfig = network && isObj(network.params) ? network.params : null;
  if (unetConfig) {
    const where = 'model.params.unet_config.params';
    const channels = num(unetConfig, 'model_channels', where);
    const mult = list(unetConfig, 'channel_mult', where);
    const attnRes = list(unetConfig, 'attention_resolutions', where) ?? [];
    if (channels !== undefined && mult) {
      unet.block_out_channels = mult.map((m) => channels * m);
      const down: string[] = [];
      let resolution = 1;
      for (let i = 0; i < mult.length; i++) {
        down.push(attnRes.includes(resolution) ? 'CrossAttnDownBlock2D' : 'DownBlock2D');
        if (i !== mult.length - 1) resolution *= 2;
      }
      const up: string[] = [];
      for (let i = 0; i < mult.length; i++) {
        up.push(attnRes.includes(resolution) ? 'CrossAttnUpBlock2D' : 'UpBlock2D');
        resolution = Math.floor(resolution / 2);
      }
      unet.down_block_types = down;
      unet.up_block_types = up;
    }
    const resBlocks = num(unetConfig, 'num_res_blocks', where);
    if (resBlocks !== undefined) unet.layers_per_block = resBlocks;
    const inChannels = num(unetConfig, 'in_channels', where);
    if (inChannels !== undefined) unet.in_channels = inChannels;
    const outChannels = num(unetConfig, 'out_channels', where);
    if (outChannels !== undefined) unet.out_channels = outChannels;
    const context = num(unetConfig, 'context_dim', where);
    if (context !== undefined) unet.cross_attention_dim = context;
    const depth = unetConfig.transformer_depth;
    if (typeof depth === 'number') unet.transformer_layers_per_block = depth;
    const linear = unetConfig.use_linear_in_transformer === true;
    unet.use_linear_projection = linear;
    let heads: number | number[] | undefined = num(unetConfig, 'num_heads', where);
    if (heads === -1) heads = undefined;
    const headChannels = num(unetConfig, 'num_head_channels', where);
    // diffusers: without num_heads, heads per block = model_channels / num_head_channels × channel_mult.
    if (heads === undefined && headChannels !== undefined && headChannels > 0 && channels !== undefined && mult)
      heads = mult.map((m) => (channels / headChannels) * m);
    if (heads !== undefined) unet.attention_head_dim = heads;
  }

  const vae: Partial<VaeConfig> = {};
  const first = isObj(params.first_stage_config) && isObj(params.first_stage_config.params) ? params.first_stage_config.params : null;
  const dd = first && isObj(first.ddconfig) ? first.ddconfig : null;
  if (dd) {
    const where = 'model.params.first_stage_config.params.ddconfig';
    const ch = num(dd, 'ch', where);
    const mult = list(dd, 'ch_mult', where);
    if (ch !== undefined && mult) vae.block_out_channels = mult.map((m) => ch * m);
    const layers = num(dd, 'num_res_blocks', where);
    if (layers !== undefined) vae.layers_per_block = layers;
    const z = num(dd, 'z_channels', where);
    if (z !== undefined) vae.latent_channels = z;
    const inCh = num(dd, 'in_channels', where);
    if (inCh !== undefined) vae.in_channels = inCh;
    const outCh = num(dd, 'out_ch', where);
    if (outCh !== undefined) vae.out_channels = outCh;
  }
  const scale = num(params, 'scale_factor', 'model.params');
  if (scale !== undefined) vae.scaling_factor = scale;

  const scheduler: Partial<SchedulerFields> = {};
  const start = num(params, 'linear_start', 'model.params');
  if (start !== undefined) scheduler.beta_start = start;
  const end = num(params, 'linear_end', 'model.params');
  if (end !== undefined) scheduler.beta_end = end;
  const steps = num(params, 'timesteps', 'model.params');
  if (steps !== undefined) scheduler.num_train_timesteps = steps;
  // SGM configs say it through the denoiser's scaling (VScaling / EpsScaling).
  const denoiser = isObj(params.denoiser_config) && isObj(params.denoiser_config.params) ? params.denoiser_config.params : null;
  const scaling = denoiser && isObj(denoiser.scaling_config) ? String(denoiser.scaling_config.target ?? '') : '';
  if (/VScaling/.test(scaling)) scheduler.prediction_type = 'v_prediction';
  else if (/EpsScaling/.test(scaling)) scheduler.prediction_type = 'epsilon';
  const parameterization = params.parameterization;
  if (parameterization !== undefined) {
    if (parameterization === 'v') scheduler.prediction_type = 'v_prediction';
    else if (parameterization === 'eps') scheduler.prediction_type = 'epsilon';
    else throw new LdmConfigError(`${file}: model.params.parameterization "${String(parameterization)}" is not supported (eps or v)`);
  }
  scheduler.beta_schedule = 'scaled_linear';

  const cond = isObj(params.cond_stage_config) ? String(params.cond_stage_config.target ?? '') : '';
  const textEncoder = /OpenCLIP/i.test(cond) ? 'open_clip' : /CLIP/i.test(cond) ? 'clip' : null;
  return { file, unet, vae, scheduler, textEncoder };
}
