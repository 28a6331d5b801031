/**
 * The loop's time and cost. Time is one wall-clock line on which phases never overlap
 * (timeline.ts): the designer's activity in a phase (a burst of keys, a click, an import) starts
 * or extends an interval of that phase; activity in another phase ends it there at the latest (the
 * active phase wins); a pause of more than `IDLE_MS` without input ends it at the last input (plus
 * the `MIN_ACTIVITY_MS` each burst counts for), so idle time is not counted. Generation jobs are
 * spans from their start to their end that run in the background: they own only the time no
 * foreground phase holds, while their GPU seconds are costed in full. Manual corrections replace a
 * phase's minutes; the "Time + Cost Snapshot" table comes out as Markdown or CSV.
 */
import { PHASE_LABELS, PHASES, type Job, type Phase, type TimeSnapshot } from '../api/index.js';
import type { AppSettings, CatalogDb } from '../catalog/index.js';
import type { EventBus } from '../events.js';
import { describeReferenceSources } from '../references/index.js';
import { BACKGROUND_PHASES, phaseTotals, resolveTimeline } from './timeline.js';

/**
 * Input closer together than this is one stretch of work (thinking between keys counts); a longer
 * pause ends the interval at the last input. Background generation activity (a job starting or
 * ending) keeps one session per phase within the same gap.
 */
export const IDLE_MS = 3 * 60_000;
/** The gap within which background activity of one phase (a job starting, another ending) is one session. */
export const SESSION_GAP_MS = 5 * 60_000;
/** Each burst of activity counts at least this long (a single click is still time spent). */
export const MIN_ACTIVITY_MS = 30_000;
/** The default GPU rate: an RTX 4090 in the cloud, about $0.40 an hour in 2025–26. */
export const DEFAULT_GPU_COST_PER_HOUR = 0.4;
/** The backend name of this computer's engine in the GPU-by-backend rows. */
export const LOCAL_BACKEND = 'local';
/** GPU seconds below this are float dust, not work. */
const SECONDS_EPSILON = 1e-6;

interface Row {
  id: number;
  phase: Phase;
  started_at: string;
  ended_at: string | null;
  gpu_seconds: number;
}

export class TimeLog {
  /** Jobs seen starting in this process, by id: only their end closes a span (see `jobUpdated`). */
  private readonly runningJobs = new Set<number>();

  constructor(
    private readonly db: CatalogDb,
    private readonly settings: AppSettings,
    private readonly events: EventBus,
  ) {
    // The queue announces every job's start and end with the job's own record (startedAt,
    // finishedAt): that is the whole run, however long, without the queue knowing the time log.
    this.events.subscribe((event) => {
      if (event.type === 'job.updated') this.jobUpdated(event.payload);
    });
  }

  get gpuCostPerHour(): number {
    return this.settings.get('gpuCostPerHour', DEFAULT_GPU_COST_PER_HOUR);
  }

  setGpuCostPerHour(rate: number): void {
    this.settings.set('gpuCostPerHour', rate);
  }

  /**
   * Records activity in a phase now. A foreground phase (all but generation): input in the same
   * phase within `IDLE_MS` of the last grows its interval (thinking between keys counts); input in
   * another phase ends the last interval now at the latest and starts its own; after a longer pause
   * the last interval keeps its end (last input + credit) and a new one starts. Generation activity
   * (a job starting or ending) extends that phase's own session.
   */
  activity(projectId: number, phase: Phase, now = Date.now()): void {
    if (BACKGROUND_PHASES.has(phase)) this.backgroundActivity(projectId, phase, now);
    else this.foregroundActivity(projectId, phase, now);
    this.events.emit('timelog.changed', { projectId });
  }

