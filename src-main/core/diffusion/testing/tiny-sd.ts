/**
 * Writes a tiny Stable Diffusion model in the diffusers ONNX layout, for tests and benchmarks:
 * real ONNX graphs (built with onnx-proto) that onnxruntime runs, with the same inputs, outputs
 * and folder structure as a real export, small enough to run 25 steps in milliseconds.
 *
 *   text_encoder: input_ids [batch, 77] → Gather(embedding) + position → tanh → last_hidden_state
 *   unet:         sample, timestep, encoder_hidden_states → 3×3 conv + context + time → tanh → 1×1 conv
 *   vae_decoder:  latent_sample [b, 4, h, w] → 1×1 conv → ×8 nearest upsample → tanh → sample [b, 3, 8h, 8w]
 *   vae_encoder:  sample [b, 3, H, W] → 8×8 average pool → 1×1 conv → latent_sample [b, 4|8, H/8, W/8]
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  FLOAT,
  FLOAT16,
  floatTensor,
  INT32,
  INT64,
  int64Tensor,
  mulberry32,
  node,
  onnx,
  valueInfo,
  type NodeProto as INode,
  type TensorProto as ITensor,
  type ValueInfoProto as IValueInfo,
} from '../../util/index.js';
import { float32ToFloat16 } from '../float16.js';

export interface TinySdOptions {
  /** Width of the text embedding (768 in SD 1.x, 1024 in SD 2.x). */
  dim?: number;
  /** `float32` or `float16` model inputs and outputs. */
  dtype?: 'float32' | 'float16';
  /** The UNet's timestep input: float32 (fractional timesteps) or int64. */
  timestep?: 'float32' | 'int64';
  /** The text encoder's input_ids type. */
  inputIds?: 'int32' | 'int64';
  /** Keep the UNet's weights in an external data file beside model.onnx. */
  externalData?: boolean;
  /** 4 (latent_sample) or 8 (latent mean + log-variance, as some exports write). */
  vaeEncoderChannels?: 4 | 8;
  predictionType?: 'epsilon' | 'v_prediction';
  /** Copy this folder's vocab.json and merges.txt instead of writing a small vocabulary. */
  tokenizerFrom?: string;
  /** Seed of the weights. */
  seed?: number;
  /**
   * Add Stable Diffusion 1.5's LoRA-targeted layers (192 UNet projections in 16 transformer
   * blocks, 72 text-encoder projections in 12 layers) as small MatMuls with the real node names,
   * so LoRA merging is measured at SD 1.5's layer count.
   */
  sd15LayerCount?: boolean;
  /** Store the attention projection's weight as float16 and compute it in float16, as float16 exports do. */
  halfWeights?: boolean;
}

/** SD 1.5's transformer blocks (diffusers names) and the projections a LoRA trains in each. */
export function sd15UnetModules(): string[] {
  const blocks: string[] = [];
  for (const [d, n] of [
    [0, 2],
    [1, 2],
    [2, 2],
  ] as const)
    for (let a = 0; a < n; a++) blocks.push(`down_blocks.${d}/attentions.${a}`);
  blocks.push('mid_block/attentions.0');
  for (const u of [1, 2, 3]) for (let a = 0; a < 3; a++) blocks.push(`up_blocks.${u}/attentions.${a}`);
  const modules: string[] = [];
  for (const block of blocks) {
    modules.push(`${block}/proj_in`, `${block}/proj_out`);
    for (const p of [
      'attn1/to_q',
      'attn1/to_k',
      'attn1/to_v',
      'attn1/to_out.0',
      'attn2/to_q',
      'attn2/to_k',
      'attn2/to_v',
      'attn2/to_out.0',
      'ff/net.0/proj',
      'ff/net.2',
    ]) {
      modules.push(`${block}/transformer_blocks.0/${p}`);
    }
  }
  return modules;
}

