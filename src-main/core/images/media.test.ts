import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../api/index.js';
import { MediaAccess, isInside } from './media.js';

let tmp: string;
let project: string;
let thumbnails: string;
let outside: string;
let media: MediaAccess;

beforeEach(async () => {
  // realpath: on some systems the temp folder itself sits behind a symbolic link.
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-media-')));
  project = path.join(tmp, 'projects', 'Spring');
  thumbnails = path.join(tmp, 'data', 'thumbnails');
  outside = path.join(tmp, 'elsewhere');
  fs.mkdirSync(path.join(project, 'imports'), { recursive: true });
  fs.mkdirSync(outside, { recursive: true });
  await image(path.join(project, 'imports', 'a.png'));
  await image(path.join(outside, 'secret.png'));
  // The thumbnail folder does not exist yet: a fresh catalogue has none.
  media = new MediaAccess(() => [project, thumbnails]);
});

afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function image(file: string): Promise<void> {
  await sharp({ create: { width: 8, height: 12, channels: 3, background: { r: 1, g: 2, b: 3 } } })
    .png()
    .toFile(file);
}

async function refusal(requested: string): Promise<ApiError> {
  try {
    await media.resolve(requested);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error(`expected ${requested} to be refused`);
}

describe('MediaAccess.resolve', () => {
  it('serves an image inside a root, with its type and size', async () => {
    const file = path.join(project, 'imports', 'a.png');
    const served = await media.resolve(file);
    expect(served).toEqual({ path: file, contentType: 'image/png', size: fs.statSync(file).size, mtimeMs: fs.statSync(file).mtimeMs });
  });

  it('knows JPEG and WebP, whatever the case of the extension', async () => {
    for (const [name, type] of [
      ['b.JPG', 'image/jpeg'],
      ['c.jpeg', 'image/jpeg'],
      ['d.WebP', 'image/webp'],
    ] as const) {
      const file = path.join(project, name);
      fs.writeFileSync(file, 'x');
      expect((await media.resolve(file)).contentType).toBe(type);
    }
  });

  it('serves from a root that is added later (the roots are read on every call)', async () => {
    const roots = [project];
    const dynamic = new MediaAccess(() => roots);
    const file = path.join(outside, 'secret.png');
    await expect(dynamic.resolve(file)).rejects.toMatchObject({ code: 'unauthorized' });
    roots.push(outside);
    expect((await dynamic.resolve(file)).path).toBe(file);
  });

  it('serves a thumbnail once the thumbnail folder exists', async () => {
    const thumb = path.join(thumbnails, 'ab', 'abcdef.webp');
    fs.mkdirSync(path.dirname(thumb), { recursive: true });
    fs.writeFileSync(thumb, 'webp bytes');
    expect(await media.resolve(thumb)).toMatchObject({ path: thumb, contentType: 'image/webp', size: 10 });
  });

  it('refuses a file outside every root', async () => {
    const error = await refusal(path.join(outside, 'secret.png'));
    expect(error.code).toBe('unauthorized');
    expect(error.field).toBe('path');
    expect(error.message).toContain('secret.png');
  });

  it('refuses .. traversal out of a root', async () => {
    const sneaky = `${project}${path.sep}imports${path.sep}..${path.sep}..${path.sep}..${path.sep}elsewhere${path.sep}secret.png`;
    expect(fs.existsSync(sneaky)).toBe(true);
    expect((await refusal(sneaky)).code).toBe('unauthorized');
  });

  it('refuses a sibling folder that shares the root as a name prefix', async () => {
    const sibling = `${project}-old`;
    fs.mkdirSync(sibling);
    await image(path.join(sibling, 'x.png'));
    expect((await refusal(path.join(sibling, 'x.png'))).code).toBe('unauthorized');
  });

  it('refuses a symbolic link inside a root that points outside it', async () => {
    const link = path.join(project, 'imports', 'link.png');
    fs.symlinkSync(path.join(outside, 'secret.png'), link);
    expect((await refusal(link)).code).toBe('unauthorized');

    const dirLink = path.join(project, 'escape');
    fs.symlinkSync(outside, dirLink, 'dir');
    expect((await refusal(path.join(dirLink, 'secret.png'))).code).toBe('unauthorized');
  });

  it('follows a symbolic link that stays inside a root and reports the real path', async () => {
    const link = path.join(project, 'alias.png');
    fs.symlinkSync(path.join(project, 'imports', 'a.png'), link);
    expect((await media.resolve(link)).path).toBe(path.join(project, 'imports', 'a.png'));
  });

  it('works when a root is itself reached through a symbolic link', async () => {
    const linkedRoot = path.join(tmp, 'linked-project');
    fs.symlinkSync(project, linkedRoot, 'dir');
    const viaLink = new MediaAccess(() => [linkedRoot]);
    expect((await viaLink.resolve(path.join(project, 'imports', 'a.png'))).path).toBe(path.join(project, 'imports', 'a.png'));
    expect((await viaLink.resolve(path.join(linkedRoot, 'imports', 'a.png'))).path).toBe(path.join(project, 'imports', 'a.png'));
  });

  it('sees a root added at once, though the real paths of the roots are kept between requests', async () => {
    const roots = [project];
    const cached = new MediaAccess(() => roots, 60_000);
    const secret = path.join(outside, 'secret.png');
    await cached.resolve(path.join(project, 'imports', 'a.png'));
    await expect(cached.resolve(secret)).rejects.toMatchObject({ code: 'unauthorized' });
    // A new project folder: the list of roots changed, so it is looked up again.
    roots.push(outside);
    expect((await cached.resolve(secret)).path).toBe(secret);
    roots.pop();
    await expect(cached.resolve(secret)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('follows a root that became a symbolic link once the kept real paths expire, and still confines to it', async () => {
    const root = path.join(tmp, 'moving-root');
    fs.mkdirSync(root);
    const moved = new MediaAccess(() => [root], 50);
    await expect(moved.resolve(path.join(project, 'imports', 'a.png'))).rejects.toMatchObject({ code: 'unauthorized' });
    // The root now points at the project folder (a catalogue moved behind a link).
    fs.rmSync(root, { recursive: true });
    fs.symlinkSync(project, root, 'dir');
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect((await moved.resolve(path.join(root, 'imports', 'a.png'))).path).toBe(path.join(project, 'imports', 'a.png'));
    expect((await moved.resolve(path.join(project, 'imports', 'a.png'))).path).toBe(path.join(project, 'imports', 'a.png'));
    await expect(moved.resolve(path.join(outside, 'secret.png'))).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('refuses files that are not images, even inside a root', async () => {
    for (const name of ['notes.txt', 'catalog.sqlite', 'run.sh', 'noextension', 'a.png.txt']) {
      const file = path.join(project, name);
      fs.writeFileSync(file, 'data');
      const error = await refusal(file);
      expect(error.code).toBe('unauthorized');
      expect(error.message).toContain(name);
    }
  });

  it('refuses relative paths and paths with NUL as invalid input', async () => {
    for (const requested of ['imports/a.png', './a.png', '../elsewhere/secret.png', '', `${project}/a\u0000.png`]) {
      const error = await refusal(requested);
      expect(error.code).toBe('invalid_input');
      expect(error.field).toBe('path');
    }
  });

  it('says not_found for a missing image, and for a folder named like one', async () => {
    expect((await refusal(path.join(project, 'imports', 'missing.png'))).code).toBe('not_found');
    fs.mkdirSync(path.join(project, 'folder.png'));
    expect((await refusal(path.join(project, 'folder.png'))).code).toBe('not_found');
  });
});

describe('isInside', () => {
  const sep = path.sep;
  const p = (...parts: string[]): string => path.join(sep, ...parts);

  it('is true for the root itself and anything below it', () => {
    expect(isInside(p('a', 'b'), p('a', 'b'))).toBe(true);
    expect(isInside(p('a', 'b'), p('a', 'b') + sep)).toBe(true);
    expect(isInside(p('a', 'b'), p('a', 'b', 'c'))).toBe(true);
    expect(isInside(p('a', 'b'), p('a', 'b', 'c', 'd.png'))).toBe(true);
    // A name that merely starts with two dots is still inside.
    expect(isInside(p('a', 'b'), p('a', 'b', '..hidden.png'))).toBe(true);
  });

  it('is false for a sibling sharing a prefix, the parent, and other trees', () => {
    expect(isInside(p('a', 'b'), p('a', 'bc'))).toBe(false);
    expect(isInside(p('a', 'b'), p('a', 'bc', 'x.png'))).toBe(false);
    expect(isInside(p('a', 'b'), p('a', 'b-old', 'x.png'))).toBe(false);
    expect(isInside(p('a', 'b'), p('a'))).toBe(false);
    expect(isInside(p('a', 'b'), p('x', 'y'))).toBe(false);
    expect(isInside(p('a', 'b', 'c'), p('a', 'b'))).toBe(false);
  });

  it('normalises .. before deciding', () => {
    expect(isInside(p('a', 'b'), `${p('a', 'b')}${sep}..${sep}bc`)).toBe(false);
    expect(isInside(p('a', 'b'), `${p('a', 'b')}${sep}c${sep}..${sep}d`)).toBe(true);
    expect(isInside(p('a', 'b'), `${p('a', 'b')}${sep}..`)).toBe(false);
  });
});
