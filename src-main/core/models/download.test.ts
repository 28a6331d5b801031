/**
 * Downloads against the local Hub imitation (real HTTP on 127.0.0.1, real files in a temp
 * folder): a whole revision with verification, the CDN redirect without the token, a process
 * killed midway that resumes with Range, dropped and stalled connections, 5xx/429 retries, a
 * corrupted body, a full disk (before and while writing), cancel and resume, and a file that
 * changed on the server.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DOWNLOAD_MARKER,
  downloadFile,
  downloadFiles,
  installAtomically,
  readDownloadMarker,
  type DownloadOptions,
  type DownloadProgress,
  type FileToDownload,
  type PartWriter,
} from './download.js';
import { formatBytes } from '../common/index.js';
import { DownloadError, fetchRevision, resolveUrl } from './hub.js';
import { startHubImitation, type HubImitation, type LoggedRequest } from './testing/hub-imitation.js';

const REPO = 'onbrand/tiny';
const INDEX = JSON.stringify({ _class_name: 'StableDiffusionPipeline', _diffusers_version: '0.30.0' });
const UNET = crypto.randomBytes(1 << 20);
const TEXT = crypto.randomBytes(300_000);
const GATED = crypto.randomBytes(50_000);

let hub: HubImitation;
let work: string;
let options: DownloadOptions;

beforeEach(async () => {
  hub = await startHubImitation({
    repos: {
      [REPO]: { revisions: { main: { 'model_index.json': INDEX, 'unet/model.onnx': UNET, 'text_encoder/model.onnx': TEXT } } },
      'onbrand/gated': { gated: true, revisions: { main: { 'model.safetensors': GATED, 'README.md': '# gated' } } },
    },
    tokens: { hf_good: ['onbrand/gated'] },
  });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-download-'));
  options = { endpoint: hub.url, env: {}, retry: { tries: 4, baseDelayMs: 1 }, progressIntervalMs: 0, diskMarginBytes: 0 };
});

afterEach(async () => {
  await hub.close();
  fs.rmSync(work, { recursive: true, force: true });
});

/** The requests that asked for the bytes of `file` (the CDN for LFS files, /resolve/ for small ones), not the redirects. */
function byteRequests(file: string): LoggedRequest[] {
  return hub.requests.filter(
    (r) =>
      r.status !== 302 &&
      (r.url.includes(`file=${encodeURIComponent(file)}&`) || (r.url.includes('/resolve/') && r.url.endsWith(`/${file}`))),
  );
}

/** One file of the imitation's `main`, as downloadFile takes it. */
async function remote(file: string, revision = 'main'): Promise<FileToDownload> {
  const info = await fetchRevision(REPO, revision, options);
  const entry = info.files.find((f) => f.path === file)!;
  return { ...entry, url: resolveUrl(hub.url, REPO, revision, file), repo: REPO, revision };
}

async function failure(promise: Promise<unknown>): Promise<DownloadError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DownloadError);
  return error as DownloadError;
}

/** Cancels once `file` has at least `bytes` on disk. */
function cancelAfter(bytes: number): { signal: AbortSignal; onProgress: (p: DownloadProgress) => void } {
  const controller = new AbortController();
  return { signal: controller.signal, onProgress: (p) => p.bytesDone >= bytes && controller.abort() };
}

