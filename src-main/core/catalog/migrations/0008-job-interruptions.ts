import type { Migration } from './types.js';

/**
 * How many times the process died while a job was running (the crash-loop guard): counted at
 * start-up for each job still marked `running`; the second one puts the job on hold. Reset when the
 * job completes or the user retries it. (`jobs.attempts` from 0002 stays unused: it would read as
 * "starts", which also counts runs ended by a normal quit.)
 */
export const migration0008: Migration = {
  version: 8,
  name: 'job-interruptions',
  up(db) {
    db.exec(`
      ALTER TABLE jobs ADD COLUMN interruptions INTEGER NOT NULL DEFAULT 0;
    `);
  },
};
