/**
 * A tiny Stable Diffusion as a diffusers folder (safetensors weights by diffusers / transformers
 * names, a `config.json` per part, tokenizer, scheduler), with the same seeded weights as
 * `writeTinySdArch` and `writeLdmCheckpoint` (`randomTensor(name, dims, seed)`), so the three
 * source forms of one model can be compared.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildPart } from '../graph/built-model.js';
import type { SdConfig } from '../graph/configs.js';
import { randomTensor } from '../graph/weights.js';
import { encodeSafetensors } from '../safetensors.js';

export interface TinyDiffusersOptions {
  seed: number;
  /** The VAE's mid-block attention under diffusers' old names (query, key, value, proj_attn), as 1×1 convolutions. */
  legacyVae?: boolean;
  /** Store every weight as float16 (the `.fp16.safetensors` variant). */
  fp16?: boolean;
  /** Copy tokenizer/ and scheduler/ from this folder (e.g. a tiny ONNX model's). */
  from: string;
}

const OPTIONS = { precision: 'float32', attention: 'fused', loraBranches: false } as const;

export function writeTinyDiffusers(dir: string, config: SdConfig, options: TinyDiffusersOptions): string {
  fs.mkdirSync(dir, { recursive: true });
  const variant = options.fp16 ? '.fp16' : '';
  const parts = [
    {
      folder: 'unet',
      file: `diffusion_pytorch_model${variant}.safetensors`,
      builders: ['unet'] as const,
      config: { _class_name: 'UNet2DConditionModel', ...config.unet },
    },
    {
      folder: 'vae',
      file: `diffusion_pytorch_model${variant}.safetensors`,
      builders: ['vae_decoder', 'vae_encoder'] as const,
      config: { _class_name: 'AutoencoderKL', ...config.vae },
    },
    {
      folder: 'text_encoder',
      file: `model${variant}.safetensors`,
      builders: ['text_encoder'] as const,
      config: { architectures: ['CLIPTextModel'], ...config.textEncoder },
    },
  ];
  for (const part of parts) {
    const tensors: Parameters<typeof encodeSafetensors>[0] = {};
    for (const builder of part.builders) {
      for (const spec of buildPart(builder, config, OPTIONS).params.values()) {
        let name = spec.name;
        let shape = spec.torchDims;
        if (options.legacyVae && /^(encoder|decoder)\.mid_block\.attentions\.0\./.test(name)) {
          if (/\.(to_q|to_k|to_v|to_out\.0)\.weight$/.test(name)) shape = [...shape, 1, 1];
          name = name
            .replace('.to_q.', '.query.')
            .replace('.to_k.', '.key.')
            .replace('.to_v.', '.value.')
            .replace('.to_out.0.', '.proj_attn.');
        }
        tensors[name] = { dtype: options.fp16 ? 'F16' : 'F32', shape, data: randomTensor(spec.name, spec.torchDims, options.seed) };
      }
    }
    fs.mkdirSync(path.join(dir, part.folder), { recursive: true });
    fs.writeFileSync(path.join(dir, part.folder, part.file), encodeSafetensors(tensors));
    fs.writeFileSync(path.join(dir, part.folder, 'config.json'), JSON.stringify(part.config, null, 1));
  }
  for (const sub of ['tokenizer', 'scheduler']) fs.cpSync(path.join(options.from, sub), path.join(dir, sub), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'model_index.json'),
    JSON.stringify({ _class_name: 'StableDiffusionPipeline', unet: ['diffusers', 'UNet2DConditionModel'] }),
  );
  return dir;
}
