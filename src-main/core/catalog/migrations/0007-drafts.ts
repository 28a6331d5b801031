import type { Migration } from './types.js';

/** Prompt drafts per project (offline or from a language model), with their annotations and stars. */
export const migration0007: Migration = {
  version: 7,
  name: 'drafts',
  up(db) {
    db.exec(`
      CREATE TABLE drafts (
        id           INTEGER PRIMARY KEY,
        project_id   INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        text         TEXT NOT NULL,
        source       TEXT NOT NULL CHECK (source IN ('offline', 'llm')),
        annotations  TEXT NOT NULL,           -- JSON DraftAnnotations
        starred      INTEGER NOT NULL DEFAULT 0,
        created_at   TEXT NOT NULL
      ) STRICT;
      CREATE INDEX drafts_by_project ON drafts (project_id, id);
    `);
  },
};
