/**
 * Converts the trained ESRGAN models that ship in the @upscalerjs packages (TensorFlow.js layers
 * models: model.json + weight shards) into ONNX graphs with the same math: Conv2D ('same'/'valid',
 * HWIO → OIHW), ReLU, Concatenate, Add, MultiplyBeta (× 0.2), PixelShuffle (depth-to-space, DCR)
 * and UpSampling2D (nearest). Every converted graph takes NCHW float input in 0..1 and returns
 * 0..1, clipped: models trained on 0..255 (the RDN ones) get the scaling inside the graph.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FLOAT, floatTensor, modelBytes, node, valueInfo, type NodeProto, type TensorProto } from '../util/index.js';

interface KerasLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, Record<string, unknown>][][];
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

/** MultiplyBeta's constant in the @upscalerjs RRDN models (their `BETA`). */
export const MULTIPLY_BETA = 0.2;

export interface ConvertOptions {
  /** The range the Keras model was trained on: [0, 255] (RDN) or [0, 1] (RRDN). */
  inputRange: [number, number];
}

export interface Converted {
  onnx: Uint8Array;
  scale: number;
  layers: number;
}

export function convertLayersModel(modelJson: string, options: ConvertOptions): Converted {
  const dir = path.dirname(modelJson);
  const model = JSON.parse(fs.readFileSync(modelJson, 'utf8')) as {
    format?: string;
    modelTopology: {
      model_config?: {
        config: { layers: KerasLayer[]; input_layers: [string, number, number][]; output_layers: [string, number, number][] };
      };
    };
    weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  };
  const config = model.modelTopology.model_config?.config;
  if (model.format !== 'layers-model' || !config) throw new Error(`${modelJson} is not a TensorFlow.js layers model`);

  // Weights: the shards of each group, concatenated, read in manifest order.
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const group of model.weightsManifest) {
    const bytes = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
    let offset = 0;
    for (const spec of group.weights) {
      if (spec.dtype !== 'float32')
        throw new Error(`${modelJson}: weight ${spec.name} is ${spec.dtype}; only float32 weights are supported`);
      const count = spec.shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = bytes.readFloatLE(offset + i * 4);
      offset += count * 4;
      weights.set(spec.name, { shape: spec.shape, data });
    }
  }
  const weight = (name: string): { shape: number[]; data: Float32Array } => {
    const w = weights.get(name);
    if (!w) throw new Error(`${modelJson}: weight ${name} is missing`);
    return w;
  };

  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const constant = (name: string, values: number[]): string => {
    initializers.push(floatTensor(name, [values.length === 1 ? 1 : values.length], Float32Array.from(values)));
    return name;
  };
  const [low, high] = options.inputRange;
  const inputName = config.input_layers[0]![0];
  // The ONNX input is 0..1; the Keras model may expect 0..255.
  nodes.push(node('Mul', ['input', constant('range_scale', [high - low])], ['input_scaled']));
  nodes.push(node('Add', ['input_scaled', constant('range_low', [low])], [inputName]));

  let scale = 1;
  for (const layer of config.layers) {
    const inputs = (layer.inbound_nodes[0] ?? []).map(([name]) => name);
    const out = layer.name;
    const c = layer.config;
    switch (layer.class_name) {
      case 'InputLayer':
        break;
      case 'Conv2D': {
        const kernel = weight(`${layer.name}/kernel`);
        const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
        // HWIO → OIHW.
        const oihw = new Float32Array(kernel.data.length);
        for (let h = 0; h < kh; h++)
          for (let w = 0; w < kw; w++)
            for (let i = 0; i < cin; i++)
              for (let o = 0; o < cout; o++) oihw[((o * cin + i) * kh + h) * kw + w] = kernel.data[((h * kw + w) * cin + i) * cout + o]!;
        initializers.push(floatTensor(`${out}.weight`, [cout, cin, kh, kw], oihw));
        const conv = [inputs[0]!, `${out}.weight`];
        if (c.use_bias !== false) {
          const bias = weight(`${layer.name}/bias`);
          initializers.push(floatTensor(`${out}.bias`, [cout], bias.data));
          conv.push(`${out}.bias`);
        }
        if (JSON.stringify(c.strides) !== '[1,1]' || JSON.stringify(c.dilation_rate) !== '[1,1]')
          throw new Error(`${layer.name}: only stride 1 and dilation 1 are supported`);
        const pads = c.padding === 'same' ? [(kh - 1) >> 1, (kw - 1) >> 1, kh >> 1, kw >> 1] : [0, 0, 0, 0];
        const activation = c.activation ?? 'linear';
        nodes.push(node('Conv', conv, [activation === 'linear' ? out : `${out}_pre`], { kernel_shape: [kh, kw], pads }));
        if (activation === 'relu') nodes.push(node('Relu', [`${out}_pre`], [out]));
        else if (activation !== 'linear') throw new Error(`${layer.name}: activation ${String(activation)} is not supported`);
        break;
      }
      case 'Activation':
        if (c.activation !== 'relu') throw new Error(`${layer.name}: activation ${String(c.activation)} is not supported`);
        nodes.push(node('Relu', inputs, [out]));
        break;
      case 'Concatenate':
        // Channels-last axis 3 (or -1) is the channel axis 1 in NCHW.
        if (c.axis !== 3 && c.axis !== -1) throw new Error(`${layer.name}: concatenation on axis ${String(c.axis)} is not supported`);
        nodes.push(node('Concat', inputs, [out], { axis: 1 }));
        break;
      case 'Add':
        nodes.push(inputs.length === 2 ? node('Add', inputs, [out]) : node('Sum', inputs, [out]));
        break;
      case 'MultiplyBeta':
        nodes.push(node('Mul', [inputs[0]!, constant(`${out}.beta`, [MULTIPLY_BETA])], [out]));
        break;
      case 'UpSampling2D': {
        const [sy, sx] = c.size as [number, number];
        scale *= sy;
        if (c.interpolation !== 'nearest') throw new Error(`${layer.name}: ${String(c.interpolation)} upsampling is not supported`);
        nodes.push(
          node('Resize', [inputs[0]!, '', constant(`${out}.scales`, [1, 1, sy, sx])], [out], {
            mode: 'nearest',
            coordinate_transformation_mode: 'asymmetric',
            nearest_mode: 'floor',
          }),
        );
        break;
      }
      default: {
        const shuffle = /^PixelShuffle(\d+)x$/.exec(layer.class_name);
        if (!shuffle) throw new Error(`${modelJson}: layer ${layer.name} of type ${layer.class_name} is not supported`);
        const block = Number(shuffle[1]);
        scale *= block;
        // TensorFlow's depth_to_space (NHWC) is ONNX DepthToSpace in DCR order.
        nodes.push(node('DepthToSpace', inputs, [out], { blocksize: block, mode: 'DCR' }));
      }
    }
  }
  const last = config.output_layers[0]![0];
  nodes.push(node('Sub', [last, 'range_low'], [`${last}_shifted`]));
  nodes.push(node('Div', [`${last}_shifted`, 'range_scale'], [`${last}_unit`]));
  initializers.push(floatTensor('clip_min', [], Float32Array.of(0)), floatTensor('clip_max', [], Float32Array.of(1)));
  nodes.push(node('Clip', [`${last}_unit`, 'clip_min', 'clip_max'], ['output']));
  const bytes = modelBytes(
    {
      name: path.basename(path.dirname(dir)),
      nodes,
      initializers,
      inputs: [valueInfo('input', FLOAT, [1, 3, 'height', 'width'])],
      outputs: [valueInfo('output', FLOAT, [1, 3, 'height_out', 'width_out'])],
    },
    'onbrand-upscaler-converter',
  );
  return { onnx: bytes, scale, layers: config.layers.length };
}
