import type { Migration } from './types.js';

/**
 * Who owns a shared duty of the catalogue (the queue: running jobs, finishing interrupted moves):
 * one row per duty with the owner's process, machine and heartbeat. Several processes open one
 * catalogue (the app, `onbrand serve`, CLI commands); only the owner runs jobs, the others add,
 * cancel and retry through the catalogue and the owner notices.
 */
export const migration0009: Migration = {
  version: 9,
  name: 'owner-lease',
  up(db) {
    db.exec(`
      CREATE TABLE owner_leases (
        name TEXT PRIMARY KEY,
        instance TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        kind TEXT NOT NULL,
        since TEXT NOT NULL,
        heartbeat_at INTEGER NOT NULL
      );
    `);
  },
};
