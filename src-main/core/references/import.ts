/**
 * The mood board's import: files, folders, image URLs and web pages (Unsplash photo pages through
 * their Open Graph data) become files in `<project>/references/` with their source, author and
 * licence, and their palette. Each item succeeds or fails on its own; the same content is never
 * stored twice; nothing half-downloaded is ever written.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { ApiError, type Reference, type ReferenceReport, type ReferenceSkip } from '../api/index.js';
import type { ProjectRepository, RefRepository } from '../catalog/index.js';
import { extractPalette } from '../color/index.js';
import type { EventBus } from '../events.js';
import { MAX_IMPORT_BYTES, scanPaths } from '../images/index.js';
import { freeFileName, writeAtomically } from '../util/index.js';
import { bareHost } from './addresses.js';
import { DEFAULT_LIMITS, FetchError, fetchLimited, PAGE_LIMIT, type FetchLimits } from './http.js';
import { readLocalFile } from './local-file.js';
import { readPage } from './page.js';

export const REFERENCES_FOLDER = 'references';
const FORMATS: Record<string, string> = { jpeg: '.jpg', png: '.png', webp: '.webp' };

export interface Attribution {
  sourceUrl: string | null;
  author: string | null;
  authorUrl: string | null;
  licence: string | null;
  /** A name for the file, without extension. */
  name?: string;
}

export class ReferenceImporter {
  constructor(
    private readonly projects: ProjectRepository,
    private readonly refs: RefRepository,
    private readonly events: EventBus,
    private readonly limits: FetchLimits = DEFAULT_LIMITS,
    /** The largest local file read: the same as the image import's. */
    private readonly maxFileBytes = MAX_IMPORT_BYTES,
  ) {}

