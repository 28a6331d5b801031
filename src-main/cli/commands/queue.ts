/** `onbrand queue add|list|cancel|retry|run`: the generation queue without the UI. */
import path from 'node:path';
import { BRAND_LOOP_PRESET, type AppEvent, type GenerationSettings, type Job } from '../../core/api/index.js';
import { parseScheduleType, sizeForAspect } from '../../core/diffusion/index.js';
import { describeHolder } from '../../core/jobs/index.js';
import { listModels } from '../../core/models/index.js';
import type { Command, CommandContext } from '../context.js';
import { plural } from '../format.js';
import { UsageError } from '../usage.js';

const number = (name: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name} must be a number, not "${raw}"`);
  return value;
};

function scheduleType(raw: string): NonNullable<GenerationSettings['scheduleType']> {
  try {
    return parseScheduleType(raw);
  } catch (error) {
    throw new UsageError(`--schedule: ${(error as Error).message}`);
  }
}

async function add(ctx: CommandContext, args: string[]): Promise<number> {
  const { services, rpc } = ctx.services();
  const { values, json, print } = ctx;
  if (args.length !== 1) throw new UsageError('give exactly one PROJECT');
  if (!values.prompt) throw new UsageError('--prompt is required');
  const project = services.projects.find(args[0]!);
  const presets = services.presets.list(project.id);
  const named = values.preset;
  const preset = named ? presets.find((p) => p.name.toLowerCase() === named.toLowerCase()) : BRAND_LOOP_PRESET;
  if (!preset) throw new UsageError(`--preset: no preset "${named}" (presets: ${presets.map((p) => p.name).join(', ')})`);
  const { modelsDir } = services.config;
  const installed = listModels(modelsDir, path.join(modelsDir, 'loras')).models;
  const model = values.model ?? installed[0]?.name;
  if (!model) throw new UsageError(`--model is required: no models in ${modelsDir}`);
  // `--ar` gives the model family's size (SDXL's buckets for an SDXL model).
  const family = installed.find((m) => m.name === model || m.dir === model)?.family ?? 'sd1';
  if ((values.width === undefined) !== (values.height === undefined)) {
    throw new UsageError('--width and --height go together (or use --ar)');
  }
  const size =
    values.width !== undefined
      ? { width: number('width', values.width)!, height: number('height', values.height)! }
      : values.ar
        ? sizeForAspect(values.ar, family)
        : undefined;
  const settings: GenerationSettings = {
    ...preset.settings,
    model,
    ...(values.sampler ? { sampler: values.sampler as GenerationSettings['sampler'] } : {}),
    ...(values.schedule !== undefined ? { scheduleType: scheduleType(values.schedule) } : {}),
    ...(values.steps !== undefined ? { steps: number('steps', values.steps)! } : {}),
    ...(values.cfg !== undefined ? { cfg: number('cfg', values.cfg)! } : {}),
    ...(size ?? {}),
    ...(values.ar ? { aspect: values.ar } : size ? { aspect: `${size.width}:${size.height}` } : {}),
    ...(values.batch !== undefined ? { batchSize: number('batch', values.batch)! } : {}),
  };
  if (settings.aspect.length > 5) settings.aspect = preset.settings.aspect; // a pixel ratio like 576:1024 is not an aspect label
  const seed = number('seed', values.seed);
  const jobs = (await rpc.invoke('queue.add', {
    projectId: project.id,
    prompt: values.prompt,
    negativePrompt: values.negative ?? preset.negativePrompt,
    settings,
    batches: number('batches', values.batches) ?? 3,
    ...(seed !== undefined ? { seed } : {}),
  })) as Job[];
  if (json) print(JSON.stringify(jobs, null, 2));
  else {
    for (const job of jobs) {
      const { width, height } = job.settings;
      print(`Queued job ${job.id}: ${job.batchSize} × ${width}×${height}, seeds ${job.seed}–${job.seed + job.batchSize - 1}`);
    }
  }
  return 0;
}

async function list(ctx: CommandContext, args: string[]): Promise<number> {
  const { services, rpc } = ctx.services();
  const project = args[0] ? services.projects.find(args[0]) : undefined;
  const jobs = (await rpc.invoke('queue.list', project ? { projectId: project.id } : {})) as Job[];
  if (ctx.json) ctx.print(JSON.stringify(jobs, null, 2));
  else if (jobs.length === 0) ctx.print('The queue is empty.');
  else {
    for (const job of jobs) {
      const progress = `${job.imagesDone}/${job.batchSize}`;
      const error = job.error ? `  (${job.error})` : '';
      ctx.print(`${String(job.id).padStart(4)}  ${job.state.padEnd(9)}  ${progress}  seed ${job.seed}  ${job.prompt.slice(0, 60)}${error}`);
    }
  }
  return 0;
}

async function cancelOrRetry(ctx: CommandContext, sub: 'cancel' | 'retry', args: string[]): Promise<number> {
  const { rpc } = ctx.services();
  if (args.length !== 1 || !/^\d+$/.test(args[0]!)) throw new UsageError(`give one JOB id to ${sub}`);
  const job = (await rpc.invoke(sub === 'cancel' ? 'queue.cancel' : 'queue.retry', { jobId: Number(args[0]) })) as Job;
  const state = sub === 'cancel' && job.state === 'running' ? 'cancelling (finished images are kept)' : job.state;
  ctx.print(ctx.json ? JSON.stringify(job, null, 2) : `Job ${job.id}: ${state}`);
  return 0;
}

/** Runs the queue here until it is empty; exit 1 when a job failed. */
async function runQueue(ctx: CommandContext): Promise<number> {
  const { services } = ctx.services();
  const { json, print } = ctx;
  const failed = new Set<number>();
  let engineLine = '';
  const report = (event: AppEvent): void => {
    if (event.type === 'images.added') {
      for (const image of event.payload.images) {
        print(json ? JSON.stringify({ image: image.path, seed: image.seed }) : `Wrote ${image.path} (seed ${image.seed})`);
      }
    }
    if (event.type === 'job.updated' && ['done', 'failed', 'cancelled'].includes(event.payload.state)) {
      const { id, state, error } = event.payload;
      if (state === 'failed') failed.add(id);
      print(json ? JSON.stringify({ job: id, state, error }) : `Job ${id} ${state}${error ? `: ${error}` : ''}`);
    }
    if (event.type === 'engine.status' && !json && event.payload.state === 'running' && event.payload.model) {
      const { model, provider, fallbacks } = event.payload;
      const fallback = fallbacks.length ? ` (fallback from ${fallbacks.join('; ')})` : '';
      const line = `Engine: ${model} on ${String(provider).toUpperCase()}${fallback}`;
      if (line !== engineLine) print((engineLine = line));
    }
  };
  const stop = services.events.subscribe(report);
  // Ctrl+C is a normal stop, not a crash: closing puts the running job back in the queue
  // without counting it towards the crash-loop guard.
  const interrupt = (): void => void services.close().finally(() => process.exit(130));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const recovered = services.queue.start('queue run', { wait: false });
    if (recovered.owner) {
      // Two owners would run the same job twice: the one running leads, this one says so.
      print(
        `The queue is already being run by ${describeHolder(recovered.owner)}. ` +
          'Jobs added with `onbrand queue add` run there; `onbrand queue list` shows them.',
      );
      return 1;
    }
    for (const bad of recovered.unreadable) print(`Job ${bad.id} cannot be read (${bad.reason}); kept as failed, with its prompt.`);
    const { resumed, adopted } = recovered;
    if (resumed.length) print(`Resuming interrupted job${resumed.length === 1 ? '' : 's'} ${resumed.join(', ')}.`);
    if (adopted) print(`Adopted ${plural(adopted, 'finished image')} that were written but not recorded.`);
    await services.queue.whenIdle();
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    stop();
  }
  return failed.size > 0 ? 1 : 0;
}

export const queue: Command = {
  name: 'queue',
  summary: ['queue add|list|cancel|retry|run                the generation queue of the app, headless'],
  help: `Usage: onbrand queue add PROJECT --prompt TEXT [options]
       onbrand queue list [PROJECT]
       onbrand queue cancel JOB | retry JOB
       onbrand queue run [--provider auto|cpu|cuda|dml|coreml|webgpu]

