import type { Migration } from './types.js';

/**
 * Draft and Refine (issue 19): a job queued with the Draft toggle is marked as a draft; a job made
 * by Refine records the draft image it refines, and, for an img2img refine, the image it starts
 * from and the strength. Images are referred to by id (the file is looked up when the job runs, so
 * a draft moved to _Rejected still refines); a removed image leaves NULL behind.
 */
export const migration0011: Migration = {
  version: 11,
  name: 'draft-refine',
  up(db) {
    db.exec(`
      ALTER TABLE jobs ADD COLUMN draft INTEGER NOT NULL DEFAULT 0 CHECK (draft IN (0, 1));
      ALTER TABLE jobs ADD COLUMN refines_image_id INTEGER REFERENCES images(id) ON DELETE SET NULL;
      ALTER TABLE jobs ADD COLUMN init_image_id INTEGER REFERENCES images(id) ON DELETE SET NULL;
      ALTER TABLE jobs ADD COLUMN init_strength REAL CHECK (init_strength IS NULL OR (init_strength > 0 AND init_strength <= 1));
    `);
  },
};
