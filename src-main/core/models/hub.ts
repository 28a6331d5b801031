/**
 * The Hugging Face Hub's HTTP protocol: where a model lives (endpoint, repo, revision, file), who
 * may read it (token), what a revision holds (each file's size and hash), and the one error family
 * for everything that can go wrong on the way.
 *
 *   GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true   → revision info (sha, siblings)
 *   GET {endpoint}/{repo}/resolve/{rev}/{path}                    → 200 (small file) or 302 → CDN
 *
 * Plain node:http(s) rather than fetch, so redirects stay under our control: the token goes to the
 * host it was meant for and never to the CDN the Hub redirects to. Downloads themselves (resume,
 * verification, disk space) are in download.ts; this file is their transport.
 */
import http from 'node:http';
import https from 'node:https';
import { OnbrandError, type ApiErrorCode } from '../api/index.js';

/** The public Hub; `HF_ENDPOINT` or the `endpoint` option points elsewhere (a mirror, a test server). */
export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** What kind of failure a Hub call had; callers switch on this, never on messages. */
export type DownloadFailure =
  | 'auth' // 401: a token is needed (or the one given was refused)
  | 'forbidden' // 403: the token has no access (gated repo not accepted, no read scope)
  | 'not_found' // repo, revision or file does not exist (or is private and no token was sent)
  | 'hash_mismatch' // the bytes are not the file the revision names
  | 'disk_full' // not enough free space, before or while writing
  | 'network' // connection failures, timeouts, 5xx and 429 after the retries ran out
  | 'cancelled' // the caller's AbortSignal fired
  | 'exists' // installAtomically: the target folder is already there
  | 'bad_request'; // unparseable model reference, unexpected answers, other 4xx

/** The contract's code for each kind of download failure. */
const DOWNLOAD_CODES: Record<DownloadFailure, ApiErrorCode> = {
  auth: 'unauthorized',
  forbidden: 'unauthorized',
  not_found: 'not_found',
  hash_mismatch: 'io',
  disk_full: 'io',
  network: 'io',
  cancelled: 'conflict', // stopped by the user's own action, not a fault
  exists: 'conflict',
  bad_request: 'invalid_input',
};

