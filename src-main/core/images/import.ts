import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { ApiError, type ImageSummary, type ImportReport, type ImportSkip, type Project, type SkipReason } from '../api/index.js';
import type { ImageRepository, ProjectRepository } from '../catalog/index.js';
import type { EventBus } from '../events.js';
import { freeFileName, writeAtomically } from '../util/index.js';
import { readGeneration, type ImportedGeneration } from './generation-params.js';
import { scanPaths, unreachable } from './scan.js';
import { writeRenditions } from './thumbnails.js';

/** Formats Onbrand imports; others are reported as unsupported. */
const SUPPORTED = new Set(['png', 'jpeg', 'webp']);
/** Larger files are refused: no real reference or generation comes near it. */
export const MAX_IMPORT_BYTES = 256 * 1024 * 1024;
/**
 * Larger images are refused before they are decoded (a few-kilobyte PNG can claim 30000×30000 px
 * and take gigabytes to decode): sharp's own default limit, 16383 × 16383.
 */
export const MAX_IMPORT_PIXELS = 0x3fff * 0x3fff;
/** Imported files are copied here, inside the project folder. */
export const IMPORTS_FOLDER = 'imports';
/** Files decoded at once; sharp uses its own threads within each. */
const CONCURRENCY = 2;
/** How often the grid is told about new images during a long import. */
const ADDED_FLUSH_MS = 200;

export interface ImportOptions {
  signal?: AbortSignal;
  /** Where a file came from, as the catalogue records it (default: its path); uploads name the file as sent. */
  sourcePath?: (file: string) => string;
}

interface Prepared {
  source: string;
  hash: string;
  bytes: Buffer;
  format: string;
  width: number;
  height: number;
  thumbRelative: string;
  /** The loupe rendition, relative to the data folder. */
  previewRelative: string;
  /** Parameters found in the file (A1111, ComfyUI, InvokeAI), stored as a generated image's are. */
  generation: ImportedGeneration | null;
}

type Outcome = { ok: Prepared } | { skip: ImportSkip };

/**
 * Imports image files and folders into a project: each file is read once, hashed, fully decoded
 * once into a cached thumbnail and loupe rendition, copied into `<project>/imports/` (temporary name, then renamed) and
 * recorded. A broken or foreign file is reported by name and skipped; it never stops the import.
 * The same content is never stored twice in a project.
 */
export class ImageImporter {
  constructor(
    private readonly projects: ProjectRepository,
    private readonly images: ImageRepository,
    private readonly events: EventBus,
    private readonly dataDir: string,
  ) {}

  async import(projectId: number, paths: readonly string[], options: ImportOptions = {}): Promise<ImportReport> {
    const started = performance.now();
    const project = this.projects.get(projectId);
    if (!project) throw new ApiError('not_found', `No project with id ${projectId}.`, 'projectId');
    const importId = crypto.randomUUID();

    // Never import a project's own files into itself.
    const scan = await scanPaths(paths, [project.folder]);
    const files = scan.files;
    const skipped: ImportSkip[] = [...(await Promise.all(scan.missing.map(unreachable))), ...scan.skipped];
    const duplicates: ImportSkip[] = [];
    const imported: ImageSummary[] = [];
    const seenHashes = new Set<string>();

    let pendingAdded: ImageSummary[] = [];
    let lastFlush = performance.now();
    const flush = (force: boolean): void => {
      if (pendingAdded.length === 0) return;
      if (!force && performance.now() - lastFlush < ADDED_FLUSH_MS) return;
      this.events.emit('images.added', { projectId, images: pendingAdded });
      pendingAdded = [];
      lastFlush = performance.now();
    };

    let done = 0;
    const commit = async (file: string, outcome: Outcome): Promise<void> => {
      if ('skip' in outcome) {
        (outcome.skip.reason === 'duplicate' ? duplicates : skipped).push(outcome.skip);
      } else if (seenHashes.has(outcome.ok.hash) || this.images.findByHash(projectId, outcome.ok.hash)) {
        duplicates.push(skip(file, 'duplicate', `${path.basename(file)} is already in ${project.name}`));
      } else {
        seenHashes.add(outcome.ok.hash);
        try {
          const image = await this.store(project, outcome.ok, options.sourcePath?.(file) ?? file);
          if (image === null) {
            duplicates.push(skip(file, 'duplicate', `${path.basename(file)} is already in ${project.name}`));
          } else {
            imported.push(image);
            pendingAdded.push(image);
          }
        } catch (error) {
          skipped.push(
            skip(file, 'unreadable', `${path.basename(file)} could not be copied into the project: ${(error as Error).message}`),
          );
        }
      }
      done++;
      this.events.emit('import.progress', { importId, projectId, done, total: files.length, current: file });
      flush(false);
    };

    // Decode in parallel, commit in order, so the grid keeps the folder's order.
    await inOrderPool(files, CONCURRENCY, (file) => this.prepare(file, projectId), commit, options.signal);
    flush(true);
    if (imported.length > 0) this.projects.touch(projectId);

    return { importId, projectId, imported, duplicates, skipped, elapsedMs: Math.round(performance.now() - started) };
  }

