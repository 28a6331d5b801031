/**
 * Downloads for the mood board: http(s) only, a clear User-Agent, a timeout, a size limit that
 * stops reading as soon as it is passed, and at most five redirects. The body stays in memory
 * (bounded by the limit) until it is known to be good, so nothing half-downloaded reaches disk.
 */
import { appPackage } from '../util/app-root.js';

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
}

export const DEFAULT_LIMITS: FetchLimits = { timeoutMs: 20_000, maxBytes: 40 * 1024 * 1024, maxRedirects: 5 };

export type FetchFailure = 'bad_url' | 'unreachable' | 'timeout' | 'too_large';

export class FetchError extends Error {
  constructor(
    readonly reason: FetchFailure,
    message: string,
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

export interface Fetched {
  url: string;
  contentType: string;
  body: Buffer;
}

export function userAgent(): string {
  return `Onbrand/${appPackage().version} (desktop app for brand designers; mood board import)`;
}

export async function fetchLimited(url: string, limits: FetchLimits = DEFAULT_LIMITS, headers: Record<string, string> = {}): Promise<Fetched> {
  let current = url;
  const signal = AbortSignal.timeout(limits.timeoutMs);
  for (let hop = 0; ; hop++) {
    let parsed: URL;
    try {
      parsed = new URL(current);
    } catch {
      throw new FetchError('bad_url', `${current} is not a valid URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new FetchError('bad_url', `${current}: only http and https links can be imported`);
    let response: Response;
    try {
      response = await fetch(parsed, { redirect: 'manual', signal, headers: { 'user-agent': userAgent(), accept: 'image/*,text/html;q=0.9,*/*;q=0.5', ...headers } });
    } catch (error) {
      if (signal.aborted) throw new FetchError('timeout', `${url} did not answer within ${Math.round(limits.timeoutMs / 1000)} s`);
      throw new FetchError('unreachable', `${url} cannot be reached (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message})`);
    }
    if (response.status >= 300 && response.status < 400 && response.headers.get('location')) {
      await response.body?.cancel();
      if (hop >= limits.maxRedirects) throw new FetchError('unreachable', `${url} redirects more than ${limits.maxRedirects} times`);
      current = new URL(response.headers.get('location')!, parsed).toString();
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new FetchError('unreachable', `${url} answered HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > limits.maxBytes) {
      await response.body?.cancel();
      throw new FetchError('too_large', `${url} is ${(declared / 2 ** 20).toFixed(1)} MB, over the ${limits.maxBytes / 2 ** 20} MB limit`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      const reader = response.body?.getReader();
      for (;;) {
        if (!reader) break;
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > limits.maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw new FetchError('too_large', `${url} is over the ${limits.maxBytes / 2 ** 20} MB limit`);
        }
        chunks.push(Buffer.from(value));
      }
    } catch (error) {
      if (error instanceof FetchError) throw error;
      if (signal.aborted) throw new FetchError('timeout', `${url} did not finish within ${Math.round(limits.timeoutMs / 1000)} s`);
      throw new FetchError('unreachable', `${url} broke off: ${(error as Error).message}`);
    }
    return { url: current, contentType: (response.headers.get('content-type') ?? '').toLowerCase(), body: Buffer.concat(chunks) };
  }
}
