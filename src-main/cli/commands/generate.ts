/** `onbrand generate`: Stable Diffusion from the command line, every image reproducible by its seed. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  checkSettings,
  DiffusionEngine,
  GenerationError,
  MAX_PROMPT,
  parseSamplerName,
  parseScheduleType,
  PROVIDERS,
  sizeForAspect,
  type GenerateSettings,
  type ProviderChoice,
} from '../../core/diffusion/index.js';
import { freeFileName, writeAtomically } from '../../core/util/index.js';
import type { Command } from '../context.js';
import { plural, seconds } from '../format.js';
import type { CliValues } from '../options.js';
import { decimal, integer, UsageError } from '../usage.js';

/** Resolves `--model`: a folder path, or a folder name inside the models folder. */
function modelDir(raw: string | undefined, modelsDir: string): string {
  if (!raw) throw new UsageError('--model is required: an installed model (onbrand models list) or a model folder');
  // A bare name is an installed model first, then a folder in the working directory.
  const named = path.join(modelsDir, raw);
  if (!/[\\/]/.test(raw) && fs.existsSync(named)) return named;
  const direct = path.resolve(raw);
  if (fs.existsSync(direct)) return direct;
  throw new UsageError(`--model: no such folder: ${raw} (looked in ${process.cwd()} and ${modelsDir})`);
}

interface GenerateResult {
  model: string;
  provider: string;
  providerFallbacks: { provider: string; error: string }[];
  sampler: string;
  scheduleType: string;
  steps: number;
  cfg: number;
  width: number;
  height: number;
  seed: number;
  elapsedMs: number;
  files: { path: string; seed: number }[];
}

interface Folders {
  modelsDir: string;
  /** Where built graphs are cached (the data folder's graph-cache). */
  graphCacheDir: string;
}

/** Checks every option, loads the model and writes each image as soon as it is decoded. */
async function generateImages(
  args: CliValues,
  { modelsDir, graphCacheDir }: Folders,
  log: (line: string) => void,
  progress: ((line: string) => void) | null,
): Promise<GenerateResult> {
  if (!args.prompt) throw new UsageError('--prompt is required');
  for (const [flag, text] of [
    ['--prompt', args.prompt],
    ['--negative', args.negative ?? ''],
  ] as const) {
    if (text.length > MAX_PROMPT) throw new UsageError(`${flag} is ${text.length} characters; at most ${MAX_PROMPT} are accepted`);
  }
  if (!args.out) throw new UsageError('--out is required: the folder for the images');
  const dir = modelDir(args.model, modelsDir);
  const provider = (args.provider ?? 'auto') as ProviderChoice;
  if (provider !== 'auto' && !PROVIDERS.includes(provider)) {
    throw new UsageError(`--provider must be auto, ${PROVIDERS.join(', ')}, not "${args.provider}"`);
  }
  let sampler;
  try {
    sampler = parseSamplerName(args.sampler ?? 'DPM++ 2M Karras');
  } catch (error) {
    throw new UsageError(`--sampler: ${(error as Error).message}`);
  }
  let scheduleType;
  try {
    scheduleType = parseScheduleType(args.schedule ?? 'Automatic');
  } catch (error) {
    throw new UsageError(`--schedule: ${(error as Error).message}`);
  }
  if (sampler === 'DDIM' && scheduleType !== 'Automatic')
    throw new UsageError(`--schedule: DDIM walks its own timesteps; use --schedule Automatic, or another sampler for ${scheduleType}`);
  if ((args.width === undefined) !== (args.height === undefined)) throw new UsageError('--width and --height go together (or use --ar)');
  if (args.width !== undefined && args.ar !== undefined) throw new UsageError('give either --width/--height or --ar, not both');
  if (args.strength !== undefined && args.init === undefined) throw new UsageError('--strength needs --init IMG');
  if (args.init !== undefined && !fs.existsSync(args.init)) throw new UsageError(`--init: no such file: ${args.init}`);
  const random = args.seed === undefined || args.seed === '-1';
  const seed = random ? crypto.randomBytes(4).readUInt32BE() : integer('seed', args.seed, 0, 0, 0xffffffff);

  const started = performance.now();
  if (args.graphs !== undefined && args.graphs !== 'onbrand' && args.graphs !== 'exported') {
    throw new UsageError(`--graphs must be onbrand or exported, not "${args.graphs}"`);
  }
  const rawBudget = args['memory-budget'];
  const budgetMb = rawBudget === undefined ? undefined : integer('memory-budget', rawBudget, 0, 64, 1_048_576);
  const engine = new DiffusionEngine({
    loraDir: path.resolve(args['lora-dir'] ?? path.join(modelsDir, 'loras')),
    graphCacheDir,
    ...(budgetMb !== undefined ? { memoryBudgetBytes: budgetMb * 1024 * 1024 } : {}),
    exportedGraphs: args.graphs === 'exported',
    onLog: log,
  });
  try {
    const model = await engine.load(dir, provider);
    for (const attempt of model.attempts) log(`Provider ${attempt.provider} unavailable (${attempt.error}); trying the next.`);
    const graphs = model.graphs === 'onbrand' ? "Onbrand's graphs" : "the folder's own graphs";
    log(`Model ${model.folder.name} on ${model.provider.toUpperCase()} (${graphs})`);

    let size: { width: number; height: number };
    try {
      size =
        args.width !== undefined
          ? { width: integer('width', args.width, 0, 64, 4096), height: integer('height', args.height, 0, 64, 4096) }
          : sizeForAspect(args.ar ?? '9:16', model.family);
    } catch (error) {
      throw error instanceof UsageError ? error : new UsageError((error as Error).message);
    }
    const settings: GenerateSettings = {
      prompt: args.prompt,
      negativePrompt: args.negative ?? '',
      seed,
      steps: integer('steps', args.steps, 25, 1, 150),
      cfg: decimal('cfg', args.cfg, 7, 0, 30),
      sampler,
      scheduleType,
      width: size.width,
      height: size.height,
      batchSize: integer('batch', args.batch, 1, 1, 16),
      ...(args.init ? { init: { image: path.resolve(args.init), strength: decimal('strength', args.strength, 0.75, 0.01, 1) } } : {}),
    };
    checkSettings(settings);
    const outDir = path.resolve(args.out);
    fs.mkdirSync(outDir, { recursive: true });
    const files: { path: string; seed: number }[] = [];
    await engine.generate(settings, {
      previewEvery: 0,
      onWarning: (message) => log(`Warning: ${message}`),
      onProgress: (p) => progress?.(`step ${p.step}/${p.steps}, about ${Math.ceil(p.etaMs / 1000)} s left`),
      onImage: async (image) => {
        // Each image is written as soon as it is decoded: a later failure loses nothing finished.
        const name = await freeFileName(outDir, `${image.seed}.png`);
        const file = path.join(outDir, name);
        await writeAtomically(file, (temp) => fs.promises.writeFile(temp, image.png), { overwrite: false });
        files.push({ path: file, seed: image.seed });
        log(`Wrote ${file} (seed ${image.seed})`);
      },
    });
    return {
      model: model.folder.dir,
      provider: model.provider,
      providerFallbacks: model.attempts,
      sampler,
      scheduleType,
      steps: settings.steps,
      cfg: settings.cfg,
      width: settings.width,
      height: settings.height,
      seed,
      elapsedMs: Math.round(performance.now() - started),
      files,
    };
  } catch (error) {
    if (error instanceof GenerationError && error.reason === 'invalid_settings') throw new UsageError(error.message);
    throw error;
  } finally {
    await engine.dispose();
  }
}

