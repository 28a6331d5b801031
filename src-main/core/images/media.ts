import fs from 'node:fs/promises';
import path from 'node:path';
import { ApiError } from '../api/index.js';

/** File types the image routes serve, with their MIME types. */
const MEDIA_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
};

export interface MediaFile {
  /** The real path (symbolic links resolved). */
  path: string;
  contentType: string;
  size: number;
  /** Last modified (for the HTTP validators of files that can change). */
  mtimeMs: number;
}

/**
 * Confines image reads to the catalogue's folders: the project folders and the thumbnail cache.
 * Used by the Electron protocol and the browser host's HTTP route alike. Symbolic links are
 * resolved before the check, so a link inside a project cannot reach outside it.
 */
export class MediaAccess {
  /** When an image was last asked for or served (ms since the epoch): background work waits for quiet. */
  lastServedAt = 0;
  /** The roots' real paths, kept while the list of roots is the same and for at most `rootsTtlMs`. */
  private realRoots: { key: string; at: number; roots: string[]; real: Promise<string[]> } | null = null;

  constructor(
    private readonly roots: () => readonly string[],
    /** How long the real paths of the roots are trusted before they are looked up again. */
    private readonly rootsTtlMs = 5000,
  ) {}

  /**
   * The roots as written and their real paths. Looked up once and reused (a thumbnail request
   * costs no `realpath` of every root); again when a root is added or removed, or after
   * `rootsTtlMs`, so a root that became a link is followed again.
   */
  private resolvedRoots(): { roots: string[]; real: Promise<string[]> } {
    const roots = this.roots().map((r) => path.resolve(r));
    const key = roots.join('\u0000');
    const now = Date.now();
    const cached = this.realRoots;
    if (cached && cached.key === key && now - cached.at < this.rootsTtlMs) return cached;
    const real = Promise.all(roots.map((r) => fs.realpath(r).catch(() => r)));
    this.realRoots = { key, at: now, roots, real };
    return this.realRoots;
  }

  async resolve(requested: string): Promise<MediaFile> {
    this.lastServedAt = Date.now();
    try {
      return await this.confine(requested);
    } finally {
      this.lastServedAt = Date.now();
    }
  }

  private async confine(requested: string): Promise<MediaFile> {
    if (!path.isAbsolute(requested) || requested.includes('\u0000')) {
      throw new ApiError('invalid_input', `Not an absolute file path: ${requested}`, 'path');
    }
    const contentType = MEDIA_TYPES[path.extname(requested).toLowerCase()];
    if (!contentType) throw new ApiError('unauthorized', `Only images are served: ${requested}`, 'path');

    const outside = (): ApiError => new ApiError('unauthorized', `${requested} is outside the catalogue's folders`, 'path');
    const { roots, real: realRootsPromise } = this.resolvedRoots();
    const realRoots = await realRootsPromise;
    // Refuse by the path as written first, so the answer never tells whether a file exists outside.
    const written = path.resolve(requested);
    if (![...roots, ...realRoots].some((root) => isInside(root, written))) throw outside();
    let real: string;
    try {
      real = await fs.realpath(requested);
    } catch {
      throw new ApiError('not_found', `No such image: ${requested}`, 'path');
    }
    if (!realRoots.some((root) => isInside(root, real))) throw outside();
    const stat = await fs.stat(real);
    if (!stat.isFile()) throw new ApiError('not_found', `Not a file: ${requested}`, 'path');
    return { path: real, contentType, size: stat.size, mtimeMs: stat.mtimeMs };
  }
}

/** True when `child` is `root` itself or lies below it. */
export function isInside(root: string, child: string): boolean {
  const rel = path.relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** A cache file named by its original's content hash: `thumbnails/ab/<sha256>.webp`, `previews/ab/<sha256>.jpg`. */
const CONTENT_ADDRESSED = /^(thumbnails|previews)\/([0-9a-f]{2})\/\2[0-9a-f]{62}\.(webp|jpg|png)$/;

/**
 * The `Cache-Control` of a served image. Thumbnails and loupe renditions in the data folder are
 * named by their original's content hash, so they never change under their name: the browser keeps
 * them for a year without asking again. Originals can be edited or moved: the browser asks again
 * each time (with validators, so an unchanged file costs a 304).
 */
export function mediaCacheControl(realFile: string, realDataDir: string): string {
  const rel = path.relative(realDataDir, realFile).split(path.sep).join('/');
  return CONTENT_ADDRESSED.test(rel) ? 'private, max-age=31536000, immutable' : 'private, no-cache';
}

/** A weak validator of a file's version: its size and modification time. */
export function mediaEtag(file: MediaFile): string {
  return `W/"${file.size.toString(16)}-${Math.floor(file.mtimeMs).toString(16)}"`;
}