  /** Reads, hashes and validates one file and makes its thumbnail. Never throws: failures become skips. */
  private async prepare(file: string, projectId: number): Promise<Outcome> {
    const name = path.basename(file);
    let bytes: Buffer;
    try {
      const stat = await fs.stat(file);
      // A device (/dev/zero), a pipe or a socket would be read forever, or block the open: refused before opening.
      if (!stat.isFile()) return { skip: skip(file, 'unreadable', `${name} is not a regular file (a device, pipe or socket)`) };
      if (stat.size > MAX_IMPORT_BYTES) {
        return {
          skip: skip(
            file,
            'too_large',
            `${name} is ${(stat.size / 2 ** 20).toFixed(0)} MB, over the ${MAX_IMPORT_BYTES / 2 ** 20} MB limit`,
          ),
        };
      }
      bytes = await readAtMost(file, MAX_IMPORT_BYTES, name);
    } catch (error) {
      return {
        skip: skip(file, 'unreadable', `${name} could not be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`),
      };
    }
    const hash = crypto.createHash('sha256').update(bytes).digest('hex');
    if (this.images.findByHash(projectId, hash)) {
      return { skip: skip(file, 'duplicate', `${name} is already in this project`) };
    }

    let meta: Metadata;
    try {
      // The header only (no decoding), without sharp's pixel limit, so a huge image is named as such.
      meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    } catch {
      return { skip: skip(file, 'not_an_image', `${name} is not an image (PNG, JPEG or WebP)`) };
    }
    if (!meta.format || !SUPPORTED.has(meta.format)) {
      return {
        skip: skip(
          file,
          'unsupported_format',
          `${name} is ${meta.format?.toUpperCase() ?? 'an unknown format'}; Onbrand imports PNG, JPEG and WebP`,
        ),
      };
    }
    if (meta.width * meta.height > MAX_IMPORT_PIXELS) {
      return {
        skip: skip(
          file,
          'too_large',
          `${name} is too large: ${meta.width}×${meta.height} px, over the limit of ${(MAX_IMPORT_PIXELS / 1e6).toFixed(0)} megapixels (16383×16383)`,
        ),
      };
    }

    let thumbRelative: string;
    let previewRelative: string;
    try {
      // Cached renditions mean this content decoded cleanly before; skip the work. Else one
      // decode (the whole file, so a damaged one is found here) for the thumbnail and the rendition.
      ({ thumbRelative, previewRelative } = await writeRenditions(
        bytes,
        { width: meta.width, height: meta.height, channels: 3 },
        this.dataDir,
        hash,
      ));
    } catch (error) {
      return { skip: skip(file, 'unreadable', `${name} is damaged or truncated (${firstLine((error as Error).message)})`) };
    }
    const rotated = (meta.orientation ?? 1) >= 5;
    const width = rotated ? meta.height : meta.width;
    const height = rotated ? meta.width : meta.height;
    const generation = readGeneration(bytes, { format: meta.format, width, height, exif: meta.exif });
    return { ok: { source: file, hash, bytes, format: meta.format, width, height, thumbRelative, previewRelative, generation } };
  }

