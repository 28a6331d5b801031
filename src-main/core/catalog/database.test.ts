import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCatalog, schemaVersion } from './database.js';
import { CatalogCorruptError, CatalogFromFutureError, CatalogOpenError, classifyCatalogError } from './errors.js';
import { LATEST_VERSION } from './migrations/index.js';
import { canMountTmpfs, fillDisk, mountTmpfs } from '../util/testing/tmpfs.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-database-'));
  file = path.join(dir, 'catalog.sqlite');
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function sha256(p: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

/** Every file in the folder: a refused catalogue must not grow -wal, -shm or -journal companions. */
function listing(): string[] {
  return fs.readdirSync(dir).sort();
}

/**
 * Opens `file`, expects `errorClass`, and checks that the file is byte-identical. With
 * `companions: 'none'` the folder must also be exactly as before (no -wal, -shm or -journal).
 */
function expectRefusedUntouched<E extends Error>(errorClass: new (...args: never[]) => E, companions: 'none' | 'no-journal' = 'none'): E {
  const hashBefore = sha256(file);
  const sizeBefore = fs.statSync(file).size;
  const filesBefore = listing();
  let caught: unknown;
  try {
    openCatalog(file).close();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(errorClass);
  expect(sha256(file)).toBe(hashBefore);
  expect(fs.statSync(file).size).toBe(sizeBefore);
  expect(listing().filter((f) => f.endsWith('-journal'))).toEqual([]);
  if (companions === 'none') {
    expect(listing()).toEqual(filesBefore);
    expect(listing().filter((f) => /-(wal|shm|journal)$/.test(f))).toEqual([]);
  }
  return caught as E;
}

/** A real catalogue with enough rows to span many pages, closed cleanly (WAL checkpointed). */
function makeCatalogue(): void {
  const db = openCatalog(file);
  const now = new Date(0).toISOString();
  const project = db
    .prepare(`INSERT INTO projects (name, folder, palette, created_at, updated_at) VALUES ('P', '/tmp/p', '[]', ?, ?)`)
    .run(now, now);
  const insert = db.prepare(
    `INSERT INTO images (project_id, path, content_hash, width, height, format, byte_size, params, created_at)
     VALUES (?, ?, ?, 64, 96, 'png', 100, ?, ?)`,
  );
  db.transaction(() => {
    for (let i = 0; i < 400; i++) {
      insert.run(
        project.lastInsertRowid,
        `imports/${i}.png`,
        crypto.createHash('sha256').update(String(i)).digest('hex'),
        'x'.repeat(200),
        now,
      );
    }
  })();
  db.close();
}

describe('openCatalog on a healthy file', () => {
  it('creates the folder and the file, and reopens it', () => {
    const nested = path.join(dir, 'a', 'b', 'catalog.sqlite');
    const db = openCatalog(nested);
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    db.close();
    expect(fs.existsSync(nested)).toBe(true);
    const again = openCatalog(nested);
    expect(schemaVersion(again)).toBe(LATEST_VERSION);
    again.close();
  });

  it('treats an empty (0-byte) file as a new catalogue', () => {
    fs.writeFileSync(file, '');
    const db = openCatalog(file);
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    db.close();
  });
});

describe('openCatalog refuses a damaged file and leaves it byte-identical', () => {
  it('random bytes', () => {
    fs.writeFileSync(file, crypto.randomBytes(8192));
    const error = expectRefusedUntouched(CatalogCorruptError);
    expect(error.message).toContain(file);
    expect(error.path).toBe(file);
    expect(error.name).toBe('CatalogCorruptError');
  });

  it('a text file', () => {
    fs.writeFileSync(file, 'These are my notes, not a database.\n'.repeat(50));
    const error = expectRefusedUntouched(CatalogCorruptError);
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/not an SQLite database/);
  });

  it('a file that starts like SQLite but is cut short', () => {
    makeCatalogue();
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, 60));
    // Companion files: see the `it.fails` case below.
    const error = expectRefusedUntouched(CatalogCorruptError, 'no-journal');
    expect(error.message).toContain(file);
  });

  it('a real SQLite catalogue with damaged pages', () => {
    makeCatalogue();
    const bytes = fs.readFileSync(file);
    const pageSize = bytes.readUInt16BE(16);
    const pages = bytes.length / pageSize;
    expect(pages).toBeGreaterThan(4);
    // Scribble over the middle of every page after the first: the header (and user_version) stay
    // readable, the b-tree pages do not.
    const noise = crypto.randomBytes(pageSize / 2);
    for (let page = 1; page < pages; page++) noise.copy(bytes, page * pageSize + pageSize / 4);
    fs.writeFileSync(file, bytes);

    const error = expectRefusedUntouched(CatalogCorruptError, 'no-journal');
    expect(error.message).toContain(file);
  });

  it('a catalogue whose header and schema read fine but one table page is garbage (caught by the integrity check)', () => {
    makeCatalogue();
    const bytes = fs.readFileSync(file);
    const pageSize = bytes.readUInt16BE(16);
    const pages = bytes.length / pageSize;
    // One page in the middle of the images table; page 1 (header, schema) stays intact, so only
    // SQLite's integrity check can tell.
    const page = Math.floor(pages / 2);
    expect(page).toBeGreaterThan(1);
    crypto.randomBytes(pageSize).copy(bytes, (page - 1) * pageSize);
    fs.writeFileSync(file, bytes);

    const error = expectRefusedUntouched(CatalogCorruptError, 'no-journal');
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/integrity check/);
  });

  it('a catalogue from a newer Onbrand (user_version above the latest)', () => {
    const future = LATEST_VERSION + 7;
    const raw = new Database(file);
    raw.exec("CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO projects (name) VALUES ('from the future')");
    raw.pragma(`user_version = ${future}`);
    raw.close();

    const error = expectRefusedUntouched(CatalogFromFutureError);
    expect(error.fileVersion).toBe(future);
    expect(error.appVersion).toBe(LATEST_VERSION);
    expect(error.message).toContain(file);
    expect(error.message).toContain(String(future));
  });

  it('a newer catalogue in WAL mode (as every Onbrand catalogue is) is refused too, and stays unchanged', () => {
    const raw = new Database(file);
    raw.pragma('journal_mode = WAL');
    raw.exec('CREATE TABLE t (x)');
    raw.pragma(`user_version = ${LATEST_VERSION + 1}`);
    raw.close();
    const error = expectRefusedUntouched(CatalogFromFutureError, 'no-journal');
    expect(error.fileVersion).toBe(LATEST_VERSION + 1);
  });

  // Known bug (reported, not fixed here): the read-only probe in checkExisting() opens a WAL-mode
  // file through SQLite, which creates catalog.sqlite-wal and catalog.sqlite-shm beside it and,
  // being read-only, never removes them. The main file stays byte-identical, but the folder does
  // not, contrary to openCatalog's promise. When this starts passing, drop `.fails`.
  it('a refused WAL-mode catalogue leaves no -wal or -shm files behind', () => {
    makeCatalogue();
    const db = new Database(file);
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    expect(listing()).toEqual(['catalog.sqlite']);
    expectRefusedUntouched(CatalogFromFutureError, 'none');
  });
});

