/**
 * The generation queue with the real engine in its worker thread (the built dist/ worker) and a
 * tiny model: crash safety with a real process kill, the crash-loop guard (two real kills in the
 * same job), cancel, retry, unreadable jobs, reorder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BRAND_LOOP_PRESET, type GenerationSettings } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { readPngText } from '../diffusion/index.js';
import { writeTinySd } from '../diffusion/testing/tiny-sd.js';
import { createServices, type Services } from '../services.js';
import { appPackage } from '../util/index.js';
import { cliWorkspace, generatedFiles, untilEvent, wrote, type CliWorkspace } from './testing/cli-workspace.js';

const ROOT = appPackage().root;
let models: string;
const open: Services[] = [];

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'main', 'core', 'jobs', 'worker.js')))
    throw new Error('Build first (npm run build): the queue runs the built worker.');
  models = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-queue-models-'));
  writeTinySd(path.join(models, 'tiny-sd'));
});

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

function workspace(): { dataDir: string; services: Services } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-queue-'));
  const services = createServices(resolveConfig({ dataDir, modelsDir: models }), { provider: 'cpu' });
  open.push(services);
  return { dataDir, services };
}

const settings = (over: Partial<GenerationSettings> = {}): GenerationSettings => ({
  ...BRAND_LOOP_PRESET.settings,
  model: 'tiny-sd',
  width: 64,
  height: 64,
  steps: 4,
  ...over,
});

describe('GenerationQueue', () => {
  it('runs three batches in order, writing each image into generations/YYYYMMDD and recording it once', async () => {
    const { services } = workspace();
    const project = services.projects.create({ name: 'Loop' });
    const added: number[] = [];
    services.events.subscribe((e) => e.type === 'images.added' && added.push(...e.payload.images.map((i) => i.seed ?? -1)));
    services.queue.start();
    const jobs = services.queue.add(project.id, 'portrait, teal light', 'text', settings({ batchSize: 3 }), 3, 100);
    expect(jobs.map((j) => j.seed)).toEqual([100, 103, 106]);
    await services.queue.whenIdle();
    expect(services.queue.list(project.id).map((j) => [j.state, j.imagesDone])).toEqual([
      ['done', 3],
      ['done', 3],
      ['done', 3],
    ]);
    expect(added).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108]);
    const files = generatedFiles(project.folder);
    expect(files).toHaveLength(9);
    expect(files[0]).toMatch(/^\d{8}[/\\]job\d+_01_100\.png$/);
    expect(services.images.list(project.id).every((i) => i.thumbPath && fs.existsSync(i.thumbPath))).toBe(true);
    expect(services.queue.list(project.id)[0]!.gpuSeconds).toBeGreaterThan(0);
    expect(services.timelog.snapshot(project.id).phases.find((p) => p.phase === 'generate')!.gpuSeconds).toBeGreaterThan(0);
  });

  it("passes the schedule type through the worker to the engine: the image's parameters record it", async () => {
    const { services } = workspace();
    const project = services.projects.create({ name: 'Lightning' });
    services.queue.start();
    services.queue.add(project.id, 'poster', '', settings({ sampler: 'Euler', scheduleType: 'SGM Uniform', steps: 3, batchSize: 1 }), 1, 9);
    await services.queue.whenIdle();
    expect(services.queue.list(project.id).map((j) => j.state)).toEqual(['done']);
    const [image] = services.images.list(project.id);
    const parameters = readPngText(fs.readFileSync(image!.path)).parameters!;
    expect(parameters).toContain('Steps: 3, Sampler: Euler, Schedule type: SGM Uniform, CFG scale: 7, Seed: 9,');
  });

  it('cancel keeps the finished images; retry makes only the missing ones', async () => {
    const { services } = workspace();
    const project = services.projects.create({ name: 'Cancel' });
    services.queue.start();
    const [job] = services.queue.add(project.id, 'portrait', '', settings({ batchSize: 16, width: 512, height: 512, steps: 8 }), 1, 7);
    await untilEvent(services, 'images.added', () => services.images.jobIndices(job!.id).size >= 2);
    services.queue.cancel(job!.id);
    await untilEvent(services, 'job.updated', (j) => j.id === job!.id && j.state === 'cancelled');
    const kept = services.images.jobIndices(job!.id).size;
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(16);
    expect(generatedFiles(project.folder)).toHaveLength(kept);

    services.queue.retry(job!.id);
    await services.queue.whenIdle();
    const after = services.queue.list(project.id)[0]!;
    expect([after.state, after.imagesDone]).toEqual(['done', 16]);
    expect(generatedFiles(project.folder)).toHaveLength(16);
    expect(
      services.images
        .list(project.id)
        .map((i) => i.seed)
        .sort((a, b) => a! - b!),
    ).toEqual(Array.from({ length: 16 }, (_, i) => 7 + i));
  });

  it('keeps a job whose settings no longer parse as failed, with its prompt and the reason; never runs it; the others still run', async () => {
    const { services } = workspace();
    const project = services.projects.create({ name: 'Garbage' });
    services.db
      .prepare(
        'INSERT INTO jobs (project_id, prompt, settings, batch_size, seed, position, created_at) VALUES (?, \'a prompt worth keeping\', \'{"sampler":"Heun","steps":30}\', 2, 1, 0, ?)',
      )
      .run(project.id, new Date().toISOString());
    services.queue.add(project.id, 'portrait', '', settings({ batchSize: 2 }), 1, 5);
    const recovered = services.queue.start();
    expect(recovered.unreadable).toHaveLength(1);
    expect(recovered.unreadable[0]!.reason).toMatch(/settings/);
    await services.queue.whenIdle();
    const jobs = services.queue.list(project.id);
    expect(jobs.map((j) => [j.prompt, j.state, j.imagesDone])).toEqual([
      ['a prompt worth keeping', 'failed', 0],
      ['portrait', 'done', 2],
    ]);
    const kept = jobs[0]!;
    expect(kept.error).toMatch(/^Its settings cannot be read \(settings .*\).*queue it again/);
    expect(kept.settings.steps).toBe(30); // what parses is shown
    expect(services.db.prepare('SELECT COUNT(*) AS n FROM jobs').get()).toEqual({ n: 2 });
    // Retry would run it with guessed settings: refused, with the way forward.
    expect(() => services.queue.retry(kept.id)).toThrow(/settings cannot be read .*queue the prompt again/);
    expect(services.queue.list(project.id)[0]!.state).toBe('failed');
  });

  it('refuses a model that is not there, naming the field', () => {
    const { services } = workspace();
    const project = services.projects.create({ name: 'NoModel' });
    expect(() => services.queue.add(project.id, 'x', '', settings({ model: 'sd-nope' }), 1)).toThrow(/No model "sd-nope"/);
  });

  it('refuses DDIM with a schedule type other than its own, naming the field', () => {
    const { services } = workspace();
    const project = services.projects.create({ name: 'Ddim' });
    expect(() => services.queue.add(project.id, 'x', '', settings({ sampler: 'DDIM', scheduleType: 'SGM Uniform' }), 1)).toThrow(
      expect.objectContaining({ field: 'settings.scheduleType', message: expect.stringMatching(/^DDIM walks its own timesteps/) }),
    );
    expect(services.queue.list(project.id)).toEqual([]);
  });

  it('moves queued jobs and pauses/resumes the queue', async () => {
    const { services } = workspace();
    const project = services.projects.create({ name: 'Order' });
    services.queue.pause();
    services.queue.start();
    const jobs = services.queue.add(project.id, 'a', '', settings({ batchSize: 1 }), 3, 1);
    services.queue.move(jobs[2]!.id, 0);
    expect(services.queue.list(project.id).map((j) => j.id)).toEqual([jobs[2]!.id, jobs[0]!.id, jobs[1]!.id]);
    await services.queue.whenIdle();
    expect(services.queue.list(project.id).every((j) => j.state === 'queued')).toBe(true);
    const order: number[] = [];
    services.events.subscribe(
      (e) => e.type === 'job.updated' && e.payload.state === 'running' && !order.includes(e.payload.id) && order.push(e.payload.id),
    );
    services.queue.resume();
    await untilEvent(services, 'job.updated', (j) => j.id === jobs[1]!.id && j.state === 'done');
    expect(order).toEqual([jobs[2]!.id, jobs[0]!.id, jobs[1]!.id]);
  });
});

function cliWorkspaceHere(prefix: string): CliWorkspace {
  return cliWorkspace(prefix, models);
}

describe('crash safety', () => {
  it('a real kill mid-job loses no finished image; on restart the job resumes and every image is there exactly once', async () => {
    const { dataDir, cli, killWhen, peek: peekJob } = cliWorkspaceHere('onbrand-crash-');
    expect((await cli(['projects', 'create', 'Crash'])).code).toBe(0);
    expect(
      (
        await cli([
          'queue',
          'add',
          'Crash',
          '--prompt',
          'portrait',
          '--width',
          '512',
          '--height',
          '512',
          '--steps',
          '8',
          '--batch',
          '16',
          '--batches',
          '1',
          '--seed',
          '40',
        ])
      ).code,
    ).toBe(0);

    // Kill the process (and its engine worker) with SIGKILL after the third image is written.
    const killed = await killWhen(['queue', 'run', '--provider', 'cpu'], (out) => wrote(out) >= 3);
    expect(killed).not.toMatch(/Job 1 done/);

    const peek = (): { state: string; images: number; indices: number } => peekJob(1);
    const mid = peek();
    expect(mid.state).toBe('running');
    expect(mid.images).toBeGreaterThanOrEqual(3);
    expect(mid.images).toBeLessThan(16);

    const resumed = await cli(['queue', 'run', '--provider', 'cpu']);
    expect(resumed.code).toBe(0);
    expect(resumed.out).toMatch(/Resuming interrupted job 1/);
    expect(resumed.out).toMatch(/Job 1 done/);
    const end = peek();
    expect(end).toEqual({ state: 'done', images: 16, indices: 16 });
    const folder = path.join(dataDir, 'projects', 'Crash', 'generations');
    const files = fs.readdirSync(folder).flatMap((day) => fs.readdirSync(path.join(folder, day)));
    expect(files.filter((f) => f.endsWith('.png'))).toHaveLength(16);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('crash-loop guard: killed twice in the same job, the job is put on hold with its size and batch; the app starts, the rest runs, retry runs it', async () => {
    const { dataDir, cli, killWhen, peek } = cliWorkspaceHere('onbrand-crashloop-');
    const interruptions = (jobId: number): number => {
      const db = new Database(path.join(dataDir, 'catalog.sqlite'), { readonly: true });
      try {
        return (db.prepare('SELECT interruptions FROM jobs WHERE id = ?').get(jobId) as { interruptions: number }).interruptions;
      } finally {
        db.close();
      }
    };
    expect((await cli(['projects', 'create', 'Loop'])).code).toBe(0);
    const add = (size: string, batch: string, seed: string): Promise<{ code: number | null; out: string }> =>
      cli([
        'queue',
        'add',
        'Loop',
        '--prompt',
        'portrait',
        '--width',
        size,
        '--height',
        size,
        '--steps',
        '8',
        '--batch',
        batch,
        '--batches',
        '1',
        '--seed',
        seed,
      ]);
    expect((await add('512', '16', '40')).code).toBe(0); // job 1: the one the process "dies" in
    expect((await add('64', '2', '7')).code).toBe(0); // job 2: queued behind it

    // First death: SIGKILL once job 1 has written an image.
    const first = await killWhen(['queue', 'run', '--provider', 'cpu'], (out) => wrote(out) >= 1);
    expect(first).not.toMatch(/Job 1 done/);
    const afterFirst = peek(1);
    expect(afterFirst.state).toBe('running');
    expect(afterFirst.images).toBeLessThan(16);

    // Restart: resumed as before (one death is not a loop); then the second death in the same job, after it made another image.
    const second = await killWhen(
      ['queue', 'run', '--provider', 'cpu'],
      (out) => /Resuming interrupted job 1\./.test(out) && wrote(out) >= 1,
    );
    expect(second).toMatch(/Resuming interrupted job 1\./);
    expect(second).not.toMatch(/Job 1 done/);
    const afterSecond = peek(1);
    expect(afterSecond.state).toBe('running');
    expect(afterSecond.images).toBeGreaterThan(afterFirst.images);
    expect(afterSecond.images).toBeLessThan(16);
    expect(interruptions(1)).toBe(1);

    // Restart: job 1 is on hold with the message, not resumed; the queue goes on with job 2 and the run ends normally.
    const message =
      'Onbrand stopped twice while generating this job (512×512, batch 16), so it was put on hold to let the app start. Try a smaller batch or size, or retry it as it is.';
    const third = await cli(['queue', 'run', '--provider', 'cpu']);
    expect(third.out).not.toMatch(/Resuming interrupted job 1/);
    expect(third.out).toContain(`Job 1 failed: ${message}`);
    expect(third.out).toMatch(/Job 2 done/);
    expect(third.code).toBe(1); // `queue run` exits 1 when a job failed
    const held = peek(1); // plus, at most, an image written but not recorded at the kill, adopted on start
    expect(held.state).toBe('failed');
    expect(held.images).toBeGreaterThanOrEqual(afterSecond.images);
    expect(held.images).toBeLessThan(16);
    expect(peek(2)).toEqual({ state: 'done', images: 2, indices: 2 });
    expect(interruptions(1)).toBe(2);

    // It stays on hold across starts, and `queue list` shows the state and the message.
    const idle = await cli(['queue', 'run', '--provider', 'cpu']);
    expect(idle.out).not.toMatch(/Job 1/);
    expect(peek(1).state).toBe('failed');
    const list = await cli(['queue', 'list', 'Loop']);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(new RegExp(`^\\s+1\\s+failed\\s+${held.images}/16 .*\\(${message.replace(/[.()]/g, '\\$&')}\\)$`, 'm'));
    expect(list.out).toMatch(/^\s+2\s+done\s+2\/2 /m);

    // The user retries it: it makes only its missing images, and completing clears the count.
    const retried = await cli(['queue', 'retry', '1']);
    expect([retried.code, retried.out.trim()]).toEqual([0, 'Job 1: queued']);
    const last = await cli(['queue', 'run', '--provider', 'cpu']);
    expect(last.code).toBe(0);
    expect(last.out).toMatch(/Job 1 done/);
    expect(peek(1)).toEqual({ state: 'done', images: 16, indices: 16 });
    expect(interruptions(1)).toBe(0);
  }, 90_000);

  it('a normal close puts the running job back in the queue without counting it as a crash', async () => {
    const { services, dataDir } = workspace();
    const project = services.projects.create({ name: 'Quit' });
    services.queue.start();
    const [job] = services.queue.add(project.id, 'portrait', '', settings({ batchSize: 8, width: 256, height: 256 }), 1, 3);
    await untilEvent(services, 'images.added', () => services.images.jobIndices(job!.id).size >= 1);
    await services.close();

    // Closed mid-step three times more: the engine thread is stopped between steps (queue.ts
    // stopWorker), never while onnxruntime runs, which would take this whole process down.
    for (let start = 0; start < 4; start++) {
      const again = createServices(resolveConfig({ dataDir, modelsDir: models }), { provider: 'cpu' });
      open.push(again);
      expect(again.queue.list(project.id)[0]!.state).toBe('queued');
      const running = untilEvent(again, 'job.updated', (j) => j.id === job!.id && j.state === 'running');
      expect(again.queue.start()).toMatchObject({ resumed: [], held: [] });
      if (start < 3) {
        await running;
        await again.close();
      } else {
        await again.queue.whenIdle();
        expect(again.queue.list(project.id)[0]).toMatchObject({ state: 'done', imagesDone: 8, error: null });
      }
    }
  });

  it('adopts image files that were written but not recorded, never duplicating them', async () => {
    const { services, dataDir } = workspace();
    const project = services.projects.create({ name: 'Adopt' });
    services.queue.start();
    const [job] = services.queue.add(project.id, 'portrait', '', settings({ batchSize: 4 }), 1, 3);
    await services.queue.whenIdle();
    const before = generatedFiles(project.folder).map((f) => fs.readFileSync(path.join(project.folder, 'generations', f)));
    // The state a crash between "renamed into place" and "recorded" leaves behind, plus a stray temp file.
    services.db.prepare('DELETE FROM images WHERE job_id = ?').run(job!.id);
    services.db.prepare("UPDATE jobs SET state = 'running' WHERE id = ?").run(job!.id);
    const day = fs.readdirSync(path.join(project.folder, 'generations'))[0]!;
    fs.writeFileSync(path.join(project.folder, 'generations', day, '.job1_02_4.png.abc.tmp'), 'half');
    await services.close();

    const again = createServices(resolveConfig({ dataDir, modelsDir: models }), { provider: 'cpu' });
    open.push(again);
    const recovered = again.queue.start();
    expect(recovered).toMatchObject({ resumed: [job!.id], adopted: 4 });
    await again.queue.whenIdle();
    const after = again.queue.list(project.id)[0]!;
    expect([after.state, after.imagesDone]).toEqual(['done', 4]);
    const files = generatedFiles(project.folder);
    expect(files).toHaveLength(4);
    expect(files.map((f) => fs.readFileSync(path.join(project.folder, 'generations', f)))).toEqual(before);
  });
});