describe('downloadFiles', () => {
  it('fetches a revision into staging, verifies every file, marks it complete; install refuses to overwrite', async () => {
    const staging = path.join(work, 'staging');
    const seen: DownloadProgress[] = [];
    const set = await downloadFiles({ repo: REPO, staging }, { ...options, onProgress: (p) => seen.push(p) });

    expect(set.commit).toBe(hub.commitOf(REPO, 'main'));
    expect(set.bytes).toBe(INDEX.length + UNET.length + TEXT.length);
    expect(fs.readFileSync(path.join(staging, 'model_index.json'), 'utf8')).toBe(INDEX);
    expect(fs.readFileSync(path.join(staging, 'unet', 'model.onnx')).equals(UNET)).toBe(true);
    expect(fs.readFileSync(path.join(staging, 'text_encoder', 'model.onnx')).equals(TEXT)).toBe(true);
    expect(fs.readdirSync(staging).sort()).toEqual([DOWNLOAD_MARKER, 'model_index.json', 'text_encoder', 'unet']);
    expect((await readDownloadMarker(staging))?.commit).toBe(set.commit);

    // Every file came from the commit the revision resolved to; LFS files through the CDN host.
    const resolves = hub.requests.filter((r) => r.url.includes('/resolve/'));
    expect(resolves.every((r) => r.url.startsWith(`/${REPO}/resolve/${set.commit}/`))).toBe(true);
    expect(byteRequests('unet/model.onnx')).toMatchObject([{ server: 'cdn', status: 200, bytesSent: UNET.length }]);
    expect(byteRequests('model_index.json')).toMatchObject([{ server: 'hub', status: 200 }]);

    // Progress covers the whole set, never goes back, and ends with one `done`.
    const done = seen.map((p) => p.bytesDone);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(seen.at(-1)).toMatchObject({ status: 'done', bytesDone: set.bytes, bytesTotal: set.bytes, fraction: 1, etaSeconds: 0 });
    expect(seen.filter((p) => p.status === 'done')).toHaveLength(1);

    const model = path.join(work, 'models', 'tiny');
    await installAtomically(staging, model);
    expect(fs.existsSync(staging)).toBe(false);
    expect(fs.readFileSync(path.join(model, 'unet', 'model.onnx')).equals(UNET)).toBe(true);
    await downloadFiles({ repo: REPO, staging, files: ['model_index.json'] }, options);
    expect((await failure(installAtomically(staging, model))).reason).toBe('exists');
    expect(fs.existsSync(path.join(staging, 'model_index.json'))).toBe(true);
  });

  it('sends the token to the Hub and never to the CDN host it redirects to', async () => {
    const staging = path.join(work, 'gated');
    await downloadFiles({ repo: 'onbrand/gated', staging }, { ...options, token: 'hf_good' });
    expect(fs.readFileSync(path.join(staging, 'model.safetensors')).equals(GATED)).toBe(true);
    const cdn = hub.requests.filter((r) => r.server === 'cdn');
    const own = hub.requests.filter((r) => r.server === 'hub');
    expect(cdn.length).toBe(1);
    expect(cdn[0]!.headers.authorization).toBeUndefined();
    expect(own.length).toBe(3); // revision info, the redirect, README.md
    expect(own.every((r) => r.headers.authorization === 'Bearer hf_good')).toBe(true);
  });

  it('does not retry 401, 403 or 404, and names what failed and what to do', async () => {
    const staging = path.join(work, 's');
    const noToken = await failure(downloadFiles({ repo: 'onbrand/gated', staging }, options));
    expect(noToken.reason).toBe('auth');
    expect(noToken.message).toContain('set HF_TOKEN or add a token in Settings');

    const file: FileToDownload = {
      path: 'model.safetensors',
      size: GATED.length,
      blobId: '0'.repeat(40),
      url: resolveUrl(hub.url, 'onbrand/gated', 'main', 'model.safetensors'),
      repo: 'onbrand/gated',
      revision: 'main',
    };
    const refused = await failure(downloadFile(file, path.join(work, 'm.safetensors'), { ...options, env: { HF_TOKEN: 'hf_elsewhere' } }));
    expect(refused.reason).toBe('auth'); // an unknown token is refused outright
    expect(refused.message).toContain('token was refused for onbrand/gated@main:model.safetensors');
    const hubWithOther = await startHubImitation({
      repos: { 'onbrand/gated': { gated: true, revisions: { main: { 'a.bin': GATED } } } },
      tokens: { hf_other: [] },
    });
    try {
      const other = await failure(
        downloadFile(
          { ...file, url: resolveUrl(hubWithOther.url, 'onbrand/gated', 'main', 'a.bin'), path: 'a.bin' },
          path.join(work, 'a.bin'),
          { ...options, token: 'hf_other' },
        ),
      );
      expect(other.reason).toBe('forbidden');
      expect(other.status).toBe(403);
      expect(other.message).toContain('onbrand/gated@main:a.bin');
      expect(hubWithOther.requests).toHaveLength(1);
    } finally {
      await hubWithOther.close();
    }

    const missing = await failure(
      downloadFile(
        { ...(await remote('unet/model.onnx')), url: resolveUrl(hub.url, REPO, 'main', 'vae/model.onnx'), path: 'vae/model.onnx' },
        path.join(work, 'v'),
        options,
      ),
    );
    expect(missing.reason).toBe('not_found');
    expect(missing.message).toBe(`File "vae/model.onnx" does not exist in ${REPO} at revision main (HTTP 404).`);

    const unlisted = await failure(downloadFiles({ repo: REPO, staging, files: ['vae/model.onnx'] }, options));
    expect(unlisted.reason).toBe('not_found');
    expect(unlisted.message).toContain('"vae/model.onnx" does not exist');
    expect(byteRequests('vae/model.onnx')).toHaveLength(1);
  });

  it('fails a corrupted file: the part is deleted and nothing is marked complete', async () => {
    const staging = path.join(work, 'staging');
    hub.setFault({ file: 'unet/model.onnx', corrupt: true });
    const error = await failure(downloadFiles({ repo: REPO, staging }, options));
    expect(error.reason).toBe('hash_mismatch');
    const expected = crypto.createHash('sha256').update(UNET).digest('hex');
    expect(error.message).toContain(`${REPO}@main:unet/model.onnx failed verification: expected sha256 ${expected}, got `);
    expect(error.message).toContain('nothing was installed');
    expect(fs.readdirSync(path.join(staging, 'unet'))).toEqual([]);
    expect(await readDownloadMarker(staging)).toBeUndefined();

    // Small files are checked by their git blob id.
    hub.setFault({ file: 'model_index.json', corrupt: true });
    const small = await failure(downloadFile(await remote('model_index.json'), path.join(work, 'model_index.json'), options));
    expect(small.message).toContain('expected git blob id');
    expect(fs.readdirSync(work)).toEqual(['staging']);
  });

  it('refuses to start without room for what is left, naming need and free space', async () => {
    const error = await failure(
      downloadFiles({ repo: REPO, staging: path.join(work, 's') }, { ...options, freeSpace: () => 500_000, diskMarginBytes: 1_000_000 }),
    );
    expect(error.reason).toBe('disk_full');
    expect(error.message).toContain('needs 1.3 MB (plus 1.0 MB to spare) but only 500 KB is free');
    expect(hub.requests.map((r) => r.url)).toEqual([`/api/models/${REPO}/revision/main?blobs=true`]);
  });

  it('picks up where it stopped: finished files stay, the part resumes', async () => {
    const staging = path.join(work, 'staging');
    // The listing's order: model_index.json, unet/model.onnx, text_encoder/model.onnx.
    const cancelled = await failure(downloadFiles({ repo: REPO, staging }, { ...options, ...cancelAfter(INDEX.length + 100_000) }));
    expect(cancelled.reason).toBe('cancelled');
    const part = fs.statSync(path.join(staging, 'unet', 'model.onnx.part')).size;
    expect(part).toBeGreaterThan(0);
    hub.requests.length = 0;
    const seen: DownloadProgress[] = [];
    await downloadFiles({ repo: REPO, staging }, { ...options, onProgress: (p) => seen.push(p) });
    expect(seen[0]!.bytesDone).toBe(INDEX.length + part);
    expect(byteRequests('model_index.json')).toEqual([]);
    expect(byteRequests('unet/model.onnx')).toMatchObject([
      { status: 206, headers: { range: `bytes=${part}-` }, bytesSent: UNET.length - part },
    ]);
    expect(byteRequests('text_encoder/model.onnx')).toMatchObject([{ status: 200 }]);
    expect(fs.readFileSync(path.join(staging, 'unet', 'model.onnx')).equals(UNET)).toBe(true);
  });
});

