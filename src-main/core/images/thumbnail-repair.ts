import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ImageSummary } from '../api/index.js';
import type { ImageRepository } from '../catalog/index.js';
import type { EventBus } from '../events.js';
import { decodeForRenditions, encodePreview, previewRelativePath, saveCached, thumbnailExists, writeThumbnail } from './thumbnails.js';

/**
 * Re-makes thumbnails that are missing from the cache (a cleared cache, a catalogue moved to
 * another machine), in the background, one `thumbnail.ready` event each; then the loupe
 * renditions that are missing (images catalogued before there were any, or a cleared cache), one
 * `preview.ready` event each. One pass per project at a time, one image at a time; a file that
 * cannot be decoded any more is left as it is.
 */
export class ThumbnailRepair {
  private readonly running = new Map<number, Promise<number>>();

  constructor(
    private readonly images: ImageRepository,
    private readonly events: EventBus,
    private readonly dataDir: string,
  ) {}

  /** Starts (or joins) a repair pass for the project; resolves to the number of thumbnails and renditions made. */
  repair(projectId: number, images: readonly ImageSummary[]): Promise<number> {
    const existing = this.running.get(projectId);
    if (existing) return existing;
    const pass = this.run(projectId, images).finally(() => this.running.delete(projectId));
    this.running.set(projectId, pass);
    return pass;
  }

  private async run(projectId: number, images: readonly ImageSummary[]): Promise<number> {
    let made = 0;
    // Thumbnails first: the grid needs them; the loupe shows the original until its rendition is there.
    for (const image of images) {
      if (image.thumbPath && (await thumbnailExists(image.thumbPath))) continue;
      const target = image.thumbPath ?? path.join(this.dataDir, 'thumbnails', 'repaired', `${image.id}.webp`);
      try {
        await writeThumbnail(image.path, target);
      } catch {
        continue;
      }
      this.images.setThumbnail(image.id, path.relative(this.dataDir, target));
      this.events.emit('thumbnail.ready', { projectId, imageId: image.id, thumbPath: target });
      made++;
    }
    for (const image of images) {
      if (image.previewPath && (await thumbnailExists(image.previewPath))) continue;
      let previewPath: string;
      try {
        const bytes = await fs.readFile(image.path);
        const hash = crypto.createHash('sha256').update(bytes).digest('hex');
        const relative = previewRelativePath(hash);
        previewPath = path.join(this.dataDir, relative);
        if (!(await thumbnailExists(previewPath))) await saveCached(previewPath, await encodePreview(await decodeForRenditions(bytes)));
        this.images.setPreview(image.id, relative);
      } catch {
        continue;
      }
      this.events.emit('preview.ready', { projectId, imageId: image.id, previewPath });
      made++;
    }
    return made;
  }
}
