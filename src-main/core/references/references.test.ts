/** The mood board import against a real HTTP server on 127.0.0.1. */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { readPage } from './page.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Reference, ReferenceReport } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { createRpc } from '../rpc.js';
import { createServices, type Services } from '../services.js';
import { ReferenceImporter } from './import.js';
import { UnsplashClient } from './unsplash.js';

let server: http.Server;
let base: string;
let magenta: Buffer;
let teal: Buffer;
const hits: { url: string; auth: string | undefined; agent: string | undefined }[] = [];

beforeAll(async () => {
  magenta = await sharp({ create: { width: 120, height: 80, channels: 3, background: '#FE2C54' } })
    .jpeg()
    .toBuffer();
  teal = await sharp({ create: { width: 90, height: 160, channels: 3, background: '#00E0FF' } })
    .png()
    .toBuffer();
  server = http.createServer((req, res) => {
    hits.push({ url: req.url ?? '', auth: req.headers.authorization, agent: req.headers['user-agent'] });
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (type: string, body: Buffer | string, status = 200): void => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    switch (url.pathname) {
      case '/img/magenta.jpg':
        return send('image/jpeg', magenta);
      case '/img/teal.png':
        return send('image/png', teal);
      case '/photos/neon-portrait-AbC123':
        // An Unsplash photo page, as far as Open Graph goes.
        return send(
          'text/html; charset=utf-8',
          `<!doctype html><html><head><title>Neon portrait photo by Jane Doe on Unsplash</title>
           <meta property="og:title" content="Photo by Jane Doe on Unsplash">
           <meta content="${base}/img/teal.png?w=1080&amp;q=80" property="og:image">
           <meta property="og:url" content="https://unsplash.com/photos/neon-portrait-AbC123">
           </head><body><a href="/@janedoe">Jane Doe</a></body></html>`,
        );
      case '/blog':
        return send('text/html', '<html><head><title>No pictures here</title></head><body>Words only.</body></html>');
      case '/notes.txt':
        return send('text/plain', 'just text');
      case '/big.png':
        return send('image/png', Buffer.alloc(300_000, 1));
      case '/slow':
        setTimeout(() => send('image/png', teal), 2_000);
        return;
      case '/hop': {
        const n = Number(url.searchParams.get('n'));
        res.writeHead(302, { location: n > 0 ? `/hop?n=${n - 1}` : '/img/magenta.jpg' });
        return void res.end();
      }
      case '/api/search/photos':
        return send('application/json', JSON.stringify({ total: 1, results: [apiPhoto()] }));
      case '/api/photos/XyZ789':
        return send('application/json', JSON.stringify(apiPhoto()));
      case '/api/photos/XyZ789/download':
        return send('application/json', JSON.stringify({ url: `${base}/img/magenta.jpg` }));
      default:
        return send('text/plain', 'not found', 404);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function apiPhoto() {
  return {
    id: 'XyZ789',
    description: 'Magenta wall',
    alt_description: null,
    width: 120,
    height: 80,
    urls: { regular: `${base}/img/magenta.jpg`, small: `${base}/img/magenta.jpg`, thumb: `${base}/img/magenta.jpg` },
    links: { html: 'https://unsplash.com/photos/XyZ789', download_location: `${base}/api/photos/XyZ789/download` },
    user: { name: 'Ann Lens', links: { html: 'https://unsplash.com/@annlens' } },
  };
}

let root: string;
let services: Services;
let projectId: number;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-refs-'));
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data') }));
  projectId = services.projects.create({ name: 'Mood' }).id;
  hits.length = 0;
});

afterEach(async () => {
  await services.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const folder = (): string => path.join(services.projects.get(projectId).folder, 'references');

describe('adding references', () => {
  it('resolves an Unsplash photo page through Open Graph, credits the photographer, and stores the palette', async () => {
    const report = await services.references.add(projectId, [`${base}/photos/neon-portrait-AbC123`]);
    expect(report.skipped).toEqual([]);
    const ref = report.added[0]!;
    expect(ref).toMatchObject({
      author: 'Jane Doe',
      authorUrl: `${base}/@janedoe`,
      licence: null, // not served from unsplash.com here; see the next assertion
      sourceUrl: 'https://unsplash.com/photos/neon-portrait-AbC123',
      width: 90,
      height: 160,
      fileName: 'neon-portrait-AbC123.png',
    });
    expect(ref.palette[0]).toMatchObject({ hex: '#00E0FF' });
    expect(ref.palette[0]!.share).toBeGreaterThan(0.95);
    expect(fs.readFileSync(ref.path).equals(teal)).toBe(true);
    expect(hits.every((h) => h.agent?.startsWith('Onbrand/'))).toBe(true);
  });

  it('fails per item with the reason, never for the whole drop, and leaves nothing half-written', async () => {
    const limited = new ReferenceImporter(projectRepoOf(services), services.refs, services.events, {
      timeoutMs: 500,
      maxBytes: 200_000,
      maxRedirects: 5,
    });
    const report = await limited.add(projectId, [
      `${base}/img/magenta.jpg`,
      `${base}/img/magenta.jpg?again`,
      `${base}/blog`,
      `${base}/notes.txt`,
      `${base}/big.png`,
      `${base}/slow`,
      `${base}/hop?n=3`,
      `${base}/hop?n=9`,
      `${base}/missing`,
      'http://127.0.0.1:1/nothing-listens-here',
    ]);
    expect(report.added.map((r) => r.sourceUrl)).toEqual([`${base}/img/magenta.jpg`]);
    expect(report.skipped.map((s) => [s.item.replace(base, ''), s.reason])).toEqual([
      ['/img/magenta.jpg?again', 'duplicate'],
      ['/blog', 'no_image'],
      ['/notes.txt', 'not_an_image'],
      ['/big.png', 'too_large'],
      ['/slow', 'timeout'],
      ['/hop?n=3', 'duplicate'], // three redirects are followed (to the magenta image, already there)
      ['/hop?n=9', 'unreachable'],
      ['/missing', 'unreachable'],
      ['http://127.0.0.1:1/nothing-listens-here', 'unreachable'],
    ]);
    expect(report.skipped.find((s) => s.reason === 'too_large')!.message).toMatch(/over the 0\.19\d* MB limit|over the .* MB limit/);
    expect(fs.readdirSync(folder())).toEqual(['magenta.jpg']);
  });

  it('adds files and folders, skipping a text file by name, and lists the board in order', async () => {
    const dir = path.join(root, 'drop');
    fs.mkdirSync(path.join(dir, 'more'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'a-magenta.jpg'), magenta);
    fs.writeFileSync(path.join(dir, 'more', 'b-teal.png'), teal);
    fs.writeFileSync(path.join(dir, 'readme.txt'), 'hello');
    const rpc = createRpc(services, 'cli');
    const report = (await rpc.invoke('refs.add', { projectId, items: [dir] })) as ReferenceReport;
    expect(report.added.map((r) => r.fileName)).toEqual(['a-magenta.jpg', 'b-teal.png']);
    expect(report.skipped).toEqual([expect.objectContaining({ reason: 'not_an_image', message: 'readme.txt is not an image' })]);
    const refs = (await rpc.invoke('refs.list', { projectId })) as Reference[];
    const moved = (await rpc.invoke('refs.move', { refId: refs[1]!.id, position: 0 })) as Reference[];
    expect(moved.map((r) => r.fileName)).toEqual(['b-teal.png', 'a-magenta.jpg']);
    const palette = (await rpc.invoke('refs.palette', { projectId })) as { hex: string }[];
    // The board's palette holds each reference's dominant colour.
    expect(palette.map((c) => c.hex)).toEqual(expect.arrayContaining(refs.map((r) => r.palette[0]!.hex)));
    expect(refs.map((r) => r.palette[0]!.hex)).toEqual(['#FE2B54', '#00E0FF']); // JPEG shifts magenta by one level
    await rpc.invoke('refs.remove', { projectId, refIds: [refs[0]!.id] });
    expect(fs.readdirSync(folder())).toEqual(['b-teal.png']);
    expect(fs.existsSync(path.join(dir, 'a-magenta.jpg'))).toBe(true); // the original is untouched
    await expect(rpc.invoke('refs.add', { projectId, items: ['relative/path.png'] })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'items.0',
    });
  });

  it('uses the board as the brand palette', async () => {
    const rpc = createRpc(services, 'cli');
    const project = await rpc.invoke('projects.update', {
      projectId,
      mood: 'hopeful / rebellious finance',
      palette: [{ name: 'magenta', hex: '#FE2C54' }],
    });
    expect(project).toMatchObject({ mood: 'hopeful / rebellious finance', palette: [{ name: 'magenta', hex: '#FE2C54' }] });
  });
});

describe('reading a page', () => {
  it('takes Open Graph tags, decodes entities, and turns references outside Unicode into U+FFFD instead of failing', () => {
    const page = readPage(
      '<html><head><title>Photo by Ana &amp; Bo on Unsplash</title><meta property="og:image" content="/photo.jpg?a=1&amp;b=&#99999999;&#x110000;&#55296;"></head><a href="/@anabo">Ana</a>',
      'https://unsplash.com/photos/x',
    );
    expect(page.imageUrl).toBe('https://unsplash.com/photo.jpg?a=1&b=%EF%BF%BD%EF%BF%BD%EF%BF%BD');
    expect(page.author).toBe('Ana & Bo');
    expect(page.authorUrl).toBe('https://unsplash.com/@anabo');
  });

  it('an og:image that is not a URL is no image (one item skipped, not the whole drop)', () => {
    expect(readPage('<meta property="og:image" content="http://[not a url">', 'https://example.com/').imageUrl).toBeNull();
  });

  it('a hostile page of unclosed <meta tags is read in linear time', () => {
    const hostile = '<meta '.repeat(200_000); // 1.2 MB: the quadratic parser blocked the host for many seconds on a third of this
    const started = performance.now();
    expect(readPage(hostile, 'https://example.com/').imageUrl).toBeNull();
    const spam = `${'<meta content="x" '.repeat(30_000)}><meta property="og:image" content="https://example.com/i.jpg">`;
    expect(readPage(spam, 'https://example.com/').imageUrl).toBe('https://example.com/i.jpg');
    expect(performance.now() - started).toBeLessThan(1500);
  });
});

describe('Unsplash with an access key', () => {
  it('searches and imports with attribution, triggering the download endpoint with the key', async () => {
    const client = new UnsplashClient(() => 'test-key', `${base}/api/`);
    const found = await client.search('magenta wall');
    expect(found.results[0]).toMatchObject({ id: 'XyZ789', author: 'Ann Lens' });
    const ref = await client.import(services.references, projectId, 'XyZ789');
    expect(ref).toMatchObject({
      author: 'Ann Lens',
      licence: 'Unsplash License',
      authorUrl: 'https://unsplash.com/@annlens?utm_source=onbrand&utm_medium=referral',
    });
    const trigger = hits.find((h) => h.url === '/api/photos/XyZ789/download');
    expect(trigger?.auth).toBe('Client-ID test-key');
    await expect(new UnsplashClient(() => null, `${base}/api/`).search('x')).rejects.toThrow(/Unsplash access key/);
  });
});

function projectRepoOf(s: Services) {
  // The importer takes the catalogue's project repository; reach it through the services' project service.
  return (s.projects as unknown as { repo: ConstructorParameters<typeof ReferenceImporter>[0] }).repo;
}
