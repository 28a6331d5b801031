/** LoRA: streaming safetensors, kohya keys, the merge formula, and the engine with tiny LoRAs written by the test. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OnnxSession } from './backend.js';
import { DiffusionEngine, type GenerateSettings } from './engine.js';
import { closeMatches, LoraLibrary, loraHints, mergeLoras, readLora, type ModelPart } from './lora.js';
import { OnnxGraph } from './onnx-graph.js';
import { parseParameters } from './parameters.js';
import { encodeSafetensors, SafetensorsFile } from './safetensors.js';
import { writeTinySd } from './testing/tiny-sd.js';

let root: string;
let model: string;
let loraDir: string;

/** Deterministic small values. */
const values = (n: number, seed: number, scale = 0.3): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * scale);

type Tensors = Parameters<typeof encodeSafetensors>[0];

/** A LoRA for the tiny model: attention MatMul (to_k), the 3×3 conv_in (LoCon), the time Gemm and the text encoder's q_proj. */
function tinyLora(seed: number, rank = 2, alpha?: number, dtype: 'F32' | 'F16' | 'BF16' = 'F32'): Tensors {
  const t: Tensors = {};
  const add = (key: string, down: number[], up: number[]): void => {
    t[`${key}.lora_down.weight`] = {
      dtype,
      shape: down,
      data: values(
        down.reduce((a, b) => a * b, 1),
        seed,
      ),
    };
    t[`${key}.lora_up.weight`] = {
      dtype,
      shape: up,
      data: values(
        up.reduce((a, b) => a * b, 1),
        seed + 1,
      ),
    };
    if (alpha !== undefined) t[`${key}.alpha`] = { dtype: 'F32', shape: [], data: Float32Array.of(alpha) };
  };
  add('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k', [rank, 16], [4, rank]);
  add('lora_unet_conv_in', [rank, 4, 3, 3], [4, rank, 1, 1]);
  add('lora_unet_time_embedding_linear_1', [rank, 1], [4, rank]);
  add('lora_te_text_model_encoder_layers_0_self_attn_q_proj', [rank, 16], [16, rank]);
  return t;
}

