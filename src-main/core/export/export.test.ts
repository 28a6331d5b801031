/** Export: post-treatment, names, metadata read back by exiftool, safe writes. */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExportReport, ImageSummary, Section } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { createRpc, type Rpc } from '../rpc.js';
import { createServices, type Services } from '../services.js';
import { fileName } from './exporter.js';

const exiftool = spawnSync('exiftool', ['-ver']).status === 0;
let root: string;
let services: Services;
let rpc: Rpc;
let projectId: number;
let images: ImageSummary[];
const PARAMS =
  'portrait of a café owner, magenta rim light\nNegative prompt: text, watermark\nSteps: 25, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 4242, Size: 576x1024, Model: sd15, Lora hashes: "FluxPortraitTrainer: 0123456789ab", RNG: CPU';

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-export-'));
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data'), modelsDir: path.join(root, 'models') }), { provider: 'cpu' });
  rpc = createRpc(services, 'cli');
  projectId = services.projects.create({ name: 'Launch' }).id;
  const dir = path.join(root, 'shots');
  fs.mkdirSync(dir);
  for (const [name, hex] of [
    ['a', '#F0305A'],
    ['b', '#10D8F0'],
  ] as const) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="135" height="240"><rect width="100%" height="100%" fill="${hex}"/><circle cx="67" cy="80" r="30" fill="#222"/></svg>`;
    await sharp(Buffer.from(svg))
      .png()
      .toFile(path.join(dir, `${name}.png`));
  }
  images = (await services.importer.import(projectId, [dir])).imported;
  // As if generated: parameters and seed (A1111 text with a newline and a non-ASCII letter).
  services.db.prepare('UPDATE images SET params = ?, seed = 4242 WHERE id = ?').run(JSON.stringify({ parameters: PARAMS }), images[0]!.id);
  await rpc.invoke('images.mark', {
    projectId,
    changes: [
      { imageId: images[0]!.id, rating: 3, flag: 'pick', label: 'green' },
      { imageId: images[1]!.id, rating: 4, flag: 'pick' },
    ],
  });
});

afterEach(async () => {
  await services.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function sections(): Promise<void> {
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
    slotHeight: 1350,
  })) as Section;
  await rpc.invoke('sections.pair', { sectionId: hero.id, imageId: images[0]!.id });
  await rpc.invoke('sections.pair', { sectionId: features.id, imageId: images[1]!.id });
}

describe('export to Framer sections', () => {
  it('renders each section at its slot (ESRGAN ×4 only for the hero), names by the template, and keeps the metadata', async () => {
    await sections();
    const report = (await rpc.invoke('export.run', { projectId, target: 'framer', selection: { kind: 'picks' } })) as ExportReport;
    expect(report.skipped).toEqual([]);
    expect(report.dir).toBe(path.join(services.projects.get(projectId).folder, 'exports', 'framer'));
    const [hero, features] = report.files;
    expect(hero).toMatchObject({ section: 'hero', width: 2160, height: 3840, upscaled: true });
    expect(features).toMatchObject({ section: 'features', width: 1080, height: 1350, upscaled: true }); // the slot is larger than the 135×240 source
    expect(hero!.fileName).toMatch(/^\d{8}_hero_magenta_4242\.jpg$/);
    expect(features!.fileName).toMatch(/^\d{8}_features_teal_noseed\.jpg$/);
    const meta = await sharp(hero!.path).metadata();
    expect([meta.format, meta.width, meta.height, meta.isProgressive]).toEqual(['jpeg', 2160, 3840, true]);
    expect(fs.statSync(hero!.path).size).toBe(hero!.bytes);
    expect(fs.readdirSync(report.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 60_000);

  it.skipIf(!exiftool)(
    'writes EXIF UserComment (A1111 parameters), XMP rating, description and Onbrand fields that exiftool reads back',
    async () => {
      await sections();
      const report = (await rpc.invoke('export.run', { projectId, target: 'framer', selection: { kind: 'picks' } })) as ExportReport;
      const tags = JSON.parse(execFileSync('exiftool', ['-j', '-G', '-struct', report.files[0]!.path], { encoding: 'utf8' }))[0] as Record<
        string,
        unknown
      >;
      expect(tags['EXIF:UserComment']).toBe(PARAMS);
      expect(tags['EXIF:Software']).toMatch(/^Onbrand /);
      expect(tags['XMP:Rating']).toBe(3);
      expect(tags['XMP:Label']).toBe('Green'); // the colour label, as Lightroom writes it
      expect(tags['XMP:Description']).toBe('portrait of a café owner, magenta rim light');
      expect(String(tags['XMP:Seed'])).toBe('4242');
      expect(tags['XMP:Loras']).toBe('FluxPortraitTrainer: 0123456789ab');
      expect(tags['XMP:Section']).toBe('hero');
    },
    60_000,
  );

  it('says so instead of exporting the same image to the same place twice; "again" gets a new name', async () => {
    await sections();
    await rpc.invoke('export.run', { projectId, target: 'framer', selection: { kind: 'picks' } });
    const second = (await rpc.invoke('export.run', { projectId, target: 'framer', selection: { kind: 'picks' } })) as ExportReport;
    expect(second.files).toEqual([]);
    expect(second.skipped.map((s) => s.reason)).toEqual(['already_exported', 'already_exported']);
    const third = (await rpc.invoke('export.run', {
      projectId,
      target: 'framer',
      selection: { kind: 'picks' },
      again: true,
    })) as ExportReport;
    expect(third.files.map((f) => f.fileName)).toEqual([expect.stringMatching(/_4242_2\.jpg$/), expect.stringMatching(/_noseed_2\.jpg$/)]);
  }, 60_000);
});

describe('other targets and failures', () => {
  it('recorded before published: when the record cannot be made, no file is left behind, and the re-run writes the same names (no "_2")', async () => {
    const dir = path.join(root, 'web');
    const request = { projectId, target: 'folder' as const, selection: { kind: 'picks' as const }, dir };
    // Another connection holds the catalogue's write lock past the busy timeout: the record fails.
    services.db.pragma('busy_timeout = 100');
    const other = new Database(services.catalogPath);
    const stop = services.events.subscribe((e) => {
      if (e.type === 'export.progress' && e.payload.done === 0 && !other.inTransaction) other.exec('BEGIN IMMEDIATE');
    });
    let first: ExportReport;
    try {
      first = await services.exporter.run(request);
    } finally {
      stop();
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
    expect(first.files).toEqual([]);
    expect(first.skipped[0]).toMatchObject({
      reason: 'write_failed',
      message: expect.stringMatching(/could not be recorded in the catalogue/),
    });
    // Today's order (publish, then record) left a file the catalogue does not know, and the re-run named the next one "_2".
    expect(fs.existsSync(dir) ? fs.readdirSync(dir) : []).toEqual([]);
    const second = (await rpc.invoke('export.run', request)) as ExportReport;
    expect(second.files.map((f) => f.fileName).sort()).toEqual(fs.readdirSync(dir).sort());
    expect(fs.readdirSync(dir).filter((f) => /_2\.jpg$/.test(f))).toEqual([]);
    expect(fs.readdirSync(dir)).toHaveLength(2);
  }, 60_000);

  it('Sora: 1080×1920 portraits numbered in order; folder: a chosen size with palette snap', async () => {
    const sora = (await rpc.invoke('export.run', {
      projectId,
      target: 'sora',
      selection: { kind: 'min-rating', rating: 3 },
      dir: path.join(root, 'sora'),
    })) as ExportReport;
    expect(sora.files.map((f) => [f.section, f.width, f.height])).toEqual([
      ['storyboard-01', 1080, 1920],
      ['storyboard-02', 1080, 1920],
    ]);
    const folder = (await rpc.invoke('export.run', {
      projectId,
      target: 'folder',
      selection: { kind: 'images', imageIds: [images[1]!.id] },
      dir: path.join(root, 'web'),
      width: 120,
      height: 120,
      paletteSnap: true,
      nameTemplate: '{project}-{index}-{rating}',
    })) as ExportReport;
    expect(folder.files[0]).toMatchObject({ fileName: 'Launch-01-4.jpg', width: 120, height: 120, upscaled: false });
  }, 60_000);

  it('an export stopped midway leaves only complete files; an impossible folder is a clear error', async () => {
    await sections();
    const controller = new AbortController();
    services.events.subscribe((e) => e.type === 'export.progress' && e.payload.done === 1 && controller.abort());
    await expect(
      services.exporter.run({ projectId, target: 'framer', selection: { kind: 'picks' }, signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    const dir = services.exporter.targets(projectId).framer;
    const left = fs.readdirSync(dir);
    expect(left.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(left).toHaveLength(1);
    expect((await sharp(path.join(dir, left[0]!)).metadata()).height).toBe(3840);

    const file = path.join(root, 'a-file');
    fs.writeFileSync(file, 'x');
    await expect(
      rpc.invoke('export.run', { projectId, target: 'folder', selection: { kind: 'picks' }, dir: path.join(file, 'sub') }),
    ).rejects.toMatchObject({ code: 'io', field: 'dir' });
  }, 60_000);

  it('fills the name template and cleans unsafe characters', () => {
    const project = services.projects.get(projectId);
    const image = { ...images[0]!, seed: 7, rating: 5 };
    const now = new Date(2026, 10, 25);
    expect(
      fileName('{yyyymmdd}_{section}_{colour}_{seed}.jpg', { project, image, section: 'hero', colour: 'magenta', index: 1 }, now),
    ).toBe('20261125_hero_magenta_7.jpg');
    expect(fileName('{project}/{section}: {rating}*', { project, image, section: 'a b', colour: 'x', index: 2 }, now)).toBe(
      'Launch-a-b-5.jpg',
    );
  });
});
