import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, type ImagePage, type ImageSummary } from './api/index.js';
import { resolveConfig } from './config.js';
import { OpenWork } from './open-work.js';
import { createRpc } from './rpc.js';
import { createServices, type Services } from './services.js';

let root: string;
let services: Services;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-open-'));
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data'), projectsDir: path.join(root, 'projects') }));
});

afterEach(async () => {
  try {
    await services.close();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

/** A project with `count` real images, their scores cleared as if the catalogue came from an older version. */
async function project(name: string, count: number): Promise<{ id: number; images: ImageSummary[] }> {
  const dir = path.join(root, `in-${name}`);
  fs.mkdirSync(dir);
  for (let i = 0; i < count; i++) {
    await sharp({ create: { width: 64, height: 96, channels: 3, background: { r: 40 * i, g: 90, b: 160 } } })
      .png()
      .toFile(path.join(dir, `${name}_${i}.png`));
  }
  const created = services.projects.create({ name });
  const report = await services.importer.import(created.id, [dir]);
  expect(report.imported).toHaveLength(count);
  // The scoring that the import started is done before the scores are cleared.
  await services.curation.scoreSharpness(created.id, []);
  services.db.prepare('UPDATE images SET sharpness = NULL, colour = NULL WHERE project_id = ?').run(created.id);
  return { id: created.id, images: services.images.list(created.id) };
}

const scored = (projectId: number): number => services.images.list(projectId).filter((i) => i.sharpness !== null).length;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('images.page', () => {
  it('answers a page in capture order with the project total; images.list is unchanged', async () => {
    const rpc = createRpc(services, 'cli');
    const { id } = await project('Paged', 5);
    const all = (await rpc.invoke('images.list', { projectId: id })) as ImageSummary[];
    expect(all).toHaveLength(5);
    const first = (await rpc.invoke('images.page', { projectId: id, offset: 0, limit: 2 })) as ImagePage;
    const rest = (await rpc.invoke('images.page', { projectId: id, offset: 2, limit: 10 })) as ImagePage;
    expect(first.total).toBe(5);
    expect(first.offset).toBe(0);
    expect([...first.images, ...rest.images].map((i) => i.id)).toEqual(all.map((i) => i.id));
    expect(((await rpc.invoke('images.page', { projectId: id, offset: 5, limit: 10 })) as ImagePage).images).toEqual([]);
  });

  it.each([
    [{ offset: 0, limit: 0 }, 'limit', 'at least 1'],
    [{ offset: 0, limit: 10_001 }, 'limit', 'at most 10,000'],
    [{ offset: -1, limit: 10 }, 'offset', '0 or more'],
    [{ offset: 1.5, limit: 10 }, 'offset', 'whole number'],
    [{ offset: 0 }, 'limit', ''],
  ])('refuses %j naming the field', async (input, field, words) => {
    const rpc = createRpc(services, 'cli');
    const { id } = await project('Bad', 1);
    const error = await rpc.invoke('images.page', { projectId: id, ...input }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('invalid_input');
    expect((error as ApiError).field).toBe(field);
    expect((error as ApiError).message).toContain(words);
  });

  it('is not_found for a project that does not exist', async () => {
    const rpc = createRpc(services, 'cli');
    const error = (await rpc.invoke('images.page', { projectId: 404, offset: 0, limit: 10 }).catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe('not_found');
  });

  it('starts the background scoring of the opened project once the first page is answered', async () => {
    const rpc = createRpc(services, 'cli');
    const { id } = await project('Opened', 3);
    expect(scored(id)).toBe(0);
    await rpc.invoke('images.page', { projectId: id, offset: 0, limit: 1 });
    await expect.poll(() => scored(id), { timeout: 15_000 }).toBe(3);
  });
});

describe('OpenWork', () => {
  it('waits while calls are in flight or images are being served, then scores and repairs every image', async () => {
    const { id, images } = await project('Quiet', 3);
    const lost = images[0]!.thumbPath!;
    fs.rmSync(lost);
    const work = new OpenWork(services, { quietMs: 150, chunk: 1 });
    const call = work.busy();
    const done = work.start(id);
    await sleep(600);
    // A call is still in flight: nothing was done.
    expect(scored(id)).toBe(0);
    expect(fs.existsSync(lost)).toBe(false);
    call();
    // The grid loads thumbnails: the pass still waits.
    const until = Date.now() + 600;
    while (Date.now() < until) {
      await services.media.resolve(images[1]!.thumbPath!);
      await sleep(30);
    }
    expect(scored(id)).toBe(0);
    await done;
    expect(scored(id)).toBe(3);
    expect(fs.existsSync(lost)).toBe(true);
  });

  it('runs once per opening: the same project joins its pass, another project stops it', async () => {
    const a = await project('A', 3);
    const b = await project('B', 2);
    const work = new OpenWork(services, { quietMs: 100, chunk: 1 });
    const call = work.busy();
    const first = work.start(a.id);
    expect(work.start(a.id)).toBe(first);
    expect(work.running).toBe(a.id);
    const second = work.start(b.id);
    expect(work.running).toBe(b.id);
    call();
    await Promise.all([first, second]);
    // A's pass was stopped before it began; B's went through.
    expect(scored(a.id)).toBe(0);
    expect(scored(b.id)).toBe(2);
    expect(work.running).toBe(null);
  });

  it('still gets its work done, chunk by chunk, in an app that is never quiet', async () => {
    const { id } = await project('Busy', 2);
    const work = new OpenWork(services, { quietMs: 200, chunk: 1, maxWaitMs: 300 });
    const done = work.start(id);
    let busy = true;
    const calls = (async () => {
      while (busy) {
        work.busy()();
        await sleep(20);
      }
    })();
    await done;
    busy = false;
    await calls;
    expect(scored(id)).toBe(2);
  });

  it('ends quietly when the catalogue closes under it', async () => {
    const { id } = await project('Closing', 1);
    const work = new OpenWork(services, { quietMs: 50 });
    const call = work.busy();
    const done = work.start(id);
    await services.close();
    call();
    await expect(done).resolves.toBeUndefined();
  });
});
