/** `onbrand upscale`: ESRGAN upscaling from the command line. */
import path from 'node:path';
import type { ProviderChoice } from '../core/diffusion/backend.js';
import { Upscaler } from '../core/upscale/index.js';
import { ColourUsageError } from './colour.js';

export const UPSCALE_HELP = `Usage: onbrand upscale --model NAME|FILE [--scale 2|3|4|8] [--provider auto|cpu|cuda|dml|coreml] [--tile N] IN OUT

Upscales IN into OUT (PNG, JPEG or WebP by extension; never over an existing file), tiled with
blended overlaps so large images need little memory. Models: esrgan-slim, esrgan-medium,
esrgan-thick (trained ESRGAN models, converted to ONNX on first use or by "npm run models";
--scale 2, 3, 4 (default) or 8), the name of an .onnx model in native-models/upscalers/ (e.g. a
Real-ESRGAN x4plus export, NCHW float input in 0..1; its scale is read from the model), or a path
to an .onnx file.`;

export interface UpscaleArgs {
  model?: string | undefined;
  scale?: string | undefined;
  provider?: string | undefined;
  tile?: string | undefined;
}

export async function upscaleCommand(
  args: string[],
  values: UpscaleArgs,
  modelsDir: string,
  json: boolean,
  print: (text: string) => void,
  progress: ((text: string) => void) | null,
): Promise<number> {
  if (!values.model) throw new ColourUsageError('--model is required (esrgan-slim, esrgan-medium, esrgan-thick or an .onnx model)');
  if (args.length !== 2) throw new ColourUsageError('give IN and OUT');
  const scale = values.scale === undefined ? undefined : Number(values.scale);
  if (scale !== undefined && ![2, 3, 4, 8].includes(scale)) throw new ColourUsageError(`--scale must be 2, 3, 4 or 8, not "${values.scale}"`);
  const provider = (values.provider ?? 'auto') as ProviderChoice;
  if (!['auto', 'cpu', 'cuda', 'dml', 'coreml'].includes(provider)) throw new ColourUsageError(`--provider must be auto, cpu, cuda, dml or coreml, not "${values.provider}"`);
  const tile = values.tile === undefined ? undefined : Number(values.tile);
  if (tile !== undefined && (!Number.isInteger(tile) || tile < 32 || tile > 2048)) throw new ColourUsageError(`--tile must be a whole number from 32 to 2048, not "${values.tile}"`);
  const upscaler = new Upscaler(path.join(modelsDir, 'upscalers'), provider);
  try {
    const result = await upscaler.upscaleFile(path.resolve(args[0]!), path.resolve(args[1]!), values.model, scale, {
      ...(tile ? { tile } : {}),
      onProgress: (done, total) => progress?.(`\rtile ${done}/${total}`),
    });
    if (progress) progress('\r'.padEnd(30) + '\r');
    if (json) print(JSON.stringify({ output: path.resolve(args[1]!), ...result }, null, 2));
    else {
      for (const f of result.fallbacks) print(`Provider ${f.provider} unavailable (${f.error}); trying the next.`);
      print(`Upscaled ×${result.scale} with ${result.model} on ${result.provider.toUpperCase()}: ${result.width}×${result.height} → ${args[1]} in ${(result.elapsedMs / 1000).toFixed(1)} s`);
    }
    return 0;
  } finally {
    await upscaler.dispose();
  }
}
