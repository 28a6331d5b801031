/**
 * Loupe renditions: made at import beside the grid thumbnail (one decode), recorded so
 * `images.list` gives `previewPath`, and made in the background for images catalogued without one.
 * Real image files, real sharp, real SQLite.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppEvent, ImageSummary, Project } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { createRpc } from '../rpc.js';
import { createServices, type Services } from '../services.js';
import { PREVIEW_SIZE, previewRelativePath } from './thumbnails.js';

let root: string;
let services: Services;
let project: Project;
let incoming: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-renditions-'));
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data'), projectsDir: path.join(root, 'projects') }));
  project = services.projects.create({ name: 'Loupe' });
  incoming = path.join(root, 'incoming');
  fs.mkdirSync(incoming);
});

afterEach(async () => {
  try {
    await services.close();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

/** A PNG with a gradient (so resizing and orientation are visible in its pixels). */
async function gradientPng(file: string, width: number, height: number): Promise<string> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = Math.round((x / width) * 255);
      data[o + 1] = Math.round((y / height) * 255);
      data[o + 2] = 90;
    }
  await sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(file);
  return file;
}

async function describeFile(file: string): Promise<{ format: string | undefined; width: number; height: number }> {
  const meta = await sharp(file).metadata();
  return { format: meta.format, width: meta.width, height: meta.height };
}

describe('loupe renditions at import', () => {
  it('writes a JPEG rendition per image, long side at most 2048, never enlarged, recorded for images.list', async () => {
    await gradientPng(path.join(incoming, 'wide.png'), 3000, 1000);
    await gradientPng(path.join(incoming, 'phone.png'), 576, 1024);
    const report = await services.importer.import(project.id, [incoming]);
    expect(report.imported.map((i) => i.fileName).sort()).toEqual(['phone.png', 'wide.png']);

    const listed = services.images.list(project.id);
    const byName = new Map(listed.map((i) => [i.fileName, i]));
    for (const image of listed) {
      // Where the design says: previews/<2 hex>/<content hash>.jpg in the data folder.
      const hash = crypto.createHash('sha256').update(fs.readFileSync(image.path)).digest('hex');
      expect(image.previewPath).toBe(path.join(services.config.dataDir, previewRelativePath(hash)));
      // The import's own answer says the same as the catalogue.
      expect(report.imported.find((i) => i.id === image.id)!.previewPath).toBe(image.previewPath);
    }
    expect(await describeFile(byName.get('wide.png')!.previewPath!)).toEqual({ format: 'jpeg', width: PREVIEW_SIZE, height: 683 });
    expect(await describeFile(byName.get('phone.png')!.previewPath!)).toEqual({ format: 'jpeg', width: 576, height: 1024 });
    // The grid thumbnail is still its own WebP, from the same decode.
    expect(await describeFile(byName.get('wide.png')!.thumbPath!)).toEqual({ format: 'webp', width: 512, height: 171 });

    // The rendition shows the picture: its left edge dark red, its right edge bright red, as the source.
    const { data, info } = await sharp(byName.get('wide.png')!.previewPath!).raw().toBuffer({ resolveWithObject: true });
    const red = (x: number): number => data[(Math.floor(info.height / 2) * info.width + x) * info.channels]!;
    expect(red(2)).toBeLessThan(20);
    expect(red(info.width - 3)).toBeGreaterThan(235);
  });

  it('applies EXIF orientation: a photo stored on its side is upright in the rendition', async () => {
    // Stored 300×200, orientation 6 (rotate 90° clockwise to view): shown 200×300.
    const stored = await sharp(await gradientPng(path.join(root, 'raw.png'), 300, 200))
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    fs.writeFileSync(path.join(incoming, 'side.jpg'), stored);
    const report = await services.importer.import(project.id, [incoming]);
    const image = services.images.list(project.id)[0]!;
    expect(report.imported).toHaveLength(1);
    expect([image.width, image.height]).toEqual([200, 300]);
    expect(await describeFile(image.previewPath!)).toEqual({ format: 'jpeg', width: 200, height: 300 });
    // The rendition carries no orientation of its own left to apply twice.
    expect((await sharp(image.previewPath!).metadata()).orientation ?? 1).toBe(1);
  });

  it('skips a broken file by name and still makes the renditions of the others', async () => {
    await gradientPng(path.join(incoming, 'good.png'), 640, 480);
    // Another picture, cut off part-way through its pixels.
    const other = await sharp(crypto.randomBytes(320 * 240 * 3), { raw: { width: 320, height: 240, channels: 3 } })
      .png()
      .toBuffer();
    fs.writeFileSync(path.join(incoming, 'broken.png'), other.subarray(0, Math.floor(other.length * 0.4)));

    const report = await services.importer.import(project.id, [incoming]);
    expect(report.skipped.map((s) => [path.basename(s.path), s.reason])).toEqual([['broken.png', 'unreadable']]);
    expect(report.skipped[0]!.message).toMatch(/^broken\.png is damaged or truncated/);
    const listed = services.images.list(project.id);
    expect(listed.map((i) => i.fileName)).toEqual(['good.png']);
    expect(await describeFile(listed[0]!.previewPath!)).toEqual({ format: 'jpeg', width: 640, height: 480 });
    // Nothing of the broken file in the cache.
    const previews = fs
      .readdirSync(path.join(services.config.dataDir, 'previews'), { recursive: true })
      .filter((f) => String(f).endsWith('.jpg'));
    expect(previews).toHaveLength(1);
  });
});