  private foregroundActivity(projectId: number, phase: Phase, now: number): void {
    const last = this.db
      .prepare(
        `SELECT id, phase, started_at, ended_at FROM time_log WHERE project_id = ? AND phase NOT IN (${[...BACKGROUND_PHASES].map(() => '?').join(', ')})
         ORDER BY COALESCE(ended_at, started_at) DESC, id DESC LIMIT 1`,
      )
      .get(projectId, ...BACKGROUND_PHASES) as Pick<Row, 'id' | 'phase' | 'started_at' | 'ended_at'> | undefined;
    const end = now + MIN_ACTIVITY_MS;
    if (last) {
      const start = Date.parse(last.started_at);
      const lastEnd = Date.parse(last.ended_at ?? last.started_at);
      // Its last input: the end less the credit every burst gets.
      const lastInput = Math.max(start, lastEnd - MIN_ACTIVITY_MS);
      const continuous = now >= start && now - lastInput <= IDLE_MS;
      if (continuous && last.phase === phase) {
        if (lastEnd < end) this.setEnd(last.id, end);
        return;
      }
      // Another phase takes over: the one before ends at its last input's credit or now, whichever
      // is first (a pause between two phases is nobody's: a job running then owns it).
      if (now >= start && lastEnd > now) this.setEnd(last.id, now);
    }
    this.db
      .prepare('INSERT INTO time_log (project_id, phase, started_at, ended_at) VALUES (?, ?, ?, ?)')
      .run(projectId, phase, new Date(now).toISOString(), new Date(end).toISOString());
  }

  private backgroundActivity(projectId: number, phase: Phase, now: number): void {
    const last = this.db
      .prepare('SELECT id, ended_at FROM time_log WHERE project_id = ? AND phase = ? ORDER BY ended_at DESC, id DESC LIMIT 1')
      .get(projectId, phase) as { id: number; ended_at: string | null } | undefined;
    const end = now + MIN_ACTIVITY_MS;
    if (last?.ended_at && now - Date.parse(last.ended_at) <= SESSION_GAP_MS) {
      if (Date.parse(last.ended_at) < end) this.setEnd(last.id, end);
    } else {
      this.db
        .prepare('INSERT INTO time_log (project_id, phase, started_at, ended_at) VALUES (?, ?, ?, ?)')
        .run(projectId, phase, new Date(now).toISOString(), new Date(end).toISOString());
    }
  }

  private setEnd(id: number, end: number): void {
    this.db.prepare('UPDATE time_log SET ended_at = ? WHERE id = ?').run(new Date(end).toISOString(), id);
  }

  /**
   * Time spent in a phase from `startedAt` to `endedAt` (ms or ISO text), counted whole: a job
   * that ran 20 minutes is 20 minutes, where bursts at its start and end would be one.
   */
  span(projectId: number, phase: Phase, startedAt: number | string, endedAt: number | string): void {
    const start = typeof startedAt === 'number' ? startedAt : Date.parse(startedAt);
    const end = typeof endedAt === 'number' ? endedAt : Date.parse(endedAt);
    if (!Number.isFinite(start) || !Number.isFinite(end))
      throw new Error(`A time span needs two times, not ${String(startedAt)} and ${String(endedAt)}.`);
    if (end < start)
      throw new Error(`A time span cannot end (${new Date(end).toISOString()}) before it starts (${new Date(start).toISOString()}).`);
    this.db
      .prepare('INSERT INTO time_log (project_id, phase, started_at, ended_at) VALUES (?, ?, ?, ?)')
      .run(projectId, phase, new Date(start).toISOString(), new Date(end).toISOString());
    this.events.emit('timelog.changed', { projectId });
  }

