import crypto from 'node:crypto';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppEvent, EventPayload, ImportReport, Project } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { addPngText, DiffusionEngine, formatParameters, readPngText } from '../diffusion/index.js';
import { writeTinySd } from '../diffusion/testing/tiny-sd.js';
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

  it('gives a file whose extension does not say what it is the right one, so it can be shown (uploads: IMG_0001, .jfif)', async () => {
    const files = [
      await png(path.join(root, 'odd', 'IMG_0001'), { r: 200, g: 10, b: 10 }),
      await png(path.join(root, 'odd', 'shot.jpg'), { r: 10, g: 200, b: 10 }),
      path.join(root, 'odd', 'phone.jfif'),
    ];
    await solid(64, 96, { r: 10, g: 10, b: 200 }).jpeg().toFile(files[2]!);
    const report = await services.importer.import(project.id, files);
    expect(report.imported.map((i) => i.fileName).sort()).toEqual(['IMG_0001.png', 'phone.jpg', 'shot.png']);
    for (const image of report.imported) await expect(services.media.resolve(image.path)).resolves.toMatchObject({ path: image.path });
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

// ---- Generations from other tools (issue 16, item 4) ----------------------------------------

const exiftool = spawnSync('exiftool', ['-ver']).status === 0;

/** Onbrand's own `parameters` text, as `onbrand generate` writes it into its PNGs. */
const ONBRAND_PARAMETERS = formatParameters({
  prompt: 'portrait of a café owner, magenta rim light <lora:brand-face:0.7>',
  negativePrompt: 'text, watermark',
  steps: 25,
  sampler: 'DPM++ 2M Karras',
  cfg: 7,
  seed: 4242,
  width: 64,
  height: 96,
  modelHash: 'abcdef0123',
  modelName: 'sd15',
  loraHashes: 'brand-face: 0123456789ab',
  version: '0.1.0',
});

/** A minimal ComfyUI API graph, as its SaveImage node writes into the `prompt` text chunk. */
const COMFY_GRAPH = {
  '3': {
    class_type: 'KSampler',
    inputs: {
      seed: 8675309,
      steps: 20,
      cfg: 8,
      sampler_name: 'dpmpp_2m',
      scheduler: 'karras',
      denoise: 1,
      model: ['10', 0],
      positive: ['6', 0],
      negative: ['7', 0],
      latent_image: ['5', 0],
    },
  },
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' } },
  '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 96, batch_size: 1 } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: 'brand hero shot, teal haze', clip: ['10', 1] } },
  '7': { class_type: 'CLIPTextEncode', inputs: { text: 'watermark', clip: ['10', 1] } },
  '10': {
    class_type: 'LoraLoader',
    inputs: { lora_name: 'neon_glow.safetensors', strength_model: 0.8, strength_clip: 0.8, model: ['4', 0], clip: ['4', 1] },
  },
};

const INVOKE_METADATA = {
  positive_prompt: 'a brand poster, neon magenta',
  negative_prompt: 'blurry',
  width: 64,
  height: 96,
  seed: 3216549870,
  cfg_scale: 7.5,
  steps: 30,
  scheduler: 'euler_a',
  model: { name: 'Juggernaut XL v9', base: 'sdxl', type: 'main' },
  loras: [],
  app_version: '4.2.4',
};

const JPEG_PARAMETERS =
  'poster in café light\nNegative prompt: blur\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 31337, Size: 64x96, Model: v1-5-pruned-emaonly, Version: v1.10.1';

async function pngWithText(file: string, colour: Colour, chunks: Record<string, string>): Promise<string> {
  let bytes: Buffer = await solid(64, 96, colour).png().toBuffer();
  for (const [keyword, text] of Object.entries(chunks)) bytes = addPngText(bytes, keyword, text);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
  return file;
}

function exifTags(file: string): Record<string, unknown> {
  return (JSON.parse(execFileSync('exiftool', ['-j', '-G', file], { encoding: 'utf8' })) as Record<string, unknown>[])[0]!;
}

describe('imported generations keep their parameters', () => {
  it.skipIf(!exiftool)(
    'a PNG the engine generated (what `onbrand generate` writes) keeps its seed, prompt and parameters through import and export',
    async () => {
      const engine = new DiffusionEngine();
      let png: Buffer;
      try {
        await engine.load(writeTinySd(path.join(root, 'tiny-sd')));
        const [image] = await engine.generate({
          prompt: 'a portrait, magenta and teal light',
          negativePrompt: 'text',
          seed: 5150,
          steps: 3,
          cfg: 7,
          sampler: 'Euler a',
          width: 64,
          height: 64,
          batchSize: 1,
        });
        png = Buffer.from(image!.png);
      } finally {
        await engine.dispose();
      }
      const parameters = readPngText(png).parameters!;
      const file = path.join(root, 'from-generate', '20260101_5150.png');
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, png);

      const [imported] = (await services.importer.import(project.id, [file])).imported;
      expect(imported).toMatchObject({ seed: 5150, prompt: 'a portrait, magenta and teal light' });
      const exported = await services.exporter.run({
        projectId: project.id,
        target: 'folder',
        selection: { kind: 'images', imageIds: [imported!.id] },
      });
      expect(exported.files.map((f) => f.fileName)).toEqual([expect.stringMatching(/_5150\.jpg$/)]);
      const tags = exifTags(exported.files[0]!.path);
      expect(tags['EXIF:UserComment']).toBe(parameters);
      expect(tags['XMP:Description']).toBe('a portrait, magenta and teal light');
    },
    60_000,
  );

  it.skipIf(!exiftool)(
    'A1111 (Onbrand), ComfyUI, InvokeAI PNGs and an A1111 JPEG: seed and prompt in the catalogue, named by seed and described on export',
    async () => {
      const folder = path.join(root, 'generations');
      await pngWithText(path.join(folder, '1-onbrand.png'), { r: 250, g: 40, b: 90 }, { parameters: ONBRAND_PARAMETERS });
      await pngWithText(
        path.join(folder, '2-comfy.png'),
        { r: 10, g: 200, b: 220 },
        { prompt: JSON.stringify(COMFY_GRAPH), workflow: '{"nodes": []}' },
      );
      await pngWithText(
        path.join(folder, '3-invoke.png'),
        { r: 120, g: 20, b: 200 },
        { invokeai_metadata: JSON.stringify(INVOKE_METADATA) },
      );
      const jpeg = path.join(folder, '4-a1111.jpg');
      await solid(64, 96, { r: 240, g: 200, b: 20 }).jpeg().toFile(jpeg);
      execFileSync('exiftool', ['-q', '-overwrite_original', `-UserComment=${JPEG_PARAMETERS}`, jpeg]);
      await pngWithText(
        path.join(folder, '5-garbled.png'),
        { r: 30, g: 30, b: 30 },
        { prompt: '{"3": {"class_type": "KSampler", "inputs": {"seed": 12', parameters: '\u0001\u0002garbage\nSteps: x' },
      );

      const report = await services.importer.import(project.id, [folder]);
      expect(report.skipped).toEqual([]);
      expect(report.imported.map((i) => [i.fileName, i.seed])).toEqual([
        ['1-onbrand.png', 4242],
        ['2-comfy.png', 8675309],
        ['3-invoke.png', 3216549870],
        ['4-a1111.jpg', 31337],
        ['5-garbled.png', null],
      ]);
      expect(report.imported.map((i) => i.prompt)).toEqual([
        'portrait of a café owner, magenta rim light <lora:brand-face:0.7>',
        'brand hero shot, teal haze <lora:neon_glow:0.8>',
        'a brand poster, neon magenta',
        'poster in café light',
        null,
      ]);

      const exported = await services.exporter.run({
        projectId: project.id,
        target: 'folder',
        selection: { kind: 'images', imageIds: report.imported.map((i) => i.id) },
      });
      expect(exported.skipped).toEqual([]);
      const names = exported.files.map((f) => f.fileName);
      expect(names[0]).toMatch(/_4242\.jpg$/);
      expect(names[1]).toMatch(/_8675309\.jpg$/);
      expect(names[2]).toMatch(/_3216549870\.jpg$/);
      expect(names[3]).toMatch(/_31337\.jpg$/);
      expect(names[4]).toMatch(/_noseed\.jpg$/);

      const tags = exported.files.map((f) => exifTags(f.path));
      expect(tags[0]!['EXIF:UserComment']).toBe(ONBRAND_PARAMETERS);
      expect(tags[0]!['XMP:Description']).toBe('portrait of a café owner, magenta rim light <lora:brand-face:0.7>');
      expect(tags[1]!['EXIF:UserComment']).toMatch(
        /^brand hero shot, teal haze <lora:neon_glow:0\.8>\nNegative prompt: watermark\nSteps: 20, Sampler: DPM\+\+ 2M Karras, CFG scale: 8, Seed: 8675309, Size: 64x96, Model: sd_xl_base_1\.0/,
      );
      expect(tags[1]!['XMP:Description']).toBe('brand hero shot, teal haze <lora:neon_glow:0.8>');
      expect(tags[2]!['EXIF:UserComment']).toMatch(
        /^a brand poster, neon magenta\nNegative prompt: blurry\nSteps: 30, Sampler: Euler a, CFG scale: 7\.5, Seed: 3216549870, Size: 64x96, Model: Juggernaut XL v9/,
      );
      expect(tags[3]!['EXIF:UserComment']).toBe(JPEG_PARAMETERS);
      expect(tags[3]!['XMP:Description']).toBe('poster in café light');
      // The garbled file imported and exported, without parameters.
      expect(tags[4]!['EXIF:UserComment']).toBeUndefined();
      expect(tags[4]!['XMP:Description']).toBeUndefined();
    },
    60_000,
  );
});

// ---- Messages (issue 16, item 15) ---------------------------------------------------------

/** A real PNG whose header claims `width`×`height` (a few hundred bytes: a decompression bomb's header). */
async function pngClaiming(file: string, width: number, height: number): Promise<string> {
  const bytes = Buffer.from(await solid(1, 1, { r: 0, g: 0, b: 0 }).png().toBuffer());
  // IHDR's data sits at 16..29, its CRC (over type and data) at 29..33.
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  bytes.writeUInt32BE(zlib.crc32(bytes.subarray(12, 29)), 29);
  fs.writeFileSync(file, bytes);
  return file;
}

/** A real JPEG whose frame header claims `width`×`height`. */
async function jpegClaiming(file: string, width: number, height: number): Promise<string> {
  const bytes = Buffer.from(await solid(8, 8, { r: 0, g: 0, b: 0 }).jpeg().toBuffer());
  for (let at = 2; at + 4 < bytes.length; at += 2 + bytes.readUInt16BE(at + 2)) {
    const marker = bytes[at + 1]!;
    if (marker >= 0xc0 && marker <= 0xc2) {
      bytes.writeUInt16BE(height, at + 5);
      bytes.writeUInt16BE(width, at + 7);
      break;
    }
  }
  fs.writeFileSync(file, bytes);
  return file;
}

describe('images too large to decode', () => {
  it('30000² and 65000² PNGs and a 30000² JPEG are refused as too large, naming the size and the limit, before decoding', async () => {
    const files = [
      await pngClaiming(path.join(root, 'bomb-30k.png'), 30000, 30000),
      await pngClaiming(path.join(root, 'bomb-65k.png'), 65000, 65000),
      await jpegClaiming(path.join(root, 'bomb-30k.jpg'), 30000, 30000),
    ];
    const report = await services.importer.import(project.id, files);
    expect(report.imported).toEqual([]);
    expect(report.skipped.map((s) => [path.basename(s.path), s.reason])).toEqual([
      ['bomb-30k.png', 'too_large'],
      ['bomb-65k.png', 'too_large'],
      ['bomb-30k.jpg', 'too_large'],
    ]);
    expect(report.skipped[0]!.message).toBe('bomb-30k.png is too large: 30000×30000 px, over the limit of 268 megapixels (16383×16383)');
    expect(report.skipped[1]!.message).toMatch(/^bomb-65k\.png is too large: 65000×65000 px/);
    expect(report.skipped[2]!.message).toMatch(/^bomb-30k\.jpg is too large: 30000×30000 px/);
    expect(walk(thumbsDir())).toEqual([]);
  });
});

describe('two imports of the same file at once', () => {
  it('in one process: one imports it, the other reports a duplicate (not a SQL error)', async () => {
    const file = await png(path.join(root, 'same.png'), { r: 77, g: 88, b: 99 });
    const reports = await Promise.all([services.importer.import(project.id, [file]), services.importer.import(project.id, [file])]);
    expect(reports.flatMap((r) => r.skipped)).toEqual([]);
    expect(reports.flatMap((r) => r.imported)).toHaveLength(1);
    expect(reports.flatMap((r) => r.duplicates.map((d) => [d.path, d.reason]))).toEqual([[file, 'duplicate']]);
    expect(walk(importsDir())).toEqual(['same.png']);
    expect(services.images.list(project.id)).toHaveLength(1);
    expectNoTempFiles();
  });

  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const jiti = fs.existsSync(path.join(repo, 'node_modules', 'jiti', 'lib', 'jiti-register.mjs'));

  it.skipIf(!jiti)(
    'in two processes started together: one imports it, the other reports a duplicate',
    async () => {
      const file = await png(path.join(root, 'twice.png'), { r: 11, g: 22, b: 33 });
      // Each child opens the same catalogue, says "ready", and imports when told "go", so both run at once.
      const child = path.join(root, 'import-child.ts');
      fs.writeFileSync(
        child,
        `import { resolveConfig } from ${JSON.stringify(pathToFileURL(path.join(repo, 'src-main/core/config.ts')).href)};
       import { createServices } from ${JSON.stringify(pathToFileURL(path.join(repo, 'src-main/core/services.ts')).href)};
       const services = createServices(resolveConfig({ dataDir: process.argv[2], projectsDir: process.argv[3] }));
       process.stdout.write('ready\\n');
       await new Promise((resolve) => process.stdin.once('data', resolve));
       const report = await services.importer.import(Number(process.argv[4]), [process.argv[5]]);
       await services.close();
       process.stdout.write(JSON.stringify(report) + '\\n');
       process.exit(0);`,
      );
      const args = [services.config.dataDir, path.dirname(project.folder), String(project.id), file];
      const children = [0, 1].map(() =>
        spawn(process.execPath, ['--import', 'jiti/register', child, ...args], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'] }),
      );
      const outputs = children.map((c) => {
        let out = '';
        let err = '';
        c.stderr.on('data', (d: Buffer) => (err += d.toString()));
        const ready = new Promise<void>((resolve, reject) => {
          c.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.startsWith('ready\n')) resolve();
          });
          c.on('exit', (code) => reject(new Error(`child exited ${code} before it was ready: ${err}`)));
        });
        const done = new Promise<string>((resolve, reject) =>
          c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`)))),
        );
        done.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
        return { ready, done };
      });
      let reports: ImportReport[];
      try {
        await Promise.all(outputs.map((o) => o.ready));
        for (const c of children) c.stdin.write('go\n');
        reports = (await Promise.all(outputs.map((o) => o.done))).map((out) => JSON.parse(out.split('\n')[1]!) as ImportReport);
      } finally {
        for (const c of children) if (c.exitCode === null) c.kill();
      }
      expect(reports.flatMap((r) => r.skipped)).toEqual([]);
      expect(reports.flatMap((r) => r.imported)).toHaveLength(1);
      expect(reports.flatMap((r) => r.duplicates.map((d) => d.reason))).toEqual(['duplicate']);
      expect(walk(importsDir())).toEqual(['twice.png']);
      expect(services.images.list(project.id)).toHaveLength(1);
    },
    90_000,
  );
});

describe('symbolic links', () => {
  it('a link to a file inside a folder is imported; links to folders, loops and links to nothing are reported by name', async () => {
    const folder = path.join(root, 'linked');
    await png(path.join(folder, 'real.png'), { r: 1, g: 100, b: 200 });
    const outside = await png(path.join(root, 'elsewhere', 'outside.png'), { r: 200, g: 100, b: 1 });
    fs.symlinkSync(outside, path.join(folder, 'link-to-file.png'));
    fs.symlinkSync(path.join(root, 'elsewhere'), path.join(folder, 'link-to-folder'));
    fs.symlinkSync('..', path.join(folder, 'up'));
    fs.symlinkSync('loop-b.png', path.join(folder, 'loop-a.png'));
    fs.symlinkSync('loop-a.png', path.join(folder, 'loop-b.png'));
    fs.symlinkSync(path.join(root, 'gone.png'), path.join(folder, 'dangling.png'));

    const report = await services.importer.import(project.id, [folder]);
    expect(report.imported.map((i) => i.fileName)).toEqual(['link-to-file.png', 'real.png']);
    expect(sha256(report.imported[0]!.path)).toBe(sha256(outside));
    const skipped = Object.fromEntries(report.skipped.map((s) => [path.basename(s.path), s]));
    expect(Object.keys(skipped).sort()).toEqual(['dangling.png', 'link-to-folder', 'loop-a.png', 'loop-b.png', 'up']);
    expect(skipped['loop-a.png']!.message).toBe(`${path.join(folder, 'loop-a.png')} is a symbolic link loop (it leads back to itself)`);
    expect(skipped['dangling.png']!).toMatchObject({
      reason: 'not_found',
      message: `${path.join(folder, 'dangling.png')} is a symbolic link to a file or folder that does not exist`,
    });
    expect(skipped['link-to-folder']!.message).toMatch(/link-to-folder is a symbolic link to a folder; links to folders are not followed/);
    expect(skipped.up!.message).toMatch(/up is a symbolic link to a folder/);
  });

  it('a symbolic link loop named directly is reported as a loop, not as a missing file', async () => {
    const loop = path.join(root, 'self.png');
    fs.symlinkSync(loop, loop);
    const report = await services.importer.import(project.id, [loop]);
    expect(report.skipped).toEqual([
      { path: loop, reason: 'unreadable', message: `${loop} is a symbolic link loop (it leads back to itself)` },
    ]);
  });
});
