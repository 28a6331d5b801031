/** `onbrand upscale`: ESRGAN upscaling from the command line. */
import path from 'node:path';
import { Upscaler } from '../../core/upscale/index.js';
import type { Command } from '../context.js';
import { seconds } from '../format.js';
import { provider, UsageError } from '../usage.js';

export const upscale: Command = {
  name: 'upscale',
  summary: ['upscale --model NAME IN OUT    ESRGAN upscaling (esrgan-slim|medium|thick ×2/3/4/8 or an ONNX model)'],
  help: `Usage: onbrand upscale --model NAME|FILE [--scale 2|3|4|8] [--provider auto|cpu|cuda|dml|coreml|webgpu] [--tile N] IN OUT

Upscales IN into OUT (PNG, JPEG or WebP by extension; never over an existing file), tiled with
blended overlaps so large images need little memory. Models: esrgan-slim, esrgan-medium,
esrgan-thick (trained ESRGAN models, converted to ONNX on first use or by "npm run models";
--scale 2, 3, 4 (default) or 8), the name of an .onnx model in native-models/upscalers/ (e.g. a
Real-ESRGAN x4plus export, NCHW float input in 0..1; its scale is read from the model), or a path
to an .onnx file.`,

  async run(ctx, args) {
    const { values, json, print, err } = ctx;
    if (!values.model) throw new UsageError('--model is required (esrgan-slim, esrgan-medium, esrgan-thick or an .onnx model)');
    if (args.length !== 2) throw new UsageError('give IN and OUT');
    const scale = values.scale === undefined ? undefined : Number(values.scale);
    if (scale !== undefined && ![2, 3, 4, 8].includes(scale)) throw new UsageError(`--scale must be 2, 3, 4 or 8, not "${values.scale}"`);
    const device = provider(values.provider);
    const tile = values.tile === undefined ? undefined : Number(values.tile);
    if (tile !== undefined && (!Number.isInteger(tile) || tile < 32 || tile > 2048)) {
      throw new UsageError(`--tile must be a whole number from 32 to 2048, not "${values.tile}"`);
    }
    // The tile counter is redrawn in place on a terminal, even with --json (it goes to stderr).
    const progress = ctx.tty ? (line: string) => err.write(line) : null;
    const upscaler = new Upscaler(path.join(ctx.config().modelsDir, 'upscalers'), device);
    try {
      const [input, output] = [path.resolve(args[0]!), path.resolve(args[1]!)];
      const result = await upscaler.upscaleFile(input, output, values.model, scale, {
        ...(tile ? { tile } : {}),
        onProgress: (done, total) => progress?.(`\rtile ${done}/${total}`),
      });
      if (progress) progress('\r'.padEnd(30) + '\r');
      if (json) print(JSON.stringify({ output, ...result }, null, 2));
      else {
        for (const f of result.fallbacks) print(`Provider ${f.provider} unavailable (${f.error}); trying the next.`);
        const how = `×${result.scale} with ${result.model} on ${result.provider.toUpperCase()}`;
        print(`Upscaled ${how}: ${result.width}×${result.height} → ${args[1]} in ${seconds(result.elapsedMs)}`);
      }
      return 0;
    } finally {
      await upscaler.dispose();
    }
  },
};
