import path from 'node:path';
import type { PaletteEntry, Reference } from '../api/index.js';
import type { CatalogDb } from './database.js';

interface RefRow {
  id: number;
  project_id: number;
  path: string;
  width: number;
  height: number;
  source_url: string | null;
  author: string | null;
  author_url: string | null;
  licence: string | null;
  palette: string | null;
  position: number;
  created_at: string;
  folder: string;
}

export interface NewReference {
  projectId: number;
  path: string;
  contentHash: string;
  width: number;
  height: number;
  sourceUrl: string | null;
  author: string | null;
  authorUrl: string | null;
  licence: string | null;
  palette: PaletteEntry[];
}

const SELECT = 'SELECT r.*, p.folder FROM refs r JOIN projects p ON p.id = r.project_id';

/** Mood-board references, in board order. */
export class RefRepository {
  constructor(private readonly db: CatalogDb) {}

  list(projectId: number): Reference[] {
    return (this.db.prepare(`${SELECT} WHERE r.project_id = ? ORDER BY r.position, r.id`).all(projectId) as RefRow[]).map(toReference);
  }

  get(id: number): Reference | undefined {
    const row = this.db.prepare(`${SELECT} WHERE r.id = ?`).get(id) as RefRow | undefined;
    return row && toReference(row);
  }

  hasHash(projectId: number, hash: string): boolean {
    return this.db.prepare('SELECT 1 FROM refs WHERE project_id = ? AND content_hash = ?').get(projectId, hash) !== undefined;
  }

  hasPath(projectId: number, relative: string): boolean {
    return this.db.prepare('SELECT 1 FROM refs WHERE project_id = ? AND path = ?').get(projectId, relative) !== undefined;
  }

  insert(ref: NewReference): Reference {
    const position = (
      this.db.prepare('SELECT COALESCE(MAX(position), 0) + 1 AS p FROM refs WHERE project_id = ?').get(ref.projectId) as { p: number }
    ).p;
    const info = this.db
      .prepare(
        `INSERT INTO refs (project_id, path, content_hash, width, height, source_url, author, author_url, licence, palette, position, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        ref.projectId,
        ref.path,
        ref.contentHash,
        ref.width,
        ref.height,
        ref.sourceUrl,
        ref.author,
        ref.authorUrl,
        ref.licence,
        JSON.stringify(ref.palette),
        position,
        new Date().toISOString(),
      );
    return this.get(Number(info.lastInsertRowid))!;
  }

  remove(projectId: number, ids: readonly number[]): Reference[] {
    const removed = ids.map((id) => this.get(id)).filter((r): r is Reference => !!r && r.projectId === projectId);
    const del = this.db.prepare('DELETE FROM refs WHERE id = ?');
    this.db.transaction(() => removed.forEach((r) => del.run(r.id)))();
    return removed;
  }

  move(id: number, position: number): Reference[] {
    const ref = this.get(id);
    if (!ref) return [];
    const order = this.list(ref.projectId)
      .map((r) => r.id)
      .filter((r) => r !== id);
    order.splice(Math.min(position, order.length), 0, id);
    const update = this.db.prepare('UPDATE refs SET position = ? WHERE id = ?');
    this.db.transaction(() => order.forEach((refId, i) => update.run(i + 1, refId)))();
    return this.list(ref.projectId);
  }
}

function toReference(row: RefRow): Reference {
  return {
    id: row.id,
    projectId: row.project_id,
    path: path.join(row.folder, row.path),
    fileName: path.basename(row.path),
    width: row.width,
    height: row.height,
    sourceUrl: row.source_url,
    author: row.author,
    authorUrl: row.author_url,
    licence: row.licence,
    palette: row.palette ? (JSON.parse(row.palette) as PaletteEntry[]) : [],
    position: row.position,
    createdAt: row.created_at,
  };
}
