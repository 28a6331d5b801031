import fs from 'node:fs/promises';
import path from 'node:path';
import type { ImportSkip } from '../api/index.js';

export interface ScanResult {
  /** Files to try, in a stable natural order (folders walked recursively). */
  files: string[];
  /** Paths the user named that cannot be opened (`unreachable` says why). */
  missing: string[];
  /** Paths inside folders passed over, each with the reason: link loops, dangling links, links to folders, unreadable folders. */
  skipped: ImportSkip[];
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/**
 * Expands the user's list of files and folders into files. Hidden files and folders (".DS_Store",
 * ".git") are passed over silently, as Finder and Explorer hide them; everything else is a
 * candidate, so a stray text file is reported rather than silently ignored.
 *
 * Symbolic links: a link to a file is followed (the file is imported); a link to a folder inside a
 * folder is not walked, so a link back up the tree cannot loop, and is reported by name; a link
 * loop or a link to nothing is reported as such. A link the user named directly is followed.
 */
export async function scanPaths(paths: readonly string[], skipDirs: readonly string[] = []): Promise<ScanResult> {
  const files: string[] = [];
  const missing: string[] = [];
  const skipped: ImportSkip[] = [];
  const seen = new Set<string>();
  const skip = new Set(skipDirs.map((d) => path.resolve(d)));

  const walk = async (dir: string): Promise<void> => {
    if (skip.has(dir)) return;
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      skipped.push({ path: dir, reason: 'unreadable', message: `The folder ${dir} could not be read: ${codeOf(error)}` });
      return;
    }
    entries.sort((a, b) => collator.compare(a.name, b.name));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isSymbolicLink()) await link(full);
      else if (entry.isFile()) add(full);
    }
  };
  const link = async (full: string): Promise<void> => {
    let stat;
    try {
      stat = await fs.stat(full);
    } catch (error) {
      skipped.push(linkProblem(full, error));
      return;
    }
    if (stat.isDirectory()) {
      skipped.push({
        path: full,
        reason: 'unreadable',
        message: `${full} is a symbolic link to a folder; links to folders are not followed inside a folder (import the folder itself)`,
      });
    } else if (stat.isFile()) add(full);
    else skipped.push({ path: full, reason: 'unreadable', message: `${full} is a symbolic link to a device, pipe or socket, not a file` });
  };
  const add = (file: string): void => {
    if (!seen.has(file)) {
      seen.add(file);
      files.push(file);
    }
  };

  for (const raw of paths) {
    const p = path.resolve(raw);
    let stat;
    try {
      stat = await fs.stat(p);
    } catch {
      missing.push(raw);
      continue;
    }
    if (stat.isDirectory()) await walk(p);
    else add(p);
  }
  return { files, missing, skipped };
}

/** Why a path the user named cannot be opened: a link loop, a link to nothing, no such path, or what the system said. */
export async function unreachable(p: string): Promise<ImportSkip> {
  try {
    await fs.stat(p);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !(await isLink(p)))
      return { path: p, reason: 'not_found', message: `${p}: no such file or folder` };
    return linkProblem(p, error);
  }
  return { path: p, reason: 'unreadable', message: `${p} could not be opened` };
}

/** Why a path could not be followed: a link loop, a link to nothing, or what the system said. */
function linkProblem(p: string, error: unknown): ImportSkip {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return { path: p, reason: 'unreadable', message: `${p} is a symbolic link loop (it leads back to itself)` };
  if (code === 'ENOENT')
    return { path: p, reason: 'not_found', message: `${p} is a symbolic link to a file or folder that does not exist` };
  return { path: p, reason: 'unreadable', message: `${p} could not be opened: ${codeOf(error)}` };
}

async function isLink(p: string): Promise<boolean> {
  try {
    return (await fs.lstat(p)).isSymbolicLink();
  } catch {
    return false;
  }
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