/** SD 1.5's CLIP text encoder projections (12 layers × q, k, v, out, fc1, fc2). */
export function sd15TextModules(): string[] {
  const modules: string[] = [];
  for (let l = 0; l < 12; l++) {
    for (const p of ['self_attn/q_proj', 'self_attn/k_proj', 'self_attn/v_proj', 'self_attn/out_proj', 'mlp/fc1', 'mlp/fc2'])
      modules.push(`text_model/encoder/layers.${l}/${p}`);
  }
  return modules;
}

/** A residual chain of small MatMuls named after `modules`, from `input` to `output`. */
function projectionChain(
  modules: string[],
  input: string,
  output: string,
  dim: number,
  rand: () => number,
  prefix: string,
): { nodes: INode[]; initializers: ITensor[] } {
  const nodes: INode[] = [];
  const initializers: ITensor[] = [];
  let current = input;
  modules.forEach((module, i) => {
    const weight = `onnx::MatMul_${prefix}${i}`;
    initializers.push(floatTensor(weight, [dim, dim], weights(rand, [dim, dim], 0.05)));
    nodes.push(node('MatMul', [current, weight], [`${prefix}_p${i}`], {}, `/${module}/MatMul`));
    const next = i === modules.length - 1 ? output : `${prefix}_r${i}`;
    nodes.push(node('Add', [current, `${prefix}_p${i}`], [next]));
    current = next;
  });
  return { nodes, initializers };
}

function weights(rand: () => number, dims: number[], scale: number): Float32Array {
  const n = dims.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}

function halfTensor(name: string, dims: number[], values: Float32Array): ITensor {
  const half = float32ToFloat16(values);
  return onnx.TensorProto.create({ name, dims, dataType: FLOAT16, rawData: new Uint8Array(half.buffer) });
}

interface Graph {
  nodes: INode[];
  initializers: ITensor[];
  inputs: IValueInfo[];
  outputs: IValueInfo[];
}

/** Wraps float inputs/outputs in Casts when the model is float16, so the graph computes in float32. */
function withDtype(graph: Graph, floatInputs: string[], floatOutputs: string[], dtype: 'float32' | 'float16'): Graph {
  if (dtype === 'float32') return graph;
  // Inputs keep their names and types become float16; a Cast feeds the float32 graph.
  const internal = (name: string): string => (floatInputs.includes(name) ? `${name}__f32` : name);
  const nodes: INode[] = floatInputs.map((name) => node('Cast', [name], [internal(name)], { to: FLOAT }));
  const renamed = graph.nodes.map((n) =>
    onnx.NodeProto.create({
      ...n,
      input: n.input.map(internal),
      output: n.output.map((o) => (floatOutputs.includes(o) ? `${o}__f32` : o)),
    }),
  );
  const casts = floatOutputs.map((name) => node('Cast', [`${name}__f32`], [name], { to: FLOAT16 }));
  const retype = (v: IValueInfo): IValueInfo => {
    const t = v.type!.tensorType!;
    const isFloat = t.elemType === FLOAT;
    return onnx.ValueInfoProto.create({
      name: v.name,
      type: { tensorType: { elemType: isFloat ? FLOAT16 : (t.elemType ?? null), shape: t.shape ?? null } },
    });
  };
  return {
    nodes: [...nodes, ...renamed, ...casts],
    initializers: graph.initializers,
    inputs: graph.inputs.map(retype),
    outputs: graph.outputs.map(retype),
  };
}

function writeModel(file: string, name: string, graph: Graph, externalData = false): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let initializers = graph.initializers;
  if (externalData) {
    // Large exports keep weights in a side file; model.onnx only points at offsets in it.
    const dataName = 'weights.pb';
    const chunks: Uint8Array[] = [];
    let offset = 0;
    initializers = graph.initializers.map((t) => {
      const raw = t.rawData!;
      // As exporters do: only sizeable weights go out; shapes and scalars stay inline.
      if ((t.dataType !== FLOAT && t.dataType !== FLOAT16) || raw.length < 128) return t;
      chunks.push(raw);
      const entry = onnx.TensorProto.create({
        name: t.name,
        dims: t.dims,
        dataType: t.dataType,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: dataName },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(raw.length) },
        ],
      });
      offset += raw.length;
      return entry;
    });
    fs.writeFileSync(path.join(path.dirname(file), dataName), Buffer.concat(chunks));
  }
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'onbrand-tiny-sd',
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name, node: graph.nodes, initializer: initializers, input: graph.inputs, output: graph.outputs },
  });
  fs.writeFileSync(file, onnx.ModelProto.encode(model).finish());
}

