import path from 'node:path';
import type { ColourLabel, ImageColour, ImageFlag, ImageSummary } from '../api/index.js';
import type { CatalogDb } from './database.js';

interface ImageRow {
  id: number;
  project_id: number;
  path: string;
  width: number;
  height: number;
  rating: number;
  flag: ImageFlag;
  label: ColourLabel;
  seed: number | null;
  thumb_path: string | null;
  preview_path: string | null;
  created_at: string;
  folder: string;
  palette_key: string;
  job_id: number | null;
  params: string | null;
  sharpness: number | null;
  colour: string | null;
}

export interface NewImage {
  projectId: number;
  /** Relative to the project folder. */
  path: string;
  contentHash: string;
  width: number;
  height: number;
  format: string;
  byteSize: number;
  sourcePath?: string | null;
  seed?: number | null;
  params?: unknown;
  createdAt?: string;
  /** The generation job that made the image, and its index in the job's batch. */
  jobId?: number | null;
  batchIndex?: number | null;
  /** Its grid thumbnail and loupe rendition in the cache (relative to the data folder), recorded with it. */
  thumbPath?: string | null;
  previewPath?: string | null;
}

const SELECT = `
  SELECT p.palette AS palette_key, i.id, i.project_id, i.path, i.width, i.height, i.rating, i.flag, i.label, i.seed, i.thumb_path, i.preview_path, i.created_at, p.folder,
         i.job_id, i.params, i.sharpness, i.colour
  FROM images i JOIN projects p ON p.id = i.project_id`;

/** The queries the grid opens a project with (their plans are checked in images-plan.test.ts). */
export const GRID_QUERIES = {
  list: `${SELECT} WHERE i.project_id = ? ORDER BY i.created_at, i.id`,
  page: `${SELECT} WHERE i.project_id = ? ORDER BY i.created_at, i.id LIMIT ? OFFSET ?`,
  count: 'SELECT COUNT(*) AS n FROM images WHERE project_id = ?',
} as const;

/** Images in the catalogue. Paths are stored relative (project folder, data folder) and returned absolute. */
export class ImageRepository {
  constructor(
    private readonly db: CatalogDb,
    /** The data folder, which thumbnail paths are relative to. */
    private readonly dataDir: string,
  ) {}

  list(projectId: number): ImageSummary[] {
    const rows = this.db.prepare(GRID_QUERIES.list).all(projectId) as ImageRow[];
    return rows.map((r) => this.toSummary(r));
  }

  /**
   * One page of a project's images in capture order (the order of `list`), read on the
   * `images_by_project` index: the grid's first screenful comes without reading the rest.
   */
  page(projectId: number, offset: number, limit: number): ImageSummary[] {
    const rows = this.db.prepare(GRID_QUERIES.page).all(projectId, limit, offset) as ImageRow[];
    return rows.map((r) => this.toSummary(r));
  }

  /** How many images a project holds. */
  count(projectId: number): number {
    return (this.db.prepare(GRID_QUERIES.count).get(projectId) as { n: number }).n;
  }

  /** The highest image id (0 when none): a mark to find the images other processes add. */
  maxId(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM images').get() as { id: number }).id;
  }

  /** Images recorded after `id`, oldest first. */
  after(id: number): ImageSummary[] {
    const rows = this.db.prepare(`${SELECT} WHERE i.id > ? ORDER BY i.id`).all(id) as ImageRow[];
    return rows.map((r) => this.toSummary(r));
  }

  get(id: number): ImageSummary | undefined {
    const row = this.db.prepare(`${SELECT} WHERE i.id = ?`).get(id) as ImageRow | undefined;
    return row && this.toSummary(row);
  }

  findByHash(projectId: number, contentHash: string): ImageSummary | undefined {
    const row = this.db.prepare(`${SELECT} WHERE i.project_id = ? AND i.content_hash = ?`).get(projectId, contentHash) as
      ImageRow | undefined;
    return row && this.toSummary(row);
  }

  /** Relative paths already used in a project (to pick a free file name). */
  hasPath(projectId: number, relativePath: string): boolean {
    return this.db.prepare('SELECT 1 FROM images WHERE project_id = ? AND path = ?').get(projectId, relativePath) !== undefined;
  }

  insert(image: NewImage): ImageSummary {
    const info = this.db
      .prepare(
        `INSERT INTO images (project_id, path, content_hash, width, height, format, byte_size, source_path, seed, params, created_at, job_id, batch_index, thumb_path, preview_path)
         VALUES (@projectId, @path, @contentHash, @width, @height, @format, @byteSize, @sourcePath, @seed, @params, @createdAt, @jobId, @batchIndex, @thumbPath, @previewPath)`,
      )
      .run({
        projectId: image.projectId,
        path: image.path,
        contentHash: image.contentHash,
        width: image.width,
        height: image.height,
        format: image.format,
        byteSize: image.byteSize,
        sourcePath: image.sourcePath ?? null,
        seed: image.seed ?? null,
        params: image.params === undefined ? null : JSON.stringify(image.params),
        createdAt: image.createdAt ?? new Date().toISOString(),
        jobId: image.jobId ?? null,
        batchIndex: image.batchIndex ?? null,
        thumbPath: image.thumbPath ?? null,
        previewPath: image.previewPath ?? null,
      });
    return this.get(Number(info.lastInsertRowid))!;
  }

