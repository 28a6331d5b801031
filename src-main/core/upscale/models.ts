/**
 * The upscalers Onbrand knows: the three trained @upscalerjs ESRGAN packages (converted to ONNX on
 * install or first use, verified against TensorFlow.js's own output on a fixed probe), and any
 * ONNX super-resolution model the user drops into `native-models/upscalers/`.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { writeAtomically } from '../util/index.js';
import { convertLayersModel } from './convert.js';

export const BUILT_IN = ['esrgan-slim', 'esrgan-medium', 'esrgan-thick'] as const;
export type BuiltIn = (typeof BUILT_IN)[number];
export const SCALES = [2, 3, 4, 8] as const;

/**
 * Σ of the output (0..1) for the probe below, from TensorFlow.js 4.11 running the packages'
 * own layers models (tf.loadLayersModel, CPU backend) — the reference each conversion must meet.
 */
export const REFERENCE_CHECKSUMS: Record<string, number> = {
  'esrgan-slim-x2': 392.113,
  'esrgan-slim-x3': 860.483,
  'esrgan-slim-x4': 1575.791,
  'esrgan-slim-x8': 6231.523,
  'esrgan-medium-x2': 380.388,
  'esrgan-medium-x3': 854.791,
  'esrgan-medium-x4': 1536.488,
  'esrgan-medium-x8': 6378.8,
  'esrgan-thick-x2': 395.452,
  'esrgan-thick-x3': 869.518,
  'esrgan-thick-x4': 1543.765,
  'esrgan-thick-x8': 6111.644,
};

/** The fixed 8×8 probe (NCHW, index i → (sin(0.37 i) + 1) / 2). */
export function probeInput(h = 8, w = 8): Float32Array {
  return Float32Array.from({ length: 3 * h * w }, (_, i) => (Math.sin(i * 0.37) + 1) / 2);
}

export interface UpscalerInfo {
  name: string;
  file: string;
  scale: number;
  builtIn: boolean;
}

const require = createRequire(import.meta.url);

/** The installed package's folder (its exports do not include package.json: walk up from its entry). */
export function packageDir(name: BuiltIn): string {
  let dir = path.dirname(require.resolve(`@upscalerjs/${name}`));
  while (!fs.existsSync(path.join(dir, 'models', 'x2', 'model.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`The @upscalerjs/${name} package has no models folder; reinstall it (npm install)`);
    dir = parent;
  }
  return dir;
}

export function packageModelJson(name: BuiltIn, scale: number): string {
  return path.join(packageDir(name), 'models', `x${scale}`, 'model.json');
}

/** Converts one built-in model into `dir` (if not there yet) and verifies it; returns its file. */
export async function ensureBuiltIn(name: BuiltIn, scale: number, dir: string): Promise<string> {
  const file = path.join(dir, `${name}-x${scale}.onnx`);
  if (fs.existsSync(file)) return file;
  const converted = convertLayersModel(packageModelJson(name, scale), { inputRange: name === 'esrgan-thick' ? [0, 1] : [0, 255] });
  const sum = await probeChecksum(converted.onnx);
  const expected = REFERENCE_CHECKSUMS[`${name}-x${scale}`]!;
  if (Math.abs(sum - expected) > Math.max(0.05, expected * 1e-4)) {
    throw new Error(
      `The converted ${name} ×${scale} gives checksum ${sum.toFixed(3)} on the probe, TensorFlow.js gives ${expected}: conversion is wrong, nothing was written`,
    );
  }
  await writeAtomically(file, (temp) => fs.promises.writeFile(temp, converted.onnx));
  return file;
}

async function probeChecksum(model: Uint8Array | string): Promise<number> {
  const session = await ort.InferenceSession.create(model as Uint8Array);
  try {
    const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', probeInput(), [1, 3, 8, 8]) });
    let sum = 0;
    for (const v of out[session.outputNames[0]!]!.data as Float32Array) sum += v;
    return Math.round(sum * 1000) / 1000;
  } finally {
    await session.release();
  }
}

/** The scale of an ONNX super-resolution model: from a static output shape, else by running an 8×8 probe. */
export async function detectScale(file: string): Promise<number> {
  const session = await ort.InferenceSession.create(file);
  try {
    const input = session.inputMetadata[0];
    const output = session.outputMetadata[0];
    if (input?.isTensor && output?.isTensor && typeof input.shape[3] === 'number' && typeof output.shape[3] === 'number')
      return output.shape[3] / input.shape[3];
    const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', probeInput(), [1, 3, 8, 8]) });
    return Number(out[session.outputNames[0]!]!.dims[3]) / 8;
  } finally {
    await session.release();
  }
}

/** Every usable upscaler: built-ins (converted or not yet) and user models in `dir`. */
export async function listUpscalers(dir: string): Promise<UpscalerInfo[]> {
  const list: UpscalerInfo[] = [];
  for (const name of BUILT_IN)
    for (const scale of SCALES) list.push({ name, scale, builtIn: true, file: path.join(dir, `${name}-x${scale}.onnx`) });
  if (fs.existsSync(dir)) {
    for (const f of fs.readdirSync(dir).sort()) {
      if (!f.toLowerCase().endsWith('.onnx') || /^esrgan-(slim|medium|thick)-x\d\.onnx$/.test(f)) continue;
      const file = path.join(dir, f);
      try {
        list.push({ name: path.basename(f, '.onnx'), file, scale: await detectScale(file), builtIn: false });
      } catch {
        // Not a super-resolution model onnxruntime can run: not offered.
      }
    }
  }
  return list;
}
