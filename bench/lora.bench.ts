/**
 * LoRA: time to the first image with no LoRA, after changing a LoRA's weight, and after changing
 * the LoRA set, on the tiny model and on a UNet/text encoder with SD 1.5's LoRA layer count
 * (192 + 72 projections) built here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'vitest';
import { DiffusionEngine, encodeSafetensors, type GenerateSettings } from '../src-main/core/diffusion/index.js';
import { sd15TextModules, sd15UnetModules, writeTinySd } from '../src-main/core/diffusion/testing/tiny-sd.js';
import { measure, median, report } from './support.js';

const settings: GenerateSettings = {
  prompt: 'portrait, magenta and teal light',
  negativePrompt: 'text, watermark',
  seed: 1,
  steps: 25,
  cfg: 7,
  sampler: 'DPM++ 2M Karras',
  width: 64,
  height: 64,
  batchSize: 1,
};

function lora(file: string, modules: string[], dim: number, rank: number, seed: number): void {
  const tensors: Parameters<typeof encodeSafetensors>[0] = {};
  for (const m of modules) {
    const key = m.startsWith('text_model') ? `lora_te_${m.replace(/[./]/g, '_')}` : `lora_unet_${m.replace(/[./]/g, '_')}`;
    tensors[`${key}.lora_down.weight`] = {
      dtype: 'F16',
      shape: [rank, dim],
      data: Float32Array.from({ length: rank * dim }, (_, i) => Math.sin(i + seed) * 0.05),
    };
    tensors[`${key}.lora_up.weight`] = {
      dtype: 'F16',
      shape: [dim, rank],
      data: Float32Array.from({ length: rank * dim }, (_, i) => Math.cos(i + seed) * 0.05),
    };
    tensors[`${key}.alpha`] = { dtype: 'F32', shape: [], data: Float32Array.of(rank / 2) };
  }
  fs.writeFileSync(file, encodeSafetensors(tensors));
}

async function timeFirstImage(engine: DiffusionEngine, prompt: string): Promise<number> {
  const started = performance.now();
  await engine.generate({ ...settings, prompt });
  return performance.now() - started;
}

for (const variant of [
  { name: 'tiny model', sd15: false, dim: 16 },
  { name: "SD 1.5's LoRA layer count (264 projections, width 320)", sd15: true, dim: 320 },
]) {
  it(`LoRA switching: ${variant.name}`, async () => {
    await measure('lora', async () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-bench-lora-'));
      const model = writeTinySd(path.join(root, 'model'), { dim: variant.dim, sd15LayerCount: variant.sd15 });
      const loras = path.join(root, 'loras');
      fs.mkdirSync(loras);
      const modules = variant.sd15
        ? [...sd15UnetModules(), ...sd15TextModules()]
        : ['down_blocks.0/attentions.0/transformer_blocks.0/attn2/to_k', 'text_model/encoder/layers.0/self_attn/q_proj'];
      if (!variant.sd15) {
        // The tiny model's to_k projects [16] → [4].
        const t: Parameters<typeof encodeSafetensors>[0] = {
          'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight': {
            dtype: 'F32',
            shape: [4, 16],
            data: new Float32Array(64).fill(0.01),
          },
          'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight': {
            dtype: 'F32',
            shape: [4, 4],
            data: new Float32Array(16).fill(0.02),
          },
        };
        fs.writeFileSync(path.join(loras, 'portrait.safetensors'), encodeSafetensors(t));
        fs.writeFileSync(path.join(loras, 'texture.safetensors'), encodeSafetensors(t));
      } else {
        lora(path.join(loras, 'portrait.safetensors'), modules, variant.dim, 16, 1);
        lora(path.join(loras, 'texture.safetensors'), modules, variant.dim, 8, 2);
      }
      const engine = new DiffusionEngine({ loraDir: loras });
      try {
        const loadStarted = performance.now();
        await engine.load(model, 'cpu');
        const loadMs = performance.now() - loadStarted;
        await engine.generate(settings);
        const none: number[] = [];
        const firstLoad: number[] = [];
        const weight: number[] = [];
        const set: number[] = [];
        const same: number[] = [];
        for (let r = 0; r < 3; r++) {
          none.push(await timeFirstImage(engine, settings.prompt));
          firstLoad.push(await timeFirstImage(engine, `${settings.prompt} <lora:portrait:0.8>`));
          same.push(await timeFirstImage(engine, `${settings.prompt} <lora:portrait:0.8>`));
          weight.push(await timeFirstImage(engine, `${settings.prompt} <lora:portrait:${0.6 + r * 0.01}>`));
          set.push(await timeFirstImage(engine, `${settings.prompt} <lora:portrait:0.8> <lora:texture:0.5>`));
        }
        report(
          `lora: ${variant.name}, 64×64, 25 steps, CPU (${os.cpus().length} cores): model load ${loadMs.toFixed(0)} ms; ${modules.length} LoRA modules`,
        );
        report(
          `lora: first image — no LoRA ${median(none).toFixed(0)} ms; LoRA added ${median(firstLoad).toFixed(0)} ms; same LoRA again ${median(same).toFixed(0)} ms; ` +
            `weight changed ${median(weight).toFixed(0)} ms; set changed (2 LoRAs) ${median(set).toFixed(0)} ms`,
        );
      } finally {
        await engine.dispose();
      }
    });
  });
}
