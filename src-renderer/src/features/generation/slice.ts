/** The generation slices: the Generate panel's form, and the queue fed by core events. */
import type { EngineStatus, Job, ModelList, Preset } from '../../../../src-main/core/api/index';
import type { Slice } from '../../store/types';
import { REFINE_STRENGTH } from '../../../../src-main/core/common/index';
import { initialDraft, type Draft } from './draft';
import type { RefineChoice } from './fast-draft';

/** The side panel's tabs: the Generate form or the prompt Composer. */
export type SideTab = 'generate' | 'composer';

/** The Generate panel: whether it shows, the form as typed, and what the form offers. */
export interface GenerationSlice {
  generateOpen: boolean;
  sideTab: SideTab;
  draft: Draft;
  /** Null until `models.list` answers. */
  models: ModelList | null;
  /** The current project's presets, the built-in Brand loop first. */
  presets: Preset[];
  /** Field-note hints for the settings being edited. */
  hints: string[];
  /** How Refine (R) makes a draft again: same seed at full settings, or img2img at a strength. */
  refineChoice: RefineChoice;
  setRefineChoice(patch: Partial<RefineChoice>): void;
  /** What the last Refine did, or why not (the Refine panel shows it; R says it in the notice while the panel is closed). */
  refineMessage: { ok: boolean; text: string } | null;
  setRefineMessage(message: { ok: boolean; text: string } | null): void;
  /** A Refine is being queued (R pressed twice queues once). */
  refineBusy: boolean;
  setRefineBusy(busy: boolean): void;
  setGenerateOpen(open: boolean): void;
  setSideTab(tab: SideTab): void;
  editDraft(patch: Partial<Draft>): void;
  setModels(models: ModelList): void;
  setPresets(presets: Preset[]): void;
  setHints(hints: string[]): void;
}

/** The latest sampling step of a job (kept when it finishes, dropped when it is queued again). */
export interface JobProgress {
  /** The image of the batch being sampled (0-based). */
  index: number;
  step: number;
  steps: number;
  etaMs: number;
  /** The latest latent preview (a PNG data URL); kept across steps that carry none. */
  preview: string | null;
  /** The ComfyUI server making the image; null (or absent) for this computer. */
  backend?: string | null;
}

/** The generation queue as the core reports it: jobs of every project, the engine's state. */
export interface QueueSlice {
  /** Every job the core knows, all projects (the queue is shared); views filter by project. */
  jobs: Job[];
  jobProgress: Record<number, JobProgress>;
  /** Null until `engine.status` answers. */
  engine: EngineStatus | null;
  setJobs(jobs: Job[]): void;
  /** Replaces jobs by id: `job.updated` events, which arrive in order, are the latest word. */
  upsertJobs(jobs: Job[]): void;
  /** Adds jobs not known yet; a known one may already be newer (its events came first). */
  addJobs(jobs: Job[]): void;
  setJobProgress(jobId: number, progress: Omit<JobProgress, 'preview'> & { preview: string | null }): void;
  setEngine(status: EngineStatus): void;
}

export const createGenerationSlice: Slice<GenerationSlice> = (set) => ({
  generateOpen: false,
  sideTab: 'generate',
  draft: initialDraft(),
  models: null,
  presets: [],
  hints: [],
  refineChoice: { mode: 'seed', strength: String(REFINE_STRENGTH.default) },
  setRefineChoice: (patch) => set((state) => ({ refineChoice: { ...state.refineChoice, ...patch }, refineMessage: null })),
  refineMessage: null,
  setRefineMessage: (refineMessage) => set({ refineMessage }),
  refineBusy: false,
  setRefineBusy: (refineBusy) => set({ refineBusy }),
  setGenerateOpen: (generateOpen) => set({ generateOpen }),
  setSideTab: (sideTab) => set({ sideTab }),
  editDraft: (patch) => set((state) => ({ draft: { ...state.draft, ...patch } })),
  setModels: (models) =>
    set((state) => {
      // Keep the user's model while it still exists; otherwise the engine's, else the first.
      const names = models.models.map((m) => m.name);
      if (names.includes(state.draft.model)) return { models };
      const engineModel = state.engine?.model;
      const model = engineModel && names.includes(engineModel) ? engineModel : (names[0] ?? '');
      return { models, draft: { ...state.draft, model } };
    }),
  setPresets: (presets) => set({ presets }),
  setHints: (hints) => set({ hints }),
});

