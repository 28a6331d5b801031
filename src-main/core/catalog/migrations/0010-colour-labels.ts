import type { Migration } from './types.js';

/**
 * Colour labels (Lightroom's 6–9: red, yellow, green, blue), one per image, beside its rating and
 * flag. 'none' for every image there is.
 */
export const migration0010: Migration = {
  version: 10,
  name: 'colour-labels',
  up(db) {
    db.exec(`
      ALTER TABLE images ADD COLUMN label TEXT NOT NULL DEFAULT 'none'
        CHECK (label IN ('none', 'red', 'yellow', 'green', 'blue'));
    `);
  },
};
