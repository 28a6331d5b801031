/** Test support: the CLI run in-process with its output captured, and a data folder per test. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { run } from './onbrand.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process with captured output (tests). */
export async function runCaptured(args: string[]): Promise<CliResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (c: Buffer) => (o += c.toString()));
  err.on('data', (c: Buffer) => (e += c.toString()));
  return { code: await run(args, out, err), out: o, err: e };
}

export interface CliTestFolder {
  /** A fresh temporary folder for each test. */
  root: string;
  /** root/data, given as --data-dir (not created: commands that need it make it). */
  dataDir: string;
  /** Runs `onbrand --data-dir DATA args…`. */
  onbrand(...args: string[]): Promise<CliResult>;
  /** For beforeEach: a new folder, and ONBRAND_*_DIR unset so the folders come from --data-dir alone. */
  setUp(): void;
  /** For afterEach: the folder removed, the environment as it was. */
  tearDown(): void;
}

const FOLDER_VARIABLES = ['ONBRAND_DATA_DIR', 'ONBRAND_PROJECTS_DIR', 'ONBRAND_MODELS_DIR'];

/**
 * A temporary folder per test whose data/ is the CLI's data folder, whatever the developer's
 * environment says. No vitest import here: this file is built into dist/ with the app.
 */
export function cliTestFolder(prefix = 'onbrand-cli-'): CliTestFolder {
  const saved = new Map<string, string | undefined>();
  const folder: CliTestFolder = {
    root: '',
    dataDir: '',
    onbrand: (...args) => runCaptured(['--data-dir', folder.dataDir, ...args]),
    setUp() {
      folder.root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      folder.dataDir = path.join(folder.root, 'data');
      for (const name of FOLDER_VARIABLES) {
        saved.set(name, process.env[name]);
        delete process.env[name];
      }
    },
    tearDown() {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      saved.clear();
      fs.rmSync(folder.root, { recursive: true, force: true });
    },
  };
  return folder;
}