describe('downloadFile', () => {
  it('resumes with Range after a process is killed midway, fetching only the rest', async () => {
    const child = await buildChild();
    const file = await remote('unet/model.onnx');
    const dest = path.join(work, 'unet.onnx');
    hub.setFault({ file: file.path, bytesPerSecond: 512 * 1024 });

    const proc = spawn(process.execPath, [child, JSON.stringify({ file, dest, options: { ...options, progressIntervalMs: 0 } })], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      proc.stdout.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        if (lines.some((l) => (JSON.parse(l) as DownloadProgress).bytesDone >= 100_000)) {
          proc.kill('SIGKILL');
          resolve();
        }
      });
      proc.once('exit', () => reject(new Error(`the child ended before it was killed: ${stderr}`)));
    });
    expect(await exited).toBe('SIGKILL');

    const part = fs.statSync(`${dest}.part`).size;
    expect(part).toBeGreaterThanOrEqual(100_000);
    expect(part).toBeLessThan(UNET.length);
    expect(JSON.parse(fs.readFileSync(`${dest}.part.json`, 'utf8'))).toMatchObject({
      size: UNET.length,
      sha256: file.sha256,
      etag: `"${file.sha256}"`,
    });

    hub.setFault(undefined);
    hub.requests.length = 0;
    await downloadFile(file, dest, options);
    expect(byteRequests(file.path)).toMatchObject([
      { status: 206, headers: { range: `bytes=${part}-`, 'if-range': `"${file.sha256}"` }, bytesSent: UNET.length - part },
    ]);
    expect(fs.readFileSync(dest).equals(UNET)).toBe(true);
    expect(fs.existsSync(`${dest}.part`) || fs.existsSync(`${dest}.part.json`)).toBe(false);
  });

  it('resumes a dropped connection with Range, and a stalled one after the idle timeout', async () => {
    const file = await remote('unet/model.onnx');
    const dest = path.join(work, 'unet.onnx');
    hub.setFault({ file: file.path, dropAfterBytes: 200_000, dropTimes: 2 });
    await downloadFile(file, dest, options);
    // Each retry asks for what is not on disk yet. (What Node had buffered but not handed over
    // when the connection broke is lost, so a part may hold a little less than was sent.)
    const [first, second, third] = byteRequests(file.path);
    expect([first?.status, second?.status, third?.status]).toEqual([200, 206, 206]);
    const startOf = (r: LoggedRequest): number => Number(/^bytes=(\d+)-$/.exec(String(r.headers.range))![1]);
    expect(startOf(second!)).toBeGreaterThan(0);
    expect(startOf(second!)).toBeLessThanOrEqual(200_000);
    expect(startOf(third!)).toBeGreaterThan(startOf(second!));
    expect(startOf(third!)).toBeLessThanOrEqual(startOf(second!) + 200_000);
    expect(third!.bytesSent).toBe(UNET.length - startOf(third!));
    expect(fs.readFileSync(dest).equals(UNET)).toBe(true);

    hub.requests.length = 0;
    hub.setFault({ file: 'text_encoder/model.onnx', stallAfterBytes: 100_000 });
    const text = await remote('text_encoder/model.onnx');
    await downloadFile(text, path.join(work, 'text.onnx'), { ...options, timeoutMs: 200 });
    expect(byteRequests(text.path).map((r) => r.headers.range)).toEqual([undefined, 'bytes=100000-']);
    expect(fs.readFileSync(path.join(work, 'text.onnx')).equals(TEXT)).toBe(true);
  });

  it('retries 500 and 429 (waiting for Retry-After), then gives up keeping the part', async () => {
    const file = await remote('text_encoder/model.onnx');
    hub.setFault({ file: file.path, status: 500, statusTimes: 2 });
    await downloadFile(file, path.join(work, 'a'), options);
    expect(byteRequests(file.path).map((r) => r.status)).toEqual([500, 500, 200]);

    hub.requests.length = 0;
    hub.setFault({ file: file.path, status: 429, retryAfter: 1 });
    const started = Date.now();
    await downloadFile(file, path.join(work, 'b'), options);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(byteRequests(file.path).map((r) => r.status)).toEqual([429, 200]);

    // The CDN refusing its signed link (expired) is not the user's token: ask the Hub again.
    hub.requests.length = 0;
    hub.setFault({ file: file.path, status: 403 });
    await downloadFile(file, path.join(work, 'b2'), options);
    expect(byteRequests(file.path).map((r) => [r.server, r.status])).toEqual([
      ['cdn', 403],
      ['cdn', 200],
    ]);
    expect(hub.requests.filter((r) => r.status === 302)).toHaveLength(2);

    const dest = path.join(work, 'c');
    await failure(downloadFile(file, dest, { ...options, ...cancelAfter(1000) }));
    const kept = fs.statSync(`${dest}.part`).size;
    hub.requests.length = 0;
    hub.setFault({ file: file.path, status: 503, statusTimes: 9 });
    const error = await failure(downloadFile(file, dest, { ...options, retry: { tries: 2, baseDelayMs: 1 } }));
    expect(error.reason).toBe('network');
    expect(error.message).toContain('HTTP 503');
    expect(error.message).toContain(`gave up after 2 tries; ${formatBytes(kept)} are kept to resume`);
    expect(byteRequests(file.path).map((r) => r.status)).toEqual([503, 503]);
    expect(fs.statSync(`${dest}.part`).size).toBe(kept);
  });

  it('keeps the part when the disk fills up while writing, and resumes from it', async () => {
    const file = await remote('unet/model.onnx');
    const dest = path.join(work, 'unet.onnx');
    let written = 0;
    const fullAt = 300_000;
    const openPart = async (name: string, truncate: boolean): Promise<PartWriter> => {
      const handle = await fs.promises.open(name, truncate ? 'w' : 'a');
      return {
        async write(chunk) {
          const room = fullAt - written;
          await handle.write(chunk.subarray(0, Math.max(0, Math.min(room, chunk.length))));
          written += Math.min(room, chunk.length);
          if (chunk.length > room) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        },
        close: () => handle.close(),
      };
    };
    const freeSpace = (): number => (written >= fullAt ? 0 : 1e12);
    const error = await failure(downloadFile(file, dest, { ...options, openPart, freeSpace }));
    expect(error.reason).toBe('disk_full');
    expect(error.message).toMatch(/needs \d+ KB more, 0 bytes free/);
    expect(error.message).toContain('the partial download is kept');
    expect(byteRequests(file.path)).toHaveLength(1);
    expect(fs.statSync(`${dest}.part`).size).toBe(fullAt);

    hub.requests.length = 0;
    await downloadFile(file, dest, options);
    expect(byteRequests(file.path)).toMatchObject([{ status: 206, headers: { range: `bytes=${fullAt}-` } }]);
    expect(fs.readFileSync(dest).equals(UNET)).toBe(true);
  });

  it('cancels keeping the part (or not, when asked), and resumes from it', async () => {
    const file = await remote('unet/model.onnx');
    const dest = path.join(work, 'unet.onnx');
    const error = await failure(downloadFile(file, dest, { ...options, ...cancelAfter(100_000) }));
    expect(error.reason).toBe('cancelled');
    expect(error.message).toMatch(/cancelled\. .* are kept to resume\.$/);
    const part = fs.statSync(`${dest}.part`).size;
    expect(part).toBeGreaterThanOrEqual(100_000);

    hub.requests.length = 0;
    await downloadFile(file, dest, options);
    expect(byteRequests(file.path)).toMatchObject([{ status: 206, headers: { range: `bytes=${part}-` } }]);
    expect(fs.readFileSync(dest).equals(UNET)).toBe(true);

    const other = path.join(work, 'discarded.onnx');
    await failure(downloadFile(file, other, { ...options, ...cancelAfter(100_000), discardOnCancel: true }));
    expect(fs.readdirSync(work)).toEqual(['unet.onnx']);

    const before = new AbortController();
    before.abort();
    expect((await failure(downloadFile(file, other, { ...options, signal: before.signal }))).reason).toBe('cancelled');
  });

  it('starts again from 0 when the file changed on the server (If-Range), or the revision now names another file', async () => {
    const old = await remote('unet/model.onnx');
    const dest = path.join(work, 'unet.onnx');
    await failure(downloadFile(old, dest, { ...options, ...cancelAfter(100_000) }));
    const changed = Buffer.from(UNET);
    changed.fill(1, 0, 10);
    hub.setFile(REPO, 'main', 'unet/model.onnx', changed);

    // Same expectation, but the server's ETag moved: the whole file comes back, and fails the old hash.
    hub.requests.length = 0;
    const error = await failure(downloadFile(old, dest, options));
    expect(byteRequests(old.path)).toMatchObject([{ status: 200, headers: { 'if-range': `"${old.sha256}"` }, bytesSent: UNET.length }]);
    expect(error.reason).toBe('hash_mismatch');
    expect(fs.existsSync(`${dest}.part`)).toBe(false);

    // With the new revision info the old part is dropped before any request.
    await failure(downloadFile(old, dest, { ...options, ...cancelAfter(100_000) }));
    hub.requests.length = 0;
    await downloadFile(await remote('unet/model.onnx'), dest, options);
    expect(byteRequests(old.path)).toMatchObject([{ status: 200, headers: {} }]);
    expect(byteRequests(old.path)[0]!.headers.range).toBeUndefined();
    expect(fs.readFileSync(dest).equals(changed)).toBe(true);
  });

  it('answers 416 for a part longer than the server file by starting again (then names the size change)', async () => {
    const file = await remote('text_encoder/model.onnx');
    hub.setFile(REPO, 'main', 'text_encoder/model.onnx', TEXT.subarray(0, 900));
    const dest = path.join(work, 'text.onnx');
    fs.writeFileSync(`${dest}.part`, TEXT.subarray(0, 2000));
    fs.writeFileSync(
      `${dest}.part.json`,
      JSON.stringify({ version: 1, url: file.url, size: file.size, sha256: file.sha256, blobId: file.blobId }),
    );
    const error = await failure(downloadFile(file, dest, options));
    expect(byteRequests(file.path).map((r) => [r.status, r.headers.range])).toEqual([
      [416, 'bytes=2000-'],
      [200, undefined],
    ]);
    expect(error.reason).toBe('hash_mismatch');
    expect(error.message).toContain('is 900 bytes on the server but the revision lists 300 KB');
  });

  it('only verifies a part that is already whole (killed before the rename)', async () => {
    const file = await remote('text_encoder/model.onnx');
    const dest = path.join(work, 'text.onnx');
    fs.writeFileSync(`${dest}.part`, TEXT);
    fs.writeFileSync(
      `${dest}.part.json`,
      JSON.stringify({ version: 1, url: file.url, size: file.size, sha256: file.sha256, blobId: file.blobId }),
    );
    hub.requests.length = 0;
    await downloadFile(file, dest, options);
    expect(hub.requests).toEqual([]);
    expect(fs.readFileSync(dest).equals(TEXT)).toBe(true);
  });

  it('reports a smoothed speed and an ETA', async () => {
    const file = await remote('text_encoder/model.onnx');
    hub.setFault({ file: file.path, bytesPerSecond: 600_000 });
    const seen: DownloadProgress[] = [];
    await downloadFile(file, path.join(work, 't'), { ...options, onProgress: (p) => seen.push(p) });
    const measured = seen.filter((p) => p.status === 'progress' && p.bytesPerSecond > 0);
    expect(measured.length).toBeGreaterThan(0);
    for (const p of measured) {
      expect(p.bytesPerSecond).toBeGreaterThan(10_000);
      expect(p.bytesPerSecond).toBeLessThan(3_000_000);
      expect(p.etaSeconds).toBeGreaterThanOrEqual(0);
    }
    expect(seen.filter((p) => p.bytesPerSecond === 0).every((p) => p.etaSeconds === null || p.status === 'done')).toBe(true);
  });
});