/**
 * Drops the progress of jobs that went back to the queue (retried): a finished job keeps its last
 * step and preview, which the Queue panel shows as the job's picture.
 */
function pruneProgress(progress: Record<number, JobProgress>, jobs: readonly Job[]): Record<number, JobProgress> {
  const stopped = jobs.filter((j) => j.state === 'queued' && progress[j.id]);
  if (stopped.length === 0) return progress;
  const next = { ...progress };
  for (const job of stopped) delete next[job.id];
  return next;
}

export const createQueueSlice: Slice<QueueSlice> = (set) => ({
  jobs: [],
  jobProgress: {},
  engine: null,
  setJobs: (jobs) => set((state) => ({ jobs, jobProgress: pruneProgress(state.jobProgress, jobs) })),
  // Events are the one ordered stream of job changes; call results may be older than events
  // that overtook them, so calls only add jobs not seen yet (addJobs).
  upsertJobs: (updated) =>
    set((state) => {
      const byId = new Map(updated.map((j) => [j.id, j]));
      const jobs = state.jobs.map((j) => byId.get(j.id) ?? j);
      const known = new Set(state.jobs.map((j) => j.id));
      for (const job of updated) if (!known.has(job.id)) jobs.push(job);
      return { jobs, jobProgress: pruneProgress(state.jobProgress, updated) };
    }),
  addJobs: (added) =>
    set((state) => {
      const known = new Set(state.jobs.map((j) => j.id));
      const fresh = added.filter((j) => !known.has(j.id));
      return fresh.length === 0 ? {} : { jobs: state.jobs.concat(fresh) };
    }),
  setJobProgress: (jobId, progress) =>
    set((state) => {
      // A late step of a job that went back to the queue (retried) belongs to its old run. A late
      // step of a finished job is its last preview arriving after the job ended: keep it.
      const job = state.jobs.find((j) => j.id === jobId);
      if (job?.state === 'queued') return {};
      const preview = progress.preview ?? state.jobProgress[jobId]?.preview ?? null;
      return { jobProgress: { ...state.jobProgress, [jobId]: { ...progress, preview } } };
    }),
  setEngine: (engine) => set({ engine }),
});

const STATE_ORDER: Record<Job['state'], number> = { running: 0, queued: 1, failed: 2, cancelled: 2, done: 2 };

/**
 * A project's jobs as the Queue panel lists them: the running one, then the queued ones in the
 * order they will run, then finished ones, newest first.
 */
export function projectJobs(jobs: readonly Job[], projectId: number | null): Job[] {
  if (projectId === null) return [];
  return jobs
    .filter((j) => j.projectId === projectId)
    .sort((a, b) => {
      const byState = STATE_ORDER[a.state] - STATE_ORDER[b.state];
      if (byState !== 0) return byState;
      if (a.state === 'queued') return a.position - b.position || a.id - b.id;
      return b.id - a.id;
    });
}

/**
 * The `queue.move` position (0 = next, among every project's queued jobs) that puts `job` in its
 * project neighbour's place, one step up (-1) or down (+1); null when there is no such neighbour.
 */
export function movePosition(jobs: readonly Job[], job: Job, direction: -1 | 1): number | null {
  const queued = jobs.filter((j) => j.state === 'queued').sort((a, b) => a.position - b.position || a.id - b.id);
  const own = queued.filter((j) => j.projectId === job.projectId);
  const at = own.findIndex((j) => j.id === job.id);
  const neighbour = at < 0 ? undefined : own[at + direction];
  return neighbour ? queued.indexOf(neighbour) : null;
}
