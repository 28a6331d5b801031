/**
 * A local file for the mood board, read safely: only a regular file (a device such as /dev/zero
 * would be read forever, a named pipe would block the open), its size checked before reading, and
 * read through one handle never past the limit.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ReferenceSkip } from '../api/index.js';

/**
 * Opening without blocking: a pipe that stat called a file a moment ago (or one swapped in since)
 * cannot hang the open; the handle's own stat then decides. No effect on reading a regular file.
 */
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

export async function readLocalFile(file: string, limit: number): Promise<{ bytes: Buffer } | ReferenceSkip> {
  const name = path.basename(file);
  const skip = (reason: ReferenceSkip['reason'], message: string): ReferenceSkip => ({ item: file, reason, message });
  const tooLarge = (bytes: number): ReferenceSkip => skip('too_large', `${name} is ${size(bytes)}, over the ${size(limit)} limit`);
  let handle: fs.promises.FileHandle | undefined;
  try {
    // Checked before opening too, so a pipe is never opened at all where the system allows it.
    const before = await fs.promises.stat(file);
    if (!before.isFile()) return skip('unreadable', `${name} is not a regular file (${kind(before)})`);
    if (before.size > limit) return tooLarge(before.size);
    handle = await fs.promises.open(file, OPEN_FLAGS);
    const stat = await handle.stat();
    if (!stat.isFile()) return skip('unreadable', `${name} is not a regular file (${kind(stat)})`);
    if (stat.size > limit) return tooLarge(stat.size);
    const bytes = Buffer.alloc(stat.size);
    let done = 0;
    while (done < stat.size) {
      const { bytesRead } = await handle.read(bytes, done, stat.size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    // One byte more tells a file that is still being written: its bytes would not be one image.
    const { bytesRead: more } = await handle.read(Buffer.alloc(1), 0, 1, done);
    if (done < stat.size || more > 0) return skip('unreadable', `${name} changed while it was read; add it again once it is complete`);
    return { bytes };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return skip('not_found', `${name}: no such file`);
    return skip('unreadable', `${name} cannot be read (${code ?? (error as Error).message})`);
  } finally {
    await handle?.close();
  }
}

function kind(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a file';
}

function size(bytes: number): string {
  return bytes >= 2 ** 20 ? `${Math.round(bytes / 2 ** 20)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}