/**
 * The downloader as a stand-alone ES module for a child process: hub.ts, download.ts and the
 * util module they import through its face, transpiled (no type check) into a temp folder that
 * sees the app's node_modules, so the kill test needs no build.
 */
async function buildChild(): Promise<string> {
  const core = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const dir = fs.mkdtempSync(path.join(work, 'child-'));
  // The whole core, transpiled as it is: the child imports what hub.ts and download.ts import.
  const sources = (folder: string): string[] =>
    fs.readdirSync(path.join(core, folder), { withFileTypes: true }).flatMap((entry) => {
      const file = path.posix.join(folder, entry.name);
      if (entry.isDirectory()) return entry.name === 'testing' ? [] : sources(file);
      return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [file] : [];
    });
  for (const file of sources('.')) {
    const source = fs.readFileSync(path.join(core, file), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    });
    fs.mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file.replace(/\.ts$/, '.js')), outputText);
  }
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }');
  fs.symlinkSync(path.resolve(core, '../../node_modules'), path.join(dir, 'node_modules'), 'junction');
  const main = path.join(dir, 'child.js');
  fs.writeFileSync(
    main,
    [
      "import { downloadFile } from './models/download.js';",
      'const { file, dest, options } = JSON.parse(process.argv[2]);',
      'await downloadFile(file, dest, { ...options, onProgress: (p) => process.stdout.write(JSON.stringify(p) + "\\n") });',
    ].join('\n'),
  );
  return main;
}
