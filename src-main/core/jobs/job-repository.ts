import {
  BRAND_LOOP_PRESET,
  generationSettingsSchema,
  type GenerationSettings,
  type Job,
  type JobOrigin,
  type JobState,
} from '../api/index.js';
import type { CatalogDb } from '../catalog/index.js';

interface JobRow {
  id: number;
  project_id: number;
  state: JobState;
  prompt: string;
  negative_prompt: string;
  settings: string;
  batch_size: number;
  seed: number;
  position: number;
  error: string | null;
  gpu_seconds: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  images_done: number;
  draft: number;
  refines_image_id: number | null;
  init_image_id: number | null;
  init_strength: number | null;
}

export interface NewJob {
  projectId: number;
  prompt: string;
  negativePrompt: string;
  settings: GenerationSettings;
  seed: number;
  /** Draft and Refine (issue 19): what the job is besides its settings. */
  origin?: JobOrigin;
}

const SELECT = `SELECT j.*, (SELECT COUNT(*) FROM images i WHERE i.job_id = j.id) AS images_done FROM jobs j`;

/** A job row whose settings no longer parse (written by another version, or damaged). */
export interface UnreadableJob {
  id: number;
  reason: string;
}

/** Generation jobs in the catalogue, in queue order. */
export class JobRepository {
  constructor(private readonly db: CatalogDb) {}

