import type { Migration } from './types.js';

/**
 * GPU work per backend (issue 21): jobs run partly on this computer and partly on ComfyUI servers
 * (a rented cloud GPU, a studio box), each at its own rate. One row per piece of work: the
 * backend's name (`local` for this computer), its GPU seconds and the rate per hour at the time of
 * the work, so a later change of a backend's rate does not rewrite past costs. A NULL rate is the
 * global rate in settings, read when the snapshot is made (how the local engine was always costed).
 * GPU seconds recorded before this step (in `time_log.gpu_seconds`) count as the local engine's.
 */
export const migration0013: Migration = {
  version: 13,
  name: 'backend-usage',
  up(db) {
    db.exec(`
      CREATE TABLE backend_usage (
        id             INTEGER PRIMARY KEY,
        project_id     INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        backend        TEXT NOT NULL,
        gpu_seconds    REAL NOT NULL CHECK (gpu_seconds >= 0),
        rate_per_hour  REAL CHECK (rate_per_hour IS NULL OR rate_per_hour >= 0),
        recorded_at    TEXT NOT NULL
      ) STRICT;

      CREATE INDEX backend_usage_by_project ON backend_usage (project_id, backend);
    `);
  },
};
