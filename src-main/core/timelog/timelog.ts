/**
 * The loop's time and cost: phases recorded from activity in the app (a phase's session grows
 * while activity keeps coming, and a new one starts after a quiet gap), spans of known length
 * (a generation job from its start to its end, however long), GPU seconds from jobs, manual
 * corrections per phase, and the "Time + Cost Snapshot" table as Markdown or CSV. Time that
 * overlaps within a phase (two jobs, a click during a job) counts once.
 */
import { PHASE_LABELS, PHASES, type Job, type Phase, type TimeSnapshot } from '../api/index.js';
import type { AppSettings, CatalogDb } from '../catalog/index.js';
import type { EventBus } from '../events.js';

/** Activity closer together than this belongs to one working session of a phase. */
export const SESSION_GAP_MS = 5 * 60_000;
/** Each burst of activity counts at least this long (a single click is still time spent). */
export const MIN_ACTIVITY_MS = 30_000;
/** The default GPU rate: an RTX 4090 in the cloud, about $0.40 an hour in 2025–26. */
export const DEFAULT_GPU_COST_PER_HOUR = 0.4;

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

  /** Records activity in a phase now: extends the phase's open session or starts a new one. */
  activity(projectId: number, phase: Phase, now = Date.now()): void {
    const last = this.db
      .prepare('SELECT id, ended_at FROM time_log WHERE project_id = ? AND phase = ? ORDER BY ended_at DESC, id DESC LIMIT 1')
      .get(projectId, phase) as { id: number; ended_at: string | null } | undefined;
    const end = new Date(now + MIN_ACTIVITY_MS).toISOString();
    if (last?.ended_at && now - Date.parse(last.ended_at) <= SESSION_GAP_MS) {
      if (Date.parse(last.ended_at) < now + MIN_ACTIVITY_MS)
        this.db.prepare('UPDATE time_log SET ended_at = ? WHERE id = ?').run(end, last.id);
    } else {
      this.db
        .prepare('INSERT INTO time_log (project_id, phase, started_at, ended_at) VALUES (?, ?, ?, ?)')
        .run(projectId, phase, new Date(now).toISOString(), end);
    }
    this.events.emit('timelog.changed', { projectId });
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

  /** A generation job ended: its GPU seconds join the cost (its wall time comes from `jobUpdated`). */
  jobFinished(projectId: number, gpuSeconds: number, now = Date.now()): void {
    this.activity(projectId, 'generate', now);
    this.db
      .prepare(
        "UPDATE time_log SET gpu_seconds = gpu_seconds + ? WHERE id = (SELECT id FROM time_log WHERE project_id = ? AND phase = 'generate' ORDER BY ended_at DESC, id DESC LIMIT 1)",
      )
      .run(gpuSeconds, projectId);
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
    const phases = PHASES.map((phase) => {
      const mine = rows.filter((r) => r.phase === phase);
      const recorded = unionMinutes(
        mine.map((r) => [Date.parse(r.started_at), Date.parse(r.ended_at ?? r.started_at)] as [number, number]),
      );
      const gpuSeconds = mine.reduce((sum, r) => sum + r.gpu_seconds, 0);
      const corrected = corrections.get(phase);
      return {
        phase,
        label: PHASE_LABELS[phase],
        minutes: round1(corrected ?? recorded),
        corrected: corrected !== undefined,
        gpuSeconds: round1(gpuSeconds),
        cost: round4((gpuSeconds / 3600) * rate),
      };
    });
    return {
      projectId,
      gpuCostPerHour: rate,
      phases,
      totalMinutes: round1(phases.reduce((s, p) => s + p.minutes, 0)),
      totalCost: round4(phases.reduce((s, p) => s + p.cost, 0)),
    };
  }

  /** The snapshot as the workflow document's table (Markdown) or as CSV. */
  export(projectId: number, format: 'markdown' | 'csv'): string {
    const snap = this.snapshot(projectId);
    const money = (v: number): string => (v === 0 ? '—' : `~$${v.toFixed(2)}`);
    if (format === 'csv') {
      const lines = [
        // The CSV's cost column is computed from GPU seconds and the rate; `time_log.cost_usd` (0003) is never written or read.
        'phase,minutes,gpu_seconds,cost_usd',
        ...snap.phases.map((p) => `"${p.label}",${p.minutes},${p.gpuSeconds},${p.cost.toFixed(4)}`),
      ];
      lines.push(`"Total",${snap.totalMinutes},${round1(snap.phases.reduce((s, p) => s + p.gpuSeconds, 0))},${snap.totalCost.toFixed(4)}`);
      return lines.join('\n') + '\n';
    }
    const lines = [
      '|Phase|Minutes|Cost (GPU credits)|',
      '|---|---|---|',
      ...snap.phases.map((p) => `|${p.label}|${formatMinutes(p.minutes)}|${money(p.cost)}|`),
    ];
    lines.push(
      `|**Total**|**${formatMinutes(snap.totalMinutes)}**|**${snap.totalCost === 0 ? '—' : `<$${Math.max(0.01, Math.ceil(snap.totalCost * 100) / 100).toFixed(2)}`}**|`,
    );
    return lines.join('\n') + '\n';
  }
}

/** Total length of possibly overlapping intervals, in minutes. */
function unionMinutes(intervals: [number, number][]): number {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let current: [number, number] | undefined;
  for (const [a, b] of sorted) {
    if (!current || a > current[1]) {
      if (current) total += current[1] - current[0];
      current = [a, b];
    } else current[1] = Math.max(current[1], b);
  }
  if (current) total += current[1] - current[0];
  return total / 60_000;
}

const round1 = (v: number): number => Math.round(v * 10) / 10;
const round4 = (v: number): number => Math.round(v * 10_000) / 10_000;
const formatMinutes = (m: number): string => (Number.isInteger(m) ? String(m) : m.toFixed(1));