/** The one error the models module throws; `message` is for the user, `detail` for the log. */
export class DownloadError extends OnbrandError {
  /** What went wrong, in the models module's own terms (the contract's `code` follows from it). */
  readonly reason: DownloadFailure;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The server's own words (its JSON `error` or the system error), for the log. */
  readonly detail: string | undefined;
  /** Worth another try: network failures, 5xx, 429. */
  readonly retryable: boolean;
  /** How long the server asked us to wait (429/503 Retry-After), in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(
    reason: DownloadFailure,
    message: string,
    options: {
      status?: number | undefined;
      detail?: string | undefined;
      retryable?: boolean;
      retryAfterMs?: number | undefined;
      cause?: unknown;
    } = {},
  ) {
    super(DOWNLOAD_CODES[reason], message, undefined, { cause: options.cause });
    this.name = 'DownloadError';
    this.reason = reason;
    this.status = options.status;
    this.detail = options.detail;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }

  static is(value: unknown): value is DownloadError {
    return value instanceof DownloadError;
  }
}

/** Bounded retries with exponential backoff; the defaults suit a real network. */
export interface RetryOptions {
  /** Failures in a row (without new bytes in between) before giving up. Default 5. */
  tries?: number;
  /** First backoff; doubles each try (with jitter). Default 500 ms. */
  baseDelayMs?: number;
  /** Longest wait, Retry-After included. Default 60 s. */
  maxDelayMs?: number;
}

/** Where and as whom to talk to the Hub; every field optional. */
export interface HubOptions {
  /** Hub base URL; else `HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string | undefined;
  /** Access token (the app's settings); else `HF_TOKEN`. */
  token?: string | undefined;
  /** Where `HF_ENDPOINT` and `HF_TOKEN` are read; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  signal?: AbortSignal | undefined;
  /** A connection idle this long (no answer, no bytes) counts as a network failure. Default 30 s. */
  timeoutMs?: number | undefined;
  retry?: RetryOptions | undefined;
}

/** The endpoint to use, without a trailing slash. */
export function hubEndpoint(options: HubOptions = {}): string {
  const env = options.env ?? process.env;
  const endpoint = options.endpoint || env['HF_ENDPOINT'] || DEFAULT_ENDPOINT;
  return endpoint.replace(/\/+$/, '');
}

/** The token to send, if any: the option (Settings) wins over `HF_TOKEN`. */
export function hubToken(options: HubOptions = {}): string | undefined {
  const env = options.env ?? process.env;
  return options.token || env['HF_TOKEN'] || undefined;
}

// ---------------------------------------------------------------------------------------------
// Model references typed or pasted by the user

/** A model (and maybe one file in it) named by the user. */
export interface ModelRef {
  /** `owner/name` (or a legacy single name such as `gpt2`). */
  repo: string;
  /** Branch, tag or 40-hex commit; `main` when not given. */
  revision: string;
  /** A file inside the repo, when one was named. */
  path?: string;
  /**
   * The Hub the link pointed at, when a URL was given. When it is not the configured endpoint,
   * the caller should not send the user's token there (the token belongs to that endpoint).
   */
  endpoint?: string;
}

const FORMS =
  'write it as owner/name, owner/name@revision or owner/name@revision:path/in/repo, ' +
  'or paste a https://huggingface.co/owner/name/resolve/revision/path link';

/**
 * Parses `owner/name`, `owner/name@rev`, `owner/name@rev:path`, `owner/name:path`, or a Hub link
 * (`…/owner/name`, `…/owner/name/tree/rev`, `…/owner/name/resolve/rev/path`, `…/blob/rev/path`).
 * Throws a `bad_request` DownloadError that says which forms are understood.
 */
export function parseModelRef(input: string): ModelRef {
  const text = input.trim();
  if (text === '') throw badRef(input, 'it is empty');
  if (/^https?:\/\//i.test(text)) return parseHubUrl(text);
  if (/\s/.test(text)) throw badRef(input, 'it contains spaces');

  let rest = text;
  let path: string | undefined;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    path = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  let revision = 'main';
  const at = rest.indexOf('@');
  if (at >= 0) {
    revision = rest.slice(at + 1);
    rest = rest.slice(0, at);
    checkRevision(input, revision);
  }
  checkRepo(input, rest);
  const ref: ModelRef = { repo: rest, revision };
  if (path !== undefined) ref.path = checkPath(input, path);
  return ref;
}

function parseHubUrl(text: string): ModelRef {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badRef(text, 'it is not a valid link');
  }
  let segments: string[];
  try {
    segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw badRef(text, 'the link is badly encoded');
  }
  if (segments[0] === 'datasets' || segments[0] === 'spaces') throw badRef(text, `it points at ${segments[0]}, not a model repo`);
  const isVerb = (s: string | undefined): boolean => s === 'resolve' || s === 'blob' || s === 'tree';
  const verbAt = isVerb(segments[2]) ? 2 : isVerb(segments[1]) ? 1 : -1;
  const repoSegments = verbAt < 0 ? segments : segments.slice(0, verbAt);
  const repo = repoSegments.join('/');
  checkRepo(text, repo);
  const ref: ModelRef = { repo, revision: 'main', endpoint: url.origin };
  if (verbAt >= 0) {
    const revision = segments[verbAt + 1];
    if (revision === undefined) throw badRef(text, 'the link names no revision');
    checkRevision(text, revision);
    ref.revision = revision;
    const filePath = segments.slice(verbAt + 2).join('/');
    if (segments[verbAt] !== 'tree') {
      if (filePath === '') throw badRef(text, 'the link names no file');
      ref.path = checkPath(text, filePath);
    }
  }
  return ref;
}

function checkRepo(input: string, repo: string): void {
  const parts = repo.split('/');
  const ok =
    parts.length >= 1 &&
    parts.length <= 2 &&
    parts.every((p) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/.test(p) && !p.includes('--') && !p.includes('..') && !p.endsWith('.git'));
  if (!ok) throw badRef(input, repo === '' ? 'it names no repo' : `"${repo}" is not a repo name`);
}

function checkRevision(input: string, revision: string): void {
  if (revision === '' || /[\s:]/.test(revision) || revision.includes('..')) throw badRef(input, `"${revision}" is not a revision`);
}

function checkPath(input: string, path: string): string {
  if (!isSafeRepoPath(path)) throw badRef(input, `"${path}" is not a file path inside a repo`);
  return path;
}

/** A relative path with no empty, `.` or `..` segments and no backslashes: safe to join to a folder. */
export function isSafeRepoPath(path: string): boolean {
  if (path === '' || path.includes('\\') || path.includes('\0')) return false;
  return path.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && !/^[A-Za-z]:$/.test(s));
}

