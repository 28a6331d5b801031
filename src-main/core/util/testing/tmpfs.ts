/** Test support: a real, small tmpfs (Linux, as root), to fill a disk for real. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Whether this machine lets the tests mount a tmpfs (Linux, root, mount allowed). */
export function canMountTmpfs(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-mount-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

/** Mounts a tmpfs of `size` (e.g. "1m") on a new folder; `unmount` removes it. */
export function mountTmpfs(size: string): { dir: string; unmount: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return {
    dir,
    unmount: () => {
      execFileSync('umount', ['-l', dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fills the file system of `dir` to the last byte (or leaves `leaveBytes` free, roughly). */
export function fillDisk(dir: string, leaveBytes = 0): string {
  const filler = path.join(dir, `filler-${process.pid}`);
  const free = (): number => {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  };
  for (const chunk of [64 * 1024, 4096, 512]) {
    try {
      while (free() - chunk >= leaveBytes) fs.appendFileSync(filler, Buffer.alloc(chunk));
    } catch {
      // full at this chunk size: go on with smaller ones
    }
  }
  return filler;
}
