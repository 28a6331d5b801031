import type { Migration } from './types.js';

/** Mood-board references and the generation queue; images remember the job that made them. */
export const migration0002: Migration = {
  version: 2,
  name: 'references-jobs',
  up(db) {
    db.exec(`
      CREATE TABLE refs (
        id            INTEGER PRIMARY KEY,
        project_id    INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        path          TEXT NOT NULL,          -- relative to the project folder (references/...)
        content_hash  TEXT NOT NULL,
        width         INTEGER NOT NULL,
        height        INTEGER NOT NULL,
        source_url    TEXT,
        author        TEXT,
        author_url    TEXT,
        licence       TEXT,
        palette       TEXT,                   -- JSON [{ hex, share }]
        position      INTEGER NOT NULL DEFAULT 0,
        created_at    TEXT NOT NULL,
        UNIQUE (project_id, content_hash)
      ) STRICT;

      CREATE TABLE jobs (
        id              INTEGER PRIMARY KEY,
        project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        state           TEXT NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        prompt          TEXT NOT NULL,
        negative_prompt TEXT NOT NULL DEFAULT '',
        settings        TEXT NOT NULL,        -- JSON: sampler, steps, cfg, size, loras, model
        batch_size      INTEGER NOT NULL CHECK (batch_size BETWEEN 1 AND 64),
        seed            INTEGER NOT NULL,
        position        INTEGER NOT NULL DEFAULT 0,
        attempts        INTEGER NOT NULL DEFAULT 0,
        error           TEXT,
        created_at      TEXT NOT NULL,
        started_at      TEXT,
        finished_at     TEXT
      ) STRICT;

      CREATE INDEX jobs_by_state ON jobs (state, position, id);

      ALTER TABLE images ADD COLUMN job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL;
      CREATE INDEX images_by_job ON images (job_id);
    `);
  },
};
