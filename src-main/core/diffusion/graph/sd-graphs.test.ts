import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxSession, type Feed } from '../backend.js';
import { OnnxGraph } from '../onnx-graph.js';
import { tinyArchConfig, writeTinySdArch } from '../testing/tiny-sd-arch.js';
import { inferTextEncoder, inferUnet, inferVae, SD15, type SdConfig } from './configs.js';
import { buildPart, ensureBuilt, partsOf } from './built-model.js';
import { nodePath, type LoraBranch } from './graph-builder.js';
import type { SdPart } from './sd-graphs.js';
import { ExportWeights, randomTensor, RandomWeights, WeightMappingError, writeGraph } from './weights.js';

let dir: string;
let exportDir: string;
const config = tinyArchConfig();

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function seeded(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.8);
}

/** Rank-1 zero factors for every LoRA branch (linear: [in, 1] and [1, out]; conv: [1, in, k, k] and [out, 1, 1, 1]). */
function zeroFactors(branches: readonly LoraBranch[], half = false): Record<string, Feed> {
  const zero: Record<string, Feed> = {};
  const make = (n: number): Float32Array | Uint16Array => (half ? new Uint16Array(n) : new Float32Array(n));
  for (const b of branches) {
    const k = b.kernel;
    zero[b.down] = { data: make(b.inDim * k * k), dims: b.kind === 'conv' ? [1, b.inDim, k, k] : [b.inDim, 1] };
    zero[b.up] = { data: make(b.outDim), dims: b.kind === 'conv' ? [b.outDim, 1, 1, 1] : [1, b.outDim] };
  }
  return zero;
}

function feeds(part: SdPart, lora: Record<string, Feed> = {}): Record<string, Feed> {
  switch (part) {
    case 'text_encoder':
    case 'text_encoder_2':
      return { input_ids: { data: [198, 5, 17, 42, 199, 199, 199], dims: [1, 7] } };
    case 'unet':
      return {
        sample: { data: seeded(2 * 4 * 8 * 12, 1), dims: [2, 4, 8, 12] },
        timestep: { data: [981, 981], dims: [2] },
        encoder_hidden_states: { data: seeded(2 * 7 * 32, 2), dims: [2, 7, 32] },
        ...lora,
      };
    case 'vae_decoder':
      return { latent_sample: { data: seeded(4 * 8 * 12, 3), dims: [1, 4, 8, 12] } };
    case 'vae_encoder':
      return { sample: { data: seeded(3 * 64 * 96, 4), dims: [1, 3, 64, 96] } };
  }
}

