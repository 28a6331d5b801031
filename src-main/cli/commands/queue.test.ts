import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../core/api/index.js';
import { writeTinySd } from '../../core/diffusion/testing/tiny-sd.js';
import { cliTestFolder, type CliResult } from '../capture.js';

const cli = cliTestFolder('onbrand-cli-queue-');
beforeEach(cli.setUp);
afterEach(cli.tearDown);

/** The CLI with this test's data folder and models folder. */
const onbrand = (...args: string[]): Promise<CliResult> => cli.onbrand('--models-dir', path.join(cli.root, 'models'), ...args);

describe('onbrand queue', () => {
  it('add queues batches with the preset and the first installed model; list, cancel and retry manage them', async () => {
    writeTinySd(path.join(cli.root, 'models', 'tiny'));
    expect((await onbrand('projects', 'create', 'Drop')).code).toBe(0);
    const options = ['--batches', '2', '--batch', '2', '--seed', '5', '--ar', '1:1'];
    const added = await onbrand('queue', 'add', 'Drop', '--prompt', 'teal rim light', ...options);
    expect(added.err).toBe('');
    expect(added.out).toBe('Queued job 1: 2 × 512×512, seeds 5–6\nQueued job 2: 2 × 512×512, seeds 7–8\n');
    const jobs = JSON.parse((await onbrand('--json', 'queue', 'list', 'Drop')).out) as Job[];
    expect(jobs.map((j) => [j.id, j.state, j.settings.model, j.settings.sampler, j.negativePrompt])).toEqual([
      [1, 'queued', 'tiny', 'DPM++ 2M Karras', 'text, watermark, extra limbs, mushy face'],
      [2, 'queued', 'tiny', 'DPM++ 2M Karras', 'text, watermark, extra limbs, mushy face'],
    ]);
    expect((await onbrand('queue', 'cancel', '1')).out).toBe('Job 1: cancelled\n');
    const listed = (await onbrand('queue', 'list')).out.split('\n');
    expect(listed).toEqual(['   1  cancelled  0/2  seed 5  teal rim light', '   2  queued     0/2  seed 7  teal rim light', '']);
    expect((await onbrand('queue', 'retry', '1')).out).toBe('Job 1: queued\n');
    expect(await onbrand('queue', 'cancel', '99')).toEqual({ code: 1, out: '', err: 'onbrand queue: No job with id 99.\n' });
    // A queue with nothing to run: `queue run` takes the queue, finds it empty and exits 0.
    for (const id of ['1', '2']) await onbrand('queue', 'cancel', id);
    expect(await onbrand('queue', 'run')).toEqual({ code: 0, out: '', err: '' });

    // --schedule takes A1111's label or ComfyUI's name; the job keeps it.
    const lightning = await onbrand(
      '--json',
      'queue',
      'add',
      'Drop',
      '--prompt',
      'p',
      '--sampler',
      'Euler',
      '--schedule',
      'sgm_uniform',
      '--batches',
      '1',
    );
    expect((JSON.parse(lightning.out) as Job[])[0]!.settings).toMatchObject({ sampler: 'Euler', scheduleType: 'SGM Uniform' });
  });

  it('usage errors name the argument (exit code 2)', async () => {
    expect((await onbrand('projects', 'create', 'Drop')).code).toBe(0);
    const cases: [string[], string][] = [
      [['queue'], 'unknown subcommand "" (add, list, cancel, retry, run)'],
      [['queue', 'add', 'Drop'], '--prompt is required'],
      [['queue', 'add', 'Drop', '--prompt', 'p'], `--model is required: no models in ${path.join(cli.root, 'models')}`],
      [['queue', 'add', 'Drop', '--prompt', 'p', '--preset', 'Nope'], '--preset: no preset "Nope" (presets: Brand loop)'],
      [['queue', 'add', 'Drop', '--prompt', 'p', '--model', 'm', '--width', '512'], '--width and --height go together (or use --ar)'],
      [['queue', 'add', 'Drop', '--prompt', 'p', '--model', 'm', '--steps', 'many'], '--steps must be a number, not "many"'],
      [
        ['queue', 'add', 'Drop', '--prompt', 'p', '--model', 'm', '--schedule', 'trailing'],
        '--schedule: Unknown schedule type "trailing": use one of Automatic, Karras, SGM Uniform',
      ],
      [['queue', 'retry', 'one'], 'give one JOB id to retry'],
      [['queue', 'list', '--provider', 'tpu'], '--provider must be auto, cpu, cuda, dml, coreml or webgpu, not "tpu"'],
    ];
    for (const [args, message] of cases) {
      const result = await onbrand(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.err).toBe(`onbrand queue: ${message}\nRun "onbrand queue --help" for usage.\n`);
    }
    expect(fs.readdirSync(cli.dataDir)).toContain('catalog.sqlite');
    expect(JSON.parse((await onbrand('--json', 'queue', 'list')).out)).toEqual([]);
  });
});
