/**
 * Unsplash search as the Settings view and the mood board use it, against an imitation of
 * Unsplash's API on 127.0.0.1: the key is checked, results carry thumbnails fetched into the
 * thumbnail cache (small, re-encoded, served by the image route), and a thumbnail that is too
 * large, not an image or on an internal address nobody typed is left out, not the search.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UnsplashPhoto } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { createRpc } from '../rpc.js';
import { createServices, type Services } from '../services.js';
import { UnsplashClient } from './unsplash.js';

const KEY = 'good-access-key';
let server: http.Server;
let base: string;
let port: number;
let wide: Buffer;

beforeAll(async () => {
  wide = await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#FFD500' } })
    .jpeg()
    .toBuffer();
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (type: string, body: Buffer | string, status = 200): void => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (url.pathname.startsWith('/api/')) {
      if (req.headers.authorization !== `Client-ID ${KEY}`)
        return send('application/json', JSON.stringify({ errors: ['OAuth error: The access token is invalid'] }), 401);
      if (url.pathname === '/api/search/photos') {
        const results = [photo('ok1', `${base}/img/wide.jpg`), photo('big', `${base}/img/huge.jpg`), photo('txt', `${base}/img/not.jpg`)];
        // A thumbnail on "localhost": another name than the API's 127.0.0.1, so it must be public, and is not.
        results.push(photo('lan', `http://localhost:${port}/img/wide.jpg`));
        return send(
          'application/json',
          JSON.stringify({ total: 4, total_pages: 1, results: results.slice(0, Number(url.searchParams.get('per_page') ?? 24)) }),
        );
      }
    }
    if (url.pathname === '/img/wide.jpg') return send('image/jpeg', wide);
    if (url.pathname === '/img/huge.jpg') return send('image/jpeg', Buffer.alloc(3 * 1024 * 1024, 7));
    if (url.pathname === '/img/not.jpg') return send('image/jpeg', 'this is not a picture');
    return send('text/plain', 'not found', 404);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function photo(id: string, small: string) {
  return {
    id,
    description: `Photo ${id}`,
    alt_description: null,
    width: 1200,
    height: 800,
    urls: { regular: small, small, thumb: small },
    links: { html: `https://unsplash.com/photos/${id}`, download_location: `${base}/api/photos/${id}/download` },
    user: { name: 'Ann Lens', links: { html: 'https://unsplash.com/@annlens' } },
  };
}

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-unsplash-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('Unsplash search with thumbnails through the host', () => {
  it('fetches each result’s thumbnail into the cache, small and re-encoded; bad ones are left out', async () => {
    const thumbs = path.join(root, 'thumbnails', 'unsplash');
    const client = new UnsplashClient(() => KEY, `${base}/api/`, undefined, thumbs);
    const found = await client.search('yellow');
    expect(found.results.map((r) => r.id)).toEqual(['ok1', 'big', 'txt', 'lan']);
    const [ok, big, txt, lan] = found.results as [UnsplashPhoto, UnsplashPhoto, UnsplashPhoto, UnsplashPhoto];
    expect(ok.thumbPath).toMatch(new RegExp(`^${thumbs.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const meta = await sharp(ok.thumbPath!).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 400, 267]);
    // Over the size limit, not an image, on an internal address nobody typed: no thumbnail, the result stays.
    expect([big.thumbPath, txt.thumbPath, lan.thumbPath]).toEqual([null, null, null]);
    expect(fs.readdirSync(thumbs)).toEqual([path.basename(ok.thumbPath!)]);
    // The search again: the cached thumbnail is used as it is.
    const mtime = fs.statSync(ok.thumbPath!).mtimeMs;
    expect((await client.search('yellow')).results[0]!.thumbPath).toBe(ok.thumbPath);
    expect(fs.statSync(ok.thumbPath!).mtimeMs).toBe(mtime);
  });

  it('tests a key: the stored one, or one given before it is saved, and says when Unsplash refuses it', async () => {
    const stored = new UnsplashClient(() => KEY, `${base}/api/`);
    await expect(stored.test()).resolves.toMatchObject({ ok: true, message: expect.stringContaining('the access key works') });
    await expect(stored.test('wrong-key')).rejects.toThrow(/Unsplash refused the access key/);
    const none = new UnsplashClient(() => null, `${base}/api/`);
    await expect(none.test()).rejects.toThrow(/Add an Unsplash access key/);
    await expect(none.test(KEY)).resolves.toMatchObject({ ok: true });
  });

  it('through the API: the key is stored as a secret and never sent back; thumbnails are served by the image route', async () => {
    process.env.ONBRAND_UNSPLASH_API = `${base}/api/`;
    let services: Services;
    try {
      services = createServices(resolveConfig({ dataDir: path.join(root, 'data') }));
    } finally {
      delete process.env.ONBRAND_UNSPLASH_API;
    }
    try {
      const rpc = createRpc(services, 'browser');
      await expect(rpc.invoke('settings.testUnsplash', { key: KEY })).resolves.toMatchObject({ ok: true });
      await expect(rpc.invoke('settings.testUnsplash', {})).rejects.toThrow(/Add an Unsplash access key/);
      await rpc.invoke('settings.setUnsplashKey', { key: KEY });
      const settings = await rpc.invoke('settings.get', {});
      expect(settings).toMatchObject({ unsplashConfigured: true });
      expect(JSON.stringify(settings)).not.toContain(KEY);
      expect(fs.readFileSync(path.join(root, 'data', 'secrets.json'), 'utf8')).toContain(KEY);
      const found = (await rpc.invoke('unsplash.search', { query: 'yellow' })) as { results: UnsplashPhoto[] };
      expect(JSON.stringify(found)).not.toContain(KEY);
      const served = await services.media.resolve(found.results[0]!.thumbPath!);
      expect(served.contentType).toBe('image/jpeg');
      await rpc.invoke('settings.setUnsplashKey', { key: null });
      await expect(rpc.invoke('settings.get', {})).resolves.toMatchObject({ unsplashConfigured: false });
    } finally {
      await services.close();
    }
  });
});
