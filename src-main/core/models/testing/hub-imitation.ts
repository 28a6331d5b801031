/**
 * A local imitation of the Hugging Face Hub's HTTP API, for tests and end-to-end runs: real
 * sockets on 127.0.0.1, the real routes, headers and JSON shapes, and knobs to make it misbehave.
 *
 *   GET /api/models/{repo}/revision/{rev}?blobs=true  → { id, sha, siblings: [{ rfilename, size, blobId, lfs? }] }
 *   GET /{repo}/resolve/{rev}/{path}                   → small files 200; LFS files 302 → {cdn}/cdn/{sha256}
 *   GET {cdn}/cdn/{sha256}                             → the bytes (a second server by default: another origin)
 *
 * Like the real Hub: ETag / X-Linked-Etag / X-Linked-Size / X-Repo-Commit headers, Range and
 * If-Range, 416, gated repos (401 without a token, 403 with one that has no access), and an
 * anonymous request for an unknown repo answered 401 RepoNotFound (404 with a token).
 * Faults (`setFault`): answer 500/429 n times, drop the connection after n bytes (once or
 * always), stall after n bytes, corrupt a body, throttle to n bytes/s. Every request is logged in `requests`.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Files at one revision: repo path → content. */
export type ImitationFiles = Record<string, Buffer | string>;

export interface ImitationRepo {
  /** Branch or tag name → its files. Each gets a commit sha, which serves the same files. */
  revisions: Record<string, ImitationFiles>;
  /** Needs a token that `tokens` lets read this repo. */
  gated?: boolean;
  /** The model card's licence (`cardData.license`, and a `license:` tag, as the Hub lists them). */
  licence?: string;
}

export interface HubImitationOptions {
  repos: Record<string, ImitationRepo>;
  /** Valid tokens → the gated repos each may read. */
  tokens?: Record<string, string[]>;
  /** Serve LFS bytes from a second server (another port, so another origin). Default true. */
  separateCdn?: boolean;
  /** Files this big or bigger are LFS files (the real Hub: 10 MB, or by pattern). Default 1024. */
  lfsThreshold?: number;
}

/** Ways to misbehave; each counter runs down as it fires. */
export interface HubFault {
  /** Only requests for this repo path (all files when absent). */
  file?: string;
  /** Answer this status (500, 502, 503, 429…) `statusTimes` times (default 1), before any bytes. */
  status?: number;
  statusTimes?: number;
  /** Retry-After header (seconds) sent with `status`. */
  retryAfter?: number;
  /** Answer the revision API with `status` instead of file requests. */
  onApi?: boolean;
  /** Close the connection after this many body bytes, `dropTimes` times (default 1; Infinity = always). */
  dropAfterBytes?: number;
  dropTimes?: number;
  /** Send this many body bytes, then nothing more (the connection stays open), `stallTimes` times (default 1). */
  stallAfterBytes?: number;
  stallTimes?: number;
  /** Flip bytes in the middle of the body (headers and length stay right). */
  corrupt?: boolean;
  /** Send the body at this many bytes per second. */
  bytesPerSecond?: number;
}

/** One request as the imitation saw it. */
export interface LoggedRequest {
  server: 'hub' | 'cdn';
  method: string;
  /** Path and query. */
  url: string;
  /** Lower-case header names, as Node gives them. */
  headers: http.IncomingHttpHeaders;
  status: number;
  /** Body bytes written so far (grows while the body is being sent). */
  bytesSent: number;
}

export interface HubImitation {
  /** The Hub's base URL (the `endpoint`). */
  url: string;
  /** The CDN's base URL (the same as `url` when `separateCdn` is false). */
  cdnUrl: string;
  requests: LoggedRequest[];
  setFault(fault: HubFault | undefined): void;
  /** Commits a new content for `path` on `branch`: the branch gets a new commit sha, the old one still serves the old file. */
  setFile(repo: string, branch: string, path: string, content: Buffer | string): void;
  /** The commit sha a branch points at now. */
  commitOf(repo: string, branch: string): string;
  close(): Promise<void>;
}

