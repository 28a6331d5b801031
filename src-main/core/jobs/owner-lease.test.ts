/** The queue's lease on a real catalogue: taken once, freed by a dead process, never by a sleeping one. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCatalog, type CatalogDb } from '../catalog/index.js';
import { OwnerLease } from './owner-lease.js';

let dir: string;
let db: CatalogDb;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-lease-'));
  db = openCatalog(path.join(dir, 'catalog.sqlite'));
});

afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('OwnerLease', () => {
  it('one holder at a time; released, it is free', () => {
    const a = new OwnerLease(db, 'queue');
    const b = new OwnerLease(db, 'queue');
    expect(a.tryAcquire('app')).toBeNull();
    expect(a.holds()).toBe(true);
    expect(b.tryAcquire('queue run')).toMatchObject({ pid: process.pid, kind: 'app' });
    a.release();
    expect(b.tryAcquire('queue run')).toBeNull();
    expect(b.holder()).toMatchObject({ kind: 'queue run' });
  });

  it('a holder whose process is gone is free at once', () => {
    const dead = Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString().trim());
    db.prepare('INSERT INTO owner_leases (name, instance, pid, host, kind, since, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      'queue',
      'x',
      dead,
      os.hostname(),
      'app',
      new Date().toISOString(),
      Date.now(),
    );
    expect(new OwnerLease(db, 'queue').tryAcquire('serve')).toBeNull();
  });

  it('a live holder is not taken over when the wall clock jumps (a laptop waking up); one whose heartbeat stands still is', async () => {
    const owner = new OwnerLease(db, 'queue', { staleMs: 300 });
    expect(owner.tryAcquire('app')).toBeNull();
    // The waiter's clock says an hour has passed since the owner's last heartbeat.
    const waiter = new OwnerLease(db, 'queue', { staleMs: 300, now: () => Date.now() + 3_600_000 });
    for (let i = 0; i < 12; i++) {
      expect(waiter.tryAcquire('serve')).toMatchObject({ kind: 'app' });
      owner.tryAcquire('app'); // the owner's heartbeat goes on
      await sleep(50);
    }
    // Frozen: no heartbeat for longer than staleMs of the waiter's own (awake) time.
    let taken = false;
    for (let i = 0; i < 20 && !taken; i++) {
      taken = waiter.tryAcquire('serve') === null;
      await sleep(50);
    }
    expect(taken).toBe(true);
    expect(owner.holds()).toBe(false);
  });
});
