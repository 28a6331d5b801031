import zlib from 'node:zlib';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { addPngText, readPngText } from './png-text.js';

const png = (): Promise<Buffer> =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: '#FE2C54' } })
    .png()
    .toBuffer();
const exiftool = spawnSync('exiftool', ['-ver']).status === 0;

describe('PNG text chunks', () => {
  it('round-trips Latin-1 and UTF-8 parameters and keeps the image decodable', async () => {
    for (const text of ['a portrait, magenta light\nNegative prompt: text\nSteps: 25, Seed: 1', 'café ☕ neon 東京\nSteps: 25']) {
      const tagged = addPngText(await png(), 'parameters', text);
      expect(readPngText(tagged).parameters).toBe(text);
      const meta = await sharp(tagged).metadata();
      expect([meta.width, meta.height]).toEqual([8, 8]);
      const { data } = await sharp(tagged).raw().toBuffer({ resolveWithObject: true });
      expect([...data.subarray(0, 3)]).toEqual([0xfe, 0x2c, 0x54]);
    }
  });

  it.skipIf(!exiftool)('is read by exiftool as the PNG Parameters tag (as other tools read A1111 files)', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-png-')), 'a.png');
    fs.writeFileSync(file, addPngText(await png(), 'parameters', 'hello world\nSteps: 25, Seed: 42'));
    const out = execFileSync('exiftool', ['-s', '-Parameters', file], { encoding: 'utf8' });
    expect(out).toContain('hello world');
    expect(out).toContain('Seed: 42');
  });

  it('refuses a file that is not a PNG', () => {
    expect(() => addPngText(Buffer.from('not a png'), 'parameters', 'x')).toThrow(/not a PNG/);
    expect(() => readPngText(Buffer.from('GIF89a'))).toThrow(/not a PNG/);
  });
});

describe('readPngText on a crafted file', () => {
  it('unpacks compressed text only for parameter keywords, 16 MB in all: 200 zTXt chunks of 4 MB each do not unpack to 800 MB', async () => {
    const base = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const bomb = zlib.deflateSync(Buffer.alloc(4 * 1024 * 1024, 0x61), { level: 9 });
    const chunk = (keyword: string): Buffer => {
      const body = Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0]), bomb]);
      const head = Buffer.alloc(8);
      head.writeUInt32BE(body.length, 0);
      head.write('zTXt', 4, 'latin1');
      return Buffer.concat([head, body, Buffer.alloc(4)]); // the CRC is not checked by the reader
    };
    const iend = base.length - 12;
    const chunks = [...Array.from({ length: 100 }, (_, i) => chunk(`note${i}`)), ...Array.from({ length: 100 }, () => chunk('parameters'))];
    const png = Buffer.concat([base.subarray(0, iend), ...chunks, base.subarray(iend)]);
    expect(png.length).toBeLessThan(2 * 1024 * 1024);
    const started = performance.now();
    const text = readPngText(png);
    const total = Object.values(text).reduce((sum, t) => sum + t.length, 0);
    expect(total).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(Object.keys(text).filter((k) => k.startsWith('note'))).toEqual([]);
    expect(text.parameters?.length).toBe(4 * 1024 * 1024);
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
