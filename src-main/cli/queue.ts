/** `onbrand queue add|list|cancel|retry|run`: the generation queue without the UI. */
import path from 'node:path';
import { BRAND_LOOP_PRESET, type GenerationSettings, type Job } from '../core/api/index.js';
import { sizeForAspect } from '../core/diffusion/sizes.js';
import { describeHolder } from '../core/jobs/index.js';
import { listModels } from '../core/models/library.js';
import type { Rpc } from '../core/rpc.js';
import type { Services } from '../core/services.js';

export const QUEUE_HELP = `Usage: onbrand queue add PROJECT --prompt TEXT [options]
       onbrand queue list [PROJECT]
       onbrand queue cancel JOB | retry JOB
       onbrand queue run [--provider auto|cpu|cuda|dml|coreml]

add     queues batches with the project's preset (default "Brand loop": DPM++ 2M Karras, 25 steps,
        CFG 7, batch 6, 9:16, negative "text, watermark, extra limbs, mushy face"); options override it:
          --prompt TEXT  --negative TEXT  --model NAME  --preset NAME  --sampler NAME  --steps N
          --cfg X  --width W --height H | --ar W:H  --batch N  --batches N (default 3)  --seed N
list    jobs in queue order with state, images done and any error
cancel  a queued or running job (a running one keeps its finished images)
retry   a failed or cancelled job (makes only its missing images); also a job put on hold because
        Onbrand stopped twice while generating it (it does not resume by itself)
run     processes the queue headless and exits when it is empty (exit 1 if a job failed); Ctrl+C
        puts the running job back in the queue`;

export interface QueueArgs {
  prompt?: string | undefined;
  negative?: string | undefined;
  model?: string | undefined;
  preset?: string | undefined;
  sampler?: string | undefined;
  steps?: string | undefined;
  cfg?: string | undefined;
  width?: string | undefined;
  height?: string | undefined;
  ar?: string | undefined;
  batch?: string | undefined;
  batches?: string | undefined;
  seed?: string | undefined;
}

export class QueueUsageError extends Error {}

const number = (name: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new QueueUsageError(`--${name} must be a number, not "${raw}"`);
  return value;
};

export async function queueCommand(
  rpc: Rpc,
  services: Services,
  args: string[],
  values: QueueArgs,
  json: boolean,
  print: (text: string) => void,
): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add': {
      if (rest.length !== 1) throw new QueueUsageError('give exactly one PROJECT');
      if (!values.prompt) throw new QueueUsageError('--prompt is required');
      const project = services.projects.find(rest[0]!);
      const presets = services.presets.list(project.id);
      const preset = values.preset ? presets.find((p) => p.name.toLowerCase() === values.preset!.toLowerCase()) : BRAND_LOOP_PRESET;
      if (!preset) throw new QueueUsageError(`--preset: no preset "${values.preset}" (presets: ${presets.map((p) => p.name).join(', ')})`);
      const models = listModels(services.config.modelsDir, path.join(services.config.modelsDir, 'loras')).models;
      const model = values.model ?? models[0]?.name;
      if (!model) throw new QueueUsageError(`--model is required: no models in ${services.config.modelsDir}`);
      if ((values.width === undefined) !== (values.height === undefined)) throw new QueueUsageError('--width and --height go together (or use --ar)');
      const size = values.width !== undefined ? { width: number('width', values.width)!, height: number('height', values.height)! } : values.ar ? sizeForAspect(values.ar) : undefined;
      const settings: GenerationSettings = {
        ...preset.settings,
        model,
        ...(values.sampler ? { sampler: values.sampler as GenerationSettings['sampler'] } : {}),
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
      else for (const job of jobs) print(`Queued job ${job.id}: ${job.batchSize} × ${job.settings.width}×${job.settings.height}, seeds ${job.seed}–${job.seed + job.batchSize - 1}`);
      return 0;
    }
    case 'list': {
      const project = rest[0] ? services.projects.find(rest[0]) : undefined;
      const jobs = (await rpc.invoke('queue.list', project ? { projectId: project.id } : {})) as Job[];
      if (json) print(JSON.stringify(jobs, null, 2));
      else if (jobs.length === 0) print('The queue is empty.');
      else {
        for (const job of jobs) {
          print(`${String(job.id).padStart(4)}  ${job.state.padEnd(9)}  ${job.imagesDone}/${job.batchSize}  seed ${job.seed}  ${job.prompt.slice(0, 60)}${job.error ? `  (${job.error})` : ''}`);
        }
      }
      return 0;
    }
    case 'cancel':
    case 'retry': {
      if (rest.length !== 1 || !/^\d+$/.test(rest[0]!)) throw new QueueUsageError(`give one JOB id to ${sub}`);
      const job = (await rpc.invoke(sub === 'cancel' ? 'queue.cancel' : 'queue.retry', { jobId: Number(rest[0]) })) as Job;
      print(json ? JSON.stringify(job, null, 2) : `Job ${job.id}: ${sub === 'cancel' && job.state === 'running' ? 'cancelling (finished images are kept)' : job.state}`);
      return 0;
    }
    case 'run': {
      const failed = new Set<number>();
      let engineLine = '';
      const stop = services.events.subscribe((event) => {
        if (event.type === 'images.added') for (const image of event.payload.images) print(json ? JSON.stringify({ image: image.path, seed: image.seed }) : `Wrote ${image.path} (seed ${image.seed})`);
        if (event.type === 'job.updated' && ['done', 'failed', 'cancelled'].includes(event.payload.state)) {
          if (event.payload.state === 'failed') failed.add(event.payload.id);
          print(json ? JSON.stringify({ job: event.payload.id, state: event.payload.state, error: event.payload.error }) : `Job ${event.payload.id} ${event.payload.state}${event.payload.error ? `: ${event.payload.error}` : ''}`);
        }
        if (event.type === 'engine.status' && !json && event.payload.state === 'running' && event.payload.model) {
          const line = `Engine: ${event.payload.model} on ${String(event.payload.provider).toUpperCase()}${event.payload.fallbacks.length ? ` (fallback from ${event.payload.fallbacks.join('; ')})` : ''}`;
          if (line !== engineLine) print((engineLine = line));
        }
      });
      // Ctrl+C is a normal stop, not a crash: closing puts the running job back in the queue
      // without counting it towards the crash-loop guard.
      const interrupt = (): void => void services.close().finally(() => process.exit(130));
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      try {
        const recovered = services.queue.start('queue run', { wait: false });
        if (recovered.owner) {
          // Two owners would run the same job twice: the one running leads, this one says so.
          print(`The queue is already being run by ${describeHolder(recovered.owner)}. Jobs added with \`onbrand queue add\` run there; \`onbrand queue list\` shows them.`);
          return 1;
        }
        for (const bad of recovered.unreadable) print(`Job ${bad.id} cannot be read (${bad.reason}); kept as failed, with its prompt.`);
        if (recovered.resumed.length) print(`Resuming interrupted job${recovered.resumed.length === 1 ? '' : 's'} ${recovered.resumed.join(', ')}.`);
        if (recovered.adopted) print(`Adopted ${recovered.adopted} finished image${recovered.adopted === 1 ? '' : 's'} that were written but not recorded.`);
        await services.queue.whenIdle();
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
        stop();
      }
      return failed.size > 0 ? 1 : 0;
    }
    default:
      throw new QueueUsageError(`unknown subcommand "${sub ?? ''}" (add, list, cancel, retry, run)`);
  }
}
