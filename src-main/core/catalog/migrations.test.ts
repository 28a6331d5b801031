import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCatalog, schemaVersion, type CatalogDb } from './database.js';
import { LATEST_VERSION, migrations } from './migrations/index.js';

let dir: string;
let file: string;
const open: CatalogDb[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-migrations-'));
  file = path.join(dir, 'catalog.sqlite');
});

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function openAt(targetVersion?: number): CatalogDb {
  const db = openCatalog(file, targetVersion === undefined ? {} : { targetVersion });
  open.push(db);
  return db;
}

function tables(db: CatalogDb): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
}

function columns(db: CatalogDb, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((r) => r.name);
}

function indexes(db: CatalogDb): string[] {
  return (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").all() as { name: string }[]
  ).map((r) => r.name);
}

const NOW = '2025-01-02T03:04:05.000Z';

function insertProject(db: CatalogDb, name = 'Spring drop'): number {
  const info = db
    .prepare(
      `INSERT INTO projects (name, folder, palette, mood, aspect, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(name, path.join(dir, 'projects', name), JSON.stringify([{ name: 'magenta', hex: '#FE2C54' }]), 'bold', '9:16', NOW, NOW);
  return Number(info.lastInsertRowid);
}

function insertImage(db: CatalogDb, projectId: number, name = 'a.png'): number {
  const info = db
    .prepare(
      `INSERT INTO images (project_id, path, content_hash, width, height, format, byte_size, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(projectId, `imports/${name}`, `hash-${name}`, 64, 96, 'png', 1234, NOW);
  return Number(info.lastInsertRowid);
}

describe('migration registry', () => {
  it('numbers its steps 1, 2, 3, … strictly increasing, and LATEST_VERSION is the last', () => {
    expect(migrations.length).toBeGreaterThanOrEqual(3);
    migrations.forEach((m, i) => {
      expect(m.version).toBe(i + 1);
      if (i > 0) expect(m.version).toBeGreaterThan(migrations[i - 1]!.version);
      expect(m.name).toMatch(/^[a-z0-9-]+$/);
    });
    expect(LATEST_VERSION).toBe(migrations[migrations.length - 1]!.version);
    expect(new Set(migrations.map((m) => m.name)).size).toBe(migrations.length);
  });
});

describe('a new catalogue', () => {
  it('is created at the latest version, in WAL mode, with foreign keys on', () => {
    const db = openAt();
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('deleting a project cascades to its images', () => {
    const db = openAt();
    const keep = insertProject(db, 'Keep');
    const gone = insertProject(db, 'Gone');
    insertImage(db, keep, 'k.png');
    insertImage(db, gone, 'g1.png');
    insertImage(db, gone, 'g2.png');
    db.prepare('DELETE FROM projects WHERE id = ?').run(gone);
    const rows = db.prepare('SELECT project_id, path FROM images').all() as { project_id: number; path: string }[];
    expect(rows).toEqual([{ project_id: keep, path: 'imports/k.png' }]);
  });

  it('refuses an image whose project does not exist', () => {
    const db = openAt();
    expect(() => insertImage(db, 999)).toThrow(/FOREIGN KEY/);
  });

  it('opening again at the same version changes nothing', () => {
    const first = openAt();
    const id = insertProject(first);
    first.close();
    const again = openAt();
    expect(schemaVersion(again)).toBe(LATEST_VERSION);
    expect((again.prepare('SELECT id FROM projects').all() as { id: number }[]).map((r) => r.id)).toEqual([id]);
  });
});

describe('migration 0001 projects-images', () => {
  it('creates projects and images from an empty file', () => {
    const db = openAt(1);
    expect(schemaVersion(db)).toBe(1);
    expect(tables(db)).toEqual(['images', 'projects']);
    expect(columns(db, 'projects')).toEqual(['id', 'name', 'folder', 'palette', 'mood', 'aspect', 'created_at', 'updated_at']);
    expect(columns(db, 'images')).toContain('content_hash');
    expect(columns(db, 'images')).not.toContain('job_id');
    expect(indexes(db)).toContain('images_by_project');
  });

  it('enforces unique names (case-insensitive), unique content per project, and rating/flag checks', () => {
    const db = openAt(1);
    const p = insertProject(db, 'Spring');
    expect(() => insertProject(db, 'SPRING')).toThrow(/UNIQUE/);
    insertImage(db, p, 'a.png');
    expect(() => insertImage(db, p, 'a.png')).toThrow(/UNIQUE/);
    const img = insertImage(db, p, 'b.png');
    expect(() => db.prepare('UPDATE images SET rating = 6 WHERE id = ?').run(img)).toThrow(/CHECK/);
    expect(() => db.prepare("UPDATE images SET flag = 'maybe' WHERE id = ?").run(img)).toThrow(/CHECK/);
    db.prepare("UPDATE images SET rating = 5, flag = 'pick' WHERE id = ?").run(img);
  });
});

describe('migration 0002 references-jobs', () => {
  it('adds refs, jobs and images.job_id; version 1 data survives', () => {
    const v1 = openAt(1);
    const projectId = insertProject(v1);
    const imageId = insertImage(v1, projectId);
    v1.close();

    const db = openAt(2);
    expect(schemaVersion(db)).toBe(2);
    expect(tables(db)).toEqual(['images', 'jobs', 'projects', 'refs']);
    expect(columns(db, 'images')).toContain('job_id');
    expect(columns(db, 'jobs')).toEqual(
      expect.arrayContaining(['state', 'prompt', 'negative_prompt', 'settings', 'batch_size', 'seed', 'attempts', 'error']),
    );
    expect(columns(db, 'refs')).toEqual(expect.arrayContaining(['source_url', 'author', 'author_url', 'licence', 'palette']));
    expect(indexes(db)).toEqual(expect.arrayContaining(['jobs_by_state', 'images_by_job']));

    const image = db.prepare('SELECT project_id, path, width, height, job_id FROM images WHERE id = ?').get(imageId);
    expect(image).toEqual({ project_id: projectId, path: 'imports/a.png', width: 64, height: 96, job_id: null });

    // The new link works: deleting a job leaves its image, unlinked.
    const job = db
      .prepare(`INSERT INTO jobs (project_id, prompt, settings, batch_size, seed, created_at) VALUES (?, 'a cat', '{}', 4, 42, ?)`)
      .run(projectId, NOW);
    db.prepare('UPDATE images SET job_id = ? WHERE id = ?').run(job.lastInsertRowid, imageId);
    db.prepare('DELETE FROM jobs WHERE id = ?').run(job.lastInsertRowid);
    expect(db.prepare('SELECT job_id FROM images WHERE id = ?').get(imageId)).toEqual({ job_id: null });
    expect(() =>
      db
        .prepare(`INSERT INTO jobs (project_id, prompt, settings, batch_size, seed, created_at) VALUES (?, 'x', '{}', 65, 1, ?)`)
        .run(projectId, NOW),
    ).toThrow(/CHECK/);
  });
});

describe('migration 0003 sections-exports-timelog', () => {
  it('adds sections, exports and time_log; version 2 data survives', () => {
    const v2 = openAt(2);
    const projectId = insertProject(v2);
    const imageId = insertImage(v2, projectId);
    v2.prepare(
      `INSERT INTO refs (project_id, path, content_hash, width, height, author, created_at) VALUES (?, 'references/r.jpg', 'h', 10, 20, 'Ann', ?)`,
    ).run(projectId, NOW);
    v2.prepare(
      `INSERT INTO jobs (project_id, prompt, settings, batch_size, seed, created_at) VALUES (?, 'a dog', '{"steps":20}', 2, 7, ?)`,
    ).run(projectId, NOW);
    v2.close();

    const db = openAt(3);
    expect(schemaVersion(db)).toBe(3);
    expect(tables(db)).toEqual(['exports', 'images', 'jobs', 'projects', 'refs', 'sections', 'time_log']);
    expect(columns(db, 'sections')).toEqual(expect.arrayContaining(['name', 'background_hex', 'slot_width', 'slot_height', 'image_id']));
    expect(columns(db, 'exports')).toEqual(expect.arrayContaining(['target', 'path', 'byte_size', 'width', 'height']));
    expect(columns(db, 'time_log')).toEqual(expect.arrayContaining(['phase', 'started_at', 'ended_at', 'gpu_seconds', 'cost_usd']));
    expect(indexes(db)).toContain('time_log_by_project');

    expect(db.prepare('SELECT author FROM refs').all()).toEqual([{ author: 'Ann' }]);
    expect(db.prepare('SELECT prompt, settings FROM jobs').all()).toEqual([{ prompt: 'a dog', settings: '{"steps":20}' }]);
    expect(db.prepare('SELECT id FROM images').all()).toEqual([{ id: imageId }]);

    db.prepare(`INSERT INTO sections (project_id, name, image_id, created_at) VALUES (?, 'hero', ?, ?)`).run(projectId, imageId, NOW);
    db.prepare(`INSERT INTO time_log (project_id, phase, started_at) VALUES (?, 'curate', ?)`).run(projectId, NOW);
    expect(() => db.prepare(`INSERT INTO time_log (project_id, phase, started_at) VALUES (?, 'lunch', ?)`).run(projectId, NOW)).toThrow(
      /CHECK/,
    );
    db.prepare('DELETE FROM images WHERE id = ?').run(imageId);
    expect(db.prepare('SELECT image_id FROM sections').get()).toEqual({ image_id: null });
    db.prepare('DELETE FROM projects WHERE id = ?').run(projectId);
    for (const t of ['sections', 'time_log', 'refs', 'jobs']) {
      expect(db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get()).toEqual({ n: 0 });
    }
  });
});

describe('migration 0004 queue-presets-settings', () => {
  it('adds jobs.gpu_seconds, images.batch_index (unique per job), presets, app_settings, time_corrections; version 3 data survives', () => {
    const v3 = openAt(3);
    const now = '2026-11-25T10:00:00.000Z';
    v3.prepare("INSERT INTO projects (id, name, folder, palette, created_at, updated_at) VALUES (1, 'P', '/tmp/p', '[]', ?, ?)").run(
      now,
      now,
    );
    v3.prepare("INSERT INTO jobs (id, project_id, prompt, settings, batch_size, seed, created_at) VALUES (1, 1, 'a', '{}', 2, 5, ?)").run(
      now,
    );
    v3.prepare(
      "INSERT INTO images (project_id, path, content_hash, width, height, format, byte_size, job_id, seed, created_at) VALUES (1, 'g/a.png', 'h1', 8, 8, 'png', 1, 1, 5, ?)",
    ).run(now);
    v3.close();

    const v4 = openAt(4);
    expect(schemaVersion(v4)).toBe(4);
    expect(tables(v4)).toEqual(expect.arrayContaining(['presets', 'app_settings', 'time_corrections']));
    expect(columns(v4, 'jobs')).toContain('gpu_seconds');
    expect(columns(v4, 'images')).toContain('batch_index');
    expect(v4.prepare('SELECT gpu_seconds FROM jobs WHERE id = 1').get()).toEqual({ gpu_seconds: 0 });
    expect(v4.prepare('SELECT seed, batch_index FROM images').get()).toEqual({ seed: 5, batch_index: null });
    const insert = v4.prepare(
      "INSERT INTO images (project_id, path, content_hash, width, height, format, byte_size, job_id, batch_index, created_at) VALUES (1, ?, ?, 8, 8, 'png', 1, 1, ?, ?)",
    );
    insert.run('g/b.png', 'h2', 0, now);
    // The same image of the same job cannot be recorded twice.
    expect(() => insert.run('g/c.png', 'h3', 0, now)).toThrow(/UNIQUE/);
    v4.prepare("INSERT INTO presets (project_id, name, settings, created_at) VALUES (1, 'Brand loop v2', '{}', ?)").run(now);
    expect(() =>
      v4.prepare("INSERT INTO presets (project_id, name, settings, created_at) VALUES (1, 'BRAND LOOP V2', '{}', ?)").run(now),
    ).toThrow(/UNIQUE/);
  });
});

describe('migration 0005 curation', () => {
  it('adds images.sharpness and images.original_path; version 4 data survives', () => {
    const v4 = openAt(4);
    const now = '2026-11-25T10:00:00.000Z';
    v4.prepare("INSERT INTO projects (id, name, folder, palette, created_at, updated_at) VALUES (1, 'P', '/tmp/p', '[]', ?, ?)").run(
      now,
      now,
    );
    v4.prepare(
      "INSERT INTO images (project_id, path, content_hash, width, height, format, byte_size, rating, flag, created_at) VALUES (1, 'a.png', 'h', 8, 8, 'png', 1, 3, 'pick', ?)",
    ).run(now);
    v4.close();
    const v5 = openAt(5);
    expect(schemaVersion(v5)).toBe(5);
    expect(v5.prepare('SELECT rating, flag, sharpness, original_path FROM images').get()).toEqual({
      rating: 3,
      flag: 'pick',
      sharpness: null,
      original_path: null,
    });
    expect(indexes(v5)).toContain('images_by_flag');
  });
});

describe('migration 0006 colour', () => {
  it('adds images.colour; version 5 data survives', () => {
    const v5 = openAt(5);
    const now = '2026-11-25T10:00:00.000Z';
    v5.prepare("INSERT INTO projects (id, name, folder, palette, created_at, updated_at) VALUES (1, 'P', '/tmp/p', '[]', ?, ?)").run(
      now,
      now,
    );
    v5.prepare(
      "INSERT INTO images (project_id, path, content_hash, width, height, format, byte_size, sharpness, created_at) VALUES (1, 'a.png', 'h', 8, 8, 'png', 1, 12.5, ?)",
    ).run(now);
    v5.close();
    const v6 = openAt(6);
    expect(schemaVersion(v6)).toBe(6);
    expect(v6.prepare('SELECT sharpness, colour FROM images').get()).toEqual({ sharpness: 12.5, colour: null });
  });
});

describe('migration 0007 drafts', () => {
  it('adds drafts; version 6 data survives', () => {
    const v6 = openAt(6);
    const now = '2026-11-25T10:00:00.000Z';
    v6.prepare("INSERT INTO projects (id, name, folder, palette, created_at, updated_at) VALUES (1, 'P', '/tmp/p', '[]', ?, ?)").run(
      now,
      now,
    );
    v6.close();
    const v7 = openAt(7);
    expect(schemaVersion(v7)).toBe(7);
    expect(tables(v7)).toContain('drafts');
    v7.prepare("INSERT INTO drafts (project_id, text, source, annotations, created_at) VALUES (1, 'a', 'offline', '{}', ?)").run(now);
    expect(() =>
      v7.prepare("INSERT INTO drafts (project_id, text, source, annotations, created_at) VALUES (1, 'a', 'gpt', '{}', ?)").run(now),
    ).toThrow(/CHECK/);
  });
});

describe('migration 0008 job-interruptions', () => {
  it('adds jobs.interruptions, 0 for existing jobs; version 7 data survives', () => {
    const v7 = openAt(7);
    const now = '2026-11-25T10:00:00.000Z';
    v7.prepare("INSERT INTO projects (id, name, folder, palette, created_at, updated_at) VALUES (1, 'P', '/tmp/p', '[]', ?, ?)").run(
      now,
      now,
    );
    v7.prepare(
      "INSERT INTO jobs (id, project_id, state, prompt, settings, batch_size, seed, created_at) VALUES (1, 1, 'running', 'a', '{}', 6, 9, ?)",
    ).run(now);
    v7.close();
    const v8 = openAt(8);
    expect(schemaVersion(v8)).toBe(8);
    expect(columns(v8, 'jobs')).toContain('interruptions');
    expect(v8.prepare('SELECT state, seed, attempts, interruptions FROM jobs').get()).toEqual({
      state: 'running',
      seed: 9,
      attempts: 0,
      interruptions: 0,
    });
  });
});

describe('migration 0011 draft-refine', () => {
  it('adds jobs.draft (0 for existing jobs), the image a job refines and its img2img start; a removed image leaves NULL', () => {
    const v10 = openAt(10);
    const projectId = insertProject(v10);
    const imageId = insertImage(v10, projectId);
    v10
      .prepare(
        "INSERT INTO jobs (id, project_id, state, prompt, settings, batch_size, seed, created_at) VALUES (1, ?, 'done', 'a', '{}', 6, 9, ?)",
      )
      .run(projectId, NOW);
    v10.close();
    const v11 = openAt(11);
    expect(schemaVersion(v11)).toBe(11);
    expect(columns(v11, 'jobs')).toEqual(expect.arrayContaining(['draft', 'refines_image_id', 'init_image_id', 'init_strength']));
    expect(v11.prepare('SELECT draft, refines_image_id, init_image_id, init_strength FROM jobs').get()).toEqual({
      draft: 0,
      refines_image_id: null,
      init_image_id: null,
      init_strength: null,
    });
    const insert = v11.prepare(
      `INSERT INTO jobs (project_id, prompt, settings, batch_size, seed, created_at, draft, refines_image_id, init_image_id, init_strength)
       VALUES (?, 'b', '{}', 1, 9, ?, 0, ?, ?, ?)`,
    );
    const refine = Number(insert.run(projectId, NOW, imageId, imageId, 0.5).lastInsertRowid);
    expect(() => insert.run(projectId, NOW, imageId, imageId, 0)).toThrow(/CHECK/);
    expect(() => insert.run(projectId, NOW, imageId, imageId, 1.5)).toThrow(/CHECK/);
    v11.prepare('UPDATE images SET job_id = NULL').run();
    v11.prepare('DELETE FROM images WHERE id = ?').run(imageId);
    expect(v11.prepare('SELECT refines_image_id, init_image_id, init_strength FROM jobs WHERE id = ?').get(refine)).toEqual({
      refines_image_id: null,
      init_image_id: null,
      init_strength: 0.5,
    });
  });
});

describe('upgrading across every step', () => {
  it('a catalogue made by the first migration opens at the latest version with its data intact', () => {
    const v1 = openAt(1);
    const projectId = insertProject(v1, 'Autumn');
    insertImage(v1, projectId, 'leaf.png');
    const before = {
      projects: v1.prepare('SELECT * FROM projects').all(),
      images: v1.prepare('SELECT * FROM images').all(),
    };
    v1.close();

    const db = openAt();
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    expect(db.prepare('SELECT * FROM projects').all()).toEqual(before.projects);
    // Later steps add columns to images; the old ones keep their values and the new ones start empty.
    const images = db.prepare('SELECT * FROM images').all() as Record<string, unknown>[];
    expect(images).toEqual(
      (before.images as Record<string, unknown>[]).map((row) => ({
        ...row,
        job_id: null,
        batch_index: null,
        sharpness: null,
        original_path: null,
        colour: null,
        label: 'none',
        preview_path: null,
      })),
    );
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('a failing step rolls back entirely and leaves the version where it was', () => {
    const v1 = openAt(1);
    insertProject(v1);
    v1.close();
    const broken = [
      ...migrations,
      {
        version: LATEST_VERSION + 1,
        name: 'broken',
        up(db: CatalogDb) {
          db.exec('CREATE TABLE half_done (id INTEGER PRIMARY KEY)');
          throw new Error('boom');
        },
      },
    ];
    expect(() => openCatalog(file, { migrations: broken })).toThrow('boom');
    const db = openAt();
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    expect(tables(db)).not.toContain('half_done');
    expect(db.prepare('SELECT COUNT(*) AS n FROM projects').get()).toEqual({ n: 1 });
  });
});
