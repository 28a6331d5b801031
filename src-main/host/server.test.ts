import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Project } from '../core/api/index.js';
import { resolveConfig } from '../core/config.js';
import { createServices, type Services } from '../core/services.js';
import { startHost, type RunningHost } from './server.js';

const INDEX_HTML = '<!doctype html><html><head><title>Onbrand test UI</title></head><body><div id="root"></div></body></html>\n';

let root: string;
let rendererDir: string;
let services: Services;
let host: RunningHost;
let base: string;
const sockets: WebSocket[] = [];

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-host-'));
  rendererDir = path.join(root, 'renderer');
  fs.mkdirSync(rendererDir);
  fs.writeFileSync(path.join(rendererDir, 'index.html'), INDEX_HTML);
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data'), projectsDir: path.join(root, 'projects') }));
  host = await startHost({ services, port: 0, rendererDir });
  base = `http://127.0.0.1:${host.port}`;
});

afterEach(async () => {
  try {
    for (const ws of sockets.splice(0)) ws.terminate();
    // A failed test can leave a response unread, which keeps close() waiting; do not let that
    // stop the temp folder from being removed.
    await Promise.race([host.close(), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
  } finally {
    await services.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

function call(method: string, body: unknown, headers: Record<string, string> = { 'x-onbrand-token': host.token }): Promise<Response> {
  return fetch(`${base}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** The /media URL for a file; `token: null` leaves the token out. */
function mediaUrl(file: string, token: string | null = host.token): string {
  const query = new URLSearchParams({ path: file, ...(token === null ? {} : { token }) });
  return `${base}/media?${query}`;
}

async function png(file: string, colour = { r: 200, g: 10, b: 90 }): Promise<Buffer> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp({ create: { width: 64, height: 96, channels: 3, background: colour } })
    .png()
    .toFile(file);
  return fs.readFileSync(file);
}

/** A GET with the path sent exactly as given. */
function rawGet(requestPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: host.port, path: requestPath }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

// ---- WebSocket helpers --------------------------------------------------------------------------

interface Client {
  ws: WebSocket;
  messages: { type: string; payload?: unknown }[];
  waitFor(predicate: (m: { type: string; payload?: unknown }) => boolean, timeoutMs?: number): Promise<{ type: string; payload?: unknown }>;
}

/** Opens a socket and records every message from the first one on (so `hello` is never missed). */
function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const ws = new WebSocket(url, { headers });
  sockets.push(ws);
  const messages: Client['messages'] = [];
  const wake = new Set<() => void>();
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as Client['messages'][number]);
    for (const w of [...wake]) w();
  });
  const waitFor: Client['waitFor'] = (predicate, timeoutMs = 5000) =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = messages.find(predicate);
        if (found) {
          wake.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        wake.delete(check);
        reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(messages)}`));
      }, timeoutMs);
      wake.add(check);
      check();
    });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, waitFor }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** The HTTP status with which the upgrade is refused; fails if the socket opens. */
