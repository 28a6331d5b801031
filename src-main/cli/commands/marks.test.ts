import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImageSummary } from '../../core/api/index.js';
import { cliTestFolder } from '../capture.js';

const cli = cliTestFolder('onbrand-cli-marks-');
beforeEach(cli.setUp);
afterEach(cli.tearDown);
const onbrand = cli.onbrand;

/** A project "Drop" with a.png (image 1) and b.png (image 2). */
async function project(): Promise<void> {
  expect((await onbrand('projects', 'create', 'Drop')).code).toBe(0);
  for (const [name, background] of [
    ['a.png', '#FE2C54'],
    ['b.png', '#00E0FF'],
  ] as const) {
    const file = path.join(cli.root, name);
    await sharp({ create: { width: 32, height: 48, channels: 3, background } })
      .png()
      .toFile(file);
    expect((await onbrand('import', 'Drop', file)).code).toBe(0);
  }
}

describe('onbrand rate and flag', () => {
  it("set one image's rating and flag, and print what the image now has", async () => {
    await project();
    expect(await onbrand('rate', 'Drop', '1', '5')).toEqual({ code: 0, out: 'a.png: ★★★★★\n', err: '' });
    expect(await onbrand('flag', 'drop', '1', 'reject')).toEqual({ code: 0, out: 'a.png: ★★★★★ (reject)\n', err: '' });
    expect((await onbrand('rate', '1', '1', '2')).out).toBe('a.png: ★★ (reject)\n');
    expect((await onbrand('flag', 'Drop', '1', 'none')).out).toBe('a.png: ★★\n');
    const json = await onbrand('--json', 'flag', 'Drop', '2', 'pick');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({ id: 2, fileName: 'b.png', rating: 0, flag: 'pick' } satisfies Partial<ImageSummary>);
    expect((await onbrand('rate', 'Drop', '2', '0')).out).toBe('b.png:  (pick)\n');
  });

  it('a bad value or argument count is exit code 2 and names what is wanted; nothing changes', async () => {
    await project();
    const cases: [string[], string][] = [
      [['rate', 'Drop', '1'], 'onbrand rate: give PROJECT IMAGE_ID STARS\n'],
      [['rate', 'Drop', 'a.png', '3'], 'onbrand rate: give PROJECT IMAGE_ID STARS\n'],
      [['rate', 'Drop', '1', '6'], 'onbrand rate: STARS must be 0 to 5, not "6"\n'],
      [['rate', 'Drop', '1', '2.5'], 'onbrand rate: STARS must be 0 to 5, not "2.5"\n'],
      [['flag', 'Drop', '1', 'maybe'], 'onbrand flag: the flag must be pick, reject or none, not "maybe"\n'],
      [['flag', 'Drop', '1', 'pick', 'x'], 'onbrand flag: give PROJECT IMAGE_ID pick|reject|none\n'],
    ];
    for (const [args, message] of cases) {
      const result = await onbrand(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.err).toBe(`${message}Run "onbrand ${args[0]} --help" for usage.\n`);
    }
    expect((await onbrand('flag', 'Drop', '1', 'none')).out).toBe('a.png: \n');
  });

  it('an unknown project or image is exit code 1 naming it', async () => {
    await project();
    const image = await onbrand('flag', 'Drop', '99', 'pick');
    expect(image).toEqual({ code: 1, out: '', err: 'onbrand flag: No image with id 99 in this project.\n' });
    const missing = await onbrand('rate', 'Nope', '1', '3');
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('onbrand rate: No project named "Nope". Projects: Drop.\n');
    expect(fs.existsSync(path.join(cli.dataDir, 'catalog.sqlite'))).toBe(true);
  });
});
