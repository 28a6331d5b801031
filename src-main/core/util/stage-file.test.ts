import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stageFile } from './fs-atomic.js';

let dir: string;
const hidden = (): string[] => fs.readdirSync(dir).filter((n) => n.startsWith('.'));

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-stage-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('stageFile', () => {
  it('writes under a temporary name at once; the file has its name only once published', async () => {
    const target = path.join(dir, 'a.png');
    const order: string[] = [];
    const first = stageFile(target, async (temp) => {
      order.push('a');
      await fs.promises.writeFile(temp, 'A');
    });
    stageFile(path.join(dir, 'b.png'), async (temp) => {
      order.push('b');
      await fs.promises.writeFile(temp, 'B');
    });
    // Both writes started, in call order, before anything was awaited.
    expect(order).toEqual(['a', 'b']);
    await first.ready;
    expect(fs.existsSync(target)).toBe(false);
    expect(hidden()).toHaveLength(2);
    await first.publish();
    expect(fs.readFileSync(target, 'utf8')).toBe('A');
    expect(hidden()).toHaveLength(1);
  });

  it('never replaces a file already there: EEXIST, the staged file kept to publish again or discard', async () => {
    const target = path.join(dir, 'a.png');
    fs.writeFileSync(target, 'theirs');
    const staged = stageFile(target, (temp) => fs.promises.writeFile(temp, 'ours'));
    await expect(staged.publish()).rejects.toMatchObject({ code: 'EEXIST' });
    expect(fs.readFileSync(target, 'utf8')).toBe('theirs');
    fs.renameSync(target, `${target}.damaged`);
    await staged.publish();
    expect(fs.readFileSync(target, 'utf8')).toBe('ours');
    expect(hidden()).toEqual([]);

    const other = stageFile(target, (temp) => fs.promises.writeFile(temp, 'again'));
    await expect(other.publish()).rejects.toMatchObject({ code: 'EEXIST' });
    await other.discard();
    expect(hidden()).toEqual([]);
  });

  it('a write that fails leaves nothing behind, and publishing says why', async () => {
    const staged = stageFile(path.join(dir, 'a.png'), async (temp) => {
      await fs.promises.writeFile(temp, 'half');
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    await expect(staged.publish()).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