function refusal(url: string, headers: Record<string, string> = {}): Promise<number> {
  const ws = new WebSocket(url, { headers });
  sockets.push(ws);
  return new Promise((resolve, reject) => {
    ws.on('error', () => undefined);
    ws.once('unexpected-response', (req, res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    ws.once('open', () => reject(new Error(`${url} should have been refused`)));
  });
}

const eventsUrl = (token?: string): string =>
  `ws://127.0.0.1:${host.port}/api/events${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`;

// ---- Tests ------------------------------------------------------------------------------------

describe('startHost', () => {
  it('listens on 127.0.0.1 on the port it picked, with a long random token', () => {
    expect(host.port).toBeGreaterThan(0);
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/`);
    expect(host.urlWithToken).toBe(`${host.url}?token=${host.token}`);
    expect(host.token).toMatch(/^[0-9a-f]{48}$/);
    expect(host.app.server.address()).toMatchObject({ address: '127.0.0.1', port: host.port });
  });

  it('uses the token it is given', async () => {
    const other = await startHost({ services, port: 0, rendererDir, token: 'given-token' });
    try {
      const res = await fetch(`http://127.0.0.1:${other.port}/api/projects.list`, {
        method: 'POST',
        headers: { 'x-onbrand-token': 'given-token' },
      });
      expect(res.status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('the HTTP API', () => {
  it('GET /api/health answers 200 without a token', async () => {
    const res = await fetch(`${base}/api/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; version: string };
    expect(body.ok).toBe(true);
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('refuses a call without a token, or with a wrong one, with 401', async () => {
    const wrongSameLength = host.token.replace(/./, (c) => (c === 'a' ? 'b' : 'a'));
    for (const headers of [
      {},
      { 'x-onbrand-token': 'nope' },
      { 'x-onbrand-token': wrongSameLength },
      { 'x-onbrand-token': '' },
      { authorization: `Basic ${host.token}` },
      { authorization: `Bearer ${wrongSameLength}` },
    ]) {
      const res = await call('projects.list', {}, headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('token') } });
    }
    // A refused call changes nothing.
    expect((await call('projects.create', { name: 'X' }, { 'x-onbrand-token': 'nope' })).status).toBe(401);
    expect(services.projects.list()).toEqual([]);
  });

  it('accepts the token as x-onbrand-token, as a Bearer token, or as ?token=', async () => {
    expect(await (await call('projects.list', {})).json()).toEqual({ result: [] });
    expect((await call('projects.list', {}, { authorization: `Bearer ${host.token}` })).status).toBe(200);
    const viaQuery = await fetch(`${base}/api/projects.list?token=${host.token}`, { method: 'POST' });
    expect(viaQuery.status).toBe(200);
  });

  it('answers a call without a body as if the input were {}', async () => {
    const res = await fetch(`${base}/api/projects.list`, { method: 'POST', headers: { 'x-onbrand-token': host.token } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: [] });
  });

  it('runs a method and returns its result', async () => {
    const res = await call('projects.create', { name: 'Spring drop' });
    expect(res.status).toBe(200);
    const { result } = (await res.json()) as { result: Project };
    expect(result).toMatchObject({ name: 'Spring drop', folder: path.join(root, 'projects', 'Spring drop') });
    expect(services.projects.list().map((p) => p.id)).toEqual([result.id]);
  });

  it('invalid input is 400 and names the field', async () => {
    const res = await call('projects.create', { name: '' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'invalid_input', field: 'name', message: expect.stringContaining('name') } });
    const paths = await call('images.import', { projectId: 1, paths: [] });
    expect(paths.status).toBe(400);
    expect(((await paths.json()) as { error: { field: string } }).error.field).toBe('paths');
  });

  it('maps the other error codes to HTTP statuses', async () => {
    const unknown = await call('projects.delete', {});
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('unknown_method');

    const missing = await call('images.list', { projectId: 77 });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');

    expect((await call('projects.create', { name: 'Twice' })).status).toBe(200);
    const conflict = await call('projects.create', { name: 'twice' });
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as { error: { code: string } }).error.code).toBe('conflict');
  });

  it('a body that is not JSON is a 400, not a crash', async () => {
    const res = await fetch(`${base}/api/projects.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-onbrand-token': host.token },
      body: '{"name": ',
    });
    expect(res.status).toBe(400);
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
  });

  // Known bug (reported, not fixed here): tokenOk() compares string lengths, then calls
  // crypto.timingSafeEqual on the UTF-8 bytes. A token with as many characters as the real one but
  // non-ASCII characters has more bytes, timingSafeEqual throws, and the answer is a 500 carrying
  // Node's error text instead of a 401. Drop `.fails` once it answers 401.
  it('answers only to its own names: another Host (DNS rebinding) is a 421, even with the token', async () => {
    const ask = (hostHeader: string, route = '/api/projects.list'): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: host.port,
            path: route,
            method: route.startsWith('/api/') && route !== '/api/health' ? 'POST' : 'GET',
            headers: { host: hostHeader, 'x-onbrand-token': host.token, 'content-type': 'application/json' },
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end(route.startsWith('/api/') && route !== '/api/health' ? '{}' : undefined);
      });
    expect((await ask(`evil.example:${host.port}`)).status).toBe(421);
    expect((await ask(`evil.example:${host.port}`, '/')).status).toBe(421);
    expect((await ask(`evil.example:${host.port}`, '/api/health')).status).toBe(421);
    expect((await ask('127.0.0.1:1')).status).toBe(421);
    const refused = await ask(`rebind.attacker.test:${host.port}`);
    expect(JSON.parse(refused.body)).toMatchObject({
      error: { message: expect.stringMatching(/answers only as 127\.0\.0\.1:\d+ or localhost:\d+/) },
    });
    expect((await ask(`127.0.0.1:${host.port}`)).status).toBe(200);
    expect((await ask(`localhost:${host.port}`)).status).toBe(200);
    expect((await ask(`LOCALHOST:${host.port}`)).status).toBe(200);
  });

  it('a token of the right length in non-ASCII characters is a 401, not a 500', async () => {
    const res = await fetch(mediaUrl(path.join(root, 'x.png'), 'é'.repeat(host.token.length)));
    expect(res.status).toBe(401);
  });
});

describe('/media', () => {
  let project: Project;
  let image: string;
  let bytes: Buffer;

  beforeEach(async () => {
    project = services.projects.create({ name: 'Media' });
    image = path.join(project.folder, 'imports', 'a.png');
    bytes = await png(image);
  });

  it('serves an image inside a project with the token', async () => {
    const res = await fetch(mediaUrl(image));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('offers the file as a download with download=1 (the browser stand-in for dragging out)', async () => {
    const plain = await fetch(mediaUrl(image));
    expect(plain.headers.get('content-disposition')).toBeNull();
    const res = await fetch(`${mediaUrl(image)}&download=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''a.png");
  });

  it('serves an imported image and its thumbnail', async () => {
    const source = path.join(root, 'incoming', 'b.png');
    await png(source, { r: 1, g: 200, b: 3 });
    const report = await services.importer.import(project.id, [source]);
    const imported = report.imported[0]!;
    const full = await fetch(mediaUrl(imported.path));
    expect(full.status).toBe(200);
    const thumb = await fetch(mediaUrl(imported.thumbPath!));
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    expect((await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).format).toBe('webp');
  });

  it('lets the browser keep thumbnails for good, and ask again for originals (304 while unchanged)', async () => {
    const source = path.join(root, 'incoming', 'c.png');
    await png(source, { r: 9, g: 99, b: 199 });
    const imported = (await services.importer.import(project.id, [source])).imported[0]!;
    const thumb = await fetch(mediaUrl(imported.thumbPath!));
    expect(thumb.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');

    const original = await fetch(mediaUrl(image));
    expect(original.headers.get('cache-control')).toBe('private, no-cache');
    const etag = original.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"/);
    const again = await fetch(mediaUrl(image), { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
    // Edited on disk: a new version, sent in full.
    await png(image, { r: 1, g: 2, b: 3 });
    fs.utimesSync(image, new Date(), new Date(Date.now() + 5000));
    const edited = await fetch(mediaUrl(image), { headers: { 'if-none-match': etag } });
    expect(edited.status).toBe(200);
    expect(edited.headers.get('etag')).not.toBe(etag);
  });

  it('keeps connections alive between requests, and the hashed bundles cached', async () => {
    fs.mkdirSync(path.join(rendererDir, 'assets'));
    fs.writeFileSync(path.join(rendererDir, 'assets', 'index-abc123.js'), 'export {};\n');
    // The UI's files are routed when the host starts: one started after the bundle was built.
    const withBundle = await startHost({ services, port: 0, rendererDir });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (url: string): Promise<http.IncomingMessage> =>
      new Promise((resolve, reject) => {
        http
          .get(url, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res));
          })
          .on('error', reject);
      });
    try {
      const first = await get(mediaUrl(image).replace(base, `http://127.0.0.1:${withBundle.port}`).replace(host.token, withBundle.token));
      const second = await get(`http://127.0.0.1:${withBundle.port}/assets/index-abc123.js`);
      expect(first.statusCode).toBe(200);
      expect(second.statusCode).toBe(200);
      expect(first.headers.connection).toBe('keep-alive');
      expect(first.headers['keep-alive']).toMatch(/timeout=\d+/);
      // One socket for both: the second request reused the first's connection.
      expect(second.socket).toBe(first.socket);
      expect(second.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    } finally {
      agent.destroy();
      await withBundle.close();
    }
  });

  it('refuses without a token (401) or with a wrong one (401)', async () => {
    const none = await fetch(mediaUrl(image, null));
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect((await fetch(mediaUrl(image, 'wrong'))).status).toBe(401);
    // The header form of the token is not enough for /media: <img src> can only carry the query.
    expect((await fetch(mediaUrl(image, null), { headers: { 'x-onbrand-token': host.token } })).status).toBe(401);
  });

  it('refuses a path outside the project folders with 403, and never sends its bytes', async () => {
    const secret = path.join(root, 'private', 'secret.png');
    await png(secret, { r: 0, g: 0, b: 0 });
    for (const requested of [secret, `${project.folder}${path.sep}..${path.sep}..${path.sep}private${path.sep}secret.png`]) {
      const res = await fetch(mediaUrl(requested));
      expect(res.status, requested).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
    const catalogue = await fetch(mediaUrl(services.catalogPath));
    expect(catalogue.status).toBe(403);
  });

  it('answers 404 for a missing image and 400 for a relative or missing path', async () => {
    expect((await fetch(mediaUrl(path.join(project.folder, 'nope.png')))).status).toBe(404);
    expect((await fetch(mediaUrl('imports/a.png'))).status).toBe(400);
    expect((await fetch(`${base}/media?token=${host.token}`)).status).toBe(400);
  });
});

describe('the UI files', () => {
  it('serves index.html with a strict Content-Security-Policy', async () => {
    for (const url of [`${base}/`, `${base}/index.html`]) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(await res.text()).toBe(INDEX_HTML);
      const csp = res.headers.get('content-security-policy');
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('sends the security headers on API answers and errors too', async () => {
    for (const res of [await fetch(`${base}/api/health`), await call('projects.list', {}, {}), await fetch(`${base}/no-such-file.js`)]) {
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
  });

  it('does not serve files from beside the UI folder', async () => {
    fs.writeFileSync(path.join(root, 'secret.txt'), 'do not serve');
    // Raw request paths: fetch would normalise the dots away before sending.
    for (const p of ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt']) {
      const { status, body } = await rawGet(p);
      expect(body, p).not.toContain('do not serve');
      expect(status, p).toBeGreaterThanOrEqual(400);
    }
  });

  it('says the UI is not built when the folder has no index.html', async () => {
    const empty = path.join(root, 'empty-renderer');
    fs.mkdirSync(empty);
    const bare = await startHost({ services, port: 0, rendererDir: empty });
    try {
      const res = await fetch(`http://127.0.0.1:${bare.port}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build');
    } finally {
      await bare.close();
    }
  });
});

describe('the WebSocket of events', () => {
  it('refuses a connection without the token, with a wrong token, or on another path', async () => {
    expect(await refusal(eventsUrl())).toBe(401);
    expect(await refusal(eventsUrl('wrong'))).toBe(401);
    expect(await refusal(eventsUrl(host.token.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a'))))).toBe(401);
    expect(await refusal(`ws://127.0.0.1:${host.port}/api/other?token=${host.token}`)).toBe(401);
  });

  it('refuses a page from another origin even with the token', async () => {
    expect(await refusal(eventsUrl(host.token), { Origin: 'http://evil.example' })).toBe(401);
    // Same origin by the page's own (rebound) name: refused by the Host check.
    expect(await refusal(eventsUrl(host.token), { Origin: `http://evil.example:${host.port}`, Host: `evil.example:${host.port}` })).toBe(
      401,
    );
    expect(await refusal(eventsUrl(host.token), { Origin: `http://127.0.0.1:${host.port + 1}` })).toBe(401);
  });

  it('with the token: says hello, then pushes projects.changed after projects.create', async () => {
    const client = await connect(eventsUrl(host.token));
    expect(await client.waitFor((m) => m.type === 'hello')).toEqual({ type: 'hello' });
    expect(client.messages[0]).toEqual({ type: 'hello' });

    const res = await call('projects.create', { name: 'Live' });
    const { result } = (await res.json()) as { result: Project };
    const event = await client.waitFor((m) => m.type === 'projects.changed');
    expect(event).toEqual({ type: 'projects.changed', payload: { projectId: result.id } });
  });

  it('accepts a page from its own origin, and sends every client the same events', async () => {
    const a = await connect(eventsUrl(host.token), { Origin: `http://127.0.0.1:${host.port}` });
    const b = await connect(eventsUrl(host.token));
    await a.waitFor((m) => m.type === 'hello');
    await b.waitFor((m) => m.type === 'hello');
    const created = services.projects.create({ name: 'Both' });
    for (const client of [a, b]) {
      expect(await client.waitFor((m) => m.type === 'projects.changed')).toEqual({
        type: 'projects.changed',
        payload: { projectId: created.id },
      });
    }
  });

  it('closes the sockets when the host closes', async () => {
    const client = await connect(eventsUrl(host.token));
    const closed = new Promise<void>((resolve) => client.ws.once('close', () => resolve()));
    await host.close();
    await closed;
    expect(client.ws.readyState).toBe(WebSocket.CLOSED);
    // afterEach closes again: closing twice must be harmless.
  });

  // Known bugs (reported, not fixed here). Each throws inside the server's 'upgrade' listener, an
  // uncaught exception that ends the whole host process (and, here, would fail the test run), so
  // they are skipped until fixed. Any web page the user visits can send either request.
  //  1. `?token=` + 'é' × 48: tokenOk's timingSafeEqual throws on the byte-length mismatch.
  //  2. `Origin: null` (sandboxed iframes, file:// pages): `new URL('null')` throws.
  it('a non-ASCII token of the right length is refused with 401 and the host keeps running', async () => {
    expect(await refusal(eventsUrl('é'.repeat(host.token.length)))).toBe(401);
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
  });

  it('an Origin of "null" is refused with 401 and the host keeps running', async () => {
    expect(await refusal(eventsUrl(host.token), { Origin: 'null' })).toBe(401);
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
  });
});
