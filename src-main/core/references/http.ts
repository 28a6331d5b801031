/**
 * Downloads for the mood board: http(s) only, a clear User-Agent, a timeout, a size limit that
 * stops reading as soon as it is passed, and at most five redirects. The body stays in memory
 * (bounded by the limit) until it is known to be good, so nothing half-downloaded reaches disk.
 *
 * Two rules keep a link from leading somewhere the user did not send it: a redirect to another
 * origin never carries the caller's credentials (an API key in `Authorization`), and only the
 * host the user typed may be an internal address (loopback, link-local, private networks); what a
 * redirect or a page leads to elsewhere must resolve to public addresses only.
 */
import http from 'node:http';
import net from 'node:net';
import https from 'node:https';
import { pipeline, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import { OnbrandError, type ApiErrorCode } from '../api/index.js';
import { appPackage } from '../util/index.js';
import { bareHost, internalRange, publicOnlyLookup, RefusedAddressError, typedHostLookup } from './addresses.js';
import { PAGE_LIMIT } from './page.js';

export { PAGE_LIMIT };

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  /** A web page is read only this far (its Open Graph tags are in its head); default PAGE_LIMIT. */
  maxPageBytes?: number;
}

export const DEFAULT_LIMITS: FetchLimits = { timeoutMs: 20_000, maxBytes: 40 * 1024 * 1024, maxRedirects: 5, maxPageBytes: PAGE_LIMIT };

export type FetchFailure = 'bad_url' | 'unreachable' | 'timeout' | 'too_large' | 'refused';

/** The contract's code for each kind of fetch failure. */
const FETCH_CODES: Record<FetchFailure, ApiErrorCode> = {
  bad_url: 'invalid_input',
  too_large: 'invalid_input',
  refused: 'unauthorized', // an internal address nobody typed
  unreachable: 'io',
  timeout: 'io',
};

export class FetchError extends OnbrandError {
  constructor(
    readonly reason: FetchFailure,
    message: string,
  ) {
    super(FETCH_CODES[reason], message);
    this.name = 'FetchError';
  }
}

export interface Fetched {
  url: string;
  contentType: string;
  body: Buffer;
  /** A web page longer than the page limit: `body` is its beginning. */
  truncated: boolean;
}

export interface FetchOptions {
  headers?: Record<string, string>;
  /**
   * Hosts the user typed: these may be internal (a NAS, a local test server). Anything else must
   * be public. Default: the host of the URL fetched, which is then the user's own.
   */
  trustedHosts?: readonly string[];
  /** How this URL was reached, for a refusal's message ("the page points to"). */
  via?: string;
  /**
   * Whether each typed host name first resolved to an internal address: shared by the fetches of
   * one import (the page, then its image), so a name that answered public stays public.
   */
  resolvedHosts?: Map<string, boolean>;
}

/** Request headers that are not credentials: the only ones kept once a redirect leaves the origin. */
const PLAIN_HEADERS = new Set(['accept', 'accept-language', 'accept-version', 'user-agent', 'accept-encoding']);

export function userAgent(): string {
  return `Onbrand/${appPackage().version} (desktop app for brand designers; mood board import)`;
}

