/**
 * Upscaling with a named model (esrgan-slim|medium|thick at ×2/3/4/8, or a user ONNX model) on the
 * engine's execution provider (CUDA/DirectML/CoreML/WebGPU/CPU with the same fallback), tiled.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { OnnxSession, providerOrder, type ProviderAttempt, type ProviderChoice } from '../diffusion/index.js';
import { writeAtomically } from '../util/index.js';
import { BUILT_IN, ensureBuiltIn, listUpscalers, type BuiltIn } from './models.js';
import { readRgb, upscaleRgb, type RgbImage, type TiledOptions } from './tiled.js';

export interface UpscaleResult {
  model: string;
  scale: number;
  provider: string;
  fallbacks: ProviderAttempt[];
  width: number;
  height: number;
  elapsedMs: number;
}

export class Upscaler {
  private readonly sessions = new Map<string, Promise<{ session: OnnxSession; attempts: ProviderAttempt[] }>>();

  constructor(
    readonly dir: string,
    private readonly provider: ProviderChoice = 'auto',
  ) {}

  /** Resolves a model: a built-in name (converted on first use), a user model's name in the folder, or an .onnx file. */
  async resolve(model: string, scale?: number): Promise<{ name: string; file: string; scale: number }> {
    if ((BUILT_IN as readonly string[]).includes(model)) {
      const s = scale ?? 4;
      if (![2, 3, 4, 8].includes(s)) throw new Error(`--scale must be 2, 3, 4 or 8 for ${model}, not ${s}`);
      return { name: model, file: await ensureBuiltIn(model as BuiltIn, s, this.dir), scale: s };
    }
    const file = model.toLowerCase().endsWith('.onnx') && fs.existsSync(model) ? path.resolve(model) : path.join(this.dir, `${model}.onnx`);
    if (!fs.existsSync(file)) {
      const names = (await listUpscalers(this.dir)).filter((u) => !u.builtIn).map((u) => u.name);
      throw new Error(`No upscaler "${model}": use ${[...BUILT_IN, ...names].join(', ')}, or an .onnx file`);
    }
    const info = (await listUpscalers(path.dirname(file))).find((u) => u.file === file);
    if (!info) throw new Error(`${file} is not an ONNX super-resolution model onnxruntime can run`);
    if (scale !== undefined && scale !== info.scale) throw new Error(`${path.basename(file)} upscales ×${info.scale}, not ×${scale}`);
    return { name: info.name, file, scale: info.scale };
  }

  private session(file: string): Promise<{ session: OnnxSession; attempts: ProviderAttempt[] }> {
    let pending = this.sessions.get(file);
    if (!pending) {
      pending = OnnxSession.load(file, providerOrder(this.provider));
      pending.catch(() => this.sessions.delete(file));
      this.sessions.set(file, pending);
    }
    return pending;
  }

  async upscaleImage(
    image: RgbImage,
    model: string,
    scale?: number,
    options: TiledOptions = {},
  ): Promise<{ image: RgbImage } & Omit<UpscaleResult, 'width' | 'height' | 'elapsedMs'>> {
    const resolved = await this.resolve(model, scale);
    const { session, attempts } = await this.session(resolved.file);
    const inputName = session.inputs[0]!.name;
    const result = await upscaleRgb(
      image,
      {
        scale: resolved.scale,
        run: async (tile, h, w) => Object.values(await session.run({ [inputName]: { data: tile, dims: [1, 3, h, w] } }))[0]!.data,
      },
      options,
    );
    return { image: result, model: resolved.name, scale: resolved.scale, provider: session.provider, fallbacks: attempts };
  }

  /** Upscales a file into `output` (PNG, JPEG or WebP by extension), never over an existing file. */
  async upscaleFile(input: string, output: string, model: string, scale?: number, options: TiledOptions = {}): Promise<UpscaleResult> {
    const started = performance.now();
    if (fs.existsSync(output)) throw new Error(`${output} exists; Onbrand never overwrites a file`);
    const source = await readRgb(input);
    const { image, ...rest } = await this.upscaleImage(source, model, scale, options);
    await writeAtomically(
      output,
      async (temp) => {
        const encoder = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
        const ext = path.extname(output).toLowerCase();
        await (
          ext === '.jpg' || ext === '.jpeg'
            ? encoder.jpeg({ quality: 92, mozjpeg: true })
            : ext === '.webp'
              ? encoder.webp({ quality: 92 })
              : encoder.png()
        ).toFile(temp);
      },
      { overwrite: false },
    );
    return { ...rest, width: image.width, height: image.height, elapsedMs: Math.round(performance.now() - started) };
  }

  async dispose(): Promise<void> {
    for (const pending of this.sessions.values()) await pending.then((s) => s.session.dispose()).catch(() => undefined);
    this.sessions.clear();
  }
}