interface Blob {
  content: Buffer;
  sha256: string;
  blobId: string;
  lfs: boolean;
}

interface Revision {
  sha: string;
  files: Map<string, Blob>;
}

/** The git blob id of `content`: sha1("blob <size>\0" + content). */
export function gitBlobId(content: Buffer): string {
  return crypto.createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export function sha256Of(content: Buffer): string {
  return crypto.createHash('sha256').update(content).digest('hex');
}

/** Starts the Hub (and its CDN) on 127.0.0.1 with free ports. */
export async function startHubImitation(options: HubImitationOptions): Promise<HubImitation> {
  const lfsThreshold = options.lfsThreshold ?? 1024;
  const tokens = options.tokens ?? {};
  const blobs = new Map<string, Blob>(); // by sha256, what the CDN serves
  const repos = new Map<string, { gated: boolean; licence?: string; refs: Map<string, Revision> }>();
  const requests: LoggedRequest[] = [];
  let fault: HubFault | undefined;

  const makeBlob = (data: Buffer | string): Blob => {
    const content = Buffer.isBuffer(data) ? data : Buffer.from(data);
    const blob = { content, sha256: sha256Of(content), blobId: gitBlobId(content), lfs: content.length >= lfsThreshold };
    blobs.set(blob.sha256, blob);
    return blob;
  };
  const makeRevision = (files: Map<string, Blob>): Revision => {
    const listing = [...files].sort(([a], [b]) => a.localeCompare(b)).map(([p, b]) => `${p}\0${b.blobId}`);
    return { sha: crypto.createHash('sha1').update(listing.join('\n')).update(crypto.randomBytes(8)).digest('hex'), files };
  };
  for (const [name, repo] of Object.entries(options.repos)) {
    const refs = new Map<string, Revision>();
    for (const [branch, files] of Object.entries(repo.revisions)) {
      const revision = makeRevision(new Map(Object.entries(files).map(([p, c]) => [p, makeBlob(c)])));
      refs.set(branch, revision);
      refs.set(revision.sha, revision);
    }
    repos.set(name, { gated: repo.gated ?? false, ...(repo.licence ? { licence: repo.licence } : {}), refs });
  }

  const hub = http.createServer((req, res) => handleHub(req, res));
  const separate = options.separateCdn ?? true;
  const cdn = separate ? http.createServer((req, res) => handleCdn(req, res, 'cdn')) : hub;
  await listen(hub);
  if (separate) await listen(cdn);
  const url = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
  const cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;

  function log(req: http.IncomingMessage, server: 'hub' | 'cdn'): LoggedRequest {
    const entry: LoggedRequest = {
      server,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      status: 0,
      bytesSent: 0,
    };
    requests.push(entry);
    return entry;
  }

  function sendError(res: http.ServerResponse, entry: LoggedRequest, status: number, errorCode: string | undefined, message: string): void {
    entry.status = status;
    const body = JSON.stringify({ error: message });
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    if (errorCode) headers['x-error-code'] = errorCode;
    res.writeHead(status, headers).end(body);
  }

  /** Checks the token; answers and returns false when the repo is unknown or closed to the caller. */
  function admit(req: http.IncomingMessage, res: http.ServerResponse, entry: LoggedRequest, name: string): boolean {
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    if (token !== undefined && !(token in tokens)) {
      sendError(res, entry, 401, undefined, 'Invalid credentials in Authorization header');
      return false;
    }
    const repo = repos.get(name);
    if (!repo) {
      if (token === undefined) sendError(res, entry, 401, 'RepoNotFound', 'Repository not found');
      else sendError(res, entry, 404, 'RepoNotFound', 'Repository not found');
      return false;
    }
    if (repo.gated && token === undefined) {
      sendError(
        res,
        entry,
        401,
        'GatedRepo',
        `Access to model ${name} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
      );
      return false;
    }
    if (repo.gated && !(tokens[token!] ?? []).includes(name)) {
      sendError(
        res,
        entry,
        403,
        'GatedRepo',
        `Access to model ${name} is restricted and you are not in the authorized list. Visit https://huggingface.co/${name} to ask for access.`,
      );
      return false;
    }
    return true;
  }

  /** Answers the fault's status when it applies; true when it did. */
  function statusFault(res: http.ServerResponse, entry: LoggedRequest, onApi: boolean, path: string | undefined): boolean {
    const f = fault;
    if (!f?.status || (f.statusTimes ?? 1) <= 0 || (f.onApi ?? false) !== onApi) return false;
    if (!onApi && f.file !== undefined && f.file !== path) return false;
    f.statusTimes = (f.statusTimes ?? 1) - 1;
    entry.status = f.status;
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain' };
    if (f.retryAfter !== undefined) headers['retry-after'] = String(f.retryAfter);
    res.writeHead(f.status, headers).end(f.status === 429 ? 'Too Many Requests' : 'Internal Error');
    return true;
  }

  function handleHub(req: http.IncomingMessage, res: http.ServerResponse): void {
    const entry = log(req, 'hub');
    const target = new URL(req.url ?? '/', url);
    const pathname = target.pathname;
    if (pathname.startsWith('/cdn/') && !separate) return void handleCdn(req, res, 'hub', entry);

    const api = /^\/api\/models\/(.+?)\/revision\/([^/]+)$/.exec(pathname);
    if (api) {
      const name = api[1]!;
      const rev = decodeURIComponent(api[2]!);
      if (statusFault(res, entry, true, undefined) || !admit(req, res, entry, name)) return;
      const revision = repos.get(name)!.refs.get(rev);
      if (!revision) return sendError(res, entry, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      const blobsWanted = target.searchParams.get('blobs') === 'true';
      const siblings = [...revision.files].map(([rfilename, b]) =>
        blobsWanted
          ? {
              rfilename,
              size: b.content.length,
              blobId: b.blobId,
              ...(b.lfs ? { lfs: { sha256: b.sha256, size: b.content.length, pointerSize: 134 } } : {}),
            }
          : { rfilename },
      );
      const licence = repos.get(name)!.licence;
      const card = licence ? { cardData: { license: licence }, tags: ['diffusers', `license:${licence}`] } : {};
      const body = JSON.stringify({
        _id: name,
        id: name,
        modelId: name,
        sha: revision.sha,
        private: false,
        gated: repos.get(name)!.gated ? 'manual' : false,
        ...card,
        siblings,
      });
      entry.status = 200;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      return;
    }

    const resolve = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(pathname);
    if (resolve) {
      const name = resolve[1]!;
      const rev = decodeURIComponent(resolve[2]!);
      const path = resolve[3]!.split('/').map(decodeURIComponent).join('/');
      if (!admit(req, res, entry, name)) return;
      const revision = repos.get(name)!.refs.get(rev);
      if (!revision) return sendError(res, entry, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      const blob = revision.files.get(path);
      if (!blob) return sendError(res, entry, 404, 'EntryNotFound', `${path} does not exist on "${rev}"`);
      const linked = { 'x-repo-commit': revision.sha, 'x-linked-size': String(blob.content.length) };
      if (blob.lfs) {
        entry.status = 302;
        const location = `${cdnUrl}/cdn/${blob.sha256}?repo=${encodeURIComponent(name)}&file=${encodeURIComponent(path)}&sig=${crypto.randomBytes(6).toString('hex')}`;
        res
          .writeHead(302, { location, 'x-linked-etag': `"${blob.sha256}"`, etag: `"${blob.blobId}"`, 'content-length': 0, ...linked })
          .end();
        return;
      }
      if (statusFault(res, entry, false, path)) return;
      sendBytes(req, res, entry, blob, path, `"${blob.blobId}"`, linked);
      return;
    }
    sendError(res, entry, 404, undefined, 'Not found');
  }

  function handleCdn(req: http.IncomingMessage, res: http.ServerResponse, server: 'hub' | 'cdn', loggedAs?: LoggedRequest): void {
    const entry = loggedAs ?? log(req, server);
    const target = new URL(req.url ?? '/', cdnUrl);
    const blob = blobs.get(target.pathname.slice('/cdn/'.length));
    if (!blob) {
      entry.status = 404;
      res.writeHead(404).end('NoSuchKey');
      return;
    }
    const path = target.searchParams.get('file') ?? undefined;
    if (statusFault(res, entry, false, path)) return;
    sendBytes(req, res, entry, blob, path, `"${blob.sha256}"`, {});
  }

  function sendBytes(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    entry: LoggedRequest,
    blob: Blob,
    path: string | undefined,
    etag: string,
    extra: http.OutgoingHttpHeaders,
  ): void {
    const size = blob.content.length;
    const headers: http.OutgoingHttpHeaders = { 'accept-ranges': 'bytes', etag, 'content-type': 'application/octet-stream', ...extra };
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    if (range && (ifRange === undefined || ifRange === etag)) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(end, Number(range[2]));
      if (start >= size || start > end) {
        entry.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${size}`, etag }).end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${size}`;
    }
    let body = blob.content.subarray(start, end + 1);
    const f = fault !== undefined && (fault.file === undefined || fault.file === path) ? fault : undefined;
    if (f?.corrupt && body.length > 0) {
      body = Buffer.from(body);
      const middle = Math.floor(body.length / 2);
      body[middle] = body[middle]! ^ 0xff;
    }
    let limit = body.length;
    let cut: 'drop' | 'stall' = 'drop';
    if (f?.dropAfterBytes !== undefined && (f.dropTimes ?? 1) > 0 && f.dropAfterBytes < body.length) {
      f.dropTimes = (f.dropTimes ?? 1) - 1;
      limit = f.dropAfterBytes;
    } else if (f?.stallAfterBytes !== undefined && (f.stallTimes ?? 1) > 0 && f.stallAfterBytes < body.length) {
      f.stallTimes = (f.stallTimes ?? 1) - 1;
      limit = f.stallAfterBytes;
      cut = 'stall';
    }
    headers['content-length'] = body.length;
    entry.status = status;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return void res.end();
    res.on('error', () => {}); // a client that goes away mid-body is part of the game
    void writeBody(res, entry, body, limit, cut, f?.bytesPerSecond);
  }

  async function writeBody(
    res: http.ServerResponse,
    entry: LoggedRequest,
    body: Buffer,
    limit: number,
    cut: 'drop' | 'stall',
    bytesPerSecond: number | undefined,
  ): Promise<void> {
    const tickMs = 20;
    const chunk = bytesPerSecond ? Math.max(1, Math.round((bytesPerSecond * tickMs) / 1000)) : 64 * 1024;
    let sent = 0;
    let lastFlush: Promise<void> = Promise.resolve();
    while (sent < limit && !res.destroyed) {
      const piece = body.subarray(sent, Math.min(limit, sent + chunk));
      sent += piece.length;
      entry.bytesSent = sent;
      lastFlush = new Promise<void>((resolve) => res.write(piece, () => resolve()));
      if (bytesPerSecond) await Promise.all([lastFlush, new Promise((r) => setTimeout(r, tickMs))]);
      else if (res.writableNeedDrain) await lastFlush;
    }
    if (res.destroyed) return;
    if (limit < body.length) {
      // Flush what was promised, then cut the connection mid-body (or just go quiet).
      await lastFlush;
      if (cut === 'drop') res.socket?.destroy();
      return;
    }
    res.end();
  }

  return {
    url,
    cdnUrl,
    requests,
    setFault(next) {
      fault = next === undefined ? undefined : { ...next };
    },
    setFile(name, branch, path, content) {
      const repo = repos.get(name);
      const current = repo?.refs.get(branch);
      if (!repo || !current) throw new Error(`No ${name}@${branch} in the imitation`);
      const files = new Map(current.files);
      files.set(path, makeBlob(content));
      const revision = makeRevision(files);
      repo.refs.set(branch, revision);
      repo.refs.set(revision.sha, revision);
    },
    commitOf(name, branch) {
      const revision = repos.get(name)?.refs.get(branch);
      if (!revision) throw new Error(`No ${name}@${branch} in the imitation`);
      return revision.sha;
    },
    async close() {
      for (const server of separate ? [hub, cdn] : [hub]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}

function listen(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}
