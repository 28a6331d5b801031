import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppEvent, ImageSummary } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { createRpc } from '../rpc.js';
import { createServices, type Services } from '../services.js';
import { laplacianVariance, sharpnessScore } from './sharpness.js';

let root: string;
let services: Services;
let images: ImageSummary[];
let projectId: number;
let events: AppEvent[];

/** A checkerboard-and-shapes picture: crisp edges, so blurring it measurably lowers the score. */
function detailed(width = 256, height = 256, hue = 0): Promise<Buffer> {
  const cells = Array.from(
    { length: 64 },
    (_, i) => `<rect x="${(i % 8) * 32}" y="${Math.floor(i / 8) * 32}" width="16" height="16" fill="hsl(${hue + i * 5},90%,50%)"/>`,
  ).join('');
  return sharp(
    Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#111"/>${cells}</svg>`,
    ),
  )
    .png()
    .toBuffer();
}

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-curation-'));
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data') }));
  events = [];
  services.events.subscribe((e) => events.push(e));
  const incoming = path.join(root, 'incoming');
  fs.mkdirSync(incoming);
  fs.writeFileSync(path.join(incoming, 'crisp.png'), await detailed());
  fs.writeFileSync(
    path.join(incoming, 'soft.png'),
    await sharp(await detailed(256, 256, 40))
      .blur(4)
      .png()
      .toBuffer(),
  );
  fs.writeFileSync(path.join(incoming, 'third.png'), await detailed(256, 256, 120));
  projectId = services.projects.create({ name: 'Cull' }).id;
  images = (await services.importer.import(projectId, [incoming])).imported;
});

afterEach(async () => {
  await services.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('ratings and flags', () => {
  it('stores ratings and picks at once, in bulk, and tells the windows', async () => {
    const rpc = createRpc(services, 'cli');
    const started = performance.now();
    await rpc.invoke('images.mark', { projectId, changes: images.map((i) => ({ imageId: i.id, rating: 3 })) });
    expect(performance.now() - started).toBeLessThan(500);
    await rpc.invoke('images.mark', { projectId, changes: [{ imageId: images[0]!.id, flag: 'pick', rating: 5 }] });
    const listed = services.images.list(projectId);
    expect(listed.map((i) => [i.rating, i.flag])).toEqual([
      [5, 'pick'],
      [3, 'none'],
      [3, 'none'],
    ]);
    expect(events.filter((e) => e.type === 'images.updated')).toHaveLength(2);
  });

  it('refuses bad marks by field, and images of another project', async () => {
    const rpc = createRpc(services, 'cli');
    await expect(rpc.invoke('images.mark', { projectId, changes: [{ imageId: images[0]!.id, rating: 6 }] })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'changes.0.rating',
    });
    await expect(rpc.invoke('images.mark', { projectId, changes: [{ imageId: images[0]!.id, flag: 'maybe' }] })).rejects.toMatchObject({
      field: 'changes.0.flag',
    });
    const other = services.projects.create({ name: 'Other' });
    await expect(
      rpc.invoke('images.mark', { projectId: other.id, changes: [{ imageId: images[0]!.id, rating: 1 }] }),
    ).rejects.toMatchObject({ code: 'not_found' });
  });

  it('stores colour labels beside the rating and flag, through a reject and back; refuses an unknown colour', async () => {
    const rpc = createRpc(services, 'cli');
    const image = images[1]!;
    expect(image.label).toBe('none');
    await rpc.invoke('images.mark', { projectId, changes: [{ imageId: image.id, label: 'red', rating: 2 }] });
    expect(services.images.get(image.id)).toMatchObject({ label: 'red', rating: 2, flag: 'none' });
    const [rejected] = (await rpc.invoke('images.mark', { projectId, changes: [{ imageId: image.id, flag: 'reject' }] })) as ImageSummary[];
    expect(rejected).toMatchObject({ label: 'red', flag: 'reject' });
    await rpc.invoke('images.mark', { projectId, changes: [{ imageId: image.id, flag: 'none', label: 'blue' }] });
    expect(services.images.get(image.id)).toMatchObject({ label: 'blue', flag: 'none', path: image.path });
    await expect(rpc.invoke('images.mark', { projectId, changes: [{ imageId: image.id, label: 'purple' }] })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'changes.0.label',
      message: expect.stringContaining('must be none, red, yellow, green or blue'),
    });
  });
});

