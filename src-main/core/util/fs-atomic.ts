import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * A hidden temporary name beside `target`, so the final rename stays on one file system. Never
 * longer than the target's own name allows: a name near the file system's 255-byte limit keeps its
 * first 100 bytes' worth of characters.
 */
export function tempPathFor(target: string): string {
  let base = path.basename(target);
  while (Buffer.byteLength(base) > 100) base = base.slice(0, -1);
  return path.join(path.dirname(target), `.${base}.${crypto.randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Writes through a temporary file and renames it into place, so nobody ever sees a half-written
 * file. The `write` callback receives the temporary path.
 */
export async function writeAtomically(
  target: string,
  write: (tempPath: string) => Promise<unknown>,
  options: { overwrite?: boolean } = {},
): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temp = tempPathFor(target);
  try {
    await write(temp);
    if (options.overwrite === false) await publishExclusive(temp, target);
    else await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
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
