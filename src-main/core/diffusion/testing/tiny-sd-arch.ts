/**
 * A tiny Stable Diffusion with the real architecture (CLIP text encoder, UNet with cross-attention
 * transformers, AutoencoderKL), written as a diffusers ONNX export would be: plain attention,
 * linear weights as anonymous `onnx::MatMul_N` initializers found through node names, a
 * `config.json` per part as optimum writes them. Weights are seeded random values
 * (`RandomWeights`), so the same parameters can be rebuilt anywhere from the seed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SD15, type SdConfig } from '../graph/configs.js';
import { buildPart, partsOf } from '../graph/built-model.js';
import { RandomWeights, writeGraph } from '../graph/weights.js';
import { writeTinySd, type TinySdOptions } from './tiny-sd.js';

/** hf-internal-testing's tiny pipelines' shape: two levels, 32/64 channels, 32-wide text. */
export function tinyArchConfig(vocabSize = 200): SdConfig {
  return {
    unet: {
      ...SD15.unet,
      block_out_channels: [32, 64],
      down_block_types: ['CrossAttnDownBlock2D', 'DownBlock2D'],
      up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D'],
      layers_per_block: 1,
      attention_head_dim: 2,
      cross_attention_dim: 32,
    },
    vae: { ...SD15.vae, block_out_channels: [32, 64], layers_per_block: 1 },
    textEncoder: {
      ...SD15.textEncoder,
      vocab_size: vocabSize,
      hidden_size: 32,
      intermediate_size: 64,
      num_hidden_layers: 2,
      num_attention_heads: 4,
    },
  };
}

export interface TinyArchOptions extends Pick<TinySdOptions, 'tokenizerFrom' | 'predictionType'> {
  seed?: number;
  config?: SdConfig;
  /** Leave out each part's config.json (the architecture is then inferred from the weights). */
  noConfigFiles?: boolean;
}

/** Writes the export-shaped model folder; returns its path. */
export function writeTinySdArch(dir: string, options: TinyArchOptions = {}): string {
  writeTinySd(dir, {
    ...(options.tokenizerFrom ? { tokenizerFrom: options.tokenizerFrom } : {}),
    ...(options.predictionType ? { predictionType: options.predictionType } : {}),
  });
  const vocab = Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer', 'vocab.json'), 'utf8')) as object).length;
  const config = options.config ?? tinyArchConfig(vocab);
  const exportOptions = { precision: 'float32', attention: 'plain', loraBranches: false, style: 'export' } as const;
  const seed = options.seed ?? 7;
  for (const part of partsOf(config)) {
    const builder = buildPart(part, config, exportOptions);
    const file = path.join(dir, part, 'model.onnx');
    fs.rmSync(path.join(dir, part), { recursive: true, force: true });
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeGraph(file, part, builder, new RandomWeights(builder.params.values(), seed));
    if (options.noConfigFiles) continue;
    const partConfig =
      part === 'unet'
        ? { _class_name: 'UNet2DConditionModel', ...config.unet }
        : part === 'text_encoder'
          ? { architectures: ['CLIPTextModel'], ...config.textEncoder }
          : { _class_name: 'AutoencoderKL', ...config.vae };
    fs.writeFileSync(path.join(dir, part, 'config.json'), JSON.stringify(partConfig, null, 1));
  }
  return dir;
}
