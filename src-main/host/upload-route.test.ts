import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Project, Reference, UploadResult } from '../core/api/index.js';
import { UPLOAD_CONTENT_TYPE } from '../core/common/index.js';
import { resolveConfig } from '../core/config.js';
import { createServices, type Services } from '../core/services.js';
import { startHost, type RunningHost } from './server.js';

let root: string;
let services: Services;
let host: RunningHost;
let project: Project;

const LIMITS = { fileBytes: 64 * 1024, requestBytes: 96 * 1024, files: 5 };

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-upload-'));
  const rendererDir = path.join(root, 'renderer');
  fs.mkdirSync(rendererDir);
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data'), projectsDir: path.join(root, 'projects') }));
  host = await startHost({ services, port: 0, rendererDir, uploadLimits: LIMITS });
  project = services.projects.create({ name: 'Drop' });
});

afterEach(async () => {
  try {
    await Promise.race([host.close(), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
  } finally {
    await services.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

async function png(colour: string, width = 40, height = 30): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } })
    .png()
    .toBuffer();
}

/** An upload body as the page builds it: the list of files, a newline, then the bytes. */
function body(files: { name: string; bytes: Buffer; size?: number }[]): Buffer {
  const manifest = JSON.stringify({ files: files.map((f) => ({ name: f.name, size: f.size ?? f.bytes.length })) });
  return Buffer.concat([Buffer.from(`${manifest}\n`), ...files.map((f) => f.bytes)]);
}

interface Answer {
  status: number;
  json: { result?: UploadResult; error?: { code: string; message: string; field?: string } };
}

/** Sends a body in small pieces (a stream, as a browser sends a large file). */
function upload(
  payload: Buffer,
  query: Record<string, string> = { projectId: String(project.id), kind: 'images' },
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: host.port,
        method: 'POST',
        path: `/api/upload?${new URLSearchParams(query)}`,
        headers: {
          'content-type': UPLOAD_CONTENT_TYPE,
          'content-length': String(payload.length),
          'x-onbrand-token': host.token,
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Answer['json'] }));
      },
    );
    req.on('error', reject);
    for (let at = 0; at < payload.length; at += 1000) req.write(payload.subarray(at, at + 1000));
    req.end();
  });
}

const stagingLeft = (): string[] => {
  const dir = path.join(root, 'data', 'uploads');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
};

