import { migration0001 } from './0001-projects-images.js';
import { migration0002 } from './0002-references-jobs.js';
import { migration0003 } from './0003-sections-exports-timelog.js';
import { migration0004 } from './0004-queue-presets-settings.js';
import { migration0005 } from './0005-curation.js';
import { migration0006 } from './0006-colour.js';
import { migration0007 } from './0007-drafts.js';
import { migration0008 } from './0008-job-interruptions.js';
import { migration0009 } from './0009-owner-lease.js';
import { migration0010 } from './0010-colour-labels.js';
import { migration0011 } from './0011-draft-refine.js';
import { migration0012 } from './0012-loupe-previews.js';
import { migration0013 } from './0013-backend-usage.js';
import type { Migration } from './types.js';

export type { Migration } from './types.js';

/** Every schema step in order. Versions only increase; a shipped step is never edited. */
export const migrations: readonly Migration[] = [
  migration0001,
  migration0002,
  migration0003,
  migration0004,
  migration0005,
  migration0006,
  migration0007,
  migration0008,
  migration0009,
  migration0010,
  migration0011,
  migration0012,
  migration0013,
];

export const LATEST_VERSION = migrations[migrations.length - 1]!.version;

// Fail at load time, not in a user's catalogue, if the registry is ever out of order.
migrations.forEach((m, i) => {
  if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
});