add     queues batches with the project's preset (default "Brand loop": DPM++ 2M Karras, 25 steps,
        CFG 7, batch 6, 9:16, negative "text, watermark, extra limbs, mushy face"); options override it:
          --prompt TEXT  --negative TEXT  --model NAME  --preset NAME  --sampler NAME  --schedule TYPE  --steps N
          --cfg X  --width W --height H | --ar W:H  --batch N  --batches N (default 3)  --seed N
list    jobs in queue order with state, images done and any error
cancel  a queued or running job (a running one keeps its finished images)
retry   a failed or cancelled job (makes only its missing images); also a job put on hold because
        Onbrand stopped twice while generating it (it does not resume by itself)
run     processes the queue headless and exits when it is empty (exit 1 if a job failed); Ctrl+C
        puts the running job back in the queue`,

  async run(ctx, args) {
    ctx.services(); // the catalogue opens (and --provider is checked) before the arguments, as for every queue command
    const [sub, ...rest] = args;
    switch (sub) {
      case 'add':
        return add(ctx, rest);
      case 'list':
        return list(ctx, rest);
      case 'cancel':
      case 'retry':
        return cancelOrRetry(ctx, sub, rest);
      case 'run':
        return runQueue(ctx);
      default:
        throw new UsageError(`unknown subcommand "${sub ?? ''}" (add, list, cancel, retry, run)`);
    }
  },
};
