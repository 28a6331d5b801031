/**
 * Seeds a real catalogue with a large project (10,000 images) quickly: a few dozen real image
 * files and thumbnails, hard-linked under distinct names, so every row points at a real file.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { DEFAULT_PALETTE } from '../../src-main/core/api/index.js';
import { ImageRepository, ProjectRepository, openCatalog } from '../../src-main/core/catalog/index.js';
import { thumbnailRelativePath, writeThumbnail } from '../../src-main/core/images/index.js';
import { posterSvg } from './images.js';

export interface SeededProject {
  projectId: number;
  folder: string;
  count: number;
}

export async function seedLargeProject(dataDir: string, count = 10_000, distinct = 48): Promise<SeededProject> {
  const db = openCatalog(path.join(dataDir, 'catalog.sqlite'));
  try {
    const folder = path.join(dataDir, 'projects', 'Large');
    const originals = path.join(folder, 'originals');
    const imports = path.join(folder, 'imports');
    fs.mkdirSync(originals, { recursive: true });
    fs.mkdirSync(imports, { recursive: true });
    const projects = new ProjectRepository(db);
    const images = new ImageRepository(db, dataDir);
    const project = projects.create({ name: 'Large', folder, palette: DEFAULT_PALETTE, mood: '', aspect: '9:16' });

    const sources: { file: string; thumb: string }[] = [];
    for (let i = 0; i < distinct; i++) {
      const file = path.join(originals, `source_${i}.png`);
      const bytes = await sharp(posterSvg(i, 288, 512))
        .png()
        .toBuffer();
      fs.writeFileSync(file, bytes);
      const hash = crypto.createHash('sha256').update(bytes).digest('hex');
      const thumb = thumbnailRelativePath(hash);
      await writeThumbnail(bytes, path.join(dataDir, thumb));
      sources.push({ file, thumb });
    }

    const start = Date.parse('2026-11-01T09:00:00Z');
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const source = sources[i % distinct]!;
        const name = `gen_${String(i + 1).padStart(5, '0')}.png`;
        fs.linkSync(source.file, path.join(imports, name));
        const image = images.insert({
          projectId: project.id,
          path: path.join('imports', name),
          contentHash: crypto.createHash('sha256').update(`seed-${i}`).digest('hex'),
          width: 288,
          height: 512,
          format: 'png',
          byteSize: 1,
          seed: 1000 + i,
          createdAt: new Date(start + i * 1000).toISOString(),
        });
        images.setThumbnail(image.id, source.thumb);
      }
    })();
    return { projectId: project.id, folder, count };
  } finally {
    db.close();
  }
}
