import type { BrandColour, Project } from '../api/index.js';
import type { CatalogDb } from './database.js';

interface ProjectRow {
  id: number;
  name: string;
  folder: string;
  palette: string;
  mood: string;
  aspect: string;
  created_at: string;
  updated_at: string;
  image_count: number;
}

export interface NewProject {
  name: string;
  folder: string;
  palette: readonly BrandColour[];
  mood: string;
  aspect: string;
}

const SELECT = `
  SELECT p.*, (SELECT COUNT(*) FROM images i WHERE i.project_id = p.id) AS image_count
  FROM projects p`;

/** Projects in the catalogue. */
export class ProjectRepository {
  constructor(private readonly db: CatalogDb) {}

  list(): Project[] {
    return (this.db.prepare(`${SELECT} ORDER BY p.updated_at DESC, p.id DESC`).all() as ProjectRow[]).map(toProject);
  }

  get(id: number): Project | undefined {
    const row = this.db.prepare(`${SELECT} WHERE p.id = ?`).get(id) as ProjectRow | undefined;
    return row && toProject(row);
  }

  findByName(name: string): Project | undefined {
    const row = this.db.prepare(`${SELECT} WHERE p.name = ? COLLATE NOCASE`).get(name) as ProjectRow | undefined;
    return row && toProject(row);
  }

  findByFolder(folder: string): Project | undefined {
    const row = this.db.prepare(`${SELECT} WHERE p.folder = ?`).get(folder) as ProjectRow | undefined;
    return row && toProject(row);
  }

  /** Every project folder: the roots that file access is confined to. */
  folders(): string[] {
    return (this.db.prepare('SELECT folder FROM projects').all() as { folder: string }[]).map((r) => r.folder);
  }

  create(project: NewProject, now = new Date().toISOString()): Project {
    const info = this.db
      .prepare(
        `INSERT INTO projects (name, folder, palette, mood, aspect, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(project.name, project.folder, JSON.stringify(project.palette), project.mood, project.aspect, now, now);
    return this.get(Number(info.lastInsertRowid))!;
  }

  rename(id: number, name: string, now = new Date().toISOString()): Project | undefined {
    this.db.prepare('UPDATE projects SET name = ?, updated_at = ? WHERE id = ?').run(name, now, id);
    return this.get(id);
  }

  update(
    id: number,
    fields: { mood?: string | undefined; palette?: readonly BrandColour[] | undefined },
    now = new Date().toISOString(),
  ): Project | undefined {
    if (fields.mood !== undefined) this.db.prepare('UPDATE projects SET mood = ?, updated_at = ? WHERE id = ?').run(fields.mood, now, id);
    if (fields.palette !== undefined)
      this.db.prepare('UPDATE projects SET palette = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(fields.palette), now, id);
    return this.get(id);
  }

  touch(id: number, now = new Date().toISOString()): void {
    this.db.prepare('UPDATE projects SET updated_at = ? WHERE id = ?').run(now, id);
  }
}

function toProject(row: ProjectRow): Project {
  return {
    id: row.id,
    name: row.name,
    folder: row.folder,
    palette: JSON.parse(row.palette) as BrandColour[],
    mood: row.mood,
    aspect: row.aspect,
    imageCount: row.image_count,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
