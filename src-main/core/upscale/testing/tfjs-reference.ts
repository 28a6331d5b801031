/**
 * The independent reference for the converter (tests and benchmarks only; @tensorflow/tfjs is a
 * dev dependency): the @upscalerjs packages' own layers models run by TensorFlow.js, with their
 * custom layers defined as the packages define them.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MULTIPLY_BETA } from '../convert.js';

let registered = false;

/** Registers MultiplyBeta (× 0.2) and PixelShuffle{2,3,4,8}x (depth_to_space, NHWC) once. */
export function registerUpscalerLayers(): void {
  if (registered) return;
  registered = true;
  class MultiplyBeta extends tf.layers.Layer {
    static className = 'MultiplyBeta';
    constructor() {
      super({});
    }
    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, MULTIPLY_BETA);
    }
  }
  tf.serialization.registerClass(MultiplyBeta as never);
  for (const scale of [2, 3, 4, 8]) {
    class PixelShuffle extends tf.layers.Layer {
      static className = `PixelShuffle${scale}x`;
      constructor() {
        super({});
      }
      override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
        const s = shape as tf.Shape;
        return [s[0]!, s[1]!, s[2]!, 3];
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.depthToSpace((Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D, scale, 'NHWC');
      }
    }
    tf.serialization.registerClass(PixelShuffle as never);
  }
}

/** Loads a package's model.json with its weight shards into TensorFlow.js. */
export async function loadReferenceModel(json: string): Promise<tf.LayersModel> {
  registerUpscalerLayers();
  const model = JSON.parse(fs.readFileSync(json, 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const data = Buffer.concat(model.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(path.dirname(json), p)))));
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: model.modelTopology,
      weightSpecs: model.weightsManifest.flatMap((g) => g.weights),
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    }),
  );
}
