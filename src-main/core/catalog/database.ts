import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CatalogCorruptError, CatalogFromFutureError, classifyCatalogError } from './errors.js';
import { LATEST_VERSION, migrations, type Migration } from './migrations/index.js';

export type CatalogDb = Database.Database;

export interface OpenCatalogOptions {
  /** Stop after this schema version (tests of single migrations). Defaults to the latest. */
  targetVersion?: number;
  /** The migrations to use; defaults to the app's registry. */
  migrations?: readonly Migration[];
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\u0000', 'latin1');

/**
 * Opens (creating if needed) the catalogue and brings its schema up to date.
 *
 * Before anything is written, an existing file is checked read-only: a file that is not SQLite,
 * fails SQLite's quick integrity check, or was written by a newer Onbrand is refused with a clear
 * error and stays byte-identical (no WAL switch, no journal, no migration).
 */
export function openCatalog(file: string, options: OpenCatalogOptions = {}): CatalogDb {
  const steps = options.migrations ?? migrations;
  const latest = steps.length === 0 ? 0 : steps[steps.length - 1]!.version;
  const target = options.targetVersion ?? latest;

  let db: Database.Database | undefined;
  try {
    if (fs.existsSync(file) && fs.statSync(file).size > 0) checkExisting(file, latest);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    db = new Database(file);
    // The catalogue holds every project's prompts and paths: readable by the user alone (its -wal
    // and -shm take the same mode when SQLite creates them).
    if (process.platform !== 'win32') {
      try {
        if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
      } catch {
        // Not ours to change (another account's file): it still opens.
      }
    }
    // First, so two processes opening a new catalogue at once wait for each other instead of failing.
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    migrate(db, steps, target);
    return db;
  } catch (error) {
    db?.close();
    // The real reason (disk full, permissions, locked, damaged) with advice that fits it.
    throw classifyCatalogError(file, error);
  }
}

/** The schema version stored in the file (`PRAGMA user_version`). */
export function schemaVersion(db: CatalogDb): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Runs each pending migration in its own transaction, which also records its version. The
 * transaction takes the write lock first and reads the version inside it: when two processes open
 * a new catalogue at once, the second waits, sees the step done, and skips it.
 */
export function migrate(db: CatalogDb, steps: readonly Migration[] = migrations, target = LATEST_VERSION): void {
  for (const step of steps) {
    if (step.version > target) continue;
    db.transaction(() => {
      if (schemaVersion(db) >= step.version) return;
      step.up(db);
      db.pragma(`user_version = ${step.version}`);
    }).immediate();
  }
}

function checkExisting(file: string, latest: number): void {
  const head = Buffer.alloc(SQLITE_MAGIC.length);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (!head.equals(SQLITE_MAGIC)) throw new CatalogCorruptError(file, 'not an SQLite database');

  // SQLite's read-only open of a WAL-mode file creates -wal and -shm beside it. When the file is
  // refused, remove the ones this check created, so a refused catalogue is left exactly as found.
  const companions = ['-wal', '-shm'].map((suffix) => file + suffix).filter((f) => !fs.existsSync(f));
  let probe: Database.Database | undefined;
  try {
    probe = new Database(file, { readonly: true, fileMustExist: true, timeout: 2000 });
    const version = probe.pragma('user_version', { simple: true }) as number;
    if (version > latest) throw new CatalogFromFutureError(file, version, latest);
    const check = probe.pragma('quick_check(1)', { simple: true }) as string;
    if (check !== 'ok') throw new CatalogCorruptError(file, `integrity check: ${check}`);
  } catch (error) {
    probe?.close();
    probe = undefined;
    // Damaged only when SQLite says so; a full disk, a permission or a lock is said as such.
    const refused = classifyCatalogError(file, error);
    // Only for a file no Onbrand here can use (damaged, or from a newer one), and only while the
    // log is empty: a catalogue that is merely locked or busy may have another process's live
    // -wal and -shm beside it by now, and those must never be touched.
    const wal = `${file}-wal`;
    const walEmpty = !fs.existsSync(wal) || fs.statSync(wal).size === 0;
    if ((refused instanceof CatalogCorruptError || refused instanceof CatalogFromFutureError) && walEmpty) {
      for (const companion of companions) fs.rmSync(companion, { force: true });
    }
    throw refused;
  } finally {
    probe?.close();
  }
}