  /** The stored location and marks of an image (paths relative to its project folder). */
  marks(
    id: number,
  ):
    | { id: number; projectId: number; folder: string; path: string; originalPath: string | null; rating: number; flag: ImageFlag }
    | undefined {
    const row = this.db
      .prepare(
        'SELECT i.id, i.project_id, p.folder, i.path, i.original_path, i.rating, i.flag FROM images i JOIN projects p ON p.id = i.project_id WHERE i.id = ?',
      )
      .get(id) as
      | { id: number; project_id: number; folder: string; path: string; original_path: string | null; rating: number; flag: ImageFlag }
      | undefined;
    return (
      row && {
        id: row.id,
        projectId: row.project_id,
        folder: row.folder,
        path: row.path,
        originalPath: row.original_path,
        rating: row.rating,
        flag: row.flag,
      }
    );
  }

  setMarks(id: number, marks: { rating: number; flag: ImageFlag; path: string; originalPath: string | null }): void {
    this.db
      .prepare('UPDATE images SET rating = ?, flag = ?, path = ?, original_path = ? WHERE id = ?')
      .run(marks.rating, marks.flag, marks.path, marks.originalPath, id);
  }

  setLabel(id: number, label: ColourLabel): void {
    this.db.prepare('UPDATE images SET label = ? WHERE id = ?').run(label, id);
  }

  /** Images whose file was being moved (reject / restore) when the app stopped. */
  withOriginalPath(): { id: number; folder: string; path: string; originalPath: string; flag: ImageFlag }[] {
    return (
      this.db
        .prepare(
          'SELECT i.id, p.folder, i.path, i.original_path, i.flag FROM images i JOIN projects p ON p.id = i.project_id WHERE i.original_path IS NOT NULL',
        )
        .all() as { id: number; folder: string; path: string; original_path: string; flag: ImageFlag }[]
    ).map((r) => ({ id: r.id, folder: r.folder, path: r.path, originalPath: r.original_path, flag: r.flag }));
  }

  /** Stores the colour analysis, tagged with the palette it was made for. */
  setColour(id: number, colour: ImageColour, paletteKey: string): void {
    this.db.prepare('UPDATE images SET colour = ? WHERE id = ?').run(JSON.stringify({ ...colour, paletteKey }), id);
  }

  /** The A1111 parameter text stored with an image (generated, or imported with its parameters); null when none. */
  parameters(id: number): string | null {
    const row = this.db.prepare('SELECT params FROM images WHERE id = ?').get(id) as { params: string | null } | undefined;
    if (!row?.params) return null;
    try {
      const text = (JSON.parse(row.params) as { parameters?: unknown }).parameters;
      return typeof text === 'string' ? text : null;
    } catch {
      return null;
    }
  }

  setSharpness(id: number, sharpness: number): void {
    this.db.prepare('UPDATE images SET sharpness = ? WHERE id = ?').run(sharpness, id);
  }

  /** Batch indices of a job's images that are recorded. */
  jobIndices(jobId: number): Set<number> {
    const rows = this.db.prepare('SELECT batch_index FROM images WHERE job_id = ? AND batch_index IS NOT NULL').all(jobId) as {
      batch_index: number;
    }[];
    return new Set(rows.map((r) => r.batch_index));
  }

  /** Records where an image's thumbnail sits (relative to the data folder). */
  setThumbnail(id: number, relativeThumbPath: string): void {
    this.db.prepare('UPDATE images SET thumb_path = ? WHERE id = ?').run(relativeThumbPath, id);
  }

  /** Records where an image's loupe rendition sits (relative to the data folder). */
  setPreview(id: number, relativePreviewPath: string): void {
    this.db.prepare('UPDATE images SET preview_path = ? WHERE id = ?').run(relativePreviewPath, id);
  }

  private toSummary(row: ImageRow): ImageSummary {
    return {
      id: row.id,
      projectId: row.project_id,
      path: path.join(row.folder, row.path),
      fileName: path.basename(row.path),
      thumbPath: row.thumb_path === null ? null : path.join(this.dataDir, row.thumb_path),
      previewPath: row.preview_path === null ? null : path.join(this.dataDir, row.preview_path),
      width: row.width,
      height: row.height,
      rating: row.rating,
      flag: row.flag,
      label: row.label,
      seed: row.seed,
      createdAt: row.created_at,
      jobId: row.job_id,
      prompt: promptOf(row.params),
      sharpness: row.sharpness,
      colour: colourOf(row.colour, row.palette_key),
    };
  }
}

/** The prompt part of A1111 parameters stored with a generated image. */
function promptOf(params: string | null): string | null {
  if (!params) return null;
  try {
    const text = (JSON.parse(params) as { parameters?: unknown }).parameters;
    if (typeof text !== 'string') return null;
    const end = text.search(/\n(Negative prompt:|Steps: )/);
    return end < 0 ? text : text.slice(0, end);
  } catch {
    return null;
  }
}

/** The cached analysis, if it was made for the project's current palette (else it is stale: null). */
function colourOf(stored: string | null, palette: string): ImageColour | null {
  if (!stored) return null;
  try {
    const { paletteKey, ...colour } = JSON.parse(stored) as ImageColour & { paletteKey?: string };
    return paletteKey === palette ? colour : null;
  } catch {
    return null;
  }
}