  /**
   * A job's record changed (the queue's `job.updated`): when a job seen running here ends, its run
   * (`startedAt` to `finishedAt`, both from the record) joins the generate phase. A job never seen
   * running here (one put on hold at start-up, one cancelled while queued after an earlier run)
   * has no run to count: its times would span the hours it sat waiting.
   */
  jobUpdated(job: Pick<Job, 'id' | 'projectId' | 'state' | 'startedAt' | 'finishedAt'>): void {
    if (job.state === 'running') {
      this.runningJobs.add(job.id);
      return;
    }
    const wasRunning = this.runningJobs.delete(job.id);
    if (!wasRunning || job.state === 'queued' || !job.startedAt || !job.finishedAt) return;
    const start = Date.parse(job.startedAt);
    const end = Date.parse(job.finishedAt);
    if (Number.isFinite(start) && Number.isFinite(end) && end >= start) this.span(job.projectId, 'generate', start, end);
  }

  /** A generation job ended on this computer: its GPU seconds join the cost (its wall time comes from `jobUpdated`). */
  jobFinished(projectId: number, gpuSeconds: number, now = Date.now()): void {
    this.backendWork(projectId, LOCAL_BACKEND, gpuSeconds, null, now);
  }

  /**
   * GPU work done for a project by one backend: `local` (this computer) or a ComfyUI backend's
   * name. `ratePerHour` is that backend's rate at the time of the work, kept with it so a later
   * change of the rate leaves past costs alone; null is the global rate in settings, read when the
   * snapshot is made (the local engine's). It is generation activity, and its seconds join the
   * generate phase's GPU seconds.
   */
  backendWork(projectId: number, backend: string, gpuSeconds: number, ratePerHour: number | null, now = Date.now()): void {
    const name = backend.trim();
    if (!name) throw new Error('GPU time needs the name of the backend that did the work.');
    if (!Number.isFinite(gpuSeconds) || gpuSeconds < 0)
      throw new Error(`GPU time on ${name} must be a number of seconds from 0 up, not ${String(gpuSeconds)}.`);
    if (ratePerHour !== null && (!Number.isFinite(ratePerHour) || ratePerHour < 0))
      throw new Error(`The GPU rate of ${name} must be a number of dollars per hour from 0 up, not ${String(ratePerHour)}.`);
    this.activity(projectId, 'generate', now);
    this.db.transaction(() => {
      this.db
        .prepare(
          "UPDATE time_log SET gpu_seconds = gpu_seconds + ? WHERE id = (SELECT id FROM time_log WHERE project_id = ? AND phase = 'generate' ORDER BY ended_at DESC, id DESC LIMIT 1)",
        )
        .run(gpuSeconds, projectId);
      if (gpuSeconds > 0)
        this.db
          .prepare('INSERT INTO backend_usage (project_id, backend, gpu_seconds, rate_per_hour, recorded_at) VALUES (?, ?, ?, ?, ?)')
          .run(projectId, name, gpuSeconds, ratePerHour, new Date(now).toISOString());
    })();
    this.events.emit('timelog.changed', { projectId });
  }

  /** Sets a phase's minutes by hand (null returns it to the recorded value). */
  correct(projectId: number, phase: Phase, minutes: number | null): void {
    if (minutes === null) this.db.prepare('DELETE FROM time_corrections WHERE project_id = ? AND phase = ?').run(projectId, phase);
    else
      this.db
        .prepare(
          'INSERT INTO time_corrections (project_id, phase, minutes) VALUES (?, ?, ?) ON CONFLICT (project_id, phase) DO UPDATE SET minutes = excluded.minutes',
        )
        .run(projectId, phase, minutes);
    this.events.emit('timelog.changed', { projectId });
  }

