/**
 * The generation queue with the real engine in its worker thread (the built dist/ worker) and a
 * tiny model: crash safety with a real process kill, cancel, retry, unreadable jobs, reorder.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BRAND_LOOP_PRESET, type AppEvent, type GenerationSettings } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { writeTinySd } from '../diffusion/testing/tiny-sd.js';
import { createServices, type Services } from '../services.js';
import { appPackage } from '../util/app-root.js';

const ROOT = appPackage().root;
const BIN = path.join(ROOT, 'dist', 'main', 'cli', 'bin.js');
let models: string;
const open: Services[] = [];

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'main', 'core', 'jobs', 'worker.js'))) throw new Error('Build first (npm run build): the queue runs the built worker.');
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

function until<T extends AppEvent['type']>(services: Services, type: T, test: (payload: Extract<AppEvent, { type: T }>['payload']) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const stop = services.events.subscribe((event) => {
      if (event.type === type && (test as (payload: unknown) => boolean)(event.payload)) {
        stop();
        resolve();
      }
    });
  });
}

function filesOf(folder: string): string[] {
  const generations = path.join(folder, 'generations');
  if (!fs.existsSync(generations)) return [];
  return fs.readdirSync(generations).flatMap((day) => fs.readdirSync(path.join(generations, day)).map((f) => path.join(day, f)));
}

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
    const files = filesOf(project.folder);
    expect(files).toHaveLength(9);
    expect(files[0]).toMatch(/^\d{8}[/\\]job\d+_01_100\.png$/);
    expect(services.images.list(project.id).every((i) => i.thumbPath && fs.existsSync(i.thumbPath))).toBe(true);
    expect(services.queue.list(project.id)[0]!.gpuSeconds).toBeGreaterThan(0);
    expect(services.timelog.snapshot(project.id).phases.find((p) => p.phase === 'generate')!.gpuSeconds).toBeGreaterThan(0);
  });

  it('cancel keeps the finished images; retry makes only the missing ones', async () => {
    const { services } = workspace();
    const project = services.projects.create({ name: 'Cancel' });
    services.queue.start();
    const [job] = services.queue.add(project.id, 'portrait', '', settings({ batchSize: 16, width: 512, height: 512, steps: 8 }), 1, 7);
    await until(services, 'images.added', () => services.images.jobIndices(job!.id).size >= 2);
    services.queue.cancel(job!.id);
    await until(services, 'job.updated', (j) => j.id === job!.id && j.state === 'cancelled');
    const kept = services.images.jobIndices(job!.id).size;
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(16);
    expect(filesOf(project.folder)).toHaveLength(kept);

    services.queue.retry(job!.id);
    await services.queue.whenIdle();
    const after = services.queue.list(project.id)[0]!;
    expect([after.state, after.imagesDone]).toEqual(['done', 16]);
    expect(filesOf(project.folder)).toHaveLength(16);
    expect(services.images.list(project.id).map((i) => i.seed).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 16 }, (_, i) => 7 + i));
  });

  it('reports and drops a job row with garbage settings; the others still run', async () => {
    const { services } = workspace();
    const project = services.projects.create({ name: 'Garbage' });
    services.db.prepare("INSERT INTO jobs (project_id, prompt, settings, batch_size, seed, position, created_at) VALUES (?, 'x', '{\"sampler\":\"Heun\"}', 2, 1, 0, ?)").run(project.id, new Date().toISOString());
    services.queue.add(project.id, 'portrait', '', settings({ batchSize: 2 }), 1, 5);
    const recovered = services.queue.start();
    expect(recovered.unreadable).toHaveLength(1);
    expect(recovered.unreadable[0]!.reason).toMatch(/settings/);
    await services.queue.whenIdle();
    const jobs = services.queue.list(project.id);
    expect(jobs.map((j) => [j.state, j.imagesDone])).toEqual([['done', 2]]);
    expect(services.db.prepare('SELECT COUNT(*) AS n FROM jobs').get()).toEqual({ n: 1 });
  });

  it('refuses a model that is not there, naming the field', () => {
    const { services } = workspace();
    const project = services.projects.create({ name: 'NoModel' });
    expect(() => services.queue.add(project.id, 'x', '', settings({ model: 'sd-nope' }), 1)).toThrow(/No model "sd-nope"/);
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
    services.events.subscribe((e) => e.type === 'job.updated' && e.payload.state === 'running' && !order.includes(e.payload.id) && order.push(e.payload.id));
    services.queue.resume();
    await until(services, 'job.updated', (j) => j.id === jobs[1]!.id && j.state === 'done');
    expect(order).toEqual([jobs[2]!.id, jobs[0]!.id, jobs[1]!.id]);
  });
});

describe('crash safety', () => {
  it('a real kill mid-job loses no finished image; on restart the job resumes and every image is there exactly once', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-crash-'));
    const env = { ...process.env, ONBRAND_DATA_DIR: dataDir, ONBRAND_MODELS_DIR: models };
    const cli = (args: string[]): Promise<{ code: number | null; out: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [BIN, ...args], { env });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        child.on('exit', (code) => resolve({ code, out }));
      });
    expect((await cli(['projects', 'create', 'Crash'])).code).toBe(0);
    expect((await cli(['queue', 'add', 'Crash', '--prompt', 'portrait', '--width', '512', '--height', '512', '--steps', '8', '--batch', '16', '--batches', '1', '--seed', '40'])).code).toBe(0);

    // Kill the process (and its engine worker) with SIGKILL after the third image is written.
    const killed = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'queue', 'run', '--provider', 'cpu'], { env });
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if ((out.match(/^Wrote /gm) ?? []).length >= 3) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve(out));
    });
    expect(killed).not.toMatch(/Job 1 done/);

    const dbFile = path.join(dataDir, 'catalog.sqlite');
    const peek = (): { state: string; images: number; indices: number } => {
      const db = new Database(dbFile, { readonly: true });
      try {
        return db
          .prepare("SELECT (SELECT state FROM jobs WHERE id = 1) AS state, COUNT(*) AS images, COUNT(DISTINCT batch_index) AS indices FROM images WHERE job_id = 1")
          .get() as { state: string; images: number; indices: number };
      } finally {
        db.close();
      }
    };
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

  it('adopts image files that were written but not recorded, never duplicating them', async () => {
    const { services, dataDir } = workspace();
    const project = services.projects.create({ name: 'Adopt' });
    services.queue.start();
    const [job] = services.queue.add(project.id, 'portrait', '', settings({ batchSize: 4 }), 1, 3);
    await services.queue.whenIdle();
    const before = filesOf(project.folder).map((f) => fs.readFileSync(path.join(project.folder, 'generations', f)));
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
    const files = filesOf(project.folder);
    expect(files).toHaveLength(4);
    expect(files.map((f) => fs.readFileSync(path.join(project.folder, 'generations', f)))).toEqual(before);
  });
});
