import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CatalogCorruptError, CatalogFromFutureError } from './errors.js';
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

  if (fs.existsSync(file) && fs.statSync(file).size > 0) checkExisting(file, latest);
  fs.mkdirSync(path.dirname(file), { recursive: true });

  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    migrate(db, steps, target);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** The schema version stored in the file (`PRAGMA user_version`). */
export function schemaVersion(db: CatalogDb): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Runs each pending migration in its own transaction, which also records its version. */
export function migrate(db: CatalogDb, steps: readonly Migration[] = migrations, target = LATEST_VERSION): void {
  const current = schemaVersion(db);
  for (const step of steps) {
    if (step.version <= current || step.version > target) continue;
    db.transaction(() => {
      step.up(db);
      db.pragma(`user_version = ${step.version}`);
    })();
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
    probe = new Database(file, { readonly: true, fileMustExist: true });
    const version = probe.pragma('user_version', { simple: true }) as number;
    if (version > latest) throw new CatalogFromFutureError(file, version, latest);
    const check = probe.pragma('quick_check(1)', { simple: true }) as string;
    if (check !== 'ok') throw new CatalogCorruptError(file, `integrity check: ${check}`);
  } catch (error) {
    probe?.close();
    probe = undefined;
    for (const companion of companions) fs.rmSync(companion, { force: true });
    if (error instanceof CatalogFromFutureError || error instanceof CatalogCorruptError) throw error;
    throw new CatalogCorruptError(file, (error as Error).message);
  } finally {
    probe?.close();
  }
}