describe('rendition repair', () => {
  /** An image in the catalogue as it was before renditions: a file in the project, no preview_path. */
  async function catalogued(name: string, make: (file: string) => Promise<unknown>): Promise<ImageSummary> {
    const file = path.join(project.folder, 'imports', name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await make(file);
    const bytes = fs.readFileSync(file);
    return services.images.insert({
      projectId: project.id,
      path: path.join('imports', name),
      contentHash: crypto.createHash('sha256').update(bytes).digest('hex'),
      width: 1,
      height: 1,
      format: 'png',
      byteSize: bytes.length,
    });
  }

  it('makes the missing renditions after images.list, one preview.ready each, and skips a file that no longer decodes', async () => {
    const old = await catalogued('old.png', (f) => gradientPng(f, 2500, 900));
    const broken = await catalogued('broken.png', async (f) => fs.writeFileSync(f, 'not a picture any more'));
    const small = await catalogued('small.png', (f) => gradientPng(f, 300, 400));
    expect(services.images.list(project.id).map((i) => i.previewPath)).toEqual([null, null, null]);
    const events: AppEvent[] = [];
    services.events.subscribe((e) => events.push(e));

    const rpc = createRpc(services, 'cli');
    const listed = (await rpc.invoke('images.list', { projectId: project.id })) as ImageSummary[];
    // Joins the pass images.list started. Thumbnails: the two that decode; renditions: the same two.
    await expect(services.thumbnails.repair(project.id, listed)).resolves.toBe(4);

    const after = new Map(services.images.list(project.id).map((i) => [i.id, i]));
    expect(await describeFile(after.get(old.id)!.previewPath!)).toEqual({ format: 'jpeg', width: 2048, height: 737 });
    expect(await describeFile(after.get(small.id)!.previewPath!)).toEqual({ format: 'jpeg', width: 300, height: 400 });
    expect(after.get(broken.id)!.previewPath).toBeNull();
    const ready = events.filter((e): e is Extract<AppEvent, { type: 'preview.ready' }> => e.type === 'preview.ready');
    expect(ready.map((e) => [e.payload.imageId, e.payload.previewPath])).toEqual([
      [old.id, after.get(old.id)!.previewPath],
      [small.id, after.get(small.id)!.previewPath],
    ]);
    // Renditions come after every missing thumbnail: the grid first.
    const order = events.map((e) => e.type).filter((t) => t === 'thumbnail.ready' || t === 'preview.ready');
    expect(order).toEqual(['thumbnail.ready', 'thumbnail.ready', 'preview.ready', 'preview.ready']);

    // A rendition lost from the cache is made again; nothing else is.
    fs.rmSync(after.get(old.id)!.previewPath!);
    await expect(services.thumbnails.repair(project.id, services.images.list(project.id))).resolves.toBe(1);
    expect(fs.existsSync(after.get(old.id)!.previewPath!)).toBe(true);
    await expect(services.thumbnails.repair(project.id, services.images.list(project.id))).resolves.toBe(0);

    // A folder where the rendition file should be is no rendition: nothing is recorded that the loupe could not load.
    const lost = after.get(small.id)!.previewPath!;
    fs.rmSync(lost);
    fs.mkdirSync(lost);
    services.db.prepare('UPDATE images SET preview_path = NULL WHERE id = ?').run(small.id);
    await expect(services.thumbnails.repair(project.id, services.images.list(project.id))).resolves.toBe(0);
    expect(services.images.get(small.id)!.previewPath).toBeNull();
    expect(fs.statSync(lost).isDirectory()).toBe(true);
  });

  it('serves renditions through the media access of the catalogue folders', async () => {
    await gradientPng(path.join(incoming, 'a.png'), 800, 600);
    await services.importer.import(project.id, [incoming]);
    const image = services.images.list(project.id)[0]!;
    expect(await services.media.resolve(image.previewPath!)).toMatchObject({ path: image.previewPath, contentType: 'image/jpeg' });
  });
});
