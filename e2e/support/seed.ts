/**
 * Seeds a real catalogue with a large project (10,000 images) quickly: a few dozen real image
 * files and thumbnails, hard-linked under distinct names, so every row points at a real file.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { DEFAULT_PALETTE } from '../../src-main/core/api/index.js';
import { ProjectRepository, openCatalog } from '../../src-main/core/catalog/index.js';
import { thumbnailRelativePath, writeThumbnail } from '../../src-main/core/images/index.js';
import { posterSvg } from './images.js';

export interface SeededProject {
  projectId: number;
  folder: string;
  count: number;
}

export interface SeedOptions {
  /** The project's name (and folder's); `Large` unless told. */
  name?: string;
  /** The minute the first image was captured; the others follow a second apart. */
  startAt?: string;
}

/**
 * A project of `count` images over `distinct` real files and thumbnails. One prepared INSERT in
 * one transaction, thumbnail path included: 100,000 rows take a few seconds.
 */
export async function seedLargeProject(dataDir: string, count = 10_000, distinct = 48, options: SeedOptions = {}): Promise<SeededProject> {
  const db = openCatalog(path.join(dataDir, 'catalog.sqlite'));
  try {
    const name = options.name ?? 'Large';
    const folder = path.join(dataDir, 'projects', name);
    const originals = path.join(folder, 'originals');
    const imports = path.join(folder, 'imports');
    fs.mkdirSync(originals, { recursive: true });
    fs.mkdirSync(imports, { recursive: true });
    const projects = new ProjectRepository(db);
    const project = projects.create({ name, folder, palette: DEFAULT_PALETTE, mood: '', aspect: '9:16' });

    const sources: { file: string; thumb: string }[] = [];
    for (let i = 0; i < distinct; i++) {
      const file = path.join(originals, `source_${i}.png`);
      const bytes = await sharp(posterSvg(i, 288, 512))
        .png()
        .toBuffer();
      fs.writeFileSync(file, bytes);
      const hash = crypto.createHash('sha256').update(bytes).digest('hex');
      const thumb = thumbnailRelativePath(hash);
      const target = path.join(dataDir, thumb);
      if (!fs.existsSync(target)) await writeThumbnail(bytes, target);
      sources.push({ file, thumb });
    }

    const start = Date.parse(options.startAt ?? '2026-11-01T09:00:00Z');
    const insert = db.prepare(
      `INSERT INTO images (project_id, path, content_hash, width, height, format, byte_size, seed, created_at, thumb_path)
       VALUES (?, ?, ?, 288, 512, 'png', 1, ?, ?, ?)`,
    );
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const source = sources[i % distinct]!;
        const file = `gen_${String(i + 1).padStart(6, '0')}.png`;
        fs.linkSync(source.file, path.join(imports, file));
        const hash = crypto.createHash('sha256').update(`${name}-seed-${i}`).digest('hex');
        insert.run(project.id, path.join('imports', file), hash, 1000 + i, new Date(start + i * 1000).toISOString(), source.thumb);
      }
    })();
    return { projectId: project.id, folder, count };
  } finally {
    db.close();
  }
}