async function run(file: string, part: SdPart, extra: Record<string, Feed> = {}): Promise<Float32Array> {
  const { session } = await OnnxSession.load(file, ['cpu']);
  try {
    const out = await session.run(feeds(part, extra));
    return Object.values(out)[0]!.data;
  } finally {
    await session.dispose();
  }
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-graphs-'));
  exportDir = writeTinySdArch(path.join(dir, 'export'), { seed: 7 });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('graph builder', () => {
  it('names nodes as exporters do', () => {
    expect(nodePath('down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0')).toBe(
      '/down_blocks.0/attentions.0/transformer_blocks.0/attn1/to_out.0',
    );
    expect(nodePath('text_model.encoder.layers.11.mlp.fc1')).toBe('/text_model/encoder/layers.11/mlp/fc1');
  });

  it("declares SD 1.5's parameters with diffusers names and counts", () => {
    const options = { precision: 'float32', attention: 'fused', loraBranches: true } as const;
    const count = (part: SdPart): number =>
      [...buildPart(part, SD15, options).params.values()].reduce((n, p) => n + p.torchDims.reduce((a, b) => a * b, 1), 0);
    // diffusers' parameter counts of SD 1.5: UNet 859,520,964; CLIP ViT-L/14 text model 123,060,480
    // (without position_ids); AutoencoderKL 83,653,863 = decoder (+ post_quant_conv) 49,490,199 + encoder (+ quant_conv) 34,163,664.
    expect(count('unet')).toBe(859_520_964);
    expect(count('text_encoder')).toBe(123_060_480);
    expect(count('vae_decoder')).toBe(49_490_199);
    expect(count('vae_encoder')).toBe(34_163_664);
    const unet = buildPart('unet', SD15, options);
    expect(unet.params.get('down_blocks.0.attentions.0.proj_in.weight')?.torchDims).toEqual([320, 320, 1, 1]);
    expect(unet.params.get('up_blocks.3.resnets.2.conv1.weight')?.torchDims).toEqual([320, 640, 3, 3]);
    expect(unet.params.get('mid_block.attentions.0.transformer_blocks.0.ff.net.0.proj.weight')?.torchDims).toEqual([10240, 1280]);
    // SD 1.5's LoRA-targeted layers: in the UNet, 192 attention and feed-forward projections and
    // 90 layers LoCon trains (22 resnets × conv1, conv2, time_emb_proj; 14 conv_shortcuts; 3 down-
    // and 3 upsamplers; conv_in, conv_out; time_embedding.linear_1/2); 72 in the text encoder.
    expect(unet.loraBranches.filter((b) => b.kind === 'linear' && !/resnets|time_embedding/.test(b.module))).toHaveLength(192);
    expect(unet.loraBranches.filter((b) => b.kind === 'conv')).toHaveLength(22 * 2 + 14 + 6 + 2);
    expect(unet.loraBranches).toHaveLength(282);
    expect(buildPart('text_encoder', SD15, options).loraBranches).toHaveLength(72);
    expect(unet.nodes.filter((n) => n.opType === 'MultiHeadAttention')).toHaveLength(32);
  });

  it('fused attention graphs equal the plain, export-shaped graphs', async () => {
    for (const part of partsOf(config)) {
      const fused = buildPart(part, config, { precision: 'float32', attention: 'fused', loraBranches: false });
      const file = path.join(dir, `fused-${part}.onnx`);
      writeGraph(file, part, fused, new RandomWeights(fused.params.values(), 7));
      const a = await run(file, part);
      const b = await run(path.join(exportDir, part, 'model.onnx'), part);
      const scale = Math.max(...Array.from(b, Math.abs));
      expect(maxDiff(a, b), part).toBeLessThan(1e-5 * Math.max(1, scale));
      expect(a.every(Number.isFinite)).toBe(true);
    }
  });

  it('float16 graphs (as built for CUDA and DirectML) compute the same within float16 precision', async () => {
    // onnxruntime's CPU provider runs float16 graphs through casts: a check of the float16 build
    // (casts, constants, the float32 timestep embedding, LoRA inputs), not of GPU kernels.
    for (const part of partsOf(config)) {
      const half = buildPart(part, config, { precision: 'float16', attention: 'fused', loraBranches: true });
      const file = path.join(dir, `half-${part}.onnx`);
      writeGraph(file, part, half, new RandomWeights(half.params.values(), 7));
      const zero = zeroFactors(half.loraBranches, true);
      const { session } = await OnnxSession.load(file, ['cpu']);
      const a = Object.values(await session.run({ ...feeds(part), ...(part === 'unet' || part === 'text_encoder' ? zero : {}) }))[0]!.data;
      await session.dispose();
      const b = await run(path.join(exportDir, part, 'model.onnx'), part);
      const scale = Math.max(...Array.from(b, Math.abs));
      expect(a.every(Number.isFinite), part).toBe(true);
      expect(maxDiff(a, b) / scale, part).toBeLessThan(0.02);
    }
  });

  it('reads an export back: every parameter found through names and nodes, transposed back', async () => {
    for (const part of partsOf(config)) {
      const graph = await OnnxGraph.load(path.join(exportDir, part, 'model.onnx'));
      const source = new ExportWeights(graph);
      const builder = buildPart(part, config, { precision: 'float32', attention: 'fused', loraBranches: true });
      for (const spec of builder.params.values()) {
        const squeezed = (dims: number[] | undefined): string | undefined => dims?.filter((d) => d !== 1).join('x');
        expect(squeezed(source.shape(spec.name)), spec.name).toBe(squeezed(spec.torchDims));
        expect(maxDiff(source.read(spec.name), randomTensor(spec.name, spec.torchDims, 7))).toBe(0);
      }
    }
  });

  it('infers the architecture from the weights alone', async () => {
    const shapes = async (part: SdPart): Promise<(name: string) => number[] | undefined> => {
      const source = new ExportWeights(await OnnxGraph.load(path.join(exportDir, part, 'model.onnx')));
      return (name) => source.shape(name);
    };
    const unet = inferUnet(await shapes('unet'));
    expect(unet.block_out_channels).toEqual([32, 64]);
    expect(unet.down_block_types).toEqual(config.unet.down_block_types);
    expect(unet.up_block_types).toEqual(config.unet.up_block_types);
    expect(unet.layers_per_block).toBe(1);
    expect(unet.cross_attention_dim).toBe(32);
    expect(unet.use_linear_projection).toBe(false);
    const vae = inferVae(await shapes('vae_decoder'));
    expect(vae.block_out_channels).toEqual([32, 64]);
    expect(vae.layers_per_block).toBe(1);
    expect(inferVae(await shapes('vae_encoder')).block_out_channels).toEqual([32, 64]);
    const text = inferTextEncoder(await shapes('text_encoder'));
    expect([text.hidden_size, text.num_hidden_layers, text.intermediate_size, text.vocab_size]).toEqual([32, 2, 64, 200]);
  });

  it('LoRA side branches: zero factors leave the output unchanged; factors equal merged weights', async () => {
    const fused = buildPart('unet', config, { precision: 'float32', attention: 'fused', loraBranches: true });
    const file = path.join(dir, 'lora-unet.onnx');
    writeGraph(file, 'unet', fused, new RandomWeights(fused.params.values(), 7));
    const zero = zeroFactors(fused.loraBranches);
    const base = await run(path.join(exportDir, 'unet', 'model.onnx'), 'unet');
    expect(maxDiff(await run(file, 'unet', zero), base)).toBeLessThan(1e-5);

    // Rank-2 branches against the same deltas merged into the weights of a plain graph: a linear
    // layer, a 3×3 convolution, the stride-2 downsampler, a 1×1 shortcut, conv_in, time_emb_proj.
    const plain = buildPart('unet', config, { precision: 'float32', attention: 'fused', loraBranches: false });
    const merged = new RandomWeights(plain.params.values(), 7);
    const original = merged.read.bind(merged);
    const deltas = new Map<string, Float32Array>();
    const withFactors: Record<string, Feed> = { ...zero };
    const rank = 2;
    for (const [i, suffix] of [
      'attn2.to_v',
      'resnets.0.conv1',
      'downsamplers.0.conv',
      'resnets.0.conv_shortcut',
      'conv_in',
      'resnets.1.time_emb_proj',
    ].entries()) {
      const target = fused.loraBranches.find((b) => b.module.endsWith(suffix))!;
      expect(target.kind, suffix).toBe(/conv/.test(suffix) ? 'conv' : 'linear');
      const inner = target.inDim * target.kernel * target.kernel;
      // ΔW [out, inner] = U [out, rank] · D [rank, inner], in PyTorch's layout.
      const u = seeded(target.outDim * rank, 5 + i).map((v) => v * 0.5);
      const d = seeded(rank * inner, 11 + i).map((v) => v * 0.5);
      const delta = new Float32Array(target.outDim * inner);
      for (let o = 0; o < target.outDim; o++)
        for (let j = 0; j < inner; j++) for (let r = 0; r < rank; r++) delta[o * inner + j] += u[o * rank + r]! * d[r * inner + j]!;
      deltas.set(`${target.module}.weight`, delta);
      if (target.kind === 'conv') {
        withFactors[target.down] = { data: d, dims: [rank, target.inDim, target.kernel, target.kernel] };
        withFactors[target.up] = { data: u, dims: [target.outDim, rank, 1, 1] };
      } else {
        // Linear: down [in, rank] = Dᵀ, up [rank, out] = Uᵀ.
        withFactors[target.down] = {
          data: Float32Array.from({ length: inner * rank }, (_, k) => d[(k % rank) * inner + Math.floor(k / rank)]!),
          dims: [inner, rank],
        };
        withFactors[target.up] = {
          data: Float32Array.from(
            { length: rank * target.outDim },
            (_, k) => u[(k % target.outDim) * rank + Math.floor(k / target.outDim)]!,
          ),
          dims: [rank, target.outDim],
        };
      }
    }
    merged.read = (name: string): Float32Array => {
      const values = original(name);
      const delta = deltas.get(name);
      if (delta) for (let k = 0; k < values.length; k++) values[k] += delta[k]!;
      return values;
    };
    const withLora = await run(file, 'unet', withFactors);
    const mergedFile = path.join(dir, 'merged-unet.onnx');
    writeGraph(mergedFile, 'unet', plain, merged);
    const reference = await run(mergedFile, 'unet');
    expect(maxDiff(withLora, base)).toBeGreaterThan(1e-3);
    expect(maxDiff(withLora, reference)).toBeLessThan(1e-4 * Math.max(1, ...Array.from(reference, Math.abs)));
  });

  it('builds into a cache once, atomically, and names what a source lacks', async () => {
    const cacheRoot = path.join(dir, 'cache');
    let opened = 0;
    const request = {
      cacheRoot,
      name: 'tiny',
      identity: 'tiny-1',
      options: { precision: 'float32', attention: 'fused', loraBranches: true } as const,
      openPart: async (part: SdPart) => {
        if (part === 'text_encoder_2') return null;
        opened++;
        const source = new ExportWeights(await OnnxGraph.load(path.join(exportDir, part, 'model.onnx')));
        const partConfig: Partial<SdConfig> =
          part === 'unet' ? { unet: config.unet } : part === 'text_encoder' ? { textEncoder: config.textEncoder } : { vae: config.vae };
        return { source, config: partConfig };
      },
    };
    const first = await ensureBuilt(request);
    expect(first.built).toBe(true);
    expect(opened).toBe(4);
    expect(fs.readdirSync(cacheRoot)).toEqual([path.basename(first.dir)]);
    const second = await ensureBuilt(request);
    expect(second.built).toBe(false);
    expect(second.dir).toBe(first.dir);
    expect(opened).toBe(4);
    expect(second.branches.unet.length).toBeGreaterThan(0);

    // A source that lacks weights: a named error, and nothing left in the cache.
    await expect(
      ensureBuilt({
        ...request,
        identity: 'broken',
        openPart: async (part: SdPart) =>
          part === 'text_encoder_2'
            ? null
            : {
                source: new RandomWeights([], 1),
                config:
                  part === 'unet'
                    ? { unet: config.unet }
                    : part === 'text_encoder'
                      ? { textEncoder: config.textEncoder }
                      : { vae: config.vae },
              },
      }),
    ).rejects.toThrow(WeightMappingError);
    expect(fs.readdirSync(cacheRoot)).toEqual([path.basename(first.dir)]);
  });
});
