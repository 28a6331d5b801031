import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImageSummary, Section, SectionCheck } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { createRpc, type Rpc } from '../rpc.js';
import { createServices, type Services } from '../services.js';

let root: string;
let services: Services;
let rpc: Rpc;
let projectId: number;
let images: ImageSummary[];

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-sections-'));
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data') }));
  rpc = createRpc(services, 'cli');
  projectId = services.projects.create({ name: 'Page' }).id;
  const dir = path.join(root, 'shots');
  fs.mkdirSync(dir);
  for (const [name, hex] of [
    ['a-magenta', '#F0305A'],
    ['b-teal', '#10D8F0'],
    ['c-yellow', '#F8D010'],
  ] as const) {
    await sharp({ create: { width: 90, height: 160, channels: 3, background: hex } })
      .png()
      .toFile(path.join(dir, `${name}.png`));
  }
  images = (await services.importer.import(projectId, [dir])).imported;
  await services.curation.scoreSharpness(projectId, services.images.list(projectId));
});

afterEach(async () => {
  await services.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('colour analysis of images', () => {
  it("caches each image's dominant colour and brand coverage for the project palette", () => {
    const [magenta, teal, yellow] = services.images.list(projectId);
    expect(magenta!.colour!.colourName).toBe('magenta');
    expect(magenta!.colour!.brand.find((b) => b.name === 'magenta')).toMatchObject({ present: true, coverage: 1 });
    expect(teal!.colour!.colourName).toBe('teal');
    expect(yellow!.colour!.colourName).toBe('yellow');
  });

  it('a new brand palette makes the analysis stale and it is made again', async () => {
    await rpc.invoke('projects.update', { projectId, palette: [{ name: 'sun', hex: '#FFD500' }] });
    await services.curation.scoreSharpness(projectId, []);
    const yellow = services.images.list(projectId)[2]!;
    expect(yellow.colour!.brand).toEqual([expect.objectContaining({ name: 'sun', present: true })]);
    expect(yellow.colour!.colourName).toBe('sun');
  });

  it('an edited palette is stored in one spelling, and a colour or a name given twice is refused', async () => {
    const project = (await rpc.invoke('projects.update', {
      projectId,
      palette: [
        { name: ' Sun ', hex: '#ffd500' },
        { name: 'ink', hex: '#2B2D42' },
      ],
    })) as { palette: unknown };
    expect(project.palette).toEqual([
      { name: 'Sun', hex: '#FFD500' },
      { name: 'ink', hex: '#2B2D42' },
    ]);
    await expect(
      rpc.invoke('projects.update', {
        projectId,
        palette: [
          { name: 'sun', hex: '#FFD500' },
          { name: 'gold', hex: '#ffd500' },
        ],
      }),
    ).rejects.toThrow(/#FFD500 twice/);
    await expect(
      rpc.invoke('projects.update', {
        projectId,
        palette: [
          { name: 'sun', hex: '#FFD500' },
          { name: 'Sun', hex: '#FFFFFF' },
        ],
      }),
    ).rejects.toThrow(/two colours named "Sun"/);
  });
});

describe('sections', () => {
  it("checks each section's background against its image and names the better pick", async () => {
    const hero = (await rpc.invoke('sections.save', {
      projectId,
      name: 'hero',
      backgroundHex: '#FE2C54',
      slotWidth: 2160,
      slotHeight: 3840,
    })) as Section;
    const features = (await rpc.invoke('sections.save', {
      projectId,
      name: 'features',
      backgroundHex: '#00E0FF',
      slotWidth: 1080,
      slotHeight: 1920,
    })) as Section;
    await rpc.invoke('sections.save', { projectId, name: 'footer', backgroundHex: '#FFD500', slotWidth: 1080, slotHeight: 1920 });
    await rpc.invoke('sections.pair', { sectionId: hero.id, imageId: images[0]!.id });
    await rpc.invoke('sections.pair', { sectionId: features.id, imageId: images[2]!.id }); // yellow on a teal section
    await rpc.invoke('images.mark', { projectId, changes: images.map((i) => ({ imageId: i.id, flag: 'pick' })) });

    const checks = (await rpc.invoke('sections.check', { projectId })) as SectionCheck[];
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['hero', 'pass'],
      ['features', 'warn'],
      ['footer', 'unpaired'],
    ]);
    expect(checks[0]!.deltaE).toBeLessThan(10);
    expect(checks[1]!.message).toMatch(
      /c-yellow\.png's dominant colour #F8D010 is ΔE [\d.]+ from the background #00E0FF; the background would need #F8D010, or pair b-teal\.png/,
    );
    expect(checks[1]!.suggestion).toMatchObject({ fileName: 'b-teal.png' });
    expect(checks[2]!.suggestion).toMatchObject({ fileName: 'c-yellow.png' });

    const moved = (await rpc.invoke('sections.move', { sectionId: features.id, position: 0 })) as Section[];
    expect(moved.map((s) => s.name)).toEqual(['features', 'hero', 'footer']);
    await expect(
      rpc.invoke('sections.save', { projectId, name: 'hero', backgroundHex: null, slotWidth: 1080, slotHeight: 1920 }),
    ).rejects.toMatchObject({ code: 'conflict', field: 'name' });
    await expect(
      rpc.invoke('sections.save', { projectId, name: 'x', backgroundHex: 'red', slotWidth: 1080, slotHeight: 1920 }),
    ).rejects.toMatchObject({ field: 'backgroundHex' });
  });
});
