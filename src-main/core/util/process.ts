/** Folders left by processes that died midway (a killed build, import or removal). */
import fs from 'node:fs';
import path from 'node:path';

/** Whether a process with this id is running (this one always is). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the entries of `root` whose name carries (as `pattern`'s first group) the id of a process that is gone. */
export function sweepDeadFolders(root: string, pattern: RegExp, options: { ownToo?: boolean } = {}): void {
  if (!fs.existsSync(root)) return;
  for (const entry of fs.readdirSync(root)) {
    const match = pattern.exec(entry);
    if (!match) continue;
    const pid = Number(match[1]);
    // `ownToo`: this process has none in use yet, so one with its pid is an earlier run's (a reused pid).
    if ((options.ownToo && pid === process.pid) || !processAlive(pid)) fs.rmSync(path.join(root, entry), { recursive: true, force: true });
  }
}