function writeLora(name: string, tensors: Tensors): string {
  const file = path.join(loraDir, `${name}.safetensors`);
  fs.writeFileSync(file, encodeSafetensors(tensors, { ss_network_module: 'networks.lora' }));
  return file;
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-lora-'));
  model = writeTinySd(path.join(root, 'tiny'));
  loraDir = path.join(root, 'loras');
  fs.mkdirSync(loraDir);
  writeLora('portrait', tinyLora(1, 2, 1));
  writeLora('texture', tinyLora(7, 3));
  writeLora('portrait_half', tinyLora(1, 2, 1, 'F16'));
  // The sum of portrait (weight 1) and texture (weight 1) as one LoRA of rank 5: up = [upA·scaleA | upB·scaleB], down = [downA; downB].
  const a = tinyLora(1, 2, 1);
  const b = tinyLora(7, 3);
  const both: Tensors = {};
  for (const key of new Set(Object.keys(a).map((k) => k.split('.')[0]!))) {
    const upA = a[`${key}.lora_up.weight`]!;
    const upB = b[`${key}.lora_up.weight`]!;
    const out = upA.shape[0]!;
    const up = new Float32Array(out * 5);
    for (let o = 0; o < out; o++) {
      for (let r = 0; r < 2; r++) up[o * 5 + r] = upA.data[o * 2 + r]! * 0.5; // alpha 1 / rank 2
      for (let r = 0; r < 3; r++) up[o * 5 + 2 + r] = upB.data[o * 3 + r]!; // no alpha: scale 1
    }
    const downA = a[`${key}.lora_down.weight`]!;
    const downB = b[`${key}.lora_down.weight`]!;
    both[`${key}.lora_up.weight`] = { dtype: 'F32', shape: [out, 5, ...upA.shape.slice(2)], data: up };
    both[`${key}.lora_down.weight`] = {
      dtype: 'F32',
      shape: [5, ...downA.shape.slice(1)],
      data: Float32Array.from([...downA.data, ...downB.data]),
    };
    both[`${key}.alpha`] = { dtype: 'F32', shape: [], data: Float32Array.of(5) };
  }
  writeLora('both', both);
  writeLora('odd', {
    ...tinyLora(3),
    'lora_unet_mid_block_resnets_0_conv1.hada_w1_a': { dtype: 'F32', shape: [2, 2], data: values(4, 1) },
    'lora_unet_mid_block_resnets_1_conv1.hada_w1_a': { dtype: 'F32', shape: [2, 2], data: values(4, 2) },
    'lora_unet_input_blocks_1_1_proj_in.lora_down.weight': { dtype: 'F32', shape: [2, 8], data: values(16, 3) },
    'lora_unet_input_blocks_1_1_proj_in.lora_up.weight': { dtype: 'F32', shape: [8, 2], data: values(16, 4) },
  });
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('safetensors', () => {
  it('reads F32, F16 and BF16 tensors one at a time', async () => {
    const data = Float32Array.of(1, -2.5, 0.1, 3.14159);
    const file = path.join(root, 'types.safetensors');
    fs.writeFileSync(
      file,
      encodeSafetensors(
        { a: { dtype: 'F32', shape: [2, 2], data }, b: { dtype: 'F16', shape: [4], data }, c: { dtype: 'BF16', shape: [4], data } },
        { note: 'x' },
      ),
    );
    const st = await SafetensorsFile.open(file);
    expect(st.metadata).toEqual({ note: 'x' });
    expect(st.tensors.get('a')).toMatchObject({ dtype: 'F32', shape: [2, 2] });
    expect(Array.from(await st.readFloat32('a'))).toEqual(Array.from(data));
    const half = await st.readFloat32('b');
    const bf = await st.readFloat32('c');
    data.forEach((v, i) => {
      expect(half[i]).toBeCloseTo(v, 2);
      expect(bf[i]).toBeCloseTo(v, 1);
    });
  });

  it('names a truncated file and a file that is not safetensors', async () => {
    const whole = encodeSafetensors(tinyLora(1));
    const truncated = path.join(root, 'truncated.safetensors');
    fs.writeFileSync(truncated, whole.subarray(0, whole.length - 100));
    await expect(SafetensorsFile.open(truncated)).rejects.toThrow(/truncated\.safetensors: is truncated: tensor ".*" ends at byte/);
    const text = path.join(root, 'text.safetensors');
    fs.writeFileSync(text, 'hello, this is not a tensor file at all');
    await expect(SafetensorsFile.open(text)).rejects.toThrow(/text\.safetensors: has an impossible header length/);
    await expect(SafetensorsFile.open(path.join(root, 'missing.safetensors'))).rejects.toThrow(
      /missing\.safetensors: cannot be opened \(ENOENT\)/,
    );
  });
});

describe('reading LoRAs', () => {
  it('groups kohya keys into modules with rank and alpha (absent alpha = rank)', async () => {
    const lora = await readLora(path.join(loraDir, 'texture.safetensors'));
    expect(lora.modules.size).toBe(4);
    const toK = lora.modules.get('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k')!;
    // No alpha: A1111's calc_scale is 1 (as alpha = rank).
    expect([toK.type, toK.dim, toK.alpha, toK.scale, toK.out, toK.inner]).toEqual(['LoRA', 3, null, 1, 4, 16]);
    expect(lora.hash).toMatch(/^[0-9a-f]{12}$/);
    const convIn = (await readLora(path.join(loraDir, 'portrait.safetensors'))).modules.get('lora_unet_conv_in')!;
    expect([convIn.alpha, convIn.scale, convIn.out, convIn.inner]).toEqual([1, 0.5, 4, 36]);
  });

  it('refuses a LoRA with NaN or infinite values, naming the file and the tensor (it would turn images black)', async () => {
    const file = path.join(loraDir, 'diverged.safetensors');
    const down = Float32Array.from({ length: 32 }, (_, i) => (i === 5 ? Number.NaN : 0.1));
    fs.writeFileSync(
      file,
      encodeSafetensors({
        'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight': { dtype: 'F32', shape: [2, 16], data: down },
        'lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight': {
          dtype: 'F16',
          shape: [16, 2],
          data: new Float32Array(32).fill(Number.POSITIVE_INFINITY),
        },
      }),
    );
    await expect(readLora(file)).rejects.toThrow(
      /LoRA diverged \(.*diverged\.safetensors\): tensor "lora_unet_down_blocks_0_attentions_0_proj_in\.lora_(down|up)\.weight" holds NaN or infinite values/,
    );
    fs.rmSync(file);
  });

  it('reports keys it does not understand, with counts', async () => {
    const lora = await readLora(path.join(loraDir, 'odd.safetensors'));
    expect([...lora.unknownKeys]).toEqual([['lora_unet_mid_block_resnets_….* (incomplete: only hada_w1_a)', 2]]);
  });
});

describe('merging', () => {
  it('merged weights equal W + weight · alpha/rank · up·down, in each layer kind and layout', async () => {
    const graphs: Record<Exclude<ModelPart, 'textEncoder2'>, OnnxGraph> = {
      unet: await OnnxGraph.load(path.join(model, 'unet', 'model.onnx')),
      textEncoder: await OnnxGraph.load(path.join(model, 'text_encoder', 'model.onnx')),
    };
    const targets = new Map<
      string,
      { part: keyof typeof graphs; target: ReturnType<OnnxGraph['targets']> extends Map<string, infer T> ? T : never }
    >();
    for (const [k, t] of graphs.unet.targets('lora_unet_')) targets.set(k, { part: 'unet', target: t });
    for (const [k, t] of graphs.textEncoder.targets('lora_te_')) targets.set(k, { part: 'textEncoder', target: t });
    const library = new LoraLibrary(loraDir);
    const lora = await library.get('portrait');
    const { overrides, warnings } = await mergeLoras(library, [{ lora, weight: 0.8 }], targets, (p, n) => graphs[p].readFloat32(n), 'tiny');
    expect(warnings).toEqual([]);
    const scale = 0.8 * (1 / 2);
    const tensors = tinyLora(1, 2, 1);
    for (const module of lora.modules.values()) {
      const { part, target } = targets.get(module.name)!;
      const base = graphs[part].readFloat32(target.initializer);
      const merged = overrides[part].get(target.initializer)!;
      const up = tensors[`${module.name}.lora_up.weight`]!;
      const down = tensors[`${module.name}.lora_down.weight`]!;
      const [out, rank] = [up.shape[0]!, down.shape[0]!];
      const inner = down.data.length / rank;
      for (let o = 0; o < out; o++) {
        for (let i = 0; i < inner; i++) {
          let d = 0;
          for (let r = 0; r < rank; r++) d += up.data[o * rank + r]! * down.data[r * inner + i]!;
          // PyTorch layout [out, in…] for Conv and Gemm(transB); MatMul keeps [in, out].
          const index = target.transposed ? i * out + o : o * inner + i;
          expect(merged[index]).toBeCloseTo(base[index]! + scale * d, 5);
        }
      }
    }
    // The base weights in memory are untouched.
    expect(overrides.unet.size).toBe(3);
    expect(overrides.textEncoder.size).toBe(1);
  });

  it('refuses a LoRA whose shapes do not fit the model, naming the module', async () => {
    writeLora('wrong', {
      'lora_unet_conv_in.lora_down.weight': { dtype: 'F32', shape: [2, 3, 3, 3], data: values(54, 1) },
      'lora_unet_conv_in.lora_up.weight': { dtype: 'F32', shape: [4, 2, 1, 1], data: values(8, 2) },
    });
    const engine = new DiffusionEngine({ loraDir });
    await engine.load(model, 'cpu');
    await expect(engine.generate({ ...settings, prompt: 'x <lora:wrong:1>' })).rejects.toThrow(
      /wrong: lora_unet_conv_in: the LoRA's LoRA change is 4×27 but the model's layer is 4×36 \(weight \[4, 4, 3, 3\]\): made for another model\?/,
    );
    await engine.dispose();
    fs.rmSync(path.join(loraDir, 'wrong.safetensors'));
  });
});

const settings: GenerateSettings = {
  prompt: 'portrait, neon',
  negativePrompt: 'text',
  seed: 77,
  steps: 4,
  cfg: 7,
  sampler: 'Euler',
  width: 64,
  height: 64,
  batchSize: 1,
};

describe('LoRA in the engine', () => {
  const engine = new DiffusionEngine({ loraDir: '' });
  let rgb: (prompt: string) => Promise<Buffer>;

  beforeAll(async () => {
    Object.assign(engine, { loras: new LoraLibrary(loraDir) });
    await engine.load(model, 'cpu');
    rgb = async (prompt) =>
      sharp((await engine.generate({ ...settings, prompt }))[0]!.png)
        .raw()
        .toBuffer();
  });
  afterAll(() => engine.dispose());

  it('<lora:x:0> gives exactly the base image; a weight changes it', async () => {
    const base = await rgb('portrait, neon');
    expect((await rgb('portrait, neon <lora:portrait:0>')).equals(base)).toBe(true);
    const merged = await rgb('portrait, neon <lora:portrait:0.8>');
    expect(merged.equals(base)).toBe(false);
    // Back to no LoRA: the base weights again, exactly.
    expect((await rgb('portrait, neon')).equals(base)).toBe(true);
  });

  it('a session that fails to rebuild with a LoRA leaves the model as it was: the next generation works', async () => {
    const base = await rgb('portrait, neon');
    // A fault injected where onnxruntime would fail (out of memory, a provider error).
    const spy = vi.spyOn(OnnxSession, 'fromMemory').mockRejectedValueOnce(new Error('injected: could not build the session'));
    try {
      const error = await engine.generate({ ...settings, prompt: 'portrait, neon <lora:portrait:0.8>' }).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/injected: could not build the session/);
    } finally {
      spy.mockRestore();
    }
    // Before the fix the released session stayed in use ("Session already disposed") until a restart.
    expect((await rgb('portrait, neon')).equals(base)).toBe(true);
    expect((await rgb('portrait, neon <lora:portrait:0.8>')).equals(base)).toBe(false);
  });

  it('two LoRAs merge as their sum', async () => {
    const pair = await rgb('portrait, neon <lora:portrait:1> <lora:texture:1>');
    const single = await rgb('portrait, neon <lora:both:1>');
    let maxDiff = 0;
    for (let i = 0; i < pair.length; i++) maxDiff = Math.max(maxDiff, Math.abs(pair[i]! - single[i]!));
    expect(maxDiff).toBeLessThanOrEqual(1);
  });

  it('an F16 LoRA gives the same image as its F32 original (within half precision)', async () => {
    const a = await rgb('portrait, neon <lora:portrait:0.8>');
    const b = await rgb('portrait, neon <lora:portrait_half:0.8>');
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    expect(maxDiff).toBeLessThanOrEqual(2);
  });

  it('the same LoRA set costs nothing; a new weight re-merges without re-reading the file', async () => {
    await engine.generate({ ...settings, prompt: 'x <lora:texture:0.5>' });
    const state = await engine.applyLoras([{ name: 'texture', weight: 0.5 }]);
    expect(await engine.applyLoras([{ name: 'texture', weight: 0.5 }])).toBe(state);
    // Garbage of the same size and modification time: re-reading the file would fail to parse,
    // so a successful re-merge proves the factors came from memory.
    const file = path.join(loraDir, 'texture.safetensors');
    const original = fs.readFileSync(file);
    const stat = fs.statSync(file);
    fs.writeFileSync(file, Buffer.alloc(original.length, 0xff));
    fs.utimesSync(file, stat.atime, stat.mtime);
    try {
      const changed = await engine.applyLoras([{ name: 'texture', weight: 0.6 }]);
      expect(changed.key).not.toBe(state.key);
    } finally {
      fs.writeFileSync(file, original);
      fs.utimesSync(file, stat.atime, stat.mtime);
    }
  });

  it('records A1111 Lora hashes and reports keys it does not understand', async () => {
    const warnings: string[] = [];
    const [image] = await engine.generate(
      { ...settings, prompt: 'x <lora:odd:0.7> <lora:portrait:0.5>' },
      { onWarning: (w) => warnings.push(w) },
    );
    const values = parseParameters(image!.parameters).values;
    expect(values['Lora hashes']).toMatch(/^odd: [0-9a-f]{12}, portrait: [0-9a-f]{12}$/);
    expect(parseParameters(image!.parameters).prompt).toBe('x <lora:odd:0.7> <lora:portrait:0.5>');
    expect(warnings).toContain(
      'LoRA odd: 2 keys it does not understand (lora_unet_mid_block_resnets_….* (incomplete: only hada_w1_a)); ignored.',
    );
    // The LDM name is read (input_blocks.1.1 is down_blocks.0.attentions.0); the toy model has no proj_in.
    expect(warnings).toContain(
      'LoRA odd: 1 of 5 modules match nothing in tiny (made for another model?): lora_unet_down_blocks_N_attentions_N_proj_in ×1; ignored.',
    );
  });

  it('an unknown name is a clear error listing close matches', async () => {
    await expect(engine.generate({ ...settings, prompt: 'x <lora:Portait:1>' })).rejects.toThrow(
      /No LoRA named "Portait" in .*Did you mean: portrait/,
    );
    await expect(engine.generate({ ...settings, prompt: 'x <lora:portrait:2.5>' })).rejects.toThrow(/2\.5/);
  });
});

