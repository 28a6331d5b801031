import type { Migration } from './types.js';

/**
 * Loupe renditions (issue 20): beside the grid thumbnail each image gets a JPEG of at most 2048 px
 * on the long side in the data folder's `previews/`, fast to decode, which the loupe shows at once.
 * NULL until it is made (images catalogued before this step get theirs in the background).
 */
export const migration0012: Migration = {
  version: 12,
  name: 'loupe-previews',
  up(db) {
    db.exec(`ALTER TABLE images ADD COLUMN preview_path TEXT;`);
  },
};
