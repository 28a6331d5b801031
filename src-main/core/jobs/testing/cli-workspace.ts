/**
 * Test support: the `onbrand` CLI as real child processes on one data folder, as the app and the
 * CLI would be run (and killed) beside each other. Needs the built CLI (npm run build). And the
 * small waits the queue's tests share.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AppEvent } from '../../api/index.js';
import type { Services } from '../../services.js';
import { appPackage } from '../../util/index.js';

export const CLI_BIN = path.join(appPackage().root, 'dist', 'main', 'cli', 'bin.js');

export interface CliRun {
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Resolves when `test(output)` holds (or rejects when the process exits first). */
  until(test: (out: string) => boolean): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>;
}

export interface CliWorkspace {
  dataDir: string;
  env: NodeJS.ProcessEnv;
  cli: (args: string[]) => Promise<{ code: number | null; out: string }>;
  /** Starts the CLI and leaves it running. */
  start: (args: string[]) => CliRun;
  /** Runs the CLI and kills the whole process (and its engine worker) with SIGKILL as soon as its output satisfies `done`. */
  killWhen: (args: string[], done: (out: string) => boolean) => Promise<string>;
  peek: (jobId: number) => { state: string; images: number; indices: number };
}

export function cliWorkspace(prefix: string, modelsDir: string, extraEnv: NodeJS.ProcessEnv = {}): CliWorkspace {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const env = { ...process.env, ONBRAND_DATA_DIR: dataDir, ONBRAND_MODELS_DIR: modelsDir, ...extraEnv };
  const start = (args: string[]): CliRun => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env });
    let out = '';
    const watchers: { test: (out: string) => boolean; resolve: (out: string) => void; reject: (e: Error) => void }[] = [];
    const check = (): void => {
      for (const w of watchers.splice(0)) {
        if (w.test(out)) w.resolve(out);
        else watchers.push(w);
      }
    };
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      check();
    });
    child.stderr!.on('data', (c: Buffer) => {
      out += c.toString();
      check();
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve) =>
      child.on('close', (code, signal) => {
        for (const w of watchers.splice(0)) w.reject(new Error(`onbrand ${args.join(' ')} exited (${code ?? signal}) first:\n${out}`));
        resolve({ code, signal, out });
      }),
    );
    return {
      child,
      output: () => out,
      exited,
      until: (test) =>
        new Promise((resolve, reject) => {
          if (test(out)) return resolve(out);
          if (child.exitCode !== null || child.signalCode !== null)
            return reject(new Error(`onbrand ${args.join(' ')} has exited:\n${out}`));
          watchers.push({ test, resolve, reject });
        }),
    };
  };
  const cli = async (args: string[]): Promise<{ code: number | null; out: string }> => {
    const { code, out } = await start(args).exited;
    return { code, out };
  };
  const killWhen = async (args: string[], done: (out: string) => boolean): Promise<string> => {
    const run = start(args);
    await run.until(done).catch(() => undefined);
    run.child.kill('SIGKILL');
    return (await run.exited).out;
  };
  const peek = (jobId: number): { state: string; images: number; indices: number } => {
    const db = new Database(path.join(dataDir, 'catalog.sqlite'), { readonly: true });
    try {
      return db
        .prepare(
          'SELECT (SELECT state FROM jobs WHERE id = @id) AS state, COUNT(*) AS images, COUNT(DISTINCT batch_index) AS indices FROM images WHERE job_id = @id',
        )
        .get({ id: jobId }) as { state: string; images: number; indices: number };
    } finally {
      db.close();
    }
  };
  return { dataDir, env, cli, start, killWhen, peek };
}

/** How many images a `queue run` has written so far. */
export const wrote = (out: string): number => (out.match(/^Wrote /gm) ?? []).length;

/** Resolves at the first event of `type` whose payload passes `test`. */
export function untilEvent<T extends AppEvent['type']>(
  services: Services,
  type: T,
  test: (payload: Extract<AppEvent, { type: T }>['payload']) => boolean,
): Promise<void> {
  return new Promise((resolve) => {
    const stop = services.events.subscribe((event) => {
      if (event.type === type && (test as (payload: unknown) => boolean)(event.payload)) {
        stop();
        resolve();
      }
    });
  });
}

/** The files under a project's generations/ folder, as `YYYYMMDD/name`. */
export function generatedFiles(folder: string): string[] {
  const root = path.join(folder, 'generations');
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).flatMap((day) => fs.readdirSync(path.join(root, day)).map((f) => path.join(day, f)));
}
