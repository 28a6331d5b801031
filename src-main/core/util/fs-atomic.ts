import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { processAlive } from './process.js';

/**
 * A hidden temporary name beside `target`, so the final rename stays on one file system. Never
 * longer than the target's own name allows: a name near the file system's 255-byte limit keeps its
 * first 100 bytes' worth of characters. It carries the writer's process id, so a sweep at start
 * removes only the leftovers of processes that are gone (`sweepTempFiles`).
 */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `${tempPrefix(target)}${process.pid}-${crypto.randomBytes(6).toString('hex')}.tmp`);
}

function tempPrefix(target: string): string {
  let base = path.basename(target);
  while (Buffer.byteLength(base) > 100) base = base.slice(0, -1);
  return `.${base}.`;
}

/** Whether another running process is writing `target` now (its temporary file is there). */
export async function beingWritten(target: string): Promise<boolean> {
  const prefix = tempPrefix(target);
  const names = await fs.readdir(path.dirname(target)).catch(() => [] as string[]);
  return names.some((name) => {
    if (!name.startsWith(prefix)) return false;
    const writer = /^(\d+)-[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length))?.[1];
    return writer !== undefined && Number(writer) !== process.pid && processAlive(Number(writer));
  });
}

/** `.name.<pid>-<12 hex>.tmp`, and the older `.name.<12 hex>.tmp` (no process id). */
const TEMP_NAME = /^\..+\.(?:(\d+)-)?[0-9a-f]{12}\.tmp$/;
const SOLE_TEMP_NAME = /^\..+\.tmp$/;
/** An old-style temporary file (no process id) is a leftover once it is this old. */
const ORPHAN_AGE_MS = 60 * 60 * 1000;

export interface SweepOptions {
  recursive?: boolean;
  now?: number;
  /**
   * This process is the folder's only writer and has not started writing: every temporary file
   * there is a leftover, old-style ones of any age and this process's own (a reused pid) too, and
   * any hidden `.tmp` name counts as Onbrand's.
   */
  soleWriter?: boolean;
}

/**
 * Removes the temporary files that killed writers left in `root` (and, with `recursive`, below it,
 * not following links): Onbrand's own names only, and only of processes that are no longer running.
 * Returns how many were removed.
 */
export async function sweepTempFiles(root: string, options: SweepOptions = {}): Promise<number> {
  const now = options.now ?? Date.now();
  let removed = 0;
  const entries = await fs.readdir(root, { withFileTypes: true });
  for (const entry of entries) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) {
      if (options.recursive) removed += await sweepTempFiles(full, { ...options, now }).catch(() => 0);
      continue;
    }
    // In a folder of its own, any hidden .tmp file is Onbrand's (older versions named them otherwise).
    const match = !entry.isFile() ? null : (TEMP_NAME.exec(entry.name) ?? (options.soleWriter ? SOLE_TEMP_NAME.exec(entry.name) : null));
    if (!match) continue;
    const writer = match[1] === undefined ? undefined : Number(match[1]);
    const stale = options.soleWriter
      ? writer === undefined || writer === process.pid || !processAlive(writer)
      : writer !== undefined
        ? !processAlive(writer)
        : now - (await fs.stat(full)).mtimeMs > ORPHAN_AGE_MS;
    if (!stale) continue;
    await fs.rm(full, { force: true });
    removed++;
  }
  return removed;
}

/**
 * Writes through a temporary file and renames it into place, so nobody ever sees a half-written
 * file. The `write` callback receives the temporary path. `durable: false` skips the syncs, for a
 * cache whose files are made again when a power cut loses them (the loupe renditions).
 */
export async function writeAtomically(
  target: string,
  write: (tempPath: string) => Promise<unknown>,
  options: { overwrite?: boolean; durable?: boolean } = {},
): Promise<void> {
  const durable = options.durable !== false;
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temp = tempPathFor(target);
  try {
    await write(temp);
    // On disk before it gets its name: a power cut after the rename never leaves an empty or
    // cut-short file under the final name.
    if (durable) await syncFile(temp);
    if (options.overwrite === false) await publishExclusive(temp, target);
    else await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  if (durable) await syncFolder(path.dirname(target));
}

/** A file written and synced under its temporary name, waiting to be given its own (see `stageFile`). */
export interface StagedFile {
  /** Settles once the temporary file is written and on disk (rejects with the write's error). */
  ready: Promise<void>;
  /**
   * Gives the file its name, never over an existing file (EEXIST: the staged file is kept, to
   * publish again once the name is free, or to discard), and syncs the folder.
   */
  publish(): Promise<void>;
  /** Removes the temporary file. */
  discard(): Promise<void>;
}

/**
 * `writeAtomically` with `overwrite: false` in two halves, for a writer that gives files their
 * names in order but can write them ahead: the write starts now (before this returns, so writes
 * start in call order) into a temporary name in the target's folder, which must exist.
 */
export function stageFile(target: string, write: (tempPath: string) => Promise<unknown>): StagedFile {
  const temp = tempPathFor(target);
  const ready = (async () => {
    try {
      await write(temp);
      await syncFile(temp);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
  })();
  // Whoever publishes sees the error; an unpublished stage must not be an unhandled rejection.
  ready.catch(() => undefined);
  return {
    ready,
    async publish() {
      await ready;
      try {
        await publishExclusive(temp, target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') await fs.rm(temp, { force: true });
        throw error;
      }
      await syncFolder(path.dirname(target));
    },
    async discard() {
      await fs.rm(temp, { force: true });
    },
  };
}

async function syncFile(file: string): Promise<void> {
  const handle = await fs.open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The new name itself on disk (POSIX); folders cannot be opened for this on Windows: skipped. */
async function syncFolder(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const handle = await fs.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems refuse fsync on a folder; the file itself is already on disk.
  }
}

/**
 * Moves `temp` to `target` only if `target` does not exist (EEXIST otherwise). A hard link is
 * atomic and refuses to replace; file systems without hard links fall back to check-then-rename.
 */
async function publishExclusive(temp: string, target: string): Promise<void> {
  try {
    await fs.link(temp, target);
    await fs.rm(temp, { force: true });
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw error;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw error;
  }
  try {
    await fs.access(target);
  } catch {
    await fs.rename(temp, target);
    return;
  }
  throw Object.assign(new Error(`${target} already exists`), { code: 'EEXIST' });
}

/**
 * Picks `dir/name.ext`, or `name_2.ext`, `name_3.ext`, … : the first name that `isTaken` says is
 * free and that does not exist on disk. A user's file is never overwritten.
 */
export async function freeFileName(dir: string, fileName: string, isTaken: (candidate: string) => boolean = () => false): Promise<string> {
  const ext = path.extname(fileName);
  const stem = fileName.slice(0, fileName.length - ext.length);
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? fileName : `${stem}_${n}${ext}`;
    if (isTaken(candidate)) continue;
    try {
      await fs.access(path.join(dir, candidate));
    } catch {
      return candidate;
    }
  }
}
