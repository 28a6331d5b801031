/**
 * Unsplash with an API access key: search, and import with attribution, triggering the photo's
 * download endpoint as Unsplash's API guidelines ask. The base URL can be changed (tests run a
 * local server); requests carry the key as `Client-ID` and Onbrand's User-Agent. The key goes to
 * the API's own origin only: never to a link the API answers with elsewhere, nor along a redirect
 * to another origin. The configured API root counts as typed by the user (it may be internal);
 * the links in its answers must be public unless they are on the same host.
 *
 * Search results come with their thumbnails fetched here, under the same rules (public addresses,
 * no key, a size limit), checked as images, re-encoded small and kept in the thumbnail cache: the
 * UI shows them from the app's own image route, never from a remote address (its CSP forbids that).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ApiError, type Reference, type ReferenceSkip, type UnsplashPhoto } from '../api/index.js';
import { tempPathFor } from '../util/index.js';
import { bareHost } from './addresses.js';
import { DEFAULT_LIMITS, FetchError, fetchLimited, type FetchLimits } from './http.js';
import type { ReferenceImporter } from './import.js';

interface ApiPhoto {
  id: string;
  description: string | null;
  alt_description: string | null;
  width: number;
  height: number;
  urls: { regular: string; small: string; thumb: string };
  links: { html: string; download_location: string };
  user: { name: string; links: { html: string } };
}

/** Unsplash asks for these on every link back to it. */
const REFERRAL = 'utm_source=onbrand&utm_medium=referral';

/** A thumbnail's download: small (Unsplash's `small` is 400 px wide, 30–80 KB), quick, few redirects. */
const THUMB_FORMATS = new Set(['jpeg', 'png', 'webp', 'avif', 'heif', 'gif']);
const THUMB_LIMITS: FetchLimits = { timeoutMs: 15_000, maxBytes: 2 * 1024 * 1024, maxRedirects: 3 };
/** Longest side of a cached thumbnail, and the most pixels a downloaded one may declare. */
const THUMB_SIDE = 400;
const THUMB_MAX_PIXELS = 25_000_000;
/** Thumbnails kept in the cache: past this, the oldest go. */
const THUMB_KEEP = 600;
/** Thumbnails fetched at once. */
const THUMB_PARALLEL = 6;

export class UnsplashClient {
  constructor(
    private readonly key: () => string | null,
    private readonly baseUrl = process.env.ONBRAND_UNSPLASH_API ?? 'https://api.unsplash.com',
    private readonly limits: FetchLimits = { ...DEFAULT_LIMITS, maxBytes: 2 * 1024 * 1024 },
    /** Where search results' thumbnails are kept (served by the image route); none: results carry no thumbnail. */
    private readonly thumbDir: string | null = null,
  ) {}

  get configured(): boolean {
    try {
      return !!this.key();
    } catch {
      return true; // stored, but this process cannot unlock it: the key function's error says why when it is used
    }
  }