describe('LoRA on a float16 model with external weight files', () => {
  it('merges into float16 weights read from the external data file', async () => {
    const dir = writeTinySd(path.join(root, 'half-external'), { dtype: 'float16', externalData: true, halfWeights: true, dim: 16 });
    const graph = await OnnxGraph.load(path.join(dir, 'unet', 'model.onnx'));
    const toK = graph.targets('lora_unet_').get('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k')!;
    expect(graph.initializers.get(toK.initializer)).toMatchObject({ dataType: 10, location: 'weights.pb' }); // FLOAT16, external
    const engine = new DiffusionEngine({ loraDir });
    try {
      await engine.load(dir, 'cpu');
      const image = async (prompt: string): Promise<Buffer> =>
        sharp((await engine.generate({ ...settings, prompt }))[0]!.png)
          .raw()
          .toBuffer();
      const base = await image('portrait');
      expect((await image('portrait <lora:portrait:0>')).equals(base)).toBe(true);
      expect((await image('portrait <lora:portrait:1.5>')).equals(base)).toBe(false);
    } finally {
      await engine.dispose();
    }
  });
});

describe('helpers', () => {
  it('close matches and the field-note hints', () => {
    expect(closeMatches('FluxPortrait', ['FluxPortraitTrainer', 'TypoTexture', 'fluxportrait_v2']).sort()).toEqual([
      'FluxPortraitTrainer',
      'fluxportrait_v2',
    ]);
    expect(closeMatches('txture', ['texture', 'portrait'])).toEqual(['texture']);
    expect(loraHints([{ name: 'FluxPortraitTrainer', weight: 1 }])).toEqual([
      'If faces smear, drop the LoRA weight to 0.6 before adding steps.',
    ]);
    const hints = loraHints([{ name: 'A', weight: 1.2 }]);
    expect(hints[0]).toMatch(/A at 1\.2: above 1\.0/);
    expect(loraHints([{ name: 'A', weight: 0.6 }])).toEqual([]);
  });
});
