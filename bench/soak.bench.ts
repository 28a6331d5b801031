/**
 * `npm run bench:soak` (issue 16): the app host (`onbrand serve`) and the CLI (`rate`, `flag`,
 * `queue add`, `queue run`, `import`) work on one catalogue for SOAK_SECONDS (default 300) while
 * either side is killed with SIGKILL at random. Everything runs on 127.0.0.1 with a tiny model; an
 * RSS watchdog bounds it. Then it counts: images whose file is missing (dangling), image files the
 * catalogue does not know (lost), images generated twice (duplicates), server errors (HTTP 5xx),
 * and SQLite's integrity check. Prints figures; never fails the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { describe, it } from 'vitest';
import { writeTinySd } from '../src-main/core/diffusion/testing/tiny-sd.js';
import { appPackage } from '../src-main/core/util/index.js';
import { measure, report } from './support.js';

const ROOT = appPackage().root;
const CLI = path.join(ROOT, 'dist', 'main', 'cli', 'bin.js');
const HOST = path.join(ROOT, 'dist', 'main', 'host', 'main.js');
const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const RSS_LIMIT = 6 * 1024 ** 3;

interface Counters {
  cli: number;
  cliKilled: number;
  hostStarts: number;
  hostKilled: number;
  http: number;
  http5xx: number;
  jobsAdded: number;
  imports: number;
  exports: number;
}

describe('soak', () => {
  it(
    'app host and CLI on one catalogue with random kills',
    async () => {
      await measure('soak', async () => {
        const work = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-soak-'));
        const dataDir = path.join(work, 'data');
        const models = path.join(work, 'models');
        writeTinySd(path.join(models, 'tiny-sd'));
        const env = { ...process.env, ONBRAND_DATA_DIR: dataDir, ONBRAND_MODELS_DIR: models };
        const counters: Counters = {
          cli: 0,
          cliKilled: 0,
          hostStarts: 0,
          hostKilled: 0,
          http: 0,
          http5xx: 0,
          jobsAdded: 0,
          imports: 0,
          exports: 0,
        };
        const children = new Set<ChildProcess>();
        const random = (n: number): number => crypto.randomInt(n);

        // RSS watchdog over this process and its children: a runaway stops the soak, not the machine.
        let over = false;
        const watchdog = setInterval(() => {
          let rss = process.memoryUsage().rss;
          for (const child of children) {
            try {
              const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
              rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
            } catch {
              // gone
            }
          }
          if (rss > RSS_LIMIT) {
            over = true;
            for (const child of children) child.kill('SIGKILL');
          }
        }, 500);

        const cli = (args: string[], killAfterMs?: number): Promise<{ code: number | null; out: string }> =>
          new Promise((resolve) => {
            const child = spawn(process.execPath, [CLI, ...args], { env });
            children.add(child);
            counters.cli++;
            let out = '';
            child.stdout.on('data', (c: Buffer) => (out += c.toString()));
            child.stderr.on('data', (c: Buffer) => (out += c.toString()));
            const timer =
              killAfterMs === undefined
                ? undefined
                : setTimeout(() => {
                    counters.cliKilled++;
                    child.kill('SIGKILL');
                  }, killAfterMs);
            child.on('close', (code) => {
              if (timer) clearTimeout(timer);
              children.delete(child);
              resolve({ code, out });
            });
          });

        // The app host, restarted after every kill.
        const token = crypto.randomBytes(24).toString('hex');
        let host: { child: ChildProcess; base: string } | undefined;
        const startHost = async (): Promise<void> => {
          const child = spawn(process.execPath, [HOST, '--port', '0', '--provider', 'cpu', '--token', token], { env });
          children.add(child);
          counters.hostStarts++;
          const base = await new Promise<string>((resolve, reject) => {
            let out = '';
            child.stdout!.on('data', (c: Buffer) => {
              out += c.toString();
              const match = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
              if (match) resolve(match[1]!);
            });
            child.on('close', (code) => reject(new Error(`the host exited (${code}) before listening: ${out}`)));
          });
          child.on('close', () => children.delete(child));
          host = { child, base };
        };
        const api = async (method: string, input: unknown): Promise<unknown> => {
          if (!host) return undefined;
          counters.http++;
          try {
            const response = await fetch(`${host.base}/api/${method}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-onbrand-token': token },
              body: JSON.stringify(input),
            });
            if (response.status >= 500) counters.http5xx++;
            return response.ok ? ((await response.json()) as { result: unknown }).result : undefined;
          } catch {
            return undefined; // the host was killed mid-request
          }
        };

        // A project with a few images to rate, flag and reject.
        const exportsDir = path.join(work, 'exports');
        const shots = path.join(work, 'shots');
        fs.mkdirSync(shots);
        const makeShot = async (name: string): Promise<string> => {
          const file = path.join(shots, `${name}.png`);
          await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: random(256), g: random(256), b: random(256) } } })
            .png()
            .toFile(file);
          return file;
        };
        for (let i = 0; i < 8; i++) await makeShot(`seed-${i}`);
        await cli(['projects', 'create', 'Soak']);
        await cli(['import', 'Soak', shots]);
        await startHost();
        const project = ((await api('projects.list', {})) as { id: number; name: string }[]).find((p) => p.name === 'Soak')!;
        const imageIds = async (): Promise<number[]> =>
          (((await api('images.list', { projectId: project.id })) as { id: number }[] | undefined) ?? []).map((i) => i.id);
        let known = await imageIds();

        const end = Date.now() + SECONDS * 1000;
        const loops: Promise<void>[] = [];
        // The CLI side: one command after another, some killed midway.
        loops.push(
          (async () => {
            let n = 0;
            while (Date.now() < end && !over) {
              const id = known.length ? known[random(known.length)]! : 1;
              const kill = random(4) === 0 ? random(600) : undefined;
              switch (random(7)) {
                case 0:
                  await cli(['rate', 'Soak', String(id), String(random(6))], kill);
                  break;
                case 1:
                  await cli(['flag', 'Soak', String(id), ['pick', 'reject', 'none'][random(3)]!], kill);
                  break;
                case 2:
                  counters.jobsAdded++;
                  await cli(
                    [
                      'queue',
                      'add',
                      'Soak',
                      '--prompt',
                      `soak ${n++}`,
                      '--width',
                      '64',
                      '--height',
                      '64',
                      '--steps',
                      '2',
                      '--batch',
                      '2',
                      '--batches',
                      '1',
                    ],
                    kill,
                  );
                  break;
                case 3:
                  counters.imports++;
                  await cli(['import', 'Soak', await makeShot(`cli-${n++}`)], kill);
                  break;
                case 4:
                  // Runs the queue when the host is down; refuses while the host owns it.
                  await cli(['queue', 'run', '--provider', 'cpu'], random(3000));
                  break;
                case 5:
                  counters.exports++;
                  await cli(
                    ['export', 'Soak', '--target', 'folder', '--min-rating', '1', '--dir', exportsDir],
                    random(2) === 0 ? random(1500) : undefined,
                  );
                  break;
                default:
                  await cli(['queue', 'list', 'Soak'], kill);
              }
            }
          })(),
        );
        // The app side: marks through the host, rejects and un-rejects (files move).
        loops.push(
          (async () => {
            while (Date.now() < end && !over) {
              known = (await imageIds()).length ? await imageIds() : known;
              const id = known[random(Math.max(1, known.length))];
              if (id !== undefined) {
                const change =
                  random(2) === 0 ? { imageId: id, flag: ['pick', 'reject', 'none'][random(3)] } : { imageId: id, rating: random(6) };
                await api('images.mark', { projectId: project.id, changes: [change] });
              }
              await new Promise((r) => setTimeout(r, 50 + random(200)));
            }
          })(),
        );
        // The killer: the host dies every 5–20 s and comes back.
        loops.push(
          (async () => {
            while (Date.now() < end && !over) {
              await new Promise((r) => setTimeout(r, 5000 + random(15000)));
              if (!host || Date.now() >= end) break;
              counters.hostKilled++;
              const dying = host.child;
              host = undefined;
              dying.kill('SIGKILL');
              await new Promise((r) => dying.once('close', r));
              await startHost();
            }
          })(),
        );
        await Promise.all(loops);

        // Let the host finish the queue, then stop it normally.
        const started = Date.now();
        for (;;) {
          const jobs = ((await api('queue.list', {})) as { state: string }[] | undefined) ?? [];
          if (jobs.every((j) => j.state !== 'queued' && j.state !== 'running') || Date.now() - started > 120_000) break;
          await new Promise((r) => setTimeout(r, 1000));
        }
        host?.child.kill('SIGTERM');
        if (host) await new Promise((r) => host!.child.once('close', r));
        clearInterval(watchdog);

        // The counts.
        const db = new Database(path.join(dataDir, 'catalog.sqlite'), { readonly: true });
        const folder = (db.prepare('SELECT folder FROM projects WHERE id = ?').get(project.id) as { folder: string }).folder;
        const rows = db.prepare('SELECT id, path, job_id, batch_index FROM images WHERE project_id = ?').all(project.id) as {
          id: number;
          path: string;
          job_id: number | null;
          batch_index: number | null;
        }[];
        const dangling = rows.filter((r) => !fs.existsSync(path.join(folder, r.path))).length;
        const recorded = new Set(rows.map((r) => path.normalize(r.path)));
        const onDisk: string[] = [];
        const walk = (dir: string, rel: string): void => {
          for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            if (entry.isDirectory()) walk(path.join(dir, entry.name), path.join(rel, entry.name));
            else if (/\.(png|jpe?g|webp)$/i.test(entry.name) && !rel.startsWith('exports'))
              onDisk.push(path.normalize(path.join(rel, entry.name)));
          }
        };
        walk(folder, '');
        const lost = onDisk.filter((f) => !recorded.has(f)).length;
        const duplicates = (
          db
            .prepare(
              'SELECT COUNT(*) AS n FROM (SELECT job_id, batch_index FROM images WHERE job_id IS NOT NULL GROUP BY job_id, batch_index HAVING COUNT(*) > 1)',
            )
            .get() as { n: number }
        ).n;
        const overfull = (
          db
            .prepare('SELECT COUNT(*) AS n FROM jobs j WHERE (SELECT COUNT(*) FROM images i WHERE i.job_id = j.id) > j.batch_size')
            .get() as { n: number }
        ).n;
        const integrity = db.pragma('integrity_check', { simple: true });
        const states = db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as { state: string; n: number }[];
        const generated = (db.prepare('SELECT COUNT(*) AS n FROM images WHERE job_id IS NOT NULL').get() as { n: number }).n;
        const temps = countTemps(folder) + countTemps(dataDir) + (fs.existsSync(exportsDir) ? countTemps(exportsDir) : 0);
        // Exports: a file per image at most (an "_2" would be a duplicate made by a re-run after a kill), none unrecorded.
        const exported = fs.existsSync(exportsDir) ? fs.readdirSync(exportsDir).filter((f) => f.endsWith('.jpg')) : [];
        const rowsOut = db.prepare('SELECT path, image_id FROM exports').all() as { path: string; image_id: number }[];
        const exportRows = new Set(rowsOut.map((r) => path.basename(r.path)));
        // Every export run was without "again": an image with two files in the folder is a duplicate.
        const filesPerImage = new Map<number, number>();
        for (const row of rowsOut) if (fs.existsSync(row.path)) filesPerImage.set(row.image_id, (filesPerImage.get(row.image_id) ?? 0) + 1);
        const exportDuplicates = [...filesPerImage.values()].filter((n) => n > 1).length;
        const exportUnrecorded = exported.filter((f) => !exportRows.has(f)).length;
        db.close();
        report(
          `soak ${SECONDS} s${over ? ' (stopped by the RSS watchdog)' : ''}: ${counters.cli} CLI commands (${counters.cliKilled} killed), host started ${counters.hostStarts}× (${counters.hostKilled} killed), ` +
            `${counters.http} API calls (${counters.http5xx} HTTP 5xx); ${counters.jobsAdded} jobs added (${states.map((s) => `${s.n} ${s.state}`).join(', ')}), ${generated} images generated, ${counters.imports} imports; ` +
            `${counters.exports} exports (${exported.length} files, ${exportDuplicates} images exported twice, ${exportUnrecorded} unrecorded); ` +
            `${rows.length} images: ${dangling} dangling, ${lost} lost (files the catalogue does not know), ${duplicates} duplicate generations, ${overfull} jobs over their batch; ${temps} temp files left; integrity ${String(integrity)}`,
        );
        fs.rmSync(work, { recursive: true, force: true });
      });
    },
    (SECONDS + 300) * 1000,
  );
});

function countTemps(dir: string): number {
  let n = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) n += countTemps(path.join(dir, entry.name));
    else if (entry.name.startsWith('.') && entry.name.endsWith('.tmp')) n++;
  }
  return n;
}