  private get root(): URL {
    return new URL(this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
  }

  private requireKey(): string {
    const key = this.key();
    if (!key) throw new ApiError('invalid_input', 'Add an Unsplash access key in settings to search Unsplash.', 'key');
    return key;
  }

  private async get<T>(pathAndQuery: string, given?: string): Promise<T> {
    const key = given ?? this.requireKey();
    try {
      const url = new URL(pathAndQuery.replace(/^\//, ''), this.root).toString();
      const response = await fetchLimited(url, this.limits, {
        headers: { authorization: `Client-ID ${key}`, 'accept-version': 'v1', accept: 'application/json' },
        trustedHosts: [bareHost(this.root)],
      });
      return JSON.parse(response.body.toString('utf8')) as T;
    } catch (error) {
      if (error instanceof FetchError) throw new ApiError('io', `Unsplash: ${error.message}`);
      throw new ApiError('io', `Unsplash answered something that is not JSON: ${(error as Error).message}`);
    }
  }

  async search(query: string, page = 1): Promise<{ results: UnsplashPhoto[]; total: number }> {
    const data = await this.get<{ total: number; results: ApiPhoto[] }>(
      `/search/photos?query=${encodeURIComponent(query)}&page=${page}&per_page=24`,
    );
    const results = data.results.map(toPhoto);
    const thumbs = await inBatches(data.results, THUMB_PARALLEL, (p) => this.thumbnail(p));
    this.pruneThumbnails();
    return { total: data.total, results: results.map((r, i) => ({ ...r, thumbPath: thumbs[i] ?? null })) };
  }

  /**
   * Checks the access key (the one given, else the stored one) with a one-result search. Throws
   * an ApiError whose message says what is wrong: no key, a key Unsplash refuses, no answer.
   */
  async test(given?: string): Promise<{ ok: true; message: string }> {
    const started = performance.now();
    try {
      const data = await this.get<{ total?: unknown }>('/search/photos?query=colour&per_page=1', given);
      if (typeof data.total !== 'number') throw new ApiError('io', 'Unsplash answered, but not as its search API does: check the address.');
    } catch (error) {
      if (error instanceof ApiError && /HTTP 40[13]\b/.test(error.message))
        throw new ApiError(
          'invalid_input',
          'Unsplash refused the access key: copy the Access Key (not the Secret key) of your app at unsplash.com/oauth/applications.',
          'key',
        );
      throw error;
    }
    return { ok: true, message: `Unsplash answered in ${((performance.now() - started) / 1000).toFixed(1)} s: the access key works.` };
  }

  /** A result's thumbnail in the cache (fetched, checked, re-encoded), or null when it cannot be had. */
  private async thumbnail(photo: ApiPhoto): Promise<string | null> {
    if (!this.thumbDir) return null;
    const url = photo.urls?.small ?? photo.urls?.thumb;
    if (typeof url !== 'string') return null;
    const id =
      String(photo.id)
        .replace(/[^\w-]/g, '')
        .slice(0, 40) || 'photo';
    const file = path.join(this.thumbDir, `${id}-${crypto.createHash('sha256').update(url).digest('hex').slice(0, 16)}.jpg`);
    if (fs.existsSync(file)) return file;
    try {
      // No key goes with it; only the API's own host may be internal (a test server), anything else must be public.
      const fetched = await fetchLimited(url, THUMB_LIMITS, {
        headers: { accept: 'image/*' },
        trustedHosts: [bareHost(this.root)],
        via: 'Unsplash points to',
      });
      // Only the formats a photo service serves: never SVG, PDF or TIFF through libvips' other loaders.
      const { format } = await sharp(fetched.body, { limitInputPixels: THUMB_MAX_PIXELS }).metadata();
      if (!format || !THUMB_FORMATS.has(format)) return null;
      const jpeg = await sharp(fetched.body, { limitInputPixels: THUMB_MAX_PIXELS })
        .rotate()
        .resize(THUMB_SIDE, THUMB_SIDE, { fit: 'inside', withoutEnlargement: true })
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: 80 })
        .toBuffer();
      fs.mkdirSync(this.thumbDir, { recursive: true });
      const temp = tempPathFor(file);
      try {
        fs.writeFileSync(temp, jpeg);
        fs.renameSync(temp, file);
      } finally {
        fs.rmSync(temp, { force: true });
      }
      return file;
    } catch {
      // Not an image, too large, refused, unreachable: the result shows without its picture.
      return null;
    }
  }

  /** Keeps the newest THUMB_KEEP thumbnails. */
  private pruneThumbnails(): void {
    if (!this.thumbDir) return;
    try {
      const files = fs
        .readdirSync(this.thumbDir)
        .filter((f) => f.endsWith('.jpg'))
        .map((f) => ({ file: path.join(this.thumbDir!, f), at: fs.statSync(path.join(this.thumbDir!, f)).mtimeMs }));
      if (files.length <= THUMB_KEEP) return;
      for (const { file } of files.sort((a, b) => b.at - a.at).slice(THUMB_KEEP)) fs.rmSync(file, { force: true });
    } catch {
      // A cache that cannot be tidied now is tidied after the next search.
    }
  }

  /** Imports a photo with attribution; the download endpoint is triggered first. */
  async import(importer: ReferenceImporter, projectId: number, photoId: string): Promise<Reference | ReferenceSkip> {
    const photo = await this.get<ApiPhoto>(`/photos/${encodeURIComponent(photoId)}`);
    const key = this.requireKey();
    const trusted = [bareHost(this.root)];
    // Unsplash's guideline: trigger the download endpoint when a photo is used. The key goes with it only on the API's own origin.
    const sameOrigin = URL.canParse(photo.links.download_location) && new URL(photo.links.download_location).origin === this.root.origin;
    await fetchLimited(photo.links.download_location, this.limits, {
      headers: sameOrigin ? { authorization: `Client-ID ${key}`, 'accept-version': 'v1' } : {},
      trustedHosts: trusted,
      via: 'Unsplash points to',
    }).catch(() => undefined);
    return importer.fromUrl(
      projectId,
      photo.urls.regular,
      {
        sourceUrl: `${photo.links.html}?${REFERRAL}`,
        author: photo.user.name,
        authorUrl: `${photo.user.links.html}?${REFERRAL}`,
        licence: 'Unsplash License',
        name: `unsplash-${photo.id}`,
      },
      trusted,
    );
  }
}

/** `work` over `items`, at most `parallel` at once, results in order. */
async function inBatches<T, R>(items: readonly T[], parallel: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
  return results;
}

function toPhoto(p: ApiPhoto): UnsplashPhoto {
  return {
    id: p.id,
    description: p.description ?? p.alt_description,
    thumbUrl: p.urls.small,
    width: p.width,
    height: p.height,
    author: p.user.name,
    authorUrl: `${p.user.links.html}?${REFERRAL}`,
    pageUrl: `${p.links.html}?${REFERRAL}`,
    thumbPath: null,
  };
}
