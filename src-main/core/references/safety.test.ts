/**
 * What a link may not do to the user: carry the Unsplash key to another origin, lead to an internal
 * address nobody typed, or make Onbrand read an endless page or an endless local "file". Real HTTP
 * servers on 127.0.0.1, a real named pipe, the real /dev/zero.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config.js';
import { createServices, type Services } from '../services.js';
import { internalRange, typedHostLookup } from './addresses.js';
import { ReferenceImporter } from './import.js';
import { UnsplashClient } from './unsplash.js';

const KEY = 'unsplash-key-7c1d9e';
let teal: Buffer;
let magenta: Buffer;
/** The server the user typed (and the configured Unsplash API root). */
let typed: http.Server;
let a: string;
let portA: number;
/** Another origin on the same machine: a different port. */
let other: http.Server;
let b: string;
const hits: { server: 'a' | 'b'; url: string; auth: string | undefined }[] = [];

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** An endless page: a head (with an Open Graph image if asked), then padding until the reader hangs up (bounded). */
function endless(res: http.ServerResponse, image: string | null): void {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.write(`<html><head>${image ? `<meta property="og:image" content="${image}">` : ''}</head><body>`);
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let sent = 0;
  const more = (): void => {
    while (!res.destroyed && sent < 200 * 2 ** 20) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', more);
    }
    res.end();
  };
  more();
}

beforeAll(async () => {
  teal = await sharp({ create: { width: 90, height: 160, channels: 3, background: '#00E0FF' } })
    .png()
    .toBuffer();
  magenta = await sharp({ create: { width: 120, height: 80, channels: 3, background: '#FE2C54' } })
    .jpeg()
    .toBuffer();
  const photo = () => ({
    id: 'XyZ789',
    description: null,
    alt_description: 'magenta',
    width: 120,
    height: 80,
    urls: { regular: `${a}/img/magenta.jpg`, small: `${a}/img/magenta.jpg`, thumb: `${a}/img/magenta.jpg` },
    // The download trigger on another origin: it must not get the key.
    links: { html: 'https://unsplash.com/photos/XyZ789', download_location: `${b}/download/XyZ789` },
    user: { name: 'Ann Lens', links: { html: 'https://unsplash.com/@annlens' } },
  });
  typed = http.createServer((req, res) => {
    hits.push({ server: 'a', url: req.url ?? '', auth: req.headers.authorization });
    const url = new URL(req.url ?? '/', 'http://x');
    const to = url.searchParams.get('to');
    switch (url.pathname) {
      case '/img/teal.png':
        res.writeHead(200, { 'content-type': 'image/png' });
        return void res.end(teal);
      case '/img/magenta.jpg':
        res.writeHead(200, { 'content-type': 'image/jpeg' });
        return void res.end(magenta);
      case '/page':
        res.writeHead(200, { 'content-type': 'text/html' });
        return void res.end(`<html><head><meta property="og:image" content="${url.searchParams.get('img')}"></head></html>`);
      case '/go':
        res.writeHead(302, { location: to ?? '/' });
        return void res.end();
      case '/endless':
        return endless(res, url.searchParams.get('img'));
      case '/gzip-page':
        res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' });
        return void res.end(zlib.gzipSync(`<html><head><meta property="og:image" content="${a}/img/teal.png"></head></html>`));
      case '/bomb.png':
        // 8 MB of zeros in about 8 KB: the limit must count what it unpacks to.
        res.writeHead(200, { 'content-type': 'image/png', 'content-encoding': 'gzip' });
        return void res.end(zlib.gzipSync(Buffer.alloc(8 * 2 ** 20)));
      // The Unsplash imitation: search answers with a redirect to another origin, a photo with one to the same origin.
      case '/api/search/photos':
        res.writeHead(302, { location: `${b}/search/photos${url.search}` });
        return void res.end();
      case '/api/photos/XyZ789':
        res.writeHead(307, { location: '/api/v2/photos/XyZ789' });
        return void res.end();
      case '/api/v2/photos/XyZ789':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(photo()));
      default:
        res.writeHead(404);
        return void res.end();
    }
  });
  other = http.createServer((req, res) => {
    hits.push({ server: 'b', url: req.url ?? '', auth: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.url?.startsWith('/search/') ? JSON.stringify({ total: 1, results: [photo()] }) : '{}');
  });
  portA = await listen(typed);
  a = `http://127.0.0.1:${portA}`;
  b = `http://127.0.0.1:${await listen(other)}`;
});