  snapshot(projectId: number): TimeSnapshot {
    const rows = this.db
      .prepare('SELECT id, phase, started_at, ended_at, gpu_seconds FROM time_log WHERE project_id = ?')
      .all(projectId) as Row[];
    const corrections = new Map(
      (
        this.db.prepare('SELECT phase, minutes FROM time_corrections WHERE project_id = ?').all(projectId) as {
          phase: Phase;
          minutes: number;
        }[]
      ).map((r) => [r.phase, r.minutes]),
    );
    const rate = this.gpuCostPerHour;
    const usage = this.backendUsage(
      projectId,
      rows.reduce((sum, r) => sum + r.gpu_seconds, 0),
      rate,
    );
    const timeline = resolveTimeline(
      rows.map((r) => ({ phase: r.phase, start: Date.parse(r.started_at), end: Date.parse(r.ended_at ?? r.started_at), order: r.id })),
    );
    const owned = phaseTotals(timeline);
    const details = this.details(projectId);
    const phases = PHASES.map((phase) => {
      const gpuSeconds = rows.filter((r) => r.phase === phase).reduce((sum, r) => sum + r.gpu_seconds, 0);
      const recorded = (owned.get(phase) ?? 0) / 60_000;
      const corrected = corrections.get(phase);
      return {
        phase,
        label: PHASE_LABELS[phase],
        detail: details.get(phase) ?? null,
        minutes: round1(corrected ?? recorded),
        recordedMinutes: round1(recorded),
        corrected: corrected !== undefined,
        gpuSeconds: round1(gpuSeconds),
        // Work at a rate of its own (a rented GPU) costs that rate, not the global one.
        cost: round4((gpuSeconds / 3600) * rate + (phase === 'generate' ? usage.premium : 0)),
      };
    });
    const elapsed = timeline.first === null ? 0 : (timeline.last! - timeline.first) / 60_000;
    const recordedTotal = [...owned.values()].reduce((s, ms) => s + ms, 0) / 60_000;
    return {
      projectId,
      gpuCostPerHour: rate,
      phases,
      // The exact minutes summed, then rounded once: the total and "recorded" agree when nothing was set by hand.
      totalMinutes: round1(PHASES.reduce((s, phase) => s + (corrections.get(phase) ?? (owned.get(phase) ?? 0) / 60_000), 0)),
      // Rounded once from the exact sum, so it can never round above the elapsed time.
      recordedMinutes: Math.min(round1(recordedTotal), round1(elapsed)),
      elapsedMinutes: round1(elapsed),
      firstAt: timeline.first === null ? null : new Date(timeline.first).toISOString(),
      lastAt: timeline.last === null ? null : new Date(timeline.last).toISOString(),
      totalCost: round4(phases.reduce((s, p) => s + p.cost, 0)),
      backends: usage.backends,
    };
  }

  /**
   * GPU seconds and cost per backend: `local` first, then by name. GPU seconds in the time log
   * that no backend row accounts for (recorded before backends, migration 0013) are the local
   * engine's. `premium` is what the work at rates of its own costs beyond the global rate.
   */
  private backendUsage(projectId: number, totalGpuSeconds: number, rate: number): { backends: TimeSnapshot['backends']; premium: number } {
    const rows = this.db
      .prepare('SELECT backend, gpu_seconds, rate_per_hour FROM backend_usage WHERE project_id = ? ORDER BY id')
      .all(projectId) as { backend: string; gpu_seconds: number; rate_per_hour: number | null }[];
    const byName = new Map<string, { seconds: number; cost: number }>();
    let tracked = 0;
    let premium = 0;
    for (const row of rows) {
      const entry = byName.get(row.backend) ?? { seconds: 0, cost: 0 };
      entry.seconds += row.gpu_seconds;
      entry.cost += (row.gpu_seconds / 3600) * (row.rate_per_hour ?? rate);
      byName.set(row.backend, entry);
      tracked += row.gpu_seconds;
      if (row.rate_per_hour !== null) premium += (row.gpu_seconds / 3600) * (row.rate_per_hour - rate);
    }
    const untracked = totalGpuSeconds - tracked;
    if (untracked > SECONDS_EPSILON) {
      const local = byName.get(LOCAL_BACKEND) ?? { seconds: 0, cost: 0 };
      byName.set(LOCAL_BACKEND, { seconds: local.seconds + untracked, cost: local.cost + (untracked / 3600) * rate });
    }
    const backends = [...byName]
      .filter(([, e]) => e.seconds > SECONDS_EPSILON)
      .sort(([a], [b]) => (a === LOCAL_BACKEND ? -1 : b === LOCAL_BACKEND ? 1 : a.localeCompare(b)))
      .map(([name, e]) => ({
        name,
        gpuSeconds: round1(e.seconds),
        ratePerHour: round4((e.cost / e.seconds) * 3600),
        cost: round4(e.cost),
      }));
    return { backends, premium };
  }

