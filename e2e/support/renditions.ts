/**
 * Loupe renditions made by the tests themselves, as the core makes them at import (a JPEG at most
 * PREVIEW_SIZE pixels long, under `<dataDir>/previews`), recorded in the catalogue. Until every
 * import makes one, the loupe benchmark and tests seed them so the loupe's rendition path is used.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { ImageSummary } from '../../src-main/core/api/index.js';
import { ImageRepository, openCatalog } from '../../src-main/core/catalog/index.js';
import { PREVIEW_SIZE, previewRelativePath } from '../../src-main/core/images/index.js';

/**
 * Writes a rendition of each image (at most PREVIEW_SIZE pixels long) and records it; returns the
 * rendition's absolute path by image id. `greyscale` makes them grey, so a test sees on screen
 * which file the pixels came from. The catalogue may be open in a running app (SQLite lets a
 * second connection write).
 */
export async function makeRenditions(
  dataDir: string,
  images: ImageSummary[],
  options: { greyscale?: boolean } = {},
): Promise<Map<number, string>> {
  const made = new Map<number, string>();
  const db = openCatalog(path.join(dataDir, 'catalog.sqlite'));
  try {
    const repo = new ImageRepository(db, dataDir);
    for (const image of images) {
      const bytes = fs.readFileSync(image.path);
      const relative = previewRelativePath(crypto.createHash('sha256').update(bytes).digest('hex'));
      const file = path.join(dataDir, relative);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      await sharp(bytes)
        .resize(PREVIEW_SIZE, PREVIEW_SIZE, { fit: 'inside', withoutEnlargement: true })
        .greyscale(options.greyscale === true)
        .jpeg({ quality: 85 })
        .toFile(file);
      repo.setPreview(image.id, relative);
      made.set(image.id, file);
    }
  } finally {
    db.close();
  }
  return made;
}