  insert(job: NewJob): Job {
    const position = (this.db.prepare('SELECT COALESCE(MAX(position), 0) + 1 AS p FROM jobs').get() as { p: number }).p;
    const info = this.db
      .prepare(
        `INSERT INTO jobs (project_id, state, prompt, negative_prompt, settings, batch_size, seed, position, created_at,
                           draft, refines_image_id, init_image_id, init_strength)
         VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        job.projectId,
        job.prompt,
        job.negativePrompt,
        JSON.stringify(job.settings),
        job.settings.batchSize,
        job.seed,
        position,
        new Date().toISOString(),
        job.origin?.draft ? 1 : 0,
        job.origin?.refines ?? null,
        job.origin?.init?.imageId ?? null,
        job.origin?.init?.strength ?? null,
      );
    return this.get(Number(info.lastInsertRowid))!;
  }

  get(id: number): Job | undefined {
    const row = this.db.prepare(`${SELECT} WHERE j.id = ?`).get(id) as JobRow | undefined;
    if (!row) return undefined;
    const parsed = toJob(row);
    return 'job' in parsed ? parsed.job : undefined;
  }

  /**
   * Jobs in queue order (optionally of one project). Rows that no longer parse are returned
   * separately, so the caller can report them; they never break the list.
   */
  list(projectId?: number, options: { includeUnreadable?: boolean } = {}): { jobs: Job[]; unreadable: UnreadableJob[] } {
    const rows = (
      projectId === undefined
        ? this.db.prepare(`${SELECT} ORDER BY j.position, j.id`).all()
        : this.db.prepare(`${SELECT} WHERE j.project_id = ? ORDER BY j.position, j.id`).all(projectId)
    ) as JobRow[];
    const jobs: Job[] = [];
    const unreadable: UnreadableJob[] = [];
    for (const row of rows) {
      const parsed = toJob(row);
      if ('job' in parsed) jobs.push(parsed.job);
      else {
        unreadable.push({ id: row.id, reason: parsed.reason });
        if (options.includeUnreadable) jobs.push(shownUnreadable(row, parsed.reason));
      }
    }
    return { jobs, unreadable };
  }

  /**
   * Keeps a job whose settings no longer parse, failed with the reason, so the user sees it (and
   * its prompt) instead of losing it; it is never run with guessed settings.
   */
  holdUnreadable(id: number, reason: string): void {
    this.db
      .prepare(
        "UPDATE jobs SET state = 'failed', error = ?, finished_at = COALESCE(finished_at, ?) WHERE id = ? AND state IN ('queued', 'running')",
      )
      .run(unreadableMessage(reason), new Date().toISOString(), id);
  }

  /** Why a job cannot run, when its settings do not parse (null when they do). */
  unreadableReason(id: number): string | null {
    const row = this.db.prepare(`${SELECT} WHERE j.id = ?`).get(id) as JobRow | undefined;
    if (!row) return null;
    const parsed = toJob(row);
    return 'reason' in parsed ? parsed.reason : null;
  }

  /** SQLite's data_version: changes whenever another connection (another process) commits. */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /** The next queued job, lowest position first. */
  nextQueued(): { job?: Job; unreadable: UnreadableJob[] } {
    const unreadable: UnreadableJob[] = [];
    for (const row of this.db.prepare(`${SELECT} WHERE j.state = 'queued' ORDER BY j.position, j.id`).all() as JobRow[]) {
      const parsed = toJob(row);
      if ('job' in parsed) return { job: parsed.job, unreadable };
      unreadable.push({ id: row.id, reason: parsed.reason });
    }
    return { unreadable };
  }

  setState(id: number, state: JobState, fields: { error?: string | null; gpuSeconds?: number } = {}): Job | undefined {
    const now = new Date().toISOString();
    const started = state === 'running' ? now : null;
    const finished = state === 'done' || state === 'failed' || state === 'cancelled' ? now : null;
    // A job that completes broke any crash loop: its count of process deaths starts again.
    this.db
      .prepare(
        `UPDATE jobs SET state = @state,
           started_at = COALESCE(@started, started_at),
           finished_at = CASE WHEN @state IN ('queued', 'running') THEN NULL ELSE COALESCE(@finished, finished_at) END,
           error = CASE WHEN @hasError THEN @error WHEN @state IN ('queued', 'running') THEN NULL ELSE error END,
           gpu_seconds = gpu_seconds + @gpu,
           interruptions = CASE WHEN @state = 'done' THEN 0 ELSE interruptions END
         WHERE id = @id`,
      )
      .run({
        id,
        state,
        started,
        finished,
        hasError: fields.error !== undefined ? 1 : 0,
        error: fields.error ?? null,
        gpu: fields.gpuSeconds ?? 0,
      });
    return this.get(id);
  }

  /**
   * At start-up, before anything runs: a job still `running` was interrupted by the process
   * dying (a normal close puts its job back to `queued`). Each such job counts one more
   * interruption; below `limit` it goes back to the queue (in front, where it was) and resumes
   * from its first missing image; at `limit` it is put on hold: `failed`, with `heldMessage(job)`
   * as its error, so the app can start and the rest of the queue runs; only an explicit retry runs
   * it again. A row whose settings no longer parse is requeued (the caller drops it).
   */
  recoverInterrupted(heldMessage: (job: Job) => string, limit = 2): { resumed: number[]; held: number[] } {
    const resumed: number[] = [];
    const held: number[] = [];
    const now = new Date().toISOString();
    const requeue = this.db.prepare("UPDATE jobs SET state = 'queued', interruptions = interruptions + 1 WHERE id = ?");
    const hold = this.db.prepare(
      "UPDATE jobs SET state = 'failed', interruptions = interruptions + 1, error = ?, finished_at = ? WHERE id = ?",
    );
    this.db.transaction(() => {
      const rows = this.db.prepare(`${SELECT} WHERE j.state = 'running' ORDER BY j.position, j.id`).all() as (JobRow & {
        interruptions: number;
      })[];
      for (const row of rows) {
        const parsed = toJob(row);
        if ('job' in parsed && row.interruptions + 1 >= limit) {
          hold.run(heldMessage(parsed.job), now, row.id);
          held.push(row.id);
        } else {
          requeue.run(row.id);
          resumed.push(row.id);
        }
      }
    })();
    return { resumed, held };
  }

  /** The user asked for the job again (retry): the count of process deaths starts again. */
  clearInterruptions(id: number): void {
    this.db.prepare('UPDATE jobs SET interruptions = 0 WHERE id = ?').run(id);
  }

  /** How many times the process died while this job was running, since it last completed or was retried. */
  interruptions(id: number): number {
    return (
      (this.db.prepare('SELECT interruptions FROM jobs WHERE id = ?').get(id) as { interruptions: number } | undefined)?.interruptions ?? 0
    );
  }

  /** Moves a job to `position` among the queued jobs (0 = next). */
  move(id: number, position: number): void {
    const queued = (this.db.prepare("SELECT id FROM jobs WHERE state = 'queued' ORDER BY position, id").all() as { id: number }[]).map(
      (r) => r.id,
    );
    const from = queued.indexOf(id);
    if (from < 0) return;
    queued.splice(from, 1);
    queued.splice(Math.min(position, queued.length), 0, id);
    const base = (this.db.prepare("SELECT COALESCE(MIN(position), 1) AS p FROM jobs WHERE state = 'queued'").get() as { p: number }).p;
    const update = this.db.prepare('UPDATE jobs SET position = ? WHERE id = ?');
    this.db.transaction(() => queued.forEach((jobId, i) => update.run(base + i, jobId)))();
  }

  /** Puts a job at the end of the queue (retry). */
  toBack(id: number): void {
    this.db.prepare('UPDATE jobs SET position = (SELECT COALESCE(MAX(position), 0) + 1 FROM jobs) WHERE id = ?').run(id);
  }
}

function unreadableMessage(reason: string): string {
  return `Its settings cannot be read (${reason}): written by another version of Onbrand, or damaged. Its prompt is kept; queue it again with today's settings.`;
}

/** A job whose settings do not parse, as the queue shows it: the settings that do parse over the preset's, failed with the reason. */
function shownUnreadable(row: JobRow, reason: string): Job {
  let raw: Record<string, unknown> = {};
  try {
    const value = JSON.parse(row.settings) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) raw = value as Record<string, unknown>;
  } catch {
    // Not JSON: nothing of it can be shown.
  }
  const settings: Record<string, unknown> = { ...BRAND_LOOP_PRESET.settings, model: '?' };
  const shape = generationSettingsSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }>;
  for (const [key, value] of Object.entries(raw)) {
    const field = shape[key]?.safeParse(value);
    if (field?.success) settings[key] = field.data;
  }
  return {
    id: row.id,
    projectId: row.project_id,
    state: row.state === 'queued' || row.state === 'running' ? 'failed' : row.state,
    prompt: row.prompt,
    negativePrompt: row.negative_prompt,
    settings: settings as GenerationSettings,
    seed: Number.isInteger(row.seed) && row.seed >= 0 && row.seed <= 0xffffffff ? row.seed : 0,
    batchSize: row.batch_size,
    position: row.position,
    imagesDone: row.images_done,
    error: row.error ?? unreadableMessage(reason),
    gpuSeconds: row.gpu_seconds,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    ...originOf(row),
  };
}

