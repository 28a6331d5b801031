import path from 'node:path';
import type { ImageSummary } from '../api/index.js';
import type { ImageRepository } from '../catalog/index.js';
import type { EventBus } from '../events.js';
import { thumbnailExists, writeThumbnail } from './thumbnails.js';

/**
 * Re-makes thumbnails that are missing from the cache (a cleared cache, a catalogue moved to
 * another machine), in the background, one `thumbnail.ready` event each. One pass per project
 * at a time; a file that cannot be decoded any more is left without a thumbnail.
 */
export class ThumbnailRepair {
  private readonly running = new Map<number, Promise<number>>();

  constructor(
    private readonly images: ImageRepository,
    private readonly events: EventBus,
    private readonly dataDir: string,
  ) {}

  /** Starts (or joins) a repair pass for the project; resolves to the number of thumbnails made. */
  repair(projectId: number, images: readonly ImageSummary[]): Promise<number> {
    const existing = this.running.get(projectId);
    if (existing) return existing;
    const pass = this.run(projectId, images).finally(() => this.running.delete(projectId));
    this.running.set(projectId, pass);
    return pass;
  }

  private async run(projectId: number, images: readonly ImageSummary[]): Promise<number> {
    let made = 0;
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
    return made;
  }
}
