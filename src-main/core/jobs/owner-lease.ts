/**
 * One owner of the queue across processes. The app, `onbrand serve` and `onbrand queue run` can all
 * open one catalogue; only the process holding the lease runs jobs and finishes interrupted moves.
 * The lease is a catalogue row (process id, machine, heartbeat) taken in an immediate transaction,
 * so two processes can never both take it. It is free when released, at once when its process on
 * this machine is gone (a kill or crash), when its heartbeat stood still for `staleMs` while this
 * process watched (a frozen owner), or, for an owner on another machine sharing the folder, when
 * its heartbeat is older than `staleMs`.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { CatalogDb } from '../catalog/index.js';
import { processAlive } from '../util/index.js';

export interface LeaseHolder {
  pid: number;
  host: string;
  /** What holds it: "app", "serve", "queue run". */
  kind: string;
  /** When it took the lease (ISO). */
  since: string;
}

export interface LeaseOptions {
  /** A heartbeat older than this frees the lease (default 15 s). */
  staleMs?: number;
  /** How often the holder renews it (default 2 s). */
  heartbeatMs?: number;
  now?: () => number;
}

interface LeaseRow {
  instance: string;
  pid: number;
  host: string;
  kind: string;
  since: string;
  heartbeat_at: number;
}

export class OwnerLease {
  /** This holder, distinct from any other in this or another process. */
  readonly instance = crypto.randomUUID();
  private readonly staleMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  /** The other holder's heartbeat as last seen, and when (monotonic: it stops while the machine sleeps). */
  private observed: { instance: string; heartbeat: number; at: number } | undefined;

  constructor(
    private readonly db: CatalogDb,
    private readonly name: string,
    private readonly options: LeaseOptions = {},
  ) {
    this.staleMs = options.staleMs ?? 15_000;
    this.now = options.now ?? Date.now;
  }

  /** Takes the lease (as `kind`: "app", "serve", "queue run") if it is free, stale or already ours; otherwise returns the live holder. */
  tryAcquire(kind: string): LeaseHolder | null {
    return this.db
      .transaction((): LeaseHolder | null => {
        const row = this.row();
        if (row && row.instance !== this.instance && this.live(row)) return toHolder(row);
        const now = this.now();
        this.db
          .prepare(
            `INSERT INTO owner_leases (name, instance, pid, host, kind, since, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET instance = excluded.instance, pid = excluded.pid, host = excluded.host,
               kind = excluded.kind, since = CASE WHEN owner_leases.instance = excluded.instance THEN owner_leases.since ELSE excluded.since END,
               heartbeat_at = excluded.heartbeat_at`,
          )
          .run(this.name, this.instance, process.pid, os.hostname(), kind, new Date(now).toISOString(), now);
        return null;
      })
      .immediate();
  }

  /** The live holder, if any (this one included). */
  holder(): LeaseHolder | null {
    const row = this.row();
    return row && (row.instance === this.instance || this.live(row)) ? toHolder(row) : null;
  }

  /** Whether this instance holds the lease now. */
  holds(): boolean {
    return this.row()?.instance === this.instance;
  }

  /**
   * Renews the lease every `heartbeatMs` while held; `onLost` runs if another process took it
   * (this one was frozen past `staleMs`), so the caller stops running jobs.
   */
  keepAlive(onLost: () => void): void {
    this.stopKeepAlive();
    this.timer = setInterval(() => {
      try {
        const renewed = this.db
          .prepare('UPDATE owner_leases SET heartbeat_at = ? WHERE name = ? AND instance = ?')
          .run(this.now(), this.name, this.instance);
        if (renewed.changes === 0) {
          this.stopKeepAlive();
          onLost();
        }
      } catch {
        // Busy for longer than the busy timeout, or closing: the next beat tries again.
      }
    }, this.options.heartbeatMs ?? 2_000);
    this.timer.unref();
  }

  /** Gives the lease up (a normal close); a no-op when another holds it. */
  release(): void {
    this.stopKeepAlive();
    try {
      this.db.prepare('DELETE FROM owner_leases WHERE name = ? AND instance = ?').run(this.name, this.instance);
    } catch {
      // The catalogue is already closed: the lease is freed by its process being gone.
    }
  }

  private stopKeepAlive(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private row(): LeaseRow | undefined {
    return this.db.prepare('SELECT instance, pid, host, kind, since, heartbeat_at FROM owner_leases WHERE name = ?').get(this.name) as
      LeaseRow | undefined;
  }

  private live(row: LeaseRow): boolean {
    if (row.host !== os.hostname()) return this.now() - row.heartbeat_at <= this.staleMs;
    // On this machine a holder whose process is gone is free at once (a kill, a crash).
    if (!processAlive(row.pid)) return false;
    // Its process is running: the wall clock cannot tell (after a laptop sleeps, every heartbeat
    // looks old until the owner's next beat). Only a heartbeat this process has watched stand still
    // for `staleMs` of its own awake time frees it (a frozen owner, or a process id reused).
    return !this.standingStill(row);
  }

  private standingStill(row: LeaseRow): boolean {
    const seen = this.observed;
    if (!seen || seen.instance !== row.instance || seen.heartbeat !== row.heartbeat_at) {
      this.observed = { instance: row.instance, heartbeat: row.heartbeat_at, at: performance.now() };
      return false;
    }
    return performance.now() - seen.at > this.staleMs;
  }
}

function toHolder(row: LeaseRow): LeaseHolder {
  return { pid: row.pid, host: row.host, kind: row.kind, since: row.since };
}

/** "the app (process 1234, since 10:02)" — how messages name the owner. */
export function describeHolder(holder: LeaseHolder): string {
  const what =
    holder.kind === 'app'
      ? 'the Onbrand app'
      : holder.kind === 'serve'
        ? '`onbrand serve`'
        : holder.kind === 'queue run'
          ? '`onbrand queue run`'
          : holder.kind;
  const where = holder.host === os.hostname() ? '' : ` on ${holder.host}`;
  return `${what} (process ${holder.pid}${where}, since ${new Date(holder.since).toLocaleTimeString()})`;
}
