import type { Migration } from './types.js';

/** Page sections (Framer), exports, and the per-phase time and cost log. */
export const migration0003: Migration = {
  version: 3,
  name: 'sections-exports-timelog',
  up(db) {
    db.exec(`
      CREATE TABLE sections (
        id              INTEGER PRIMARY KEY,
        project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name            TEXT NOT NULL,
        position        INTEGER NOT NULL DEFAULT 0,
        background_hex  TEXT,
        slot_width      INTEGER,
        slot_height     INTEGER,
        image_id        INTEGER REFERENCES images(id) ON DELETE SET NULL,
        created_at      TEXT NOT NULL,
        UNIQUE (project_id, name)
      ) STRICT;

      CREATE TABLE exports (
        id          INTEGER PRIMARY KEY,
        project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        image_id    INTEGER REFERENCES images(id) ON DELETE SET NULL,
        target      TEXT NOT NULL,            -- framer | sora | folder | maybe-later
        path        TEXT NOT NULL,            -- absolute path of the written file
        byte_size   INTEGER NOT NULL,
        width       INTEGER NOT NULL,
        height      INTEGER NOT NULL,
        created_at  TEXT NOT NULL
      ) STRICT;

      CREATE TABLE time_log (
        id           INTEGER PRIMARY KEY,
        project_id   INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        phase        TEXT NOT NULL CHECK (phase IN ('mood', 'prompt', 'generate', 'curate', 'post', 'export')),
        started_at   TEXT NOT NULL,
        ended_at     TEXT,
        gpu_seconds  REAL NOT NULL DEFAULT 0,
        cost_usd     REAL NOT NULL DEFAULT 0
      ) STRICT;

      CREATE INDEX time_log_by_project ON time_log (project_id, phase);
    `);
  },
};
