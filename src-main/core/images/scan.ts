import fs from 'node:fs/promises';
import path from 'node:path';

export interface ScanResult {
  /** Files to try, in a stable natural order (folders walked recursively). */
  files: string[];
  /** Paths the user named that do not exist. */
  missing: string[];
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/**
 * Expands the user's list of files and folders into files. Hidden files and folders (".DS_Store",
 * ".git") are passed over silently, as Finder and Explorer hide them; everything else is a
 * candidate, so a stray text file is reported rather than silently ignored.
 */
export async function scanPaths(paths: readonly string[], skipDirs: readonly string[] = []): Promise<ScanResult> {
  const files: string[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  const skip = new Set(skipDirs.map((d) => path.resolve(d)));

  const walk = async (dir: string): Promise<void> => {
    if (skip.has(dir)) return;
    const entries = await fs.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => collator.compare(a.name, b.name));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) add(full);
    }
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
  return { files, missing };
}
