/**
 * A tiny kohya-format LoRA for the tiny SD model (tiny-sd.ts): attention, the 1×1 proj_in, a
 * feed-forward and the text encoder, so applying it changes the image. Its values come from `seed`.
 */
import fs from 'node:fs';
import { encodeSafetensors } from '../safetensors.js';

const values = (n: number, seed: number, scale = 0.4): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.3 + seed) * scale);

export function writeTinyLora(file: string, seed: number): string {
  const t: Parameters<typeof encodeSafetensors>[0] = {};
  const add = (key: string, down: number[], up: number[]): void => {
    t[`${key}.lora_down.weight`] = {
      dtype: 'F32',
      shape: down,
      data: values(
        down.reduce((a, b) => a * b, 1),
        seed,
      ),
    };
    t[`${key}.lora_up.weight`] = {
      dtype: 'F32',
      shape: up,
      data: values(
        up.reduce((a, b) => a * b, 1),
        seed + 1,
      ),
    };
    t[`${key}.alpha`] = { dtype: 'F32', shape: [], data: Float32Array.of(1) };
  };
  add('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k', [2, 32], [32, 2]);
  add('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q', [2, 32], [32, 2]);
  add('lora_unet_down_blocks_0_attentions_0_proj_in', [2, 32, 1, 1], [32, 2, 1, 1]);
  add('lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_ff_net_2', [2, 128], [32, 2]);
  add('lora_te_text_model_encoder_layers_0_self_attn_q_proj', [2, 32], [32, 2]);
  fs.writeFileSync(file, encodeSafetensors(t, {}));
  return file;
}
