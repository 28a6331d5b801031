import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImportReport } from '../../core/api/index.js';
import { cliTestFolder } from '../capture.js';

const cli = cliTestFolder();
beforeEach(cli.setUp);
afterEach(cli.tearDown);
const onbrand = cli.onbrand;

async function png(file: string, colour: { r: number; g: number; b: number }): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp({ create: { width: 64, height: 96, channels: 3, background: colour } })
    .png()
    .toFile(file);
}

async function truncatedPng(file: string): Promise<void> {
  const bytes = await sharp(crypto.randomBytes(64 * 96 * 3), { raw: { width: 64, height: 96, channels: 3 } })
    .png()
    .toBuffer();
  fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.4)));
}

describe('import', () => {
  it('imports a folder; a broken file makes exit code 3 and is named', async () => {
    await onbrand('projects', 'create', 'Spring');
    const folder = path.join(cli.root, 'incoming');
    await png(path.join(folder, 'a.png'), { r: 200, g: 0, b: 0 });
    await png(path.join(folder, 'b.png'), { r: 0, g: 200, b: 0 });
    await truncatedPng(path.join(folder, 'broken.png'));

    const { code, out, err } = await onbrand('import', 'Spring', folder);
    expect(code).toBe(3);
    expect(err).toBe('');
    expect(out).toMatch(/^Imported 2 images into "Spring" in \d+\.\d s; 1 skipped:/);
    expect(out).toMatch(/^ {2}skipped broken\.png /m);
    expect(fs.readdirSync(path.join(cli.dataDir, 'projects', 'Spring', 'imports')).sort()).toEqual(['a.png', 'b.png']);
    expect((await onbrand('projects')).out).toMatch(/Spring\s+2\s/);
  });

  it('all imported is exit code 0; again, everything is already there', async () => {
    await onbrand('projects', 'create', 'Spring');
    const file = path.join(cli.root, 'one.png');
    await png(file, { r: 9, g: 99, b: 199 });
    const first = await onbrand('import', 'Spring', file);
    expect(first.code).toBe(0);
    expect(first.out.trim()).toMatch(/^Imported 1 image into "Spring" in \d+\.\d s\.$/);
    const again = await onbrand('import', 'Spring', file);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/Imported 0 images .*; 1 already there/);
  });

  it('--json prints the import report', async () => {
    await onbrand('projects', 'create', 'Spring');
    const file = path.join(cli.root, 'one.png');
    await png(file, { r: 1, g: 2, b: 3 });
    const missing = path.join(cli.root, 'missing.png');
    const { code, out } = await onbrand('--json', 'import', 'Spring', file, missing);
    expect(code).toBe(3);
    const report = JSON.parse(out) as ImportReport;
    expect(report.imported.map((i) => i.fileName)).toEqual(['one.png']);
    expect(report.skipped).toEqual([expect.objectContaining({ path: missing, reason: 'not_found' })]);
  });

  it('resolves relative paths against the working directory', async () => {
    await onbrand('projects', 'create', 'Spring');
    const file = path.join(cli.root, 'rel.png');
    await png(file, { r: 4, g: 5, b: 6 });
    const { code, out } = await onbrand('import', 'Spring', path.relative(process.cwd(), file));
    expect(code).toBe(0);
    expect(out).toContain('Imported 1 image');
  });

  it('into a project that does not exist is exit code 1 naming the project', async () => {
    await onbrand('projects', 'create', 'Spring');
    const { code, out, err } = await onbrand('import', 'Nope', cli.root);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain('No project named "Nope"');
    expect(err).toContain('Spring');
  });

  it('with no projects at all, says there are none', async () => {
    const { code, err } = await onbrand('import', 'Nope', cli.root);
    expect(code).toBe(1);
    expect(err).toContain('No project named "Nope"');
    expect(err).toContain('There are no projects yet');
  });
});
