import type { Migration } from './types.js';

/** Projects and their images: what the grid and loupe need. */
export const migration0001: Migration = {
  version: 1,
  name: 'projects-images',
  up(db) {
    db.exec(`
      CREATE TABLE projects (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL COLLATE NOCASE UNIQUE,
        folder      TEXT NOT NULL UNIQUE,
        palette     TEXT NOT NULL,            -- JSON [{ name, hex }]
        mood        TEXT NOT NULL DEFAULT '',
        aspect      TEXT NOT NULL DEFAULT '9:16',
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      ) STRICT;

      CREATE TABLE images (
        id            INTEGER PRIMARY KEY,
        project_id    INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        path          TEXT NOT NULL,          -- relative to the project folder
        content_hash  TEXT NOT NULL,          -- sha256 of the file's bytes
        width         INTEGER NOT NULL,
        height        INTEGER NOT NULL,
        format        TEXT NOT NULL,          -- png | jpeg | webp
        byte_size     INTEGER NOT NULL,
        source_path   TEXT,                   -- where an imported file came from
        seed          INTEGER,
        params        TEXT,                   -- generation parameters, JSON
        rating        INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
        flag          TEXT NOT NULL DEFAULT 'none' CHECK (flag IN ('none', 'pick', 'reject')),
        thumb_path    TEXT,                   -- relative to the data folder
        created_at    TEXT NOT NULL,
        UNIQUE (project_id, content_hash),
        UNIQUE (project_id, path)
      ) STRICT;

      CREATE INDEX images_by_project ON images (project_id, created_at, id);
    `);
  },
};
