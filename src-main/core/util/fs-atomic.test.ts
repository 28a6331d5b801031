import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempPathFor, writeAtomically } from './fs-atomic.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-atomic-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('writeAtomically', () => {
  it('writes a file whose name is near the 255-byte limit (its temporary name is never longer than it may be)', async () => {
    // 236–255 bytes used to fail with ENAMETOOLONG: the temporary name added 18 characters.
    const name = `${'é'.repeat(60)}${'x'.repeat(120)}_seed.jpg`; // 249 bytes in UTF-8
    expect(Buffer.byteLength(name)).toBe(249);
    const target = path.join(root, name);
    expect(Buffer.byteLength(path.basename(tempPathFor(target)))).toBeLessThanOrEqual(255);
    await writeAtomically(target, (temp) => fs.promises.writeFile(temp, 'bytes'), { overwrite: false });
    expect(fs.readFileSync(target, 'utf8')).toBe('bytes');
    expect(fs.readdirSync(root).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses to replace an existing file when asked not to, leaving no temporary file', async () => {
    const target = path.join(root, 'kept.txt');
    fs.writeFileSync(target, "the user's file");
    await expect(writeAtomically(target, (temp) => fs.promises.writeFile(temp, 'new'), { overwrite: false })).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(fs.readFileSync(target, 'utf8')).toBe("the user's file");
    expect(fs.readdirSync(root).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
