import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImportReport, Project } from '../core/api/index.js';
import { run } from './onbrand.js';

let root: string;
let dataDir: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-cli-'));
  dataDir = path.join(root, 'data');
  // The folders must come from --data-dir alone, whatever the developer's environment says.
  for (const name of ['ONBRAND_DATA_DIR', 'ONBRAND_PROJECTS_DIR', 'ONBRAND_MODELS_DIR']) vi.stubEnv(name, undefined);
});

afterEach(() => {
  vi.unstubAllEnvs();
  fs.rmSync(root, { recursive: true, force: true });
});

/** A stream that keeps what is written to it. */
class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.text += String(chunk);
    callback();
  }
}

interface Result {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process against this test's data folder. */
async function onbrand(...args: string[]): Promise<Result> {
  const out = new Collector();
  const err = new Collector();
  // run() is typed with process.stdout's type (its default); any writable stream does.
  const code = await run(['--data-dir', dataDir, ...args], out as unknown as typeof process.stdout, err as unknown as typeof process.stderr);
  return { code, out: out.text, err: err.text };
}

async function png(file: string, colour: { r: number; g: number; b: number }): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp({ create: { width: 64, height: 96, channels: 3, background: colour } })
    .png()
    .toFile(file);
}

async function truncatedPng(file: string): Promise<void> {
  const bytes = await sharp(crypto.randomBytes(64 * 96 * 3), { raw: { width: 64, height: 96, channels: 3 } })
    .png()
    .toBuffer();
  fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.4)));
}