describe('_Rejected/Maybe Later', () => {
  it("rejecting moves the file into the project's Maybe Later folder; restoring brings it back; nothing is deleted", async () => {
    const image = images[1]!;
    const before = fs.readFileSync(image.path);
    const [rejected] = await services.curation.mark(projectId, [{ imageId: image.id, flag: 'reject' }]);
    expect(rejected!.flag).toBe('reject');
    expect(rejected!.path).toBe(path.join(services.projects.get(projectId).folder, '_Rejected', 'Maybe Later', 'soft.png'));
    expect(fs.existsSync(image.path)).toBe(false);
    expect(fs.readFileSync(rejected!.path).equals(before)).toBe(true);
    await expect(services.media.resolve(rejected!.path)).resolves.toMatchObject({ contentType: 'image/png' });

    // Another file took the old name meanwhile: the restored one gets a free name, nothing is overwritten.
    fs.writeFileSync(image.path, 'someone else');
    const [restored] = await services.curation.mark(projectId, [{ imageId: image.id, flag: 'none' }]);
    expect(path.basename(restored!.path)).toBe('soft_2.png');
    expect(fs.readFileSync(restored!.path).equals(before)).toBe(true);
    expect(fs.readFileSync(image.path, 'utf8')).toBe('someone else');
    expect(fs.readdirSync(path.join(services.projects.get(projectId).folder, '_Rejected', 'Maybe Later'))).toEqual([]);
  });

  it('a move interrupted by a crash is finished on the next start', async () => {
    const image = images[0]!;
    const folder = services.projects.get(projectId).folder;
    // The catalogue says "rejected", the file has not moved yet (the crash came between the two).
    services.db
      .prepare("UPDATE images SET flag = 'reject', path = ?, original_path = ? WHERE id = ?")
      .run(path.join('_Rejected', 'Maybe Later', 'crisp.png'), path.join('imports', 'crisp.png'), image.id);
    await services.close();
    services = createServices(resolveConfig({ dataDir: path.join(root, 'data') }));
    const now = services.images.get(image.id)!;
    expect(fs.existsSync(now.path)).toBe(true);
    expect(fs.existsSync(path.join(folder, 'imports', 'crisp.png'))).toBe(false);
  });
});

describe('sharpness', () => {
  it('scores a crisp image above a blurred one, in the background, with an event', async () => {
    await services.curation.scoreSharpness(projectId, services.images.list(projectId));
    const [crisp, soft] = services.images.list(projectId);
    expect(crisp!.sharpness).toBeGreaterThan(soft!.sharpness! * 5);
    expect(events.some((e) => e.type === 'images.updated' && e.payload.images.some((i) => i.sharpness !== null))).toBe(true);
  });

  it('is the variance of the 4-neighbour Laplacian', async () => {
    // A single bright pixel in a 5×5 field: Laplacian −4·255 at the centre, 255 at its 4 neighbours, 0 elsewhere (3×3 interior).
    const grey = new Uint8Array(25);
    grey[12] = 255;
    const values = [-4 * 255, 255, 255, 255, 255, 0, 0, 0, 0];
    const mean = values.reduce((a, b) => a + b, 0) / 9;
    const variance = values.reduce((a, b) => a + b * b, 0) / 9 - mean * mean;
    expect(laplacianVariance(grey, 5, 5)).toBeCloseTo(variance, 1);
    expect(laplacianVariance(new Uint8Array(25).fill(90), 5, 5)).toBe(0);
    await expect(sharpnessScore(Buffer.from('not an image'))).rejects.toThrow();
  });
});
