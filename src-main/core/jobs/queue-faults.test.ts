/**
 * Issue 16: one owner of the queue across processes (real second processes: the CLI beside an
 * in-process app), and faults that heal: a full disk during generation (injected ENOSPC, and a real
 * tmpfs where the machine allows), damaged files where images go, temporary files left by kills.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BRAND_LOOP_PRESET, type GenerationSettings } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { MAYBE_LATER_FOLDER } from '../curation/index.js';
import { writeTinySd } from '../diffusion/testing/tiny-sd.js';
import { createServices, type Services } from '../services.js';
import { canMountTmpfs, fillDisk, mountTmpfs } from '../util/testing/tmpfs.js';
import { generationFileName } from './queue.js';
import { CLI_BIN, cliWorkspace, generatedFiles, untilEvent, wrote } from './testing/cli-workspace.js';

let models: string;
const open: Services[] = [];

beforeAll(() => {
  if (!fs.existsSync(CLI_BIN)) throw new Error('Build first (npm run build): these tests run the built CLI and worker.');
  models = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-faults-models-'));
  writeTinySd(path.join(models, 'tiny-sd'));
});

afterEach(async () => {
  vi.restoreAllMocks();
  for (const s of open.splice(0)) await s.close();
});

const settings = (over: Partial<GenerationSettings> = {}): GenerationSettings => ({
  ...BRAND_LOOP_PRESET.settings,
  model: 'tiny-sd',
  width: 64,
  height: 64,
  steps: 4,
  ...over,
});

function app(dataDir: string): Services {
  const services = createServices(resolveConfig({ dataDir, modelsDir: models }), { provider: 'cpu' });
  open.push(services);
  return services;
}

describe('one owner of the queue', () => {
  it('a second `queue run` refuses, naming the first; a job added or cancelled by another process reaches the owner', async () => {
    const ws = cliWorkspace('onbrand-owner-', models);
    expect((await ws.cli(['projects', 'create', 'Two'])).code).toBe(0);
    expect(
      (
        await ws.cli([
          'queue',
          'add',
          'Two',
          '--prompt',
          'portrait',
          '--width',
          '1536',
          '--height',
          '1536',
          '--steps',
          '150',
          '--batch',
          '8',
          '--batches',
          '1',
          '--seed',
          '5',
        ])
      ).code,
    ).toBe(0);
    const owner = ws.start(['queue', 'run', '--provider', 'cpu']);
    // The engine has the model and is denoising job 1 (one UNet pass makes the whole batch).
    await owner.until((out) => /^Engine: /m.test(out));

    const second = await ws.cli(['queue', 'run', '--provider', 'cpu']);
    expect(second.code).toBe(1);
    expect(second.out).toContain(`already being run by \`onbrand queue run\` (process ${owner.child.pid}`);

    // Added while the owner runs: it runs next there, without anyone waking the owner by hand.
    expect(
      (
        await ws.cli([
          'queue',
          'add',
          'Two',
          '--prompt',
          'shape',
          '--width',
          '64',
          '--height',
          '64',
          '--steps',
          '4',
          '--batch',
          '2',
          '--batches',
          '1',
          '--seed',
          '9',
        ])
      ).code,
    ).toBe(0);
    // Cancelled from here while it runs there (today's "only queued or running jobs can be cancelled").
    const cancel = await ws.cli(['queue', 'cancel', '1']);
    expect([cancel.code, cancel.out.trim()]).toEqual([0, 'Job 1: cancelled']);

    const end = await owner.exited;
    expect(end.code, end.out).toBe(0);
    expect(end.out).toMatch(/Job 1 cancelled/);
    expect(end.out).toMatch(/Job 2 done/);
    const one = ws.peek(1);
    expect(one.state).toBe('cancelled');
    expect(one.images).toBe(one.indices);
    expect(one.images).toBeLessThan(8);
    expect(ws.peek(2)).toEqual({ state: 'done', images: 2, indices: 2 });
  }, 120_000);

  it('the app waits while `queue run` owns the queue, leaves its running job alone, and takes over at once when it is killed: every image once', async () => {
    const ws = cliWorkspace('onbrand-takeover-', models);
    expect((await ws.cli(['projects', 'create', 'Take'])).code).toBe(0);
    expect(
      (
        await ws.cli([
          'queue',
          'add',
          'Take',
          '--prompt',
          'portrait',
          '--width',
          '512',
          '--height',
          '512',
          '--steps',
          '8',
          '--batch',
          '8',
          '--batches',
          '1',
          '--seed',
          '40',
        ])
      ).code,
    ).toBe(0);
    const cli = ws.start(['queue', 'run', '--provider', 'cpu']);
    await cli.until((out) => wrote(out) >= 2);

    const services = app(ws.dataDir);
    const started = services.queue.start('app');
    expect(started.owner).toMatchObject({ pid: cli.child.pid, kind: 'queue run' });
    expect(started.resumed).toEqual([]);
    expect(services.queue.list()[0]!.state).toBe('running');
    expect(services.queue.otherOwner()?.pid).toBe(cli.child.pid);
    expect(services.queue.engineStatus().elsewhere).toContain(`\`onbrand queue run\` (process ${cli.child.pid}`);

    // What only one owner should do (resuming model downloads) waits for the takeover.
    let owned = false;
    void services.queue.whenOwner().then(() => (owned = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(owned).toBe(false);
    const done = untilEvent(services, 'job.updated', (j) => j.id === 1 && j.state === 'done');
    cli.child.kill('SIGKILL');
    await cli.exited;
    const killedAt = Date.now();
    const resumedRunning = untilEvent(services, 'job.updated', (j) => j.id === 1 && j.state === 'running');
    await resumedRunning;
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    expect(owned).toBe(true);
    await done;
    expect(ws.peek(1)).toEqual({ state: 'done', images: 8, indices: 8 });
    const project = services.projects.list()[0]!;
    expect(generatedFiles(project.folder).filter((f) => f.endsWith('.png'))).toHaveLength(8);
    expect(services.queue.otherOwner()).toBeNull();
    expect(services.queue.engineStatus().elsewhere ?? null).toBeNull();
  }, 120_000);

  it('a CLI command leaves a move of the running app alone; with no app running it finishes a move a crash interrupted', async () => {
    const ws = cliWorkspace('onbrand-moves-', models);
    const services = app(ws.dataDir);
    services.queue.start('app');
    const project = services.projects.create({ name: 'Marks' });
    const source = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-moves-src-'));
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#FE2C54' } })
      .png()
      .toFile(path.join(source, 'a.png'));
    const [image] = (await services.importer.import(project.id, [path.join(source, 'a.png')])).imported;
    const at = path.join(project.folder, image!.path.startsWith('/') ? path.relative(project.folder, image!.path) : image!.path);
    const relative = path.relative(project.folder, at);
    expect(fs.existsSync(at)).toBe(true);

    // The app's reject between "recorded" and "moved" (what the catalogue holds while it moves).
    const rejected = path.join(MAYBE_LATER_FOLDER, 'a.png');
    services.images.setMarks(image!.id, { rating: 0, flag: 'reject', path: rejected, originalPath: relative });
    expect((await ws.cli(['projects', 'list'])).code).toBe(0);
    expect(fs.existsSync(at)).toBe(true); // not moved under the app's feet
    expect(fs.existsSync(path.join(project.folder, rejected))).toBe(false);

    // The app is gone (as after a crash mid-move): the next CLI command finishes the move.
    await services.close();
    open.splice(open.indexOf(services), 1);
    expect((await ws.cli(['projects', 'list'])).code).toBe(0);
    expect(fs.existsSync(at)).toBe(false);
    expect(fs.existsSync(path.join(project.folder, rejected))).toBe(true);
  }, 60_000);
});

describe('faults that heal', () => {
  it('a full disk mid-job (injected ENOSPC): the job fails with "Disk full: 2 images kept, 4 to go", nothing is discarded, retry makes the rest', async () => {
    const services = app(fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-enospc-')));
    const project = services.projects.create({ name: 'Full' });
    services.queue.start();
    const realWrite = fs.promises.writeFile.bind(fs.promises);
    let writes = 0;
    vi.spyOn(fs.promises, 'writeFile').mockImplementation((file, data, options) => {
      if (String(file).includes(`${path.sep}generations${path.sep}`) && ++writes > 2) {
        return Promise.reject(
          Object.assign(new Error(`ENOSPC: no space left on device, write '${String(file)}'`), { code: 'ENOSPC', errno: -28 }),
        );
      }
      return realWrite(file, data, options);
    });
    const [job] = services.queue.add(project.id, 'portrait', '', settings({ batchSize: 6 }), 1, 11);
    await untilEvent(services, 'job.updated', (j) => j.id === job!.id && ['failed', 'done'].includes(j.state));
    const failed = services.jobs.get(job!.id)!;
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/^Disk full: 2 images kept, 4 to go\. Free some space/);
    expect(failed.imagesDone).toBe(2);
    expect(generatedFiles(project.folder).filter((f) => f.endsWith('.png'))).toHaveLength(2);

    vi.restoreAllMocks();
    services.queue.retry(job!.id);
    await untilEvent(services, 'job.updated', (j) => j.id === job!.id && j.state === 'done');
    expect(services.jobs.get(job!.id)!.imagesDone).toBe(6);
    const files = generatedFiles(project.folder);
    expect(files.filter((f) => f.endsWith('.png'))).toHaveLength(6);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 60_000);

  it.skipIf(!canMountTmpfs())(
    'a real full disk (tmpfs) under `queue run`: exit 1 with the reason and no stack trace; after freeing space, retry finishes',
    async () => {
      const disk = mountTmpfs('400k');
      try {
        const ws = cliWorkspace('onbrand-tmpfs-', models, { ONBRAND_PROJECTS_DIR: disk.dir });
        expect((await ws.cli(['projects', 'create', 'Tight'])).code).toBe(0);
        expect(
          (
            await ws.cli([
              'queue',
              'add',
              'Tight',
              '--prompt',
              'portrait',
              '--width',
              '256',
              '--height',
              '256',
              '--steps',
              '2',
              '--batch',
              '6',
              '--batches',
              '1',
              '--seed',
              '3',
            ])
          ).code,
        ).toBe(0);
        const filler = fillDisk(disk.dir, 16 * 1024);
        const full = await ws.cli(['queue', 'run', '--provider', 'cpu']);
        expect(full.code).toBe(1);
        expect(full.out).toMatch(/Job 1 failed: Disk full: \d images? kept, \d to go\./);
        expect(full.out).not.toMatch(/^\s+at /m);
        const kept = ws.peek(1);
        expect(kept.state).toBe('failed');
        expect(kept.images).toBeLessThan(6);

        fs.rmSync(filler);
        expect((await ws.cli(['queue', 'retry', '1'])).code).toBe(0);
        const again = await ws.cli(['queue', 'run', '--provider', 'cpu']);
        expect(again.code, again.out).toBe(0);
        expect(ws.peek(1)).toEqual({ state: 'done', images: 6, indices: 6 });
      } finally {
        disk.unmount();
      }
    },
    90_000,
  );

  it('a damaged (empty or cut-short) file where an image goes is moved aside and made again; adoption waits; nothing wedges', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-damaged-'));
    const services = app(dataDir);
    const project = services.projects.create({ name: 'Power' });
    services.queue.start();
    const [job] = services.queue.add(project.id, 'portrait', '', settings({ batchSize: 4 }), 1, 3);
    await services.queue.whenIdle();
    const names = [0, 1, 2, 3].map((i) => generationFileName(job!, i, 3 + i));
    const before = names.map((n) => fs.readFileSync(path.join(project.folder, n)));
    // What a power cut leaves: the job running, its images unrecorded, one file empty, one cut short.
    services.db.prepare('DELETE FROM images WHERE job_id = ?').run(job!.id);
    services.db.prepare("UPDATE jobs SET state = 'running' WHERE id = ?").run(job!.id);
    fs.writeFileSync(path.join(project.folder, names[1]!), '');
    fs.writeFileSync(path.join(project.folder, names[2]!), before[2]!.subarray(0, before[2]!.length >> 1));
    await services.close();
    open.splice(open.indexOf(services), 1);

    const again = app(dataDir);
    const made: number[] = [];
    again.events.subscribe((e) => e.type === 'images.added' && made.push(...e.payload.images.map((i) => i.seed ?? -1)));
    const recovered = again.queue.start();
    expect(recovered.resumed).toEqual([job!.id]);
    await untilEvent(again, 'job.updated', (j) => j.id === job!.id && j.state === 'done');
    expect(made.sort()).toEqual([3, 4, 5, 6]); // each once: two adopted, two made again
    expect(names.map((n) => fs.readFileSync(path.join(project.folder, n)))).toEqual(before);
    const aside = generatedFiles(project.folder).filter((f) => f.endsWith('.damaged'));
    expect(aside.map((f) => path.basename(f)).sort()).toEqual([
      `${path.basename(names[1]!)}.damaged`,
      `${path.basename(names[2]!)}.damaged`,
    ]);
  }, 60_000);

  it("a damaged file appearing at an image's name while the job runs is moved aside: the fresh image is kept, not the damaged one", async () => {
    const services = app(fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-eexist-')));
    const project = services.projects.create({ name: 'Race' });
    services.queue.start();
    const [job] = services.queue.add(project.id, 'portrait', '', settings({ batchSize: 3 }), 1, 20);
    const second = path.join(project.folder, generationFileName(job!, 1, 21));
    services.events.subscribe((e) => {
      if (e.type === 'images.added' && e.payload.images.some((i) => i.seed === 20)) fs.writeFileSync(second, '');
    });
    await untilEvent(services, 'job.updated', (j) => j.id === job!.id && j.state === 'done');
    const image = services.images.list(project.id).find((i) => i.seed === 21)!;
    expect(fs.statSync(image.path).size).toBeGreaterThan(100);
    expect((await sharp(image.path).metadata()).width).toBe(64);
    expect(fs.existsSync(`${second}.damaged`)).toBe(true);
  }, 60_000);

  it('a catalogue that cannot be written when a job starts (SQLITE_FULL): said once, no crash, the job stays queued', async () => {
    const services = app(fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-sqlite-full-')));
    const project = services.projects.create({ name: 'Full' });
    const realSetState = services.jobs.setState.bind(services.jobs);
    const full = vi.spyOn(services.jobs, 'setState').mockImplementation((id, state, fields) => {
      if (state === 'running') throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      return realSetState(id, state, fields);
    });
    const said = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const [job] = services.queue.add(project.id, 'portrait', '', settings({ batchSize: 1 }), 1, 2);
    services.queue.start();
    await services.queue.whenIdle();
    await new Promise((r) => setTimeout(r, 200));
    expect(said.mock.calls.map((c) => String(c[0]))).toEqual([`onbrand: job ${job!.id} could not start: database or disk is full`]);
    expect(services.jobs.get(job!.id)!.state).toBe('queued');
    full.mockRestore();
    said.mockRestore();
  }, 30_000);

  it('an engine worker that crashes fails its job with the reason; the next job gets a fresh worker and runs', async () => {
    // A worker script that crashes on its first job; the worker started after it is the real one.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-worker-crash-'));
    const workerFile = path.join(dir, 'worker.mjs');
    const real = pathToFileURL(path.join(path.dirname(CLI_BIN), '..', 'core', 'jobs', 'worker.js')).toString();
    fs.writeFileSync(
      workerFile,
      `import fs from 'node:fs';
       import { parentPort } from 'node:worker_threads';
       const marker = new URL('./crashed', import.meta.url);
       if (fs.existsSync(marker)) await import(${JSON.stringify(real)});
       else parentPort.on('message', (m) => { if (m.type === 'run') { fs.writeFileSync(marker, ''); throw new Error('engine worker crash (test)'); } });`,
    );
    const services = createServices(resolveConfig({ dataDir: path.join(dir, 'data'), modelsDir: models }), { provider: 'cpu', workerFile });
    open.push(services);
    const project = services.projects.create({ name: 'Crash' });
    services.queue.start();
    const [first, second] = services.queue.add(project.id, 'portrait', '', settings({ batchSize: 2 }), 2, 1);
    await untilEvent(services, 'job.updated', (j) => j.id === second!.id && ['done', 'failed'].includes(j.state));
    expect(services.jobs.get(first!.id)).toMatchObject({ state: 'failed', error: 'The engine worker failed: engine worker crash (test)' });
    const next = services.jobs.get(second!.id)!;
    expect([next.state, next.imagesDone, next.error]).toEqual(['done', 2, null]);
  }, 60_000);

  it("temporary files of killed writers are swept at start (projects, data folder, export folders); a live writer's are kept", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-sweep-'));
    const services = app(dataDir);
    const project = services.projects.create({ name: 'Sweep' });
    const exportsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-sweep-exports-'));
    services.db
      .prepare(
        "INSERT INTO exports (project_id, image_id, target, path, byte_size, width, height, created_at) VALUES (?, NULL, 'folder', ?, 1, 1, 1, '2026-01-01')",
      )
      .run(project.id, path.join(exportsDir, 'x.jpg'));
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString().trim();
    const leftovers = [
      path.join(project.folder, 'exports', 'framer', `.hero.jpg.${dead}-0123456789ab.tmp`),
      path.join(project.folder, MAYBE_LATER_FOLDER, `.a.png.${dead}-0123456789ab.tmp`),
      path.join(dataDir, 'thumbnails', 'ab', `.abcd.webp.${dead}-0123456789ab.tmp`),
      path.join(exportsDir, `.x.jpg.${dead}-0123456789ab.tmp`),
    ];
    const live = path.join(exportsDir, `.y.jpg.${process.pid}-0123456789ab.tmp`);
    const notOurs = path.join(exportsDir, '.notes.tmp');
    for (const file of [...leftovers, live, notOurs]) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, 'half');
    }
    services.queue.start();
    await services.queue.whenIdle();
    expect(leftovers.filter((f) => fs.existsSync(f))).toEqual([]);
    expect(fs.existsSync(live)).toBe(true);
    expect(fs.existsSync(notOurs)).toBe(true);
  }, 30_000);
});
