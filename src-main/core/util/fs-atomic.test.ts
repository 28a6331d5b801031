import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { sweepTempFiles, tempPathFor, writeAtomically } from './fs-atomic.js';
import { sweepDeadFolders } from './process.js';

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

describe('sweepTempFiles', () => {
  // A pid that ran and ended: its temporary files are leftovers.
  const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
  const hour = 60 * 60 * 1000;

  function folder(name: string): { dir: string; files: Record<string, string> } {
    const dir = path.join(root, name);
    fs.mkdirSync(path.join(dir, 'day'), { recursive: true });
    const files = {
      dead: `day/.a.png.${deadPid}-0123456789ab.tmp`,
      alive: `.b.png.${process.ppid}-0123456789ab.tmp`, // the test runner's parent: running
      own: `.c.png.${process.pid}-0123456789ab.tmp`,
      oldStyleYoung: '.d.png.0123456789ab.tmp',
      oldStyleOld: 'day/.e.png.0123456789ab.tmp',
      otherHidden: 'day/.h.png.abc.tmp',
      userFile: 'f.tmp',
      picture: 'day/g.png',
    };
    for (const file of Object.values(files)) fs.writeFileSync(path.join(dir, file), 'x');
    const old = new Date(Date.now() - 2 * hour);
    fs.utimesSync(path.join(dir, files.oldStyleOld), old, old);
    return { dir, files };
  }
  const left = (dir: string): string[] =>
    (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();

  it("removes only Onbrand's own names of writers that are gone (old-style ones after an hour)", async () => {
    const { dir, files } = folder('sweep');
    expect(await sweepTempFiles(dir, { recursive: true })).toBe(2);
    expect(left(dir)).toEqual([files.alive, files.own, files.oldStyleYoung, files.otherHidden, files.userFile, files.picture].sort());
  });

  it("as the sole writer, also removes its own and young old-style leftovers, never a running writer's", async () => {
    const { dir, files } = folder('sole');
    expect(await sweepTempFiles(dir, { recursive: true, soleWriter: true })).toBe(5);
    expect(left(dir)).toEqual([files.alive, files.userFile, files.picture].sort());
  });

  it('stays at the top without recursive', async () => {
    const { dir, files } = folder('flat');
    expect(await sweepTempFiles(dir, { soleWriter: true })).toBe(2);
    expect(left(dir)).toEqual([files.alive, files.dead, files.oldStyleOld, files.otherHidden, files.userFile, files.picture].sort());
  });
});

describe('sweepDeadFolders', () => {
  it("removes the folders of processes that are gone, and with ownToo this process's own (an earlier run's reused pid)", () => {
    const dir = path.join(root, 'dead-folders');
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    for (const pid of [deadPid, process.pid, process.ppid]) fs.mkdirSync(path.join(dir, `${pid}-x`), { recursive: true });
    fs.mkdirSync(path.join(dir, 'other'));
    sweepDeadFolders(dir, /^(\d+)-/);
    expect(fs.readdirSync(dir).sort()).toEqual([`${process.pid}-x`, `${process.ppid}-x`, 'other'].sort());
    sweepDeadFolders(dir, /^(\d+)-/, { ownToo: true });
    expect(fs.readdirSync(dir).sort()).toEqual([`${process.ppid}-x`, 'other'].sort());
  });
});
