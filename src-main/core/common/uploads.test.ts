import { describe, expect, it } from 'vitest';
import { UPLOAD_LIMITS, fileTooLargeMessage, hiddenInFolder, planUpload, uploadFileName } from './index.js';

describe('uploads: shared rules', () => {
  const limits = { ...UPLOAD_LIMITS, fileBytes: 100, requestBytes: 250, files: 3 };

  it('splits files into requests within the limits, in order, leaving out files over the per-file limit', () => {
    expect(planUpload([50, 100, 101, 90, 10, 5, 1], limits)).toEqual({
      batches: [
        [0, 1, 3],
        [4, 5, 6],
      ],
      tooLarge: [2],
    });
    expect(planUpload([100, 100, 100], limits).batches).toEqual([[0, 1], [2]]);
    expect(planUpload([], limits)).toEqual({ batches: [], tooLarge: [] });
  });

  it('names a file that is too large in a designer’s words', () => {
    expect(fileTooLargeMessage('poster.tif', 300 * 2 ** 20)).toBe('poster.tif is 300 MB, over the 256 MB limit for one file');
  });

  it('stores an uploaded file under its own name only: no folders, no hidden names, nothing a file system refuses', () => {
    expect(uploadFileName('shoot/day 2/a.png')).toBe('a.png');
    expect(uploadFileName('..\\..\\evil.png')).toBe('evil.png');
    expect(uploadFileName('../../')).toBe('upload');
    expect(uploadFileName('.hidden.png')).toBe('hidden.png');
    expect(uploadFileName('what?:*.png')).toBe('what---.png');
    expect(uploadFileName('..')).toBe('upload');
    const long = uploadFileName(`${'x'.repeat(300)}.jpeg`);
    expect(long).toHaveLength(200);
    expect(long.endsWith('.jpeg')).toBe(true);
  });

  it('keeps a name within 200 bytes in UTF-8, cut between characters, and never a Windows device name', () => {
    const bytes = (s: string): number => new TextEncoder().encode(s).length;
    const cjk = uploadFileName(`${'日'.repeat(160)}.png`); // 483 bytes as sent
    expect(bytes(cjk)).toBeLessThanOrEqual(200);
    expect(cjk).toBe(`${'日'.repeat(65)}.png`);
    const emoji = uploadFileName(`${'🎨'.repeat(80)}.jpg`);
    expect(bytes(emoji)).toBeLessThanOrEqual(200);
    expect(emoji).toBe(`${'🎨'.repeat(49)}.jpg`); // whole characters: no half of a surrogate pair
    expect(uploadFileName('CON')).toBe('_CON');
    expect(uploadFileName('nul.png')).toBe('_nul.png');
    expect(uploadFileName('com1.tar.gz')).toBe('_com1.tar.gz');
    expect(uploadFileName('console.png')).toBe('console.png');
  });

  it('passes over hidden files of a chosen folder as the import does', () => {
    expect(hiddenInFolder('shoot/.DS_Store')).toBe(true);
    expect(hiddenInFolder('shoot/.git/config')).toBe(true);
    expect(hiddenInFolder('shoot/a.png')).toBe(false);
  });
});
