import type { Migration } from './types.js';

/** Per-image colour analysis (dominant colours, brand coverage for the project's palette), cached. */
export const migration0006: Migration = {
  version: 6,
  name: 'colour',
  up(db) {
    db.exec(`
      ALTER TABLE images ADD COLUMN colour TEXT;   -- JSON: { paletteKey, dominant, brand, colourName }
    `);
  },
};