/** A job's draft mark, the draft it refines and its img2img start, from its row. */
function originOf(row: JobRow): Pick<Job, 'draft' | 'refines' | 'init'> {
  return {
    draft: row.draft === 1,
    refines: row.refines_image_id,
    init: row.init_image_id !== null && row.init_strength !== null ? { imageId: row.init_image_id, strength: row.init_strength } : null,
  };
}

function toJob(row: JobRow): { job: Job } | { reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(row.settings);
  } catch {
    return { reason: 'its settings are not JSON' };
  }
  const parsed = generationSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { reason: `settings ${issue?.path.join('.') || ''} ${issue?.message ?? 'invalid'}`.replace(/\s+/g, ' ').trim() };
  }
  if (!Number.isInteger(row.seed) || row.seed < 0 || row.seed > 0xffffffff)
    return { reason: `seed ${row.seed} is not an unsigned 32-bit integer` };
  return {
    job: {
      id: row.id,
      projectId: row.project_id,
      state: row.state,
      prompt: row.prompt,
      negativePrompt: row.negative_prompt,
      settings: parsed.data,
      seed: row.seed,
      batchSize: row.batch_size,
      position: row.position,
      imagesDone: row.images_done,
      error: row.error,
      gpuSeconds: row.gpu_seconds,
      createdAt: row.created_at,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      ...originOf(row),
    },
  };
}