describe('a healthy catalogue that cannot be opened gets the real reason, never "move it aside"', () => {
  it('locked by another program (an exclusive lock held on a rollback-journal file)', () => {
    makeCatalogue();
    const other = new Database(file);
    other.pragma('journal_mode = DELETE');
    other.exec('BEGIN EXCLUSIVE');
    try {
      const before = sha256(file);
      let error: unknown;
      try {
        openCatalog(file).close();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CatalogOpenError);
      expect((error as CatalogOpenError).reason).toBe('locked');
      expect((error as Error).message).toMatch(/locked by another program/);
      expect((error as Error).message).not.toMatch(/move it aside/);
      expect(sha256(file)).toBe(before);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });

  it.skipIf(!canMountTmpfs())('a full disk (a real 1 MB tmpfs, filled): "disk is full", free space, nothing else', () => {
    const { dir: mount, unmount } = mountTmpfs('1m');
    try {
      const catalogue = path.join(mount, 'catalog.sqlite');
      openCatalog(catalogue).close();
      fillDisk(mount);
      let error: unknown;
      try {
        const db = openCatalog(catalogue);
        // Opening may succeed on a full disk (nothing to write yet); the first write must then fail as full.
        try {
          db.exec('CREATE TABLE big (x BLOB); INSERT INTO big VALUES (zeroblob(200000));');
        } finally {
          db.close();
        }
      } catch (e) {
        error = classifyCatalogError(catalogue, e);
      }
      expect(error).toBeInstanceOf(CatalogOpenError);
      expect((error as CatalogOpenError).reason, (error as Error).message).toBe('disk_full');
      expect((error as Error).message).toMatch(/disk that holds the catalogue .* is full/);
    } finally {
      unmount();
    }
  });

  it("sorts SQLite's and the file system's own error codes", () => {
    const named = (code: string, message: string): Error => Object.assign(new Error(message), { code });
    expect((classifyCatalogError(file, named('SQLITE_FULL', 'database or disk is full')) as CatalogOpenError).reason).toBe('disk_full');
    expect((classifyCatalogError(file, named('ENOSPC', 'no space left on device')) as CatalogOpenError).reason).toBe('disk_full');
    expect((classifyCatalogError(file, named('SQLITE_READONLY', 'attempt to write a readonly database')) as CatalogOpenError).reason).toBe(
      'permission',
    );
    expect((classifyCatalogError(file, named('EACCES', 'permission denied')) as CatalogOpenError).reason).toBe('permission');
    expect((classifyCatalogError(file, named('SQLITE_BUSY', 'database is locked')) as CatalogOpenError).reason).toBe('locked');
    expect(classifyCatalogError(file, named('SQLITE_CORRUPT', 'database disk image is malformed'))).toBeInstanceOf(CatalogCorruptError);
    expect(classifyCatalogError(file, named('SQLITE_NOTADB', 'file is not a database'))).toBeInstanceOf(CatalogCorruptError);
  });
});

describe('the catalogue file', () => {
  it.skipIf(process.platform === 'win32')('is readable by its user alone (0600), with its -wal and -shm', () => {
    const db = openCatalog(file);
    db.exec('CREATE TABLE IF NOT EXISTS t (x); INSERT INTO t VALUES (1)');
    for (const f of [file, `${file}-wal`, `${file}-shm`]) expect((fs.statSync(f).mode & 0o777).toString(8), f).toBe('600');
    db.close();
  });
});

describe('two processes opening a new catalogue at once', () => {
  // The built code (npm test builds first), run as real separate processes.
  it.skipIf(!fs.existsSync('dist/main/core/catalog/database.js'))(
    'both open it; the schema is made once (no "table projects already exists")',
    async () => {
      const script = `
      const { openCatalog } = await import(${JSON.stringify(pathToFileURL(path.resolve('dist/main/core/catalog/database.js')).toString())});
      const db = openCatalog(process.argv[1]);
      console.log(db.pragma('user_version', { simple: true }));
      db.close();`;
      for (let round = 0; round < 5; round++) {
        const target = path.join(dir, `race-${round}.sqlite`);
        const runs = Array.from({ length: 3 }, () => runNode(['--input-type=module', '-e', script, target]));
        const results = await Promise.all(runs);
        for (const result of results) {
          expect(result.stderr).not.toMatch(/already exists/);
          expect(result.code, result.stderr).toBe(0);
          expect(result.stdout.trim()).toBe(String(LATEST_VERSION));
        }
      }
    },
  );
});

function runNode(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: process.cwd() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