/** A small byte-level BPE vocabulary in the CLIP file format: printable ASCII, a few merges, the special tokens. */
export function tinyVocabulary(): { vocab: Record<string, number>; merges: string } {
  const vocab: Record<string, number> = {};
  let id = 0;
  const chars = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i));
  for (const c of chars) vocab[c] = id++;
  for (const c of chars) vocab[`${c}</w>`] = id++;
  const merges = ['t h', 'th e</w>', 'o n', 'a r', 'i n', 'in g</w>', 'l i', 'li g', 'lig h', 'ligh t</w>'];
  for (const m of merges) vocab[m.replace(' ', '')] = id++;
  vocab['<|startoftext|>'] = id++;
  vocab['<|endoftext|>'] = id++;
  return { vocab, merges: ['#version: 0.2', ...merges].join('\n') + '\n' };
}

/** Writes the model folder; returns its path. */
export function writeTinySd(dir: string, options: TinySdOptions = {}): string {
  const dim = options.dim ?? 16;
  const dtype = options.dtype ?? 'float32';
  const rand = mulberry32(options.seed ?? 1);
  fs.mkdirSync(dir, { recursive: true });

  // Tokenizer.
  const tokDir = path.join(dir, 'tokenizer');
  fs.mkdirSync(tokDir, { recursive: true });
  let vocabSize: number;
  if (options.tokenizerFrom) {
    for (const f of ['vocab.json', 'merges.txt']) fs.copyFileSync(path.join(options.tokenizerFrom, f), path.join(tokDir, f));
    vocabSize = Object.keys(JSON.parse(fs.readFileSync(path.join(tokDir, 'vocab.json'), 'utf8')) as object).length;
  } else {
    const { vocab, merges } = tinyVocabulary();
    fs.writeFileSync(path.join(tokDir, 'vocab.json'), JSON.stringify(vocab));
    fs.writeFileSync(path.join(tokDir, 'merges.txt'), merges);
    vocabSize = Object.keys(vocab).length;
  }
  fs.writeFileSync(
    path.join(tokDir, 'tokenizer_config.json'),
    JSON.stringify({ model_max_length: 77, pad_token: '<|endoftext|>', bos_token: '<|startoftext|>', eos_token: '<|endoftext|>' }),
  );
  fs.writeFileSync(path.join(tokDir, 'special_tokens_map.json'), JSON.stringify({ pad_token: '<|endoftext|>' }));

  fs.writeFileSync(
    path.join(dir, 'model_index.json'),
    JSON.stringify({
      _class_name: 'OnnxStableDiffusionPipeline',
      _diffusers_version: '0.30.0',
      text_encoder: ['diffusers', 'OnnxRuntimeModel'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      unet: ['diffusers', 'OnnxRuntimeModel'],
      vae_decoder: ['diffusers', 'OnnxRuntimeModel'],
      vae_encoder: ['diffusers', 'OnnxRuntimeModel'],
      scheduler: ['diffusers', 'PNDMScheduler'],
    }),
  );
  fs.mkdirSync(path.join(dir, 'scheduler'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'scheduler', 'scheduler_config.json'),
    JSON.stringify({
      _class_name: 'PNDMScheduler',
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: 'scaled_linear',
      num_train_timesteps: 1000,
      prediction_type: options.predictionType ?? 'epsilon',
      steps_offset: 1,
    }),
  );

  // Text encoder.
  const none = { nodes: [], initializers: [] };
  const textChain = options.sd15LayerCount ? projectionChain(sd15TextModules(), 'embedded', 'residual', dim, rand, 'te') : none;
  const unetChain = options.sd15LayerCount ? projectionChain(sd15UnetModules(), 'context', 'context_deep', dim, rand, 'unet') : none;
  const idsType = options.inputIds === 'int32' ? INT32 : INT64;
  writeModel(
    path.join(dir, 'text_encoder', 'model.onnx'),
    'text_encoder',
    withDtype(
      {
        nodes: [
          node('Gather', ['token_embedding', 'input_ids'], ['tokens']),
          node('Add', ['tokens', 'position_embedding'], ['embedded']),
          // Named like a real export's attention projection, so LoRA keys find it.
          ...textChain.nodes,
          ...(options.sd15LayerCount
            ? []
            : [node('MatMul', ['embedded', 'onnx::MatMul_201'], ['q'], {}, '/text_model/encoder/layers.0/self_attn/q_proj/MatMul')]),
          ...(options.sd15LayerCount ? [] : [node('Add', ['embedded', 'q'], ['residual'])]),
          node('Tanh', ['residual'], ['last_hidden_state']),
          node('ReduceMean', ['last_hidden_state'], ['pooler_output'], { axes: [1], keepdims: 0 }),
        ],
        initializers: [
          floatTensor('token_embedding', [vocabSize, dim], weights(rand, [vocabSize, dim], 1)),
          floatTensor('position_embedding', [77, dim], weights(rand, [77, dim], 0.1)),
          floatTensor('onnx::MatMul_201', [dim, dim], weights(rand, [dim, dim], 0.2)),
          ...textChain.initializers,
        ],
        inputs: [valueInfo('input_ids', idsType, ['batch', 'sequence'])],
        outputs: [valueInfo('last_hidden_state', FLOAT, ['batch', 'sequence', dim]), valueInfo('pooler_output', FLOAT, ['batch', dim])],
      },
      [],
      ['last_hidden_state', 'pooler_output'],
      dtype,
    ),
  );

  // UNet: eps = conv1x1(tanh(conv3x3(sample) + context·W + t/1000·w)).
  const timestepType = options.timestep === 'int64' ? INT64 : FLOAT;
  writeModel(
    path.join(dir, 'unet', 'model.onnx'),
    'unet',
    withDtype(
      {
        nodes: [
          // Node names follow diffusers' ONNX exports; weights of MatMul lose their names as there.
          node('Conv', ['sample', 'conv_in.weight', 'conv_in.bias'], ['h0'], { pads: [1, 1, 1, 1] }, '/conv_in/Conv'),
          node('ReduceMean', ['encoder_hidden_states'], ['context'], { axes: [1], keepdims: 0 }),
          ...unetChain.nodes,
          ...(options.halfWeights
            ? [
                node('Cast', ['context'], ['context_half'], { to: FLOAT16 }),
                node(
                  'MatMul',
                  ['context_half', 'onnx::MatMul_101'],
                  ['context_4_half'],
                  {},
                  '/down_blocks.0/attentions.0/transformer_blocks.0/attn2/to_k/MatMul',
                ),
                node('Cast', ['context_4_half'], ['context_4'], { to: FLOAT }),
              ]
            : [
                node(
                  'MatMul',
                  [options.sd15LayerCount ? 'context_deep' : 'context', 'onnx::MatMul_101'],
                  ['context_4'],
                  {},
                  options.sd15LayerCount ? '/context_out/MatMul' : '/down_blocks.0/attentions.0/transformer_blocks.0/attn2/to_k/MatMul',
                ),
              ]),
          node('Reshape', ['context_4', 'shape_b411'], ['context_map']),
          node('Cast', ['timestep'], ['t_float'], { to: FLOAT }),
          node('Div', ['t_float', 'thousand'], ['t_unit']),
          node('Reshape', ['t_unit', 'shape_b1'], ['t_column']),
          node('Gemm', ['t_column', 'time_embedding.linear_1.weight'], ['t_embedded'], { transB: 1 }, '/time_embedding/linear_1/Gemm'),
          node('Reshape', ['t_embedded', 'shape_b411'], ['time_map']),
          node('Add', ['h0', 'context_map'], ['h1']),
          node('Add', ['h1', 'time_map'], ['h2']),
          node('Tanh', ['h2'], ['h3']),
          node('Conv', ['h3', 'conv_out.weight', 'conv_out.bias'], ['out_sample'], {}, '/conv_out/Conv'),
        ],
        initializers: [
          floatTensor('conv_in.weight', [4, 4, 3, 3], weights(rand, [4, 4, 3, 3], 0.3)),
          floatTensor('conv_in.bias', [4], weights(rand, [4], 0.1)),
          options.halfWeights
            ? halfTensor('onnx::MatMul_101', [dim, 4], weights(rand, [dim, 4], 0.5))
            : floatTensor('onnx::MatMul_101', [dim, 4], weights(rand, [dim, 4], 0.5)),
          ...unetChain.initializers,
          floatTensor('time_embedding.linear_1.weight', [4, 1], weights(rand, [4, 1], 0.5)),
          floatTensor('conv_out.weight', [4, 4, 1, 1], weights(rand, [4, 4, 1, 1], 0.8)),
          floatTensor('conv_out.bias', [4], weights(rand, [4], 0.05)),
          floatTensor('thousand', [], Float32Array.of(1000)),
          int64Tensor('shape_b411', [-1, 4, 1, 1]),
          int64Tensor('shape_b1', [-1, 1]),
        ],
        inputs: [
          valueInfo('sample', FLOAT, ['batch', 4, 'height', 'width']),
          valueInfo('timestep', timestepType, ['batch']),
          valueInfo('encoder_hidden_states', FLOAT, ['batch', 'sequence', dim]),
        ],
        outputs: [valueInfo('out_sample', FLOAT, ['batch', 4, 'height', 'width'])],
      },
      ['sample', 'encoder_hidden_states'].concat(timestepType === FLOAT ? ['timestep'] : []),
      ['out_sample'],
      dtype,
    ),
    options.externalData ?? false,
  );

  // VAE decoder.
  writeModel(
    path.join(dir, 'vae_decoder', 'model.onnx'),
    'vae_decoder',
    withDtype(
      {
        nodes: [
          node('Conv', ['latent_sample', 'post.weight', 'post.bias'], ['rgb_small']),
          node('Resize', ['rgb_small', '', 'scales'], ['rgb_large'], { mode: 'nearest' }),
          node('Tanh', ['rgb_large'], ['sample']),
        ],
        initializers: [
          floatTensor('post.weight', [3, 4, 1, 1], weights(rand, [3, 4, 1, 1], 0.6)),
          floatTensor('post.bias', [3], weights(rand, [3], 0.2)),
          floatTensor('scales', [4], Float32Array.of(1, 1, 8, 8)),
        ],
        inputs: [valueInfo('latent_sample', FLOAT, ['batch', 4, 'height', 'width'])],
        outputs: [valueInfo('sample', FLOAT, ['batch', 3, 'height_out', 'width_out'])],
      },
      ['latent_sample'],
      ['sample'],
      dtype,
    ),
  );

  // VAE encoder.
  const channels = options.vaeEncoderChannels ?? 4;
  writeModel(
    path.join(dir, 'vae_encoder', 'model.onnx'),
    'vae_encoder',
    withDtype(
      {
        nodes: [
          node('AveragePool', ['sample'], ['pooled'], { kernel_shape: [8, 8], strides: [8, 8] }),
          node('Conv', ['pooled', 'quant.weight', 'quant.bias'], ['latent_sample']),
        ],
        initializers: [
          floatTensor('quant.weight', [channels, 3, 1, 1], weights(rand, [channels, 3, 1, 1], 1)),
          floatTensor('quant.bias', [channels], weights(rand, [channels], 0.1)),
        ],
        inputs: [valueInfo('sample', FLOAT, ['batch', 3, 'height', 'width'])],
        outputs: [valueInfo('latent_sample', FLOAT, ['batch', channels, 'height_latent', 'width_latent'])],
      },
      ['sample'],
      ['latent_sample'],
      dtype,
    ),
  );
  return dir;
}
