import type { Migration } from './types.js';

/**
 * Curation: a focus/sharpness score per image (variance of the Laplacian, computed in the
 * background) and, for rejected images moved into `_Rejected/Maybe Later`, where they came from.
 */
export const migration0005: Migration = {
  version: 5,
  name: 'curation',
  up(db) {
    db.exec(`
      ALTER TABLE images ADD COLUMN sharpness REAL;
      ALTER TABLE images ADD COLUMN original_path TEXT;   -- relative; set while the file sits in _Rejected/Maybe Later
      CREATE INDEX images_by_flag ON images (project_id, flag);
    `);
  },
};
