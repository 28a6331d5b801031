/**
 * Unsplash with an API access key: search, and import with attribution, triggering the photo's
 * download endpoint as Unsplash's API guidelines ask. The base URL can be changed (tests run a
 * local server); requests carry the key as `Client-ID` and Onbrand's User-Agent. The key goes to
 * the API's own origin only: never to a link the API answers with elsewhere, nor along a redirect
 * to another origin. The configured API root counts as typed by the user (it may be internal);
 * the links in its answers must be public unless they are on the same host.
 */
import { ApiError, type Reference, type ReferenceSkip, type UnsplashPhoto } from '../api/index.js';
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

export class UnsplashClient {
  constructor(
    private readonly key: () => string | null,
    private readonly baseUrl = process.env.ONBRAND_UNSPLASH_API ?? 'https://api.unsplash.com',
    private readonly limits: FetchLimits = { ...DEFAULT_LIMITS, maxBytes: 2 * 1024 * 1024 },
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

  private async get<T>(pathAndQuery: string): Promise<T> {
    const key = this.requireKey();
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
    return { total: data.total, results: data.results.map(toPhoto) };
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
  };
}