describe('the upload route', () => {
  it('imports uploaded files like files named by path: checks, unique names, a report in the names sent', async () => {
    const teal = await png('#00E0FF');
    const magenta = await png('#FE2C54');
    // A file of the user's already in imports/ (not Onbrand's): never overwritten.
    const imports = path.join(project.folder, 'imports');
    fs.mkdirSync(imports, { recursive: true });
    fs.writeFileSync(path.join(imports, 'teal.png'), 'the user’s own file');

    const answer = await upload(
      body([
        { name: 'shoot/teal.png', bytes: teal },
        { name: 'shoot/magenta.png', bytes: magenta },
        { name: 'shoot/notes.png', bytes: Buffer.from('not an image at all') },
        { name: 'again.png', bytes: teal },
      ]),
    );
    expect(answer.status).toBe(200);
    const result = answer.json.result!;
    expect(result.kind).toBe('images');
    if (result.kind !== 'images') return;
    expect(result.report.imported.map((i) => i.fileName)).toEqual(['teal_2.png', 'magenta.png']);
    expect(result.report.skipped).toEqual([
      { path: 'shoot/notes.png', reason: 'not_an_image', message: 'notes.png is not an image (PNG, JPEG or WebP)' },
    ]);
    expect(result.report.duplicates.map((d) => [d.path, d.reason])).toEqual([['again.png', 'duplicate']]);
    expect(fs.readFileSync(path.join(imports, 'teal.png'), 'utf8')).toBe('the user’s own file');
    expect(fs.readFileSync(path.join(imports, 'teal_2.png')).equals(teal)).toBe(true);
    // Nothing half-written or temporary is left beside the images, and the staging folder is gone.
    expect(fs.readdirSync(imports).sort()).toEqual(['magenta.png', 'teal.png', 'teal_2.png']);
    expect(stagingLeft()).toEqual([]);
    expect(services.images.list(project.id)).toHaveLength(2);
    const row = services.db.prepare('SELECT source_path FROM images WHERE path = ?').get(path.join('imports', 'magenta.png')) as {
      source_path: string;
    };
    expect(row.source_path).toBe('upload:shoot/magenta.png');
  });

  it('puts references on the mood board, named as sent', async () => {
    const answer = await upload(
      body([
        { name: 'board/neon.png', bytes: await png('#FE2C54') },
        { name: 'board/broken.jpg', bytes: (await png('#00E0FF')).subarray(0, 10) },
      ]),
      { projectId: String(project.id), kind: 'references' },
    );
    expect(answer.status).toBe(200);
    const result = answer.json.result!;
    if (result.kind !== 'references') throw new Error('expected references');
    expect(result.report.added.map((r: Reference) => r.fileName)).toEqual(['neon.png']);
    expect(result.report.skipped.map((s) => s.item)).toEqual(['board/broken.jpg']);
    expect(services.refs.list(project.id)).toHaveLength(1);
    expect(stagingLeft()).toEqual([]);
  });

  it('refuses a file over the per-file limit and a request over the per-request limit, naming them, before writing', async () => {
    const big = Buffer.alloc(LIMITS.fileBytes + 1, 1);
    const tooBig = await upload(body([{ name: 'huge-poster.png', bytes: big }]));
    expect(tooBig.status).toBe(400);
    expect(tooBig.json.error!.message).toBe('huge-poster.png is 65 KB, over the 64 KB limit for one file.');

    const half = Buffer.alloc(50 * 1024, 1);
    const together = await upload(
      body([
        { name: 'a.png', bytes: half },
        { name: 'b.png', bytes: half },
      ]),
    );
    expect(together.status).toBe(400);
    expect(together.json.error!.message).toMatch(/^These 2 files are 100 KB together, over the 96 KB limit for one upload/);

    const many = await upload(body(Array.from({ length: 6 }, (_, i) => ({ name: `${i}.png`, bytes: Buffer.from('x') }))));
    expect(many.status).toBe(400);
    expect(many.json.error!.message).toMatch(/must list at most|over the limit of 5/);
    expect(services.images.list(project.id)).toHaveLength(0);
    expect(stagingLeft()).toEqual([]);
  });

  it('imports nothing from a body shorter or longer than its list of files', async () => {
    const teal = await png('#00E0FF');
    const short = await upload(body([{ name: 'teal.png', bytes: teal, size: teal.length + 10 }]));
    expect(short.status).toBe(400);
    expect(short.json.error!.message).toMatch(/adds up to/);
    const garbage = await upload(Buffer.from('this is not a list of files'));
    expect(garbage.status).toBe(400);
    expect(garbage.json.error!.message).toMatch(/does not start with its list of files/);
    expect(services.images.list(project.id)).toHaveLength(0);
    expect(fs.existsSync(path.join(project.folder, 'imports'))).toBe(false);
    expect(stagingLeft()).toEqual([]);
  });

  it('keeps the host’s protections: token in the header, same origin, its content type, a valid query', async () => {
    const payload = body([{ name: 'teal.png', bytes: await png('#00E0FF') }]);
    expect((await upload(payload, undefined, { 'x-onbrand-token': 'wrong' })).status).toBe(401);
    // The token in the query (as the media route takes it) is not enough here.
    const { status } = await upload(
      payload,
      { projectId: String(project.id), kind: 'images', token: host.token },
      { 'x-onbrand-token': '' },
    );
    expect(status).toBe(401);
    expect((await upload(payload, undefined, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await upload(payload, undefined, { 'content-type': 'text/plain' })).status).toBe(415);
    const kind = await upload(payload, { projectId: String(project.id), kind: 'videos' });
    expect(kind.status).toBe(400);
    expect(kind.json.error).toMatchObject({ code: 'invalid_input', field: 'kind' });
    const badId = await upload(payload, { projectId: '../../etc', kind: 'images' });
    expect(badId.json.error).toMatchObject({ code: 'invalid_input', field: 'projectId' });
    const missing = await upload(payload, { projectId: '9999', kind: 'images' });
    expect(missing.status).toBe(404);
    const extra = await upload(payload, { projectId: String(project.id), kind: 'images', folder: '/etc' });
    expect(extra.json.error).toMatchObject({ code: 'invalid_input' });
    expect(services.images.list(project.id)).toHaveLength(0);
    // A file name cannot leave the staging folder or the project's imports/.
    const sneaky = await upload(body([{ name: '../../../../escape.png', bytes: await png('#123456') }]));
    expect(sneaky.json.result?.kind).toBe('images');
    expect(services.images.list(project.id).map((i) => i.fileName)).toEqual(['escape.png']);
    expect(fs.existsSync(path.join(project.folder, 'imports', 'escape.png'))).toBe(true);
  });

  it('leaves nothing when the browser stops sending midway', async () => {
    const teal = await png('#00E0FF');
    const payload = body([
      { name: 'teal.png', bytes: teal },
      { name: 'big.png', bytes: Buffer.alloc(30 * 1024, 7) },
    ]);
    await new Promise<void>((resolve) => {
      const req = http.request({
        host: '127.0.0.1',
        port: host.port,
        method: 'POST',
        path: `/api/upload?projectId=${project.id}&kind=images`,
        headers: { 'content-type': UPLOAD_CONTENT_TYPE, 'content-length': String(payload.length), 'x-onbrand-token': host.token },
      });
      req.on('error', () => resolve());
      req.write(payload.subarray(0, payload.length - 5000), () => setTimeout(() => (req.destroy(), resolve()), 100));
    });
    await expect.poll(stagingLeft, { timeout: 5000 }).toEqual([]);
    expect(services.images.list(project.id)).toHaveLength(0);
  });
});