afterAll(async () => {
  await Promise.all([typed, other].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

let root: string;
let services: Services;
let projectId: number;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-refs-safety-'));
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data') }));
  projectId = services.projects.create({ name: 'Mood' }).id;
  hits.length = 0;
});

afterEach(async () => {
  await services.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function importer(limits: Partial<ConstructorParameters<typeof ReferenceImporter>[3]> = {}, maxFileBytes?: number): ReferenceImporter {
  const repo = (services.projects as unknown as { repo: ConstructorParameters<typeof ReferenceImporter>[0] }).repo;
  return new ReferenceImporter(
    repo,
    services.refs,
    services.events,
    { timeoutMs: 3_000, maxBytes: 40 * 2 ** 20, maxRedirects: 5, ...limits },
    maxFileBytes,
  );
}

describe('the Unsplash key', () => {
  it('goes to the API origin only: not along a redirect to another origin, not to a download link elsewhere', async () => {
    const client = new UnsplashClient(() => KEY, `${a}/api/`);
    const found = await client.search('magenta');
    expect(found.results[0]).toMatchObject({ id: 'XyZ789' });
    expect(hits.find((h) => h.url.startsWith('/api/search/'))?.auth).toBe(`Client-ID ${KEY}`);
    expect(hits.find((h) => h.server === 'b' && h.url.startsWith('/search/'))).toMatchObject({ auth: undefined });

    const ref = await client.import(services.references, projectId, 'XyZ789');
    expect(ref).toMatchObject({ author: 'Ann Lens', licence: 'Unsplash License' });
    // A redirect within the API's origin keeps it.
    expect(hits.find((h) => h.url === '/api/v2/photos/XyZ789')?.auth).toBe(`Client-ID ${KEY}`);
    expect(hits.find((h) => h.url === '/download/XyZ789')).toMatchObject({ server: 'b', auth: undefined });
    expect(hits.filter((h) => h.server === 'b').every((h) => h.auth === undefined)).toBe(true);
  });
});

describe('internal addresses', () => {
  it('names the ranges that are not the public internet, IPv4-mapped IPv6 included', () => {
    for (const [address, range] of [
      ['127.0.0.1', /loopback/],
      ['127.255.0.9', /loopback/],
      ['::1', /loopback/],
      ['::ffff:127.0.0.1', /loopback/],
      ['::ffff:10.1.2.3', /10\.0\.0\.0\/8/],
      ['10.0.0.5', /private network 10\.0\.0\.0\/8/],
      ['172.16.0.1', /172\.16\.0\.0\/12/],
      ['172.31.255.255', /172\.16\.0\.0\/12/],
      ['192.168.1.1', /192\.168/],
      ['169.254.169.254', /link-local/],
      ['fe80::1', /link-local/],
      ['fd12:3456::1', /fc00::\/7/],
      ['0.0.0.0', /this network/],
      ['::', /unspecified/],
    ] as const) {
      expect(internalRange(address), address).toMatch(range);
    }
    for (const address of [
      '8.8.8.8',
      '172.32.0.1',
      '192.169.0.1',
      '1.1.1.1',
      '2606:4700:4700::1111',
      '::ffff:8.8.8.8',
      'images.unsplash.com',
    ]) {
      expect(internalRange(address), address).toBeNull();
    }
  });

  it('a page or a redirect cannot lead to one the user did not type; the typed host itself may be internal', async () => {
    const report = await importer().add(projectId, [
      `${a}/page?img=http://localhost:${portA}/img/teal.png`, // a name that resolves to loopback
      `${a}/page?img=http://10.0.0.5/x.png`,
      `${a}/page?img=http://169.254.169.254/latest/meta-data/`,
      `${a}/page?img=http://[::ffff:127.0.0.1]:${portA}/img/teal.png`,
      `${a}/page?img=http://0.0.0.0:${portA}/img/teal.png`,
      `${a}/go?to=http://localhost:${portA}/img/magenta.jpg`,
      `${a}/go?to=http://[::1]:${portA}/img/magenta.jpg`,
      `${a}/page?img=${a}/img/teal.png`, // the same host as typed: allowed
      `http://localhost:${portA}/img/magenta.jpg`, // typed by the user: allowed
    ]);
    expect(report.added.map((r) => r.fileName)).toEqual(['page.png', 'magenta.jpg']);
    const skipped = report.skipped.map((s) => [s.reason, s.message]);
    expect(skipped).toEqual([
      [
        'refused',
        expect.stringMatching(
          /^refused: the page .*\/page\?img=.* points to localhost, which resolves to the internal address (127\.0\.0\.1|::1) \(loopback, this computer\); only an address you type yourself may be internal$/,
        ),
      ],
      ['refused', expect.stringMatching(/points to the internal address 10\.0\.0\.5 \(private network 10\.0\.0\.0\/8\)/)],
      ['refused', expect.stringMatching(/points to the internal address 169\.254\.169\.254 \(link-local/)],
      ['refused', expect.stringMatching(/points to the internal address ::ffff:7f00:1 \(loopback/)],
      ['refused', expect.stringMatching(/points to the internal address 0\.0\.0\.0 \("this network"/)],
      ['refused', expect.stringMatching(/\/go\?to=.* redirects to localhost, which resolves to the internal address/)],
      ['refused', expect.stringMatching(/redirects to the internal address ::1 \(loopback/)],
    ]);
    // Nothing internal was even asked: the typed server saw only its own pages and images.
    expect(hits.filter((h) => h.url.startsWith('/img/')).length).toBe(2);
  });
});

describe('a host name the user typed (DNS rebinding)', () => {
  const lookup = (seen: Map<string, boolean>, host: string): Promise<string> =>
    new Promise((resolve, reject) =>
      typedHostLookup(seen)(host, {}, (error, address) => (error ? reject(error) : resolve(String(address)))),
    );

  it('may be internal when it first answers internal; once it answered public, an internal answer is refused', async () => {
    const seen = new Map<string, boolean>();
    // localhost answers 127.0.0.1 from the hosts file: a typed local name (a NAS, a test server) works.
    expect(await lookup(seen, 'localhost')).toMatch(/^(127\.0\.0\.1|::1)$/);
    expect(seen.get('localhost')).toBe(true);
    // The same name, had it first answered with a public address, is held to public addresses.
    const rebound = new Map([['localhost', false]]);
    await expect(lookup(rebound, 'localhost')).rejects.toThrow(/resolves to an internal address/);
  });
});

describe('a web page', () => {
  it('is read only as far as its head can reach (2 MB), never to its end or to the image limit', async () => {
    const started = performance.now();
    const report = await importer().add(projectId, [`${a}/endless?img=${encodeURIComponent(`${a}/img/teal.png`)}`, `${a}/endless`]);
    expect(report.added.map((r) => r.fileName)).toEqual(['endless.png']);
    expect(report.skipped).toEqual([
      {
        item: `${a}/endless`,
        reason: 'no_image',
        message: `${a}/endless is a web page without an Open Graph image in its first 2 MB (a page is read only that far)`,
      },
    ]);
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('compressed answers are unpacked, and the size limit counts the unpacked bytes', async () => {
    const report = await importer({ maxBytes: 2 ** 20 }).add(projectId, [`${a}/gzip-page`, `${a}/bomb.png`]);
    expect(report.added.map((r) => r.fileName)).toEqual(['gzip-page.png']);
    expect(report.skipped).toEqual([{ item: `${a}/bomb.png`, reason: 'too_large', message: `${a}/bomb.png is over the 1 MB limit` }]);
  });
});

describe('local files', () => {
  it.runIf(process.platform !== 'win32')(
    'only regular files are read: a named pipe, a device, a link to one are skipped by name; size is checked first',
    async () => {
      const dir = path.join(root, 'drop');
      fs.mkdirSync(dir);
      const fifo = path.join(dir, 'pipe.png');
      execFileSync('mkfifo', [fifo]);
      fs.symlinkSync('/dev/zero', path.join(dir, 'zero-link.png'));
      fs.writeFileSync(path.join(dir, 'big.png'), Buffer.concat([teal, Buffer.alloc(4096)]));
      fs.writeFileSync(path.join(dir, 'magenta.jpg'), magenta);
      const limit = teal.length + 1024;
      const report = await importer({}, limit).add(projectId, [
        fifo,
        '/dev/zero',
        path.join(dir, 'zero-link.png'),
        path.join(dir, 'big.png'),
        path.join(dir, 'magenta.jpg'),
      ]);
      expect(report.added.map((r) => r.fileName)).toEqual(['magenta.jpg']);
      expect(report.skipped.map((s) => [s.reason, s.message])).toEqual([
        ['unreadable', 'pipe.png is not a regular file (a named pipe)'],
        ['unreadable', 'zero is not a regular file (a device)'],
        ['unreadable', 'zero-link.png is not a regular file (a device)'],
        ['too_large', expect.stringMatching(/^big\.png is \d+ KB, over the \d+ KB limit$/)],
      ]);
    },
  );
});