function badRef(input: string, why: string): DownloadError {
  return new DownloadError('bad_request', `"${input.trim()}" is not a Hugging Face model reference (${why}): ${FORMS}.`);
}

/** `repo@rev` or `repo@rev:path`: how messages name a thing on the Hub. */
export function describeRef(repo: string, revision: string, path?: string): string {
  return path === undefined ? `${repo}@${revision}` : `${repo}@${revision}:${path}`;
}

/** The download URL of one file at one revision. */
export function resolveUrl(endpoint: string, repo: string, revision: string, path: string): string {
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

// ---------------------------------------------------------------------------------------------
// Revision info

/** One file of a revision, as the Hub lists it. */
export interface HubFile {
  /** Path inside the repo, `/`-separated. */
  path: string;
  size: number;
  /** The git blob id: sha1("blob <size>\0" + content) for ordinary files, of the pointer for LFS files. */
  blobId: string;
  /** The content's sha256, for LFS files (the large ones: weights). */
  sha256?: string;
}

/** What one revision of a repo holds, pinned to its commit. */
export interface RevisionInfo {
  endpoint: string;
  repo: string;
  /** The revision asked for (a branch, tag or commit). */
  revision: string;
  /** The commit it resolved to: download by this, so every file comes from the same commit. */
  commit: string;
  files: HubFile[];
  /** The model card's licence (`cardData.license`, else a `license:` tag), when the repository states one. */
  licence?: string;
}

/** Asks the Hub what `repo` holds at `revision` (default `main`), with sizes and hashes. */
export async function fetchRevision(repo: string, revision = 'main', options: HubOptions = {}): Promise<RevisionInfo> {
  const endpoint = hubEndpoint(options);
  const token = hubToken(options);
  const where: HubPlace = { endpoint, repo, revision };
  const url = `${endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
  return withRetries(options, async () => {
    const res = await hubRequest(url, { token, signal: options.signal, timeoutMs: options.timeoutMs }).catch((e: unknown) => {
      throw toDownloadError(e, where, options.signal);
    });
    const text = await readText(res.body).catch((e: unknown) => {
      throw toDownloadError(e, where, options.signal);
    });
    if (res.status !== 200) throw errorForStatus(res.status, res.headers, text, where, token !== undefined);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new DownloadError(
        'bad_request',
        `${endpoint} answered something that is not Hub revision info for ${describeRef(repo, revision)}; check the endpoint.`,
        {
          detail: text.slice(0, 200),
        },
      );
    }
    return parseRevision(json, where);
  });
}

function parseRevision(json: unknown, where: HubPlace): RevisionInfo {
  const bad = (what: string): DownloadError =>
    new DownloadError(
      'bad_request',
      `${where.endpoint} sent unexpected revision info for ${describeRef(where.repo, where.revision)} (${what}); check the endpoint.`,
    );
  if (typeof json !== 'object' || json === null) throw bad('not an object');
  const { sha, siblings } = json as { sha?: unknown; siblings?: unknown };
  if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha)) throw bad('no commit sha');
  if (!Array.isArray(siblings)) throw bad('no file list');
  const files = siblings.map((s: unknown): HubFile => {
    const { rfilename, size, blobId, lfs } = (s ?? {}) as {
      rfilename?: unknown;
      size?: unknown;
      blobId?: unknown;
      lfs?: { sha256?: unknown } | null;
    };
    if (typeof rfilename !== 'string') throw bad('a file without a name');
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad(`no size for ${rfilename}`);
    if (typeof blobId !== 'string' || !/^[0-9a-f]{40}$/.test(blobId)) throw bad(`no blob id for ${rfilename}`);
    const file: HubFile = { path: rfilename, size, blobId };
    if (lfs) {
      if (typeof lfs.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(lfs.sha256)) throw bad(`no sha256 for ${rfilename}`);
      file.sha256 = lfs.sha256;
    }
    return file;
  });
  const { cardData, tags } = json as { cardData?: { license?: unknown } | null; tags?: unknown };
  const tagged = Array.isArray(tags)
    ? tags.find((t): t is string => typeof t === 'string' && t.startsWith('license:'))?.slice('license:'.length)
    : undefined;
  const licence = typeof cardData?.license === 'string' ? cardData.license : tagged;
  return { endpoint: where.endpoint, repo: where.repo, revision: where.revision, commit: sha, files, ...(licence ? { licence } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Transport (shared with download.ts)

/** Which thing on the Hub a request was about, for error messages. */
export interface HubPlace {
  endpoint: string;
  repo: string;
  revision: string;
  path?: string;
}

export interface HubResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  url: string;
  body: http.IncomingMessage;
}

const USER_AGENT = 'onbrand (node:http; Hugging Face Hub protocol)';
const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;

/**
 * GET `url`, following redirects. The Authorization header goes only to the origin of `url`: a
 * redirect to another host (the Hub's CDN) is followed without it. Other headers (Range, If-Range)
 * travel with every hop. Errors are the raw system ones; `toDownloadError` names them.
 */
export async function hubRequest(
  url: string,
  init: {
    token?: string | undefined;
    headers?: Record<string, string>;
    signal?: AbortSignal | undefined;
    timeoutMs?: number | undefined;
  } = {},
): Promise<HubResponse> {
  const tokenOrigin = new URL(url).origin;
  let current = url;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...init.headers };
    if (init.token && new URL(current).origin === tokenOrigin) headers['authorization'] = `Bearer ${init.token}`;
    const res = await requestOnce(current, headers, init.signal, init.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if ([301, 302, 303, 307, 308].includes(status) && location) {
      res.resume(); // the redirect's own body is of no interest
      if (hop >= MAX_REDIRECTS) throw new DownloadError('bad_request', `Too many redirects from ${url}.`);
      current = new URL(location, current).toString();
      continue;
    }
    return { status, headers: res.headers, url: current, body: res };
  }
}

function requestOnce(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const lib = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : undefined;
    if (!lib) {
      reject(new DownloadError('bad_request', `Cannot download from ${url}: only http and https links work.`));
      return;
    }
    const req = lib.request(target, signal ? { method: 'GET', headers, signal } : { method: 'GET', headers });
    // Socket idle timeout: covers both the wait for an answer and a body that stops arriving.
    req.setTimeout(timeoutMs, () =>
      req.destroy(Object.assign(new Error(`no data for ${Math.round(timeoutMs / 1000)} s`), { code: 'ETIMEDOUT' })),
    );
    req.once('response', resolve);
    req.once('error', reject);
    req.end();
  });
}

/** The body as text (error pages, JSON); at most `limit` bytes are kept. */
export async function readText(body: http.IncomingMessage, limit = 16 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (length < limit) chunks.push(chunk);
    length += chunk.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A DownloadError for an HTTP answer that is not what we asked for. */
export function errorForStatus(
  status: number,
  headers: http.IncomingHttpHeaders,
  bodyText: string,
  where: HubPlace,
  sentToken: boolean,
): DownloadError {
  const detail = serverMessage(bodyText);
  const errorCode = String(headers['x-error-code'] ?? '');
  const thing = describeRef(where.repo, where.revision, where.path);
  const page = `${where.endpoint}/${where.repo}`;
  const tokenHint = 'set HF_TOKEN or add a token in Settings';
  const options = { status, detail };
  if (status === 401 && errorCode === 'RepoNotFound' && !sentToken) {
    // The Hub answers 401 for a repo that does not exist as well as for a private one.
    return new DownloadError(
      'not_found',
      `Model repo "${where.repo}" was not found on ${hostOf(where.endpoint)} (HTTP 401). Check the name; if it is private, ${tokenHint}.`,
      options,
    );
  }
  if (status === 401) {
    const gated = errorCode === 'GatedRepo' ? ` It is a gated model: accept its terms at ${page} first.` : '';
    return sentToken
      ? new DownloadError('auth', `The Hugging Face token was refused for ${thing} (HTTP 401). Check the token: ${tokenHint}.`, options)
      : new DownloadError('auth', `${thing} needs a Hugging Face token (HTTP 401).${gated} Then ${tokenHint}.`, options);
  }
  if (status === 403) {
    return new DownloadError(
      'forbidden',
      `The Hugging Face token has no access to ${thing} (HTTP 403). Accept the model's terms at ${page} with the token's account, or use a token with read access: ${tokenHint}.`,
      options,
    );
  }
  if (status === 404) {
    if (errorCode === 'RevisionNotFound')
      return new DownloadError('not_found', `Revision "${where.revision}" does not exist in ${where.repo} (HTTP 404).`, options);
    if (errorCode === 'EntryNotFound' && where.path !== undefined) {
      return new DownloadError(
        'not_found',
        `File "${where.path}" does not exist in ${where.repo} at revision ${where.revision} (HTTP 404).`,
        options,
      );
    }
    return new DownloadError(
      'not_found',
      `Model repo "${where.repo}" was not found on ${hostOf(where.endpoint)} (HTTP 404). Check the name.`,
      options,
    );
  }
  if (status === 429 || status === 408 || status >= 500) {
    const why = status === 429 ? 'too many requests' : 'a server error';
    return new DownloadError('network', `${hostOf(where.endpoint)} answered HTTP ${status} (${why}) for ${thing}. Try again later.`, {
      ...options,
      retryable: true,
      retryAfterMs: retryAfterMs(headers['retry-after']),
    });
  }
  return new DownloadError(
    'bad_request',
    `${hostOf(where.endpoint)} answered HTTP ${status} for ${thing}${detail ? `: ${detail}` : ''}.`,
    options,
  );
}

/** Any thrown value as a DownloadError: aborts become `cancelled`, system errors `network` (retryable). */
export function toDownloadError(error: unknown, where: HubPlace, signal?: AbortSignal): DownloadError {
  if (error instanceof DownloadError) return error;
  if (signal?.aborted)
    return new DownloadError('cancelled', `Download of ${describeRef(where.repo, where.revision, where.path)} cancelled.`, {
      cause: error,
    });
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const text = error instanceof Error ? error.message : String(error);
  const why = code && !text.includes(code) ? `${code}: ${text}` : text;
  return new DownloadError(
    'network',
    `Network error talking to ${hostOf(where.endpoint)} about ${describeRef(where.repo, where.revision, where.path)} (${why}). Check the connection and try again.`,
    { detail: why, retryable: true, cause: error },
  );
}

function serverMessage(bodyText: string): string | undefined {
  try {
    const json = JSON.parse(bodyText) as { error?: unknown };
    if (typeof json.error === 'string') return json.error;
  } catch {
    // not JSON: an HTML error page or nothing
  }
  const text = bodyText.trim();
  return text === '' || text.startsWith('<') ? undefined : text.slice(0, 200);
}

function hostOf(endpoint: string): string {
  try {
    return new URL(endpoint).host;
  } catch {
    return endpoint;
  }
}

function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The wait before try `failures + 1`: Retry-After when the server sent one, else 2^n backoff with jitter. */
export function backoffDelay(failures: number, error: DownloadError, retry: RetryOptions = {}): number {
  const base = retry.baseDelayMs ?? 500;
  const max = retry.maxDelayMs ?? 60_000;
  const wanted = error.retryAfterMs ?? base * 2 ** (failures - 1) * (0.75 + Math.random() * 0.5);
  return Math.min(max, wanted);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `attempt` until it succeeds, a non-retryable error comes, or the tries run out. */
async function withRetries<T>(options: HubOptions, attempt: () => Promise<T>): Promise<T> {
  const tries = options.retry?.tries ?? 5;
  for (let failures = 1; ; failures++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof DownloadError) || !error.retryable || failures >= tries) throw error;
      await sleep(backoffDelay(failures, error, options.retry), options.signal).catch(() => {
        throw new DownloadError('cancelled', 'Cancelled while waiting to try again.');
      });
    }
  }
}
