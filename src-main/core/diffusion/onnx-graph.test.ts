import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxSession } from './backend.js';
import { OnnxGraph } from './onnx-graph.js';
import { writeTinySd } from './testing/tiny-sd.js';

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-graph-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const feeds = {
  sample: { data: Float32Array.from({ length: 2 * 4 * 8 * 8 }, (_, i) => Math.sin(i)), dims: [2, 4, 8, 8] },
  timestep: { data: [400, 400], dims: [2] },
  encoder_hidden_states: { data: Float32Array.from({ length: 2 * 77 * 16 }, (_, i) => Math.cos(i) * 0.3), dims: [2, 77, 16] },
};

describe('OnnxGraph', () => {
  for (const variant of [
    { name: 'inline float32', options: {} },
    { name: 'external data, float16', options: { externalData: true, dtype: 'float16' as const, timestep: 'int64' as const } },
  ]) {
    it(`a session built from memory equals the file's session (${variant.name})`, async () => {
      const dir = writeTinySd(path.join(root, variant.name.replace(/\W+/g, '-')), variant.options);
      const file = path.join(dir, 'unet', 'model.onnx');
      const fromFile = (await OnnxSession.load(file, ['cpu'])).session;
      const graph = await OnnxGraph.load(file);
      const fromMemory = (await OnnxSession.fromMemory(graph.build(), file, ['cpu'])).session;
      const a = (await fromFile.run(feeds)).out_sample!.data;
      const b = (await fromMemory.run(feeds)).out_sample!.data;
      expect(Array.from(b)).toEqual(Array.from(a));
      await fromFile.dispose();
      await fromMemory.dispose();
    });
  }

  it('maps node paths to weights with orientation, and replaces a weight', async () => {
    const dir = writeTinySd(path.join(root, 'targets'));
    const graph = await OnnxGraph.load(path.join(dir, 'unet', 'model.onnx'));
    const targets = graph.targets('lora_unet_');
    const toK = targets.get('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k')!;
    expect(toK).toMatchObject({ op: 'MatMul', transposed: true, dims: [16, 4] });
    expect(toK.initializer).toMatch(/^onnx::MatMul_/);
    expect(targets.get('lora_unet_conv_in')).toMatchObject({ op: 'Conv', transposed: false, dims: [4, 4, 3, 3] });
    expect(targets.get('lora_unet_time_embedding_linear_1')).toMatchObject({ op: 'Gemm', transposed: false, dims: [4, 1] });

    const zeroed = new Float32Array(16 * 4);
    const session = (await OnnxSession.fromMemory(graph.build(new Map([[toK.initializer, zeroed]])), 'unet', ['cpu'])).session;
    const base = (await OnnxSession.fromMemory(graph.build(), 'unet', ['cpu'])).session;
    const changed = (await session.run(feeds)).out_sample!.data;
    const original = (await base.run(feeds)).out_sample!.data;
    expect(Array.from(changed)).not.toEqual(Array.from(original));
    // The graph's own weights are untouched by a build with overrides.
    expect(Array.from(graph.readFloat32(toK.initializer)).some((v) => v !== 0)).toBe(true);
  });

  it('names a file that is not ONNX', async () => {
    const file = path.join(root, 'bad.onnx');
    fs.writeFileSync(file, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    await expect(OnnxGraph.load(file)).rejects.toThrow(/bad\.onnx is not a valid ONNX model/);
  });
});
