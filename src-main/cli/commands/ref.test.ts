import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../onbrand.js';

let server: http.Server;
let base: string;

beforeAll(async () => {
  const teal = await sharp({ create: { width: 90, height: 160, channels: 3, background: '#00E0FF' } })
    .png()
    .toBuffer();
  server = http.createServer((req, res) => {
    if (req.url?.startsWith('/img/')) {
      res.writeHead(200, { 'content-type': 'image/png' });
      return void res.end(teal);
    }
    if (req.url === '/photos/neon-portrait-AbC123') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return void res.end(
        `<html><head><meta property="og:title" content="Photo by Jane Doe on Unsplash"><meta property="og:image" content="${base}/img/teal.png"></head></html>`,
      );
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><body>no image</body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('onbrand ref', () => {
  it('adds and lists references from the command line', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-cli-ref-'));
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    expect(await run(['projects', 'create', 'Mood', '--data-dir', dataDir], out, new PassThrough())).toBe(0);
    text = '';
    expect(
      await run(
        ['ref', 'add', 'Mood', `${base}/photos/neon-portrait-AbC123`, `${base}/blog`, '--data-dir', dataDir],
        out,
        new PassThrough(),
      ),
    ).toBe(3);
    expect(text).toMatch(/Added 1 reference to "Mood"; 1 skipped:/);
    expect(text).toMatch(/neon-portrait-AbC123\.png — Jane Doe/);
    expect(text).toMatch(/skipped .*\/blog is a web page without an image/);
    text = '';
    expect(await run(['ref', 'list', 'Mood', '--data-dir', dataDir], out, new PassThrough())).toBe(0);
    expect(text).toMatch(/neon-portrait-AbC123\.png\s+90×160\s+#00E0FF/);
    expect(await run(['ref', 'add', 'Nope', 'x.png', '--data-dir', dataDir], out, new PassThrough())).toBe(1);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});
