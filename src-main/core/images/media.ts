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
}

/**
 * Confines image reads to the catalogue's folders: the project folders and the thumbnail cache.
 * Used by the Electron protocol and the browser host's HTTP route alike. Symbolic links are
 * resolved before the check, so a link inside a project cannot reach outside it.
 */
export class MediaAccess {
  constructor(private readonly roots: () => readonly string[]) {}

  async resolve(requested: string): Promise<MediaFile> {
    if (!path.isAbsolute(requested) || requested.includes('\u0000')) {
      throw new ApiError('invalid_input', `Not an absolute file path: ${requested}`, 'path');
    }
    const contentType = MEDIA_TYPES[path.extname(requested).toLowerCase()];
    if (!contentType) throw new ApiError('unauthorized', `Only images are served: ${requested}`, 'path');

    const outside = (): ApiError => new ApiError('unauthorized', `${requested} is outside the catalogue's folders`, 'path');
    const roots = this.roots().map((r) => path.resolve(r));
    const realRoots = await Promise.all(roots.map((r) => fs.realpath(r).catch(() => r)));
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
    return { path: real, contentType, size: stat.size };
  }
}

/** True when `child` is `root` itself or lies below it. */
export function isInside(root: string, child: string): boolean {
  const rel = path.relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