  /** What a phase holds, in words: where the references came from, and how many images were imported. */
  private details(projectId: number): Map<Phase, string> {
    const refs = this.db.prepare('SELECT source_url AS sourceUrl, licence FROM refs WHERE project_id = ?').all(projectId) as {
      sourceUrl: string | null;
      licence: string | null;
    }[];
    const imported = (
      this.db
        .prepare('SELECT COUNT(*) AS n FROM images WHERE project_id = ? AND job_id IS NULL AND source_path IS NOT NULL')
        .get(projectId) as {
        n: number;
      }
    ).n;
    const parts = [describeReferenceSources(refs), imported > 0 ? `${imported} image${imported === 1 ? '' : 's'} imported` : ''].filter(
      Boolean,
    );
    return new Map(parts.length ? [['mood', parts.join('; ')]] : []);
  }

  /** The snapshot as the workflow document's table (Markdown) or as CSV. */
  export(projectId: number, format: 'markdown' | 'csv'): string {
    const snap = this.snapshot(projectId);
    const money = (v: number): string => (v === 0 ? '—' : `~$${v.toFixed(2)}`);
    if (format === 'csv') {
      const lines = [
        // The CSV's cost column is computed from GPU seconds and the rate; `time_log.cost_usd` (0003) is never written or read.
        'phase,minutes,gpu_seconds,cost_usd',
        ...snap.phases.map((p) => `"${labelOf(p)}",${p.minutes},${p.gpuSeconds},${p.cost.toFixed(4)}`),
      ];
      lines.push(`"Total",${snap.totalMinutes},${round1(snap.phases.reduce((s, p) => s + p.gpuSeconds, 0))},${snap.totalCost.toFixed(4)}`);
      // The GPU seconds and cost by backend when not all on this computer (after the total: they split it, not add to it).
      if (splitsByBackend(snap.backends))
        lines.push(...snap.backends.map((b) => `"GPU: ${b.name.replaceAll('"', '""')}",,${b.gpuSeconds},${b.cost.toFixed(4)}`));
      return lines.join('\n') + '\n';
    }
    const lines = [
      '|Phase|Minutes|Cost (GPU credits)|',
      '|---|---|---|',
      ...snap.phases.map((p) => `|${labelOf(p)}|${formatMinutes(p.minutes)}|${money(p.cost)}|`),
    ];
    lines.push(
      `|**Total**|**${formatMinutes(snap.totalMinutes)}**|**${snap.totalCost === 0 ? '—' : `<$${Math.max(0.01, Math.ceil(snap.totalCost * 100) / 100).toFixed(2)}`}**|`,
    );
    return lines.join('\n') + '\n';
  }
}

/** Whether the GPU time is worth splitting by backend: more than one did work, or the one that did is not this computer. */
export const splitsByBackend = (backends: TimeSnapshot['backends']): boolean =>
  backends.length > 1 || backends.some((b) => b.name !== LOCAL_BACKEND);

/** A phase's name with what it holds: "References (3 local files, 1 web page)". */
const labelOf = (p: { label: string; detail: string | null }): string => (p.detail ? `${p.label} (${p.detail})` : p.label);

const round1 = (v: number): number => Math.round(v * 10) / 10;
const round4 = (v: number): number => Math.round(v * 10_000) / 10_000;
const formatMinutes = (m: number): string => (Number.isInteger(m) ? String(m) : m.toFixed(1));