export async function fetchLimited(url: string, limits: FetchLimits = DEFAULT_LIMITS, options: FetchOptions = {}): Promise<Fetched> {
  let current = url;
  let origin: string | null = null;
  let trusted: Set<string> | null = options.trustedHosts ? new Set(options.trustedHosts.map((h) => h.toLowerCase())) : null;
  const resolved = options.resolvedHosts ?? new Map<string, boolean>();
  let headers: Record<string, string> = {
    'user-agent': userAgent(),
    accept: 'image/*,text/html;q=0.9,*/*;q=0.5',
    'accept-encoding': 'gzip, deflate, br',
    ...Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
  };
  const signal = AbortSignal.timeout(limits.timeoutMs);
  for (let hop = 0; ; hop++) {
    let parsed: URL;
    try {
      parsed = new URL(current);
    } catch {
      throw new FetchError('bad_url', `${current} is not a valid URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new FetchError('bad_url', `${current}: only http and https links can be imported`);
    const host = bareHost(parsed);
    trusted ??= new Set([host]);
    // The caller's credentials were meant for the first origin only; a redirect elsewhere goes without them.
    if (origin === null) origin = parsed.origin;
    else if (parsed.origin !== origin) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => PLAIN_HEADERS.has(k)));
    const mayBeInternal = trusted.has(host);
    const literalRange = mayBeInternal ? null : internalRange(host);
    if (literalRange) throw refusal(new RefusedAddressError(host, host, literalRange), url, hop, options.via);

    let response: http.IncomingMessage;
    try {
      // A typed IP address or "localhost" is what it says; a typed name is settled by its first answer.
      const literal = net.isIP(host) !== 0 || host === 'localhost';
      response = await get(parsed, headers, signal, !mayBeInternal ? publicOnlyLookup : literal ? undefined : typedHostLookup(resolved));
    } catch (error) {
      if (error instanceof RefusedAddressError) throw refusal(error, url, hop, options.via);
      if (signal.aborted) throw new FetchError('timeout', `${url} did not answer within ${Math.round(limits.timeoutMs / 1000)} s`);
      throw new FetchError(
        'unreachable',
        `${url} cannot be reached (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location) {
      response.destroy();
      if (hop >= limits.maxRedirects) throw new FetchError('unreachable', `${url} redirects more than ${limits.maxRedirects} times`);
      try {
        current = new URL(location, parsed).toString();
      } catch {
        throw new FetchError('bad_url', `${url} redirects to ${location}, which is not a valid URL`);
      }
      continue;
    }
    if (status < 200 || status >= 300) {
      response.destroy();
      throw new FetchError('unreachable', `${url} answered HTTP ${status}`);
    }
    const contentType = (response.headers['content-type'] ?? '').toLowerCase();
    const page = contentType.startsWith('text/html') || contentType.startsWith('application/xhtml');
    const declared = Number(response.headers['content-length'] ?? 0);
    if (!page && declared > limits.maxBytes) {
      response.destroy();
      throw new FetchError('too_large', `${url} is ${(declared / 2 ** 20).toFixed(1)} MB, over the ${limits.maxBytes / 2 ** 20} MB limit`);
    }
    // A page is read only as far as its head can reach; an image or anything else up to the limit.
    const cap = page ? Math.min(limits.maxPageBytes ?? PAGE_LIMIT, limits.maxBytes) : limits.maxBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    const body = decoded(response);
    try {
      for await (const chunk of body) {
        const piece = chunk as Buffer;
        if (size + piece.length > cap) {
          if (!page) throw new FetchError('too_large', `${url} is over the ${limits.maxBytes / 2 ** 20} MB limit`);
          chunks.push(piece.subarray(0, cap - size));
          size = cap;
          truncated = true;
          break;
        }
        size += piece.length;
        chunks.push(piece);
      }
    } catch (error) {
      if (error instanceof FetchError) throw error;
      if (signal.aborted) throw new FetchError('timeout', `${url} did not finish within ${Math.round(limits.timeoutMs / 1000)} s`);
      throw new FetchError('unreachable', `${url} broke off: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    } finally {
      body.destroy();
      response.destroy();
    }
    return { url: current, contentType, body: Buffer.concat(chunks), truncated };
  }
}

/**
 * One GET, on a connection of its own: a pooled connection would skip the lookup that checks the
 * address, so none is shared.
 */
function get(
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
  lookup: typeof publicOnlyLookup | undefined,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(url, { method: 'GET', headers, signal, agent: false, ...(lookup ? { lookup } : {}) }, resolve);
    request.on('error', reject);
    request.end();
  });
}

/** The body as sent, decompressed (the size limit then counts the real bytes, so a zip bomb stops early). */
function decoded(response: http.IncomingMessage): Readable {
  const encoding = (response.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? zlib.createGunzip()
      : encoding === 'deflate'
        ? zlib.createInflate()
        : encoding === 'br'
          ? zlib.createBrotliDecompress()
          : null;
  if (!decoder) return response;
  return pipeline(response, decoder, () => undefined);
}

function refusal(error: RefusedAddressError, url: string, hop: number, via: string | undefined): FetchError {
  const lead = hop > 0 ? `${url} redirects to` : (via ?? 'the link points to');
  const target =
    error.host === error.address
      ? `the internal address ${error.address}`
      : `${error.host}, which resolves to the internal address ${error.address}`;
  return new FetchError('refused', `refused: ${lead} ${target} (${error.range}); only an address you type yourself may be internal`);
}
