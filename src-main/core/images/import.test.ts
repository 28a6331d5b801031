import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppEvent, EventPayload, ImportReport, Project } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { createServices, type Services } from '../services.js';
import { IMPORTS_FOLDER } from './import.js';
import { THUMBNAIL_SIZE } from './thumbnails.js';

let root: string;
let services: Services;
let project: Project;
let events: AppEvent[];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-import-'));
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data'), projectsDir: path.join(root, 'projects') }));
  project = services.projects.create({ name: 'Spring drop' });
  events = [];
  services.events.subscribe((event) => events.push(event));
});

afterEach(async () => {
  try {
    await services.close();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

// ---- Making real image files ----------------------------------------------------------------

type Colour = { r: number; g: number; b: number };

function solid(width: number, height: number, background: Colour): ReturnType<typeof sharp> {
  return sharp({ create: { width, height, channels: 3, background } });
}

async function png(file: string, colour: Colour, width = 64, height = 96): Promise<string> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await solid(width, height, colour).png().toFile(file);
  return file;
}

/** A PNG of random pixels (does not compress), cut off part-way through its pixel data. */
async function truncatedPng(file: string): Promise<string> {
  const width = 64;
  const height = 96;
  const bytes = await sharp(crypto.randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.4)));
  return file;
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Every file below `dir`, relative, sorted (hidden files included). */
function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

const importsDir = (): string => path.join(project.folder, IMPORTS_FOLDER);
const thumbsDir = (): string => path.join(services.config.dataDir, 'thumbnails');

function payloads<E extends AppEvent['type']>(type: E): EventPayload<E>[] {
  return events.filter((e) => e.type === type).map((e) => e.payload as EventPayload<E>);
}

function expectNoTempFiles(): void {
  const temps = [...walk(importsDir()), ...walk(thumbsDir())].filter((f) => /(^|\/)\..*\.tmp$/.test(f));
  expect(temps).toEqual([]);
}

/**
 * The mixed folder of the main scenario: three PNGs whose names sort differently as text and as
 * numbers, a large JPEG, a WebP, a truncated PNG, a text file, a hidden .DS_Store and a subfolder.
 */
async function makeMixedFolder(folder: string): Promise<void> {
  await png(path.join(folder, 'img10.png'), { r: 250, g: 10, b: 10 });
  await png(path.join(folder, 'img2.png'), { r: 10, g: 250, b: 10 });
  await png(path.join(folder, 'img1.png'), { r: 10, g: 10, b: 250 });
  await solid(800, 400, { r: 200, g: 200, b: 0 }).jpeg().toFile(path.join(folder, 'photo.jpg'));
  await solid(64, 96, { r: 0, g: 200, b: 200 }).webp().toFile(path.join(folder, 'shot.webp'));
  await truncatedPng(path.join(folder, 'broken.png'));
  fs.writeFileSync(path.join(folder, 'notes.txt'), 'brief: more magenta\n');
  fs.writeFileSync(path.join(folder, '.DS_Store'), Buffer.from([0, 0, 0, 1, 66, 117, 100, 49]));
  await png(path.join(folder, 'sub', 'deep.png'), { r: 128, g: 0, b: 128 });
}

const MIXED_IMPORTED = ['img1.png', 'img2.png', 'img10.png', 'photo.jpg', 'shot.webp', 'deep.png'];

// ---- Tests ----------------------------------------------------------------------------------

describe('importing a mixed folder', () => {
  let folder: string;
  let report: ImportReport;

  beforeEach(async () => {
    folder = path.join(root, 'incoming');
    await makeMixedFolder(folder);
    report = await services.importer.import(project.id, [folder]);
  });

  it('imports the images in natural file-name order and names each file it skipped', () => {
    expect(report.projectId).toBe(project.id);
    expect(report.imported.map((i) => i.fileName)).toEqual(MIXED_IMPORTED);
    expect(report.duplicates).toEqual([]);

    const skipped = Object.fromEntries(report.skipped.map((s) => [path.basename(s.path), s]));
    expect(Object.keys(skipped).sort()).toEqual(['broken.png', 'notes.txt']);
    expect(skipped['broken.png']!.reason).toBe('unreadable');
    expect(skipped['broken.png']!.path).toBe(path.join(folder, 'broken.png'));
    expect(skipped['broken.png']!.message).toContain('broken.png');
    expect(skipped['notes.txt']!.reason).toBe('not_an_image');
    expect(skipped['notes.txt']!.message).toContain('notes.txt');

    // The hidden file is passed over in silence.
    expect(JSON.stringify(report)).not.toContain('.DS_Store');
  });

  it('copies each image byte for byte into <project>/imports/ and records its size', () => {
    expect(walk(importsDir())).toEqual([...MIXED_IMPORTED].sort());
    const sources: Record<string, string> = {
      'deep.png': path.join(folder, 'sub', 'deep.png'),
    };
    for (const image of report.imported) {
      expect(image.path).toBe(path.join(importsDir(), image.fileName));
      const source = sources[image.fileName] ?? path.join(folder, image.fileName);
      expect(sha256(image.path)).toBe(sha256(source));
    }
    const photo = report.imported.find((i) => i.fileName === 'photo.jpg')!;
    expect([photo.width, photo.height]).toEqual([800, 400]);
    const img1 = report.imported.find((i) => i.fileName === 'img1.png')!;
    expect([img1.width, img1.height]).toEqual([64, 96]);
    // The sources are left where they were.
    expect(fs.existsSync(path.join(folder, 'img1.png'))).toBe(true);
  });

  it('makes a WebP thumbnail per image, long side at most 512 px, in the data folder', async () => {
    for (const image of report.imported) {
      expect(image.thumbPath).not.toBeNull();
      expect(image.thumbPath!.startsWith(thumbsDir() + path.sep)).toBe(true);
      const meta = await sharp(image.thumbPath!).metadata();
      expect(meta.format).toBe('webp');
      expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(THUMBNAIL_SIZE);
    }
    // The large JPEG was actually scaled down, keeping its aspect; small images were not enlarged.
    const photo = await sharp(report.imported.find((i) => i.fileName === 'photo.jpg')!.thumbPath!).metadata();
    expect([photo.width, photo.height]).toEqual([512, 256]);
    const small = await sharp(report.imported.find((i) => i.fileName === 'img1.png')!.thumbPath!).metadata();
    expect([small.width, small.height]).toEqual([64, 96]);
    // No thumbnail for the files that were skipped.
    expect(walk(thumbsDir())).toHaveLength(MIXED_IMPORTED.length);
  });

  it('the catalogue lists the same images, and the project counts them', () => {
    expect(services.images.list(project.id).map((i) => i.id)).toEqual(report.imported.map((i) => i.id));
    expect(services.images.list(project.id).map((i) => i.thumbPath)).toEqual(report.imported.map((i) => i.thumbPath));
    expect(services.projects.get(project.id).imageCount).toBe(MIXED_IMPORTED.length);
  });

  it('reports progress once per file up to the total, and announces every imported image', () => {
    const progress = payloads('import.progress');
    const total = MIXED_IMPORTED.length + 2; // + broken.png + notes.txt; the hidden file is not counted
    expect(progress.map((p) => p.done)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    for (const p of progress) {
      expect(p.total).toBe(total);
      expect(p.importId).toBe(report.importId);
      expect(p.projectId).toBe(project.id);
    }
    expect(progress.map((p) => path.basename(p.current))).not.toContain('.DS_Store');

    const added = payloads('images.added');
    expect(added.length).toBeGreaterThan(0);
    for (const a of added) expect(a.projectId).toBe(project.id);
    expect(added.flatMap((a) => a.images.map((i) => i.id))).toEqual(report.imported.map((i) => i.id));
  });

  it('leaves no temporary files behind', () => {
    expectNoTempFiles();
  });

  it('importing the same folder again imports nothing and writes nothing', async () => {
    const importsBefore = walk(importsDir());
    const thumbsBefore = walk(thumbsDir());
    events = [];
    const again = await services.importer.import(project.id, [folder]);
    expect(again.imported).toEqual([]);
    expect(again.duplicates.map((d) => path.basename(d.path))).toEqual(MIXED_IMPORTED);
    for (const d of again.duplicates) {
      expect(d.reason).toBe('duplicate');
      expect(d.message).toContain(path.basename(d.path));
    }
    expect(again.skipped.map((s) => [path.basename(s.path), s.reason])).toEqual([
      ['broken.png', 'unreadable'],
      ['notes.txt', 'not_an_image'],
    ]);
    expect(walk(importsDir())).toEqual(importsBefore);
    expect(walk(thumbsDir())).toEqual(thumbsBefore);
    expect(services.images.list(project.id)).toHaveLength(MIXED_IMPORTED.length);
    expect(payloads('images.added')).toEqual([]);
    expectNoTempFiles();
  });
});

describe('files that are not regular files', () => {
  it('a device (/dev/zero) and a named pipe are skipped by name at once, never read (they would be read forever, or block)', async () => {
    const fifo = path.join(root, 'pipe.png');
    execFileSync('mkfifo', [fifo]);
    const started = performance.now();
    const report = await services.importer.import(project.id, ['/dev/zero', fifo]);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(report.imported).toEqual([]);
    expect(report.skipped.map((s) => [s.path, s.reason])).toEqual([
      ['/dev/zero', 'unreadable'],
      [fifo, 'unreadable'],
    ]);
    for (const s of report.skipped) expect(s.message).toMatch(/is not a regular file \(a device, pipe or socket\)/);
  });
});

describe('duplicates and name clashes', () => {
  it('the same content under another name is a duplicate', async () => {
    const a = await png(path.join(root, 'a', 'original.png'), { r: 1, g: 2, b: 3 });
    const copy = path.join(root, 'b', 'renamed.png');
    fs.mkdirSync(path.dirname(copy));
    fs.copyFileSync(a, copy);

    const first = await services.importer.import(project.id, [a]);
    expect(first.imported.map((i) => i.fileName)).toEqual(['original.png']);
    const second = await services.importer.import(project.id, [copy]);
    expect(second.imported).toEqual([]);
    expect(second.duplicates).toEqual([expect.objectContaining({ path: copy, reason: 'duplicate' })]);
    expect(walk(importsDir())).toEqual(['original.png']);
  });

  it('the same content twice in one import is stored once', async () => {
    const a = await png(path.join(root, 'in', 'one.png'), { r: 9, g: 9, b: 9 });
    fs.copyFileSync(a, path.join(root, 'in', 'two.png'));
    const report = await services.importer.import(project.id, [path.join(root, 'in')]);
    expect(report.imported.map((i) => i.fileName)).toEqual(['one.png']);
    expect(report.duplicates.map((d) => [path.basename(d.path), d.reason])).toEqual([['two.png', 'duplicate']]);
    expect(walk(importsDir())).toEqual(['one.png']);
  });

  it('naming the same file twice imports it once', async () => {
    const a = await png(path.join(root, 'x.png'), { r: 20, g: 30, b: 40 });
    const report = await services.importer.import(project.id, [a, a, path.join(root, '.', 'x.png')]);
    expect(report.imported).toHaveLength(1);
    expect(report.duplicates).toEqual([]);
    expect(payloads('import.progress').at(-1)!.total).toBe(1);
  });

  it('two different files with the same name get name.png and name_2.png; nothing is overwritten', async () => {
    const a = await png(path.join(root, 'from-a', 'logo.png'), { r: 255, g: 0, b: 0 });
    const b = await png(path.join(root, 'from-b', 'logo.png'), { r: 0, g: 0, b: 255 });
    const first = await services.importer.import(project.id, [a]);
    const second = await services.importer.import(project.id, [b]);
    expect(first.imported.map((i) => i.fileName)).toEqual(['logo.png']);
    expect(second.imported.map((i) => i.fileName)).toEqual(['logo_2.png']);
    expect(walk(importsDir())).toEqual(['logo.png', 'logo_2.png']);
    expect(sha256(path.join(importsDir(), 'logo.png'))).toBe(sha256(a));
    expect(sha256(path.join(importsDir(), 'logo_2.png'))).toBe(sha256(b));
  });

  it('never overwrites a file the user put into imports/ by hand', async () => {
    fs.mkdirSync(importsDir(), { recursive: true });
    const mine = path.join(importsDir(), 'hero.png');
    fs.writeFileSync(mine, 'my own file, not in the catalogue');
    const hero = await png(path.join(root, 'src', 'hero.png'), { r: 5, g: 5, b: 5 });
    const report = await services.importer.import(project.id, [hero]);
    expect(report.imported.map((i) => i.fileName)).toEqual(['hero_2.png']);
    expect(fs.readFileSync(mine, 'utf8')).toBe('my own file, not in the catalogue');
  });

  it('keeps the name but lowercases the extension', async () => {
    const a = await png(path.join(root, 'Shout.PNG'), { r: 7, g: 70, b: 170 });
    const report = await services.importer.import(project.id, [a]);
    expect(report.imported.map((i) => i.fileName)).toEqual(['Shout.png']);
  });
});

describe('files that cannot be imported', () => {
  it('a missing path is skipped as not_found, and the rest still imports', async () => {
    const missing = path.join(root, 'nowhere', 'ghost.png');
    const real = await png(path.join(root, 'real.png'), { r: 1, g: 1, b: 1 });
    const report = await services.importer.import(project.id, [missing, real]);
    expect(report.skipped).toEqual([expect.objectContaining({ path: missing, reason: 'not_found' })]);
    expect(report.skipped[0]!.message).toContain(missing);
    expect(report.imported.map((i) => i.fileName)).toEqual(['real.png']);
  });

  it('GIF and TIFF images are unsupported formats, named in the message', async () => {
    const gif = path.join(root, 'anim.gif');
    const tiff = path.join(root, 'scan.tiff');
    await solid(16, 16, { r: 100, g: 0, b: 0 }).gif().toFile(gif);
    await solid(16, 16, { r: 0, g: 100, b: 0 }).tiff().toFile(tiff);
    const report = await services.importer.import(project.id, [gif, tiff]);
    expect(report.imported).toEqual([]);
    expect(report.skipped.map((s) => [s.path, s.reason])).toEqual([
      [gif, 'unsupported_format'],
      [tiff, 'unsupported_format'],
    ]);
    expect(report.skipped[0]!.message).toMatch(/anim\.gif is GIF/);
    expect(report.skipped[1]!.message).toMatch(/scan\.tiff is TIFF/);
    expect(walk(importsDir())).toEqual([]);
    expect(walk(thumbsDir())).toEqual([]);
  });

  it('a file with an image extension but text inside is not_an_image', async () => {
    const fake = path.join(root, 'fake.png');
    fs.writeFileSync(fake, 'hello');
    const report = await services.importer.import(project.id, [fake]);
    expect(report.skipped).toEqual([expect.objectContaining({ path: fake, reason: 'not_an_image' })]);
  });

  it("the project's own folder is never imported into itself", async () => {
    const first = await services.importer.import(project.id, [await png(path.join(root, 'p.png'), { r: 3, g: 3, b: 3 })]);
    expect(first.imported).toHaveLength(1);
    const report = await services.importer.import(project.id, [project.folder]);
    expect(report.imported).toEqual([]);
    expect(report.duplicates).toEqual([]);
    expect(report.skipped).toEqual([]);
  });

  it('an unknown project is not_found', async () => {
    await expect(services.importer.import(9999, [root])).rejects.toMatchObject({ code: 'not_found', field: 'projectId' });
  });

  it('an aborted import stops before storing anything', async () => {
    const a = await png(path.join(root, 'in', 'a.png'), { r: 50, g: 60, b: 70 });
    const controller = new AbortController();
    controller.abort();
    await expect(services.importer.import(project.id, [a], { signal: controller.signal })).rejects.toThrow();
    expect(walk(importsDir())).toEqual([]);
    expect(services.images.list(project.id)).toEqual([]);
  });
});
