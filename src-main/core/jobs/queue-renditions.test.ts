/**
 * Generated images get their grid thumbnail and loupe rendition from the engine worker (made from
 * the decoded pixels, hashed there), recorded with the image in one write; files adopted at start
 * get theirs made on the main thread. The real engine in the built worker, a tiny model.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BRAND_LOOP_PRESET, type GenerationSettings } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { writeTinySd } from '../diffusion/testing/tiny-sd.js';
import { previewRelativePath, thumbnailRelativePath } from '../images/index.js';
import { createServices, type Services } from '../services.js';
import { appPackage } from '../util/index.js';
import { generationFileName } from './queue.js';

let models: string;
const open: Services[] = [];

beforeAll(() => {
  if (!fs.existsSync(path.join(appPackage().root, 'dist', 'main', 'core', 'jobs', 'worker.js')))
    throw new Error('Build first (npm run build): the queue runs the built worker.');
  models = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-renditions-models-'));
  writeTinySd(path.join(models, 'tiny-sd'));
});

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

function app(dataDir: string): Services {
  const services = createServices(resolveConfig({ dataDir, modelsDir: models }), { provider: 'cpu' });
  open.push(services);
  return services;
}

const settings = (over: Partial<GenerationSettings> = {}): GenerationSettings => ({
  ...BRAND_LOOP_PRESET.settings,
  model: 'tiny-sd',
  width: 64,
  height: 64,
  steps: 3,
  ...over,
});

const sha256 = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('renditions of generated images', () => {
  it('each image is announced with its rendition: a JPEG of its own pixels, named by the hash of its file', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-queue-renditions-'));
    const services = app(dataDir);
    const project = services.projects.create({ name: 'Drafts' });
    const announced: { id: number; previewPath: string | null; thumbPath: string | null }[] = [];
    services.events.subscribe((e) => {
      // The files are there when the grid hears of the image.
      if (e.type === 'images.added')
        for (const i of e.payload.images) {
          expect(fs.existsSync(i.path) && fs.existsSync(i.previewPath!) && fs.existsSync(i.thumbPath!)).toBe(true);
          announced.push({ id: i.id, previewPath: i.previewPath, thumbPath: i.thumbPath });
        }
    });
    services.queue.start();
    services.queue.add(project.id, 'portrait', '', settings({ batchSize: 2 }), 1, 5);
    services.queue.add(project.id, 'poster', '', settings({ batchSize: 1, width: 576, height: 1024, steps: 2 }), 1, 9);
    await services.queue.whenIdle();

    const images = services.images.list(project.id);
    expect(images).toHaveLength(3);
    expect(announced).toEqual(images.map((i) => ({ id: i.id, previewPath: i.previewPath, thumbPath: i.thumbPath })));
    for (const image of images) {
      const hash = sha256(image.path);
      expect(services.images.findByHash(project.id, hash)?.id).toBe(image.id);
      expect(image.previewPath).toBe(path.join(dataDir, previewRelativePath(hash)));
      const preview = await sharp(image.previewPath!).raw().toBuffer({ resolveWithObject: true });
      expect(preview.info.format).toBe('raw');
      expect((await sharp(image.previewPath!).metadata()).format).toBe('jpeg');
      expect([preview.info.width, preview.info.height]).toEqual([image.width, image.height]);
      // The same picture as the PNG (JPEG loses a little of the noisy tiny model; another picture is ~80 off).
      const png = await sharp(image.path).raw().toBuffer();
      let diff = 0;
      for (let i = 0; i < png.length; i++) diff += Math.abs(png[i]! - preview.data[i]!);
      expect(diff / png.length).toBeLessThan(20);
    }
    // A draft no larger than a thumbnail: its rendition is its thumbnail too (one encode).
    const [small, , tall] = images;
    expect(small!.thumbPath).toBe(small!.previewPath);
    // A larger one keeps a WebP thumbnail of its own, long side 512.
    expect(tall!.thumbPath).toBe(path.join(dataDir, thumbnailRelativePath(sha256(tall!.path))));
    const thumb = await sharp(tall!.thumbPath!).metadata();
    expect([thumb.format, thumb.width, thumb.height]).toEqual(['webp', 288, 512]);
  }, 60_000);

  it('a file adopted at start (written, not recorded, when the app stopped) gets its renditions too', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-queue-adopt-'));
    const services = app(dataDir);
    const project = services.projects.create({ name: 'Adopt' });
    services.queue.start();
    const [job] = services.queue.add(project.id, 'portrait', '', settings({ batchSize: 2 }), 1, 3);
    await services.queue.whenIdle();
    const file = path.join(project.folder, generationFileName(job!, 1, 4));
    // What a crash between rename and record leaves: the file, no record, no cached renditions.
    services.db.prepare('DELETE FROM images WHERE job_id = ? AND batch_index = 1').run(job!.id);
    services.db.prepare("UPDATE jobs SET state = 'running' WHERE id = ?").run(job!.id);
    fs.rmSync(path.join(dataDir, 'previews'), { recursive: true, force: true });
    await services.close();
    open.splice(open.indexOf(services), 1);

    const again = app(dataDir);
    expect(again.queue.start().adopted).toBe(1);
    await again.queue.whenIdle();
    const adopted = again.images.list(project.id).find((i) => i.path === file)!;
    expect(adopted.previewPath).toBe(path.join(dataDir, previewRelativePath(sha256(file))));
    expect((await sharp(adopted.previewPath!).metadata()).format).toBe('jpeg');
    expect(fs.existsSync(adopted.thumbPath!)).toBe(true);
  }, 60_000);
});