  async add(projectId: number, items: readonly string[]): Promise<ReferenceReport> {
    this.requireProject(projectId);
    const added: Reference[] = [];
    const skipped: ReferenceSkip[] = [];
    const record = (outcome: Reference | ReferenceSkip): void => void ('reason' in outcome ? skipped.push(outcome) : added.push(outcome));
    const urls = items.filter((i) => /^https?:\/\//i.test(i));
    const paths = items.filter((i) => !/^https?:\/\//i.test(i));
    if (paths.length) {
      const { files, missing } = await scanPaths(paths);
      for (const m of missing) skipped.push({ item: m, reason: 'not_found', message: `${m}: no such file or folder` });
      for (const file of files) {
        const read = await readLocalFile(file, this.maxFileBytes);
        if ('reason' in read) skipped.push(read);
        else
          record(
            await this.store(projectId, file, read.bytes, {
              sourceUrl: null,
              author: null,
              authorUrl: null,
              licence: null,
              name: path.parse(file).name,
            }),
          );
      }
    }
    for (const url of urls) record(await this.fromUrl(projectId, url));
    if (added.length) this.events.emit('refs.changed', { projectId });
    return { added, skipped };
  }

  /**
   * An image URL, or a page whose Open Graph data names its image. `trustedHosts` are the hosts the
   * user typed (default: the URL's own), the only ones that may be internal addresses.
   */
  async fromUrl(
    projectId: number,
    url: string,
    known: Partial<Attribution> = {},
    trustedHosts?: readonly string[],
  ): Promise<Reference | ReferenceSkip> {
    try {
      const trusted = trustedHosts ?? (URL.canParse(url) ? [bareHost(new URL(url))] : []);
      const resolvedHosts = new Map<string, boolean>();
      const first = await fetchLimited(url, this.limits, { trustedHosts: trusted, resolvedHosts });
      if (first.contentType.startsWith('text/html') || first.contentType.startsWith('application/xhtml')) {
        const page = readPage(first.body.toString('utf8'), first.url);
        if (!page.imageUrl) {
          const limit = `${(this.limits.maxPageBytes ?? PAGE_LIMIT) / 2 ** 20} MB`;
          const message = first.truncated
            ? `${url} is a web page without an Open Graph image in its first ${limit} (a page is read only that far)`
            : `${url} is a web page without an image (no Open Graph image)`;
          return { item: url, reason: 'no_image', message };
        }
        const image = await fetchLimited(page.imageUrl, this.limits, {
          trustedHosts: trusted,
          resolvedHosts,
          via: `the page ${url} points to`,
        });
        return await this.store(projectId, url, image.body, {
          sourceUrl: page.canonicalUrl ?? url,
          author: known.author ?? page.author,
          authorUrl: known.authorUrl ?? page.authorUrl,
          licence: known.licence ?? page.licence,
          name: known.name ?? nameFromUrl(page.canonicalUrl ?? url),
        });
      }
      return await this.store(projectId, url, first.body, {
        sourceUrl: known.sourceUrl ?? url,
        author: known.author ?? null,
        authorUrl: known.authorUrl ?? null,
        licence: known.licence ?? null,
        name: known.name ?? nameFromUrl(first.url),
      });
    } catch (error) {
      if (error instanceof FetchError) return { item: url, reason: error.reason, message: error.message };
      throw error;
    }
  }

  private requireProject(projectId: number) {
    const project = this.projects.get(projectId);
    if (!project) throw new ApiError('not_found', `No project with id ${projectId}.`, 'projectId');
    return project;
  }

  private async store(projectId: number, item: string, bytes: Buffer, attribution: Attribution): Promise<Reference | ReferenceSkip> {
    const project = this.requireProject(projectId);
    let meta: Metadata;
    try {
      meta = await sharp(bytes).metadata();
    } catch {
      return { item, reason: 'not_an_image', message: `${shortName(item)} is not an image` };
    }
    const ext = meta.format ? FORMATS[meta.format] : undefined;
    if (!ext)
      return {
        item,
        reason: 'unsupported_format',
        message: `${shortName(item)} is ${meta.format?.toUpperCase() ?? 'an unknown format'}; references can be PNG, JPEG or WebP`,
      };
    const hash = crypto.createHash('sha256').update(bytes).digest('hex');
    if (this.refs.hasHash(projectId, hash))
      return { item, reason: 'duplicate', message: `${shortName(item)} is already on the mood board` };
    let palette;
    try {
      palette = await extractPalette(bytes);
    } catch (error) {
      return { item, reason: 'not_an_image', message: `${shortName(item)} cannot be decoded (${(error as Error).message.split('\n')[0]})` };
    }
    const dir = path.join(project.folder, REFERENCES_FOLDER);
    await fs.mkdir(dir, { recursive: true });
    const base =
      (attribution.name ?? 'reference')
        .replace(/[^\w.-]+/g, '-')
        .replace(/^-+|-+$/g, '')
        .slice(0, 80) || 'reference';
    const fileName = await freeFileName(dir, `${base}${ext}`, (candidate) =>
      this.refs.hasPath(projectId, path.join(REFERENCES_FOLDER, candidate)),
    );
    const target = path.join(dir, fileName);
    await writeAtomically(target, (temp) => fs.writeFile(temp, bytes), { overwrite: false });
    const rotated = (meta.orientation ?? 1) >= 5;
    try {
      return this.refs.insert({
        projectId,
        path: path.join(REFERENCES_FOLDER, fileName),
        contentHash: hash,
        width: (rotated ? meta.height : meta.width) ?? 0,
        height: (rotated ? meta.width : meta.height) ?? 0,
        sourceUrl: attribution.sourceUrl,
        author: attribution.author,
        authorUrl: attribution.authorUrl,
        licence: attribution.licence,
        palette,
      });
    } catch (error) {
      await fs.rm(target, { force: true });
      throw error;
    }
  }
}

function nameFromUrl(url: string): string {
  try {
    const parts = new URL(url).pathname.split('/').filter(Boolean);
    return (parts.at(-1) ?? 'reference').replace(/\.[a-z0-9]{2,4}$/i, '');
  } catch {
    return 'reference';
  }
}

function shortName(item: string): string {
  return /^https?:\/\//i.test(item) ? item : path.basename(item);
}