describe('help and usage', () => {
  it('--help lists the commands and global options, and touches nothing', async () => {
    for (const args of [['--help'], ['-h'], [], ['help']]) {
      const { code, out, err } = await onbrand(...args);
      expect(code, args.join(' ')).toBe(0);
      expect(err).toBe('');
      expect(out).toMatch(/^Usage: onbrand <command>/);
      for (const command of ['projects', 'projects create NAME', 'projects rename', 'import PROJECT PATH...']) expect(out).toContain(command);
      expect(out).toContain('--data-dir');
    }
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('each command has its own help', async () => {
    const projects = await onbrand('projects', '--help');
    expect(projects.code).toBe(0);
    expect(projects.out).toMatch(/^Usage: onbrand projects/);
    const imp = await onbrand('help', 'import');
    expect(imp.code).toBe(0);
    expect(imp.out).toMatch(/^Usage: onbrand import PROJECT PATH/);
    expect(imp.out).toContain('3 finished but some files were skipped');
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('--version prints the version', async () => {
    const { code, out } = await onbrand('--version');
    expect(code).toBe(0);
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('an unknown command is exit code 2 with a clear message on stderr', async () => {
    const { code, out, err } = await onbrand('frobnicate');
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain('unknown command "frobnicate"');
    expect(err).toContain('onbrand --help');
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('an unknown option or a wrong argument count is exit code 2', async () => {
    const option = await onbrand('projects', '--colour', 'red');
    expect(option.code).toBe(2);
    expect(option.err).toContain('--colour');

    const noName = await onbrand('projects', 'create');
    expect(noName.code).toBe(2);
    expect(noName.err).toContain('NAME');

    const noPath = await onbrand('import', 'Spring');
    expect(noPath.code).toBe(2);
    expect(noPath.err).toContain('PATH');

    const sub = await onbrand('projects', 'delete', 'X');
    expect(sub.code).toBe(2);
    expect(sub.err).toContain('unknown subcommand "delete"');
  });

  // Known bug (reported, not fixed here): commands are looked up with `command in HELP`, which also
  // finds Object.prototype's members. `onbrand toString --help` passes the toString function to
  // print(), which calls text.endsWith and throws a TypeError out of run(); `onbrand toString`
  // opens (creates) the catalogue before saying "unknown command". Drop `.fails` once fixed.
  it('"toString" is an unknown command like any other (exit code 2)', async () => {
    expect((await onbrand('toString', '--help')).code).toBe(2);
  });
});

describe('projects', () => {
  it('with none, says so', async () => {
    const { code, out } = await onbrand('projects');
    expect(code).toBe(0);
    expect(out).toContain('No projects yet');
    expect(out).toContain('onbrand projects create NAME');
  });

  it('create, then list shows it in a table', async () => {
    const created = await onbrand('projects', 'create', 'Spring drop', '--mood', 'loud');
    expect(created.code).toBe(0);
    const folder = path.join(dataDir, 'projects', 'Spring drop');
    expect(created.out).toContain('Created project "Spring drop" (id 1)');
    expect(created.out).toContain(folder);
    expect(fs.statSync(folder).isDirectory()).toBe(true);

    const listed = await onbrand('projects');
    expect(listed.code).toBe(0);
    const lines = listed.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+IMAGES\s+FOLDER$/);
    expect(lines[1]).toMatch(new RegExp(`^1\\s+Spring drop\\s+0\\s+${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(lines).toHaveLength(2);
    expect((await onbrand('projects', 'list')).out).toBe(listed.out);
  });

  it('--json prints what the API returns', async () => {
    await onbrand('projects', 'create', 'A');
    await onbrand('projects', 'create', 'B', '--aspect', '16:9', '--folder', path.join(root, 'elsewhere', 'B'));
    const { code, out } = await onbrand('--json', 'projects');
    expect(code).toBe(0);
    const projects = JSON.parse(out) as Project[];
    expect(projects.map((p) => p.name).sort()).toEqual(['A', 'B']);
    const b = projects.find((p) => p.name === 'B')!;
    expect(b.aspect).toBe('16:9');
    expect(b.folder).toBe(path.join(root, 'elsewhere', 'B'));
  });

  it('a duplicate or invalid name is exit code 1 with the reason', async () => {
    await onbrand('projects', 'create', 'Spring');
    const dup = await onbrand('projects', 'create', 'spring');
    expect(dup.code).toBe(1);
    expect(dup.err).toContain('already exists');

    const bad = await onbrand('projects', 'create', 'a/b');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('name');
    expect((await onbrand('--json', 'projects')).out).toContain('"Spring"');
    expect(JSON.parse((await onbrand('--json', 'projects')).out)).toHaveLength(1);
  });

  it('rename by name or id', async () => {
    await onbrand('projects', 'create', 'Spring');
    const byName = await onbrand('projects', 'rename', 'spring', 'Summer');
    expect(byName.code).toBe(0);
    expect(byName.out).toContain('Renamed "Spring" to "Summer"');
    const byId = await onbrand('projects', 'rename', '1', 'Autumn');
    expect(byId.code).toBe(0);
    expect((await onbrand('projects')).out).toContain('Autumn');
    const missing = await onbrand('projects', 'rename', 'Winter', 'X');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('No project named "Winter"');
    expect(missing.err).toContain('Autumn');
  });
});

describe('import', () => {
  it('imports a folder; a broken file makes exit code 3 and is named', async () => {
    await onbrand('projects', 'create', 'Spring');
    const folder = path.join(root, 'incoming');
    await png(path.join(folder, 'a.png'), { r: 200, g: 0, b: 0 });
    await png(path.join(folder, 'b.png'), { r: 0, g: 200, b: 0 });
    await truncatedPng(path.join(folder, 'broken.png'));

    const { code, out, err } = await onbrand('import', 'Spring', folder);
    expect(code).toBe(3);
    expect(err).toBe('');
    expect(out).toMatch(/^Imported 2 images into "Spring" in \d+\.\d s; 1 skipped:/);
    expect(out).toMatch(/^ {2}skipped broken\.png /m);
    expect(fs.readdirSync(path.join(dataDir, 'projects', 'Spring', 'imports')).sort()).toEqual(['a.png', 'b.png']);
    expect((await onbrand('projects')).out).toMatch(/Spring\s+2\s/);
  });

  it('all imported is exit code 0; again, everything is already there', async () => {
    await onbrand('projects', 'create', 'Spring');
    const file = path.join(root, 'one.png');
    await png(file, { r: 9, g: 99, b: 199 });
    const first = await onbrand('import', 'Spring', file);
    expect(first.code).toBe(0);
    expect(first.out.trim()).toMatch(/^Imported 1 image into "Spring" in \d+\.\d s\.$/);
    const again = await onbrand('import', 'Spring', file);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/Imported 0 images .*; 1 already there/);
  });

  it('--json prints the import report', async () => {
    await onbrand('projects', 'create', 'Spring');
    const file = path.join(root, 'one.png');
    await png(file, { r: 1, g: 2, b: 3 });
    const missing = path.join(root, 'missing.png');
    const { code, out } = await onbrand('--json', 'import', 'Spring', file, missing);
    expect(code).toBe(3);
    const report = JSON.parse(out) as ImportReport;
    expect(report.imported.map((i) => i.fileName)).toEqual(['one.png']);
    expect(report.skipped).toEqual([expect.objectContaining({ path: missing, reason: 'not_found' })]);
  });

  it('resolves relative paths against the working directory', async () => {
    await onbrand('projects', 'create', 'Spring');
    const file = path.join(root, 'rel.png');
    await png(file, { r: 4, g: 5, b: 6 });
    const { code, out } = await onbrand('import', 'Spring', path.relative(process.cwd(), file));
    expect(code).toBe(0);
    expect(out).toContain('Imported 1 image');
  });

  it('into a project that does not exist is exit code 1 naming the project', async () => {
    await onbrand('projects', 'create', 'Spring');
    const { code, out, err } = await onbrand('import', 'Nope', root);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain('No project named "Nope"');
    expect(err).toContain('Spring');
  });

  it('with no projects at all, says there are none', async () => {
    const { code, err } = await onbrand('import', 'Nope', root);
    expect(code).toBe(1);
    expect(err).toContain('No project named "Nope"');
    expect(err).toContain('There are no projects yet');
  });
});