  /**
   * Copies the file into the project (never over an existing file) and records it. Null when the
   * same content was recorded meanwhile (another import of the same file, in this process or another).
   */
  private async store(project: Project, prepared: Prepared, sourcePath: string): Promise<ImageSummary | null> {
    const dir = path.join(project.folder, IMPORTS_FOLDER);
    await fs.mkdir(dir, { recursive: true });
    const base = importName(path.basename(prepared.source), prepared.format);
    for (let attempt = 0; ; attempt++) {
      const fileName = await freeFileName(dir, base, (candidate) => this.images.hasPath(project.id, path.join(IMPORTS_FOLDER, candidate)));
      const target = path.join(dir, fileName);
      try {
        await writeAtomically(target, (temp) => fs.writeFile(temp, prepared.bytes), { overwrite: false });
      } catch (error) {
        // Someone else took the name between the check and the write: pick the next one.
        if ((error as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 20) continue;
        throw error;
      }
      const { generation } = prepared;
      try {
        const image = this.images.insert({
          projectId: project.id,
          path: path.join(IMPORTS_FOLDER, fileName),
          contentHash: prepared.hash,
          width: prepared.width,
          height: prepared.height,
          format: prepared.format,
          byteSize: prepared.bytes.length,
          sourcePath,
          // The same fields a generated image has, so export names it by seed and writes its parameters.
          seed: generation?.seed ?? null,
          params: generation ? storedParameters(generation) : undefined,
          thumbPath: prepared.thumbRelative,
          previewPath: prepared.previewRelative,
        });
        return image;
      } catch (error) {
        await fs.rm(target, { force: true });
        const clash = uniqueClash(error);
        if (clash === 'content') return null;
        // Another import recorded this name for a file not yet there: take the next name.
        if (clash === 'path' && attempt < 20) continue;
        throw error;
      }
    }
  }
}

/** The catalogue's `params` for an imported generation: the A1111 text export reads, and the parts. */
function storedParameters(g: ImportedGeneration): {
  parameters: string;
  imported: Omit<ImportedGeneration, 'parameters' | 'seed' | 'prompt' | 'negativePrompt'>;
} {
  return {
    parameters: g.parameters,
    imported: {
      generator: g.generator,
      steps: g.steps,
      sampler: g.sampler,
      scheduleType: g.scheduleType,
      cfg: g.cfg,
      model: g.model,
      loras: g.loras,
    },
  };
}

/** Which of the images table's unique keys an insert ran into, if that is what failed. */
function uniqueClash(error: unknown): 'content' | 'path' | null {
  if ((error as { code?: unknown }).code !== 'SQLITE_CONSTRAINT_UNIQUE') return null;
  const message = (error as Error).message;
  if (message.includes('images.content_hash')) return 'content';
  if (message.includes('images.path')) return 'path';
  return null;
}

function skip(p: string, reason: SkipReason, message: string): ImportSkip {
  return { path: p, reason, message };
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

/**
 * Runs `work` on up to `concurrency` items at once and hands results to `commit` strictly in
 * input order (each commit awaited before the next).
 */
async function inOrderPool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
  commit: (item: T, result: R) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const results = new Map<number, R>();
  let next = 0;
  let committed = 0;
  let committing: Promise<void> = Promise.resolve();

  const drain = async (): Promise<void> => {
    while (results.has(committed)) {
      const result = results.get(committed)!;
      results.delete(committed);
      await commit(items[committed]!, result);
      committed++;
    }
  };

  const worker = async (): Promise<void> => {
    while (next < items.length) {
      signal?.throwIfAborted();
      const index = next++;
      results.set(index, await work(items[index]!));
      committing = committing.then(drain);
      await committing;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  await committing;
}

/** The file's bytes, read through one handle and never more than `limit` (a file that grows while read is refused). */
async function readAtMost(file: string, limit: number, name: string): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    if (size > limit)
      throw Object.assign(new Error(`${name} grew past the ${limit / 2 ** 20} MB limit while it was read`), { code: 'EFBIG' });
    const bytes = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(bytes, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === size ? bytes : bytes.subarray(0, done);
  } finally {
    await handle.close();
  }
}

/** The file extensions each imported format may have; the first is the one given to a file without. */
const EXTENSIONS: Record<string, readonly string[]> = { png: ['.png'], jpeg: ['.jpg', '.jpeg'], webp: ['.webp'] };

/**
 * The name an imported file gets in the project: its own, with its extension in lower case, or,
 * when the extension does not say what the file is (`IMG_0001`, `photo.jfif`, a PNG called
 * `.jpg`), the right one in its place, so the file opens as what it is everywhere.
 */
export function importName(name: string, format: string): string {
  const ext = path.extname(name);
  const allowed = EXTENSIONS[format];
  if (!allowed || allowed.includes(ext.toLowerCase())) return path.basename(name, ext) + ext.toLowerCase();
  return (ext ? path.basename(name, ext) : name) + allowed[0];
}
