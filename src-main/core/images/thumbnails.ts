import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { writeAtomically } from '../util/index.js';

/** Long side of a grid thumbnail, in pixels: sharp on a 2x display at the largest grid size. */
export const THUMBNAIL_SIZE = 512;

/** Where the thumbnail of a file with this content hash lives, relative to the data folder. */
export function thumbnailRelativePath(contentHash: string): string {
  return path.join('thumbnails', contentHash.slice(0, 2), `${contentHash}.webp`);
}

/** Long side of a loupe rendition, in pixels: a 1080p or 1440p screen's height at 2x, without zooming in. */
export const PREVIEW_SIZE = 2048;

/** Where the loupe rendition of a file with this content hash lives, relative to the data folder. */
export function previewRelativePath(contentHash: string): string {
  return path.join('previews', contentHash.slice(0, 2), `${contentHash}.jpg`);
}

export interface ThumbnailResult {
  width: number;
  height: number;
}

/**
 * Decodes the whole image (so a damaged file fails here, not later in the grid) and writes a
 * WebP thumbnail atomically. EXIF orientation is applied.
 */
export async function writeThumbnail(input: Buffer | string, target: string, size = THUMBNAIL_SIZE): Promise<ThumbnailResult> {
  let result: ThumbnailResult = { width: 0, height: 0 };
  await writeAtomically(target, async (temp) => {
    const info = await sharp(input, { failOn: 'warning' })
      .autoOrient()
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80, effort: 2 })
      .toFile(temp);
    result = { width: info.width, height: info.height };
  });
  return result;
}

/** True when a cached thumbnail file is present. */
export async function thumbnailExists(absolutePath: string): Promise<boolean> {
  try {
    return (await fs.stat(absolutePath)).size > 0;
  } catch {
    return false;
  }
}
