import type { Section } from '../api/index.js';
import type { CatalogDb } from './database.js';

interface SectionRow {
  id: number;
  project_id: number;
  name: string;
  position: number;
  background_hex: string | null;
  slot_width: number | null;
  slot_height: number | null;
  image_id: number | null;
}

/** A project's page sections, in page order. */
export class SectionRepository {
  constructor(private readonly db: CatalogDb) {}

  list(projectId: number): Section[] {
    return (this.db.prepare('SELECT * FROM sections WHERE project_id = ? ORDER BY position, id').all(projectId) as SectionRow[]).map(
      toSection,
    );
  }

  get(id: number): Section | undefined {
    const row = this.db.prepare('SELECT * FROM sections WHERE id = ?').get(id) as SectionRow | undefined;
    return row && toSection(row);
  }

  findByName(projectId: number, name: string): Section | undefined {
    const row = this.db.prepare('SELECT * FROM sections WHERE project_id = ? AND name = ?').get(projectId, name) as SectionRow | undefined;
    return row && toSection(row);
  }

  insert(projectId: number, fields: { name: string; backgroundHex: string | null; slotWidth: number; slotHeight: number }): Section {
    const position = (
      this.db.prepare('SELECT COALESCE(MAX(position), 0) + 1 AS p FROM sections WHERE project_id = ?').get(projectId) as { p: number }
    ).p;
    const info = this.db
      .prepare(
        'INSERT INTO sections (project_id, name, position, background_hex, slot_width, slot_height, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        projectId,
        fields.name,
        position,
        fields.backgroundHex?.toUpperCase() ?? null,
        fields.slotWidth,
        fields.slotHeight,
        new Date().toISOString(),
      );
    return this.get(Number(info.lastInsertRowid))!;
  }

  update(id: number, fields: { name: string; backgroundHex: string | null; slotWidth: number; slotHeight: number }): Section | undefined {
    this.db
      .prepare('UPDATE sections SET name = ?, background_hex = ?, slot_width = ?, slot_height = ? WHERE id = ?')
      .run(fields.name, fields.backgroundHex?.toUpperCase() ?? null, fields.slotWidth, fields.slotHeight, id);
    return this.get(id);
  }

  remove(id: number): boolean {
    return this.db.prepare('DELETE FROM sections WHERE id = ?').run(id).changes > 0;
  }

  pair(id: number, imageId: number | null): Section | undefined {
    this.db.prepare('UPDATE sections SET image_id = ? WHERE id = ?').run(imageId, id);
    return this.get(id);
  }

  move(id: number, position: number): Section[] {
    const section = this.get(id);
    if (!section) return [];
    const order = this.list(section.projectId)
      .map((s) => s.id)
      .filter((s) => s !== id);
    order.splice(Math.min(position, order.length), 0, id);
    const update = this.db.prepare('UPDATE sections SET position = ? WHERE id = ?');
    this.db.transaction(() => order.forEach((sectionId, i) => update.run(i + 1, sectionId)))();
    return this.list(section.projectId);
  }
}

function toSection(row: SectionRow): Section {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    position: row.position,
    backgroundHex: row.background_hex,
    slotWidth: row.slot_width ?? 1080,
    slotHeight: row.slot_height ?? 1920,
    imageId: row.image_id,
  };
}
