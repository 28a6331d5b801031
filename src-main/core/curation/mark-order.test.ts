/**
 * Marks of one image are applied strictly in the order they came, through the rpc on a real
 * catalogue and real files: a reject (which moves the file into `_Rejected/Maybe Later`) followed
 * by its undo before the reject's answer came back ends un-rejected, with the file in place.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImageSummary } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { createRpc, type Rpc } from '../rpc.js';
import { createServices, type Services } from '../services.js';
import { MAYBE_LATER_FOLDER } from './curation.js';

let root: string;
let services: Services;
let rpc: Rpc;
let projectId: number;
let folder: string;
let images: ImageSummary[];

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-mark-order-'));
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data'), projectsDir: path.join(root, 'projects') }));
  rpc = createRpc(services, 'browser');
  const incoming = path.join(root, 'incoming');
  fs.mkdirSync(incoming);
  for (const [i, colour] of ['#0a7', '#e52', '#15c'].entries()) {
    fs.writeFileSync(
      path.join(incoming, `shot${i + 1}.png`),
      await sharp({ create: { width: 48, height: 32, channels: 3, background: colour } })
        .png()
        .toBuffer(),
    );
  }
  const project = services.projects.create({ name: 'Cull' });
  projectId = project.id;
  folder = project.folder;
  images = (await services.importer.import(projectId, [incoming])).imported;
});

afterEach(async () => {
  try {
    await services.close();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

const mark = (imageId: number, change: { flag?: ImageSummary['flag']; rating?: number }): Promise<unknown> =>
  rpc.invoke('images.mark', { projectId, changes: [{ imageId, ...change }] });
const stored = (imageId: number): ImageSummary => services.images.get(imageId)!;
const maybeLater = (): string[] => {
  const dir = path.join(folder, MAYBE_LATER_FOLDER);
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
};

describe('marks of one image, in order', () => {
  it('reject then undo, fired without waiting for the reject, ends not rejected with the file in place', async () => {
    const image = images[0]!;
    const original = image.path;
    // What the grid sends for X then Ctrl+Z, the undo leaving before the reject's answer.
    const reject = mark(image.id, { flag: 'reject' });
    const undo = mark(image.id, { flag: 'none' });
    await Promise.all([reject, undo]);
    expect(stored(image.id)).toMatchObject({ flag: 'none', path: original });
    expect(fs.existsSync(original)).toBe(true);
    expect(maybeLater()).toEqual([]);
  });

  it('a burst of rejects and undos ends as the last one says, each file where its flag says', async () => {
    const [a, b] = images as [ImageSummary, ImageSummary];
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 5; i++) {
      calls.push(mark(a.id, { flag: 'reject' }), mark(a.id, { flag: 'none' }));
      // Another image's marks in the same burst, and one call that marks both, ending rejected.
      calls.push(mark(b.id, { flag: i % 2 === 0 ? 'reject' : 'none' }));
    }
    calls.push(
      rpc.invoke('images.mark', {
        projectId,
        changes: [
          { imageId: a.id, rating: 4 },
          { imageId: b.id, flag: 'reject' },
        ],
      }),
    );
    await Promise.all(calls);
    expect(stored(a.id)).toMatchObject({ flag: 'none', rating: 4, path: a.path });
    expect(fs.existsSync(a.path)).toBe(true);
    const rejected = stored(b.id);
    expect(rejected.flag).toBe('reject');
    expect(fs.existsSync(b.path)).toBe(false);
    expect(fs.existsSync(rejected.path)).toBe(true);
    expect(maybeLater()).toEqual([path.basename(rejected.path)]);
  });

  it('a failed mark does not hold up the next one of the same image', async () => {
    const image = images[2]!;
    // Another project's id: not_found for this image, then a rating that must still be stored.
    const other = services.projects.create({ name: 'Other' }).id;
    const refused = rpc.invoke('images.mark', { projectId: other, changes: [{ imageId: image.id, flag: 'reject' }] });
    const rated = mark(image.id, { rating: 3 });
    await expect(refused).rejects.toMatchObject({ code: 'not_found' });
    await rated;
    expect(stored(image.id)).toMatchObject({ rating: 3, flag: 'none', path: image.path });
  });
});
