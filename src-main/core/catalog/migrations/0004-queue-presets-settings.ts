import type { Migration } from './types.js';

/**
 * The generation queue's bookkeeping: GPU seconds per job, each generated image's index in its
 * batch (so a resumed job knows what is missing, and no image is recorded twice), presets per
 * project, app settings (GPU cost rate, queue paused) and manual corrections of the time log.
 */
export const migration0004: Migration = {
  version: 4,
  name: 'queue-presets-settings',
  up(db) {
    db.exec(`
      ALTER TABLE jobs ADD COLUMN gpu_seconds REAL NOT NULL DEFAULT 0;
      ALTER TABLE images ADD COLUMN batch_index INTEGER;
      CREATE UNIQUE INDEX images_by_job_index ON images (job_id, batch_index) WHERE job_id IS NOT NULL;

      CREATE TABLE presets (
        id               INTEGER PRIMARY KEY,
        project_id       INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name             TEXT NOT NULL COLLATE NOCASE,
        settings         TEXT NOT NULL,        -- JSON, the generation settings without the model
        negative_prompt  TEXT NOT NULL DEFAULT '',
        created_at       TEXT NOT NULL,
        UNIQUE (project_id, name)
      ) STRICT;

      CREATE TABLE app_settings (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL                   -- JSON
      ) STRICT;

      CREATE TABLE time_corrections (
        project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        phase       TEXT NOT NULL,
        minutes     REAL NOT NULL,
        PRIMARY KEY (project_id, phase)
      ) STRICT;
    `);
  },
};