export const generate: Command = {
  name: 'generate',
  summary: ['generate --model NAME --prompt TEXT --out DIR  generate images with Stable Diffusion'],
  help: `Usage: onbrand generate --model NAME|DIR --prompt TEXT --out DIR [options]

Generates images with a Stable Diffusion 1.x / 2.x model: an installed model (onbrand models list),
a diffusers folder or a diffusers ONNX folder. Image i of a batch
uses seed + i and equals that seed generated alone. Each PNG carries its parameters (A1111 format).

Options:
  --model NAME|DIR     an installed model's name, or a model folder
  --prompt TEXT        the prompt; (word) and (word:1.3) add emphasis, [word] lowers it, BREAK starts a new chunk
  --negative TEXT      negative prompt (default: none)
  --seed N             0 to 4294967295 (default: random, printed and recorded)
  --steps N            sampling steps (default 25)
  --cfg X              classifier-free guidance scale (default 7)
  --sampler NAME       Euler, "Euler a", "DPM++ 2M", "DPM++ 2M Karras" (default), "DPM++ SDE Karras", DDIM, LCM
  --schedule TYPE      the sigmas the sampler walks, as A1111's "Schedule type": Automatic (default, the sampler's own),
                       Karras, or "SGM Uniform" (the spacing SDXL-Lightning, Hyper-SD, Turbo and LCM drafts need; not with DDIM)
  --width W --height H size in pixels, multiples of 8
  --ar W:H             aspect instead of a size: 9:16 (default), 4:5, 1:1, 16:9, or any ratio
  --batch N            images in one batch (default 1)
  --lora-dir DIR       LoRA folder (default native-models/loras)
  --init IMG           img2img: start from this image
  --strength X         img2img: how much to repaint, above 0 to 1 (default 0.75)
  --provider NAME      auto (default), cpu, cuda, dml, coreml or webgpu
  --memory-budget MB   memory for one UNet call; larger batches are split (default: a sixteenth of RAM, 512–1024, on the CPU)
  --graphs KIND        onbrand (default: Onbrand's graphs built from the model's weights) or exported (the folder's own)
  --out DIR            where the PNGs go (created if missing; nothing is overwritten)
  --json               print one JSON object listing every file with its seed`,

  async run(ctx, args) {
    const { json, print, err } = ctx;
    if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}" (quote the prompt: --prompt "…")`);
    const { modelsDir, dataDir } = ctx.config();
    // With --json, stdout is the one JSON object: the log goes to stderr.
    const log = (line: string): void => void (json ? err.write(`${line}\n`) : print(line));
    const interactive = !json && ctx.tty;
    const progress = interactive ? (line: string) => void err.write(`\r${line}`.padEnd(60)) : null;
    const result = await generateImages(ctx.values, { modelsDir, graphCacheDir: path.join(dataDir, 'graph-cache') }, log, progress);
    if (interactive) err.write('\r'.padEnd(60) + '\r');
    if (json) print(JSON.stringify(result, null, 2));
    else print(`Generated ${plural(result.files.length, 'image')} in ${seconds(result.elapsedMs)} (seed ${result.seed}).`);
    return 0;
  },
};
