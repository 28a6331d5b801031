import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppEvent, ImageSummary } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { createRpc } from '../rpc.js';
import { createServices, type Services } from '../services.js';

let root: string;
let services: Services;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-repair-'));
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data') }));
});

afterEach(async () => {
  await services.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('thumbnail repair', () => {
  it('re-makes thumbnails missing from the cache after images.list, one event each', async () => {
    const incoming = path.join(root, 'incoming');
    fs.mkdirSync(incoming);
    for (let i = 0; i < 3; i++) {
      await sharp({ create: { width: 96, height: 160, channels: 3, background: { r: 60 * i, g: 120, b: 200 } } })
        .png()
        .toFile(path.join(incoming, `a${i}.png`));
    }
    const project = services.projects.create({ name: 'Repair' });
    const report = await services.importer.import(project.id, [incoming]);
    expect(report.imported).toHaveLength(3);

    // The cache loses two thumbnails.
    const lost = report.imported.slice(0, 2).map((i) => i.thumbPath!);
    for (const file of lost) fs.rmSync(file);
    const events: AppEvent[] = [];
    services.events.subscribe((e) => events.push(e));

    const rpc = createRpc(services, 'cli');
    const listed = (await rpc.invoke('images.list', { projectId: project.id })) as ImageSummary[];
    expect(listed).toHaveLength(3);
    // Joins the pass that images.list started.
    await expect(services.thumbnails.repair(project.id, listed)).resolves.toBe(2);

    for (const file of lost) {
      const meta = await sharp(file).metadata();
      expect([meta.width, meta.height]).toEqual([96, 160]);
    }
    const ready = events.filter((e) => e.type === 'thumbnail.ready');
    expect(ready.map((e) => e.payload.imageId).sort()).toEqual(
      report.imported
        .slice(0, 2)
        .map((i) => i.id)
        .sort(),
    );
    // Nothing left to do on the next pass.
    await expect(services.thumbnails.repair(project.id, services.images.list(project.id))).resolves.toBe(0);
  });
});
