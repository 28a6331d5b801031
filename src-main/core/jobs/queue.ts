/**
 * The generation queue: persistent jobs in the catalogue, one GPU consumer (the engine in a
 * worker thread), and crash safety. Each finished image is written to a temporary name, renamed
 * into `generations/YYYYMMDD/`, then recorded; on start a job left running is resumed from its
 * first missing image and image files that exist but were not recorded are adopted. A job the
 * process died in twice is put on hold instead (the crash-loop guard), so the app can start.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { ApiError, LOCAL_BACKEND, type EngineStatus, type GenerationSettings, type Job, type JobOrigin } from '../api/index.js';
import { ComfyBackendError, type BackendPool, type RemoteBackend } from '../backends/index.js';
import type { AppSettings, ImageRepository, ProjectRepository } from '../catalog/index.js';
import { problemText, loraProblem } from '../common/index.js';
import { extractLoraTags, loraNames, readPngText } from '../diffusion/index.js';
import type { EventBus } from '../events.js';
import { isInside, writeRenditions } from '../images/index.js';
import type { TimeLog } from '../timelog/index.js';
import { appPackage, freeFileName, stageFile, sweepTempFiles, type StagedFile } from '../util/index.js';
import type { JobRepository } from './job-repository.js';
import { describeHolder, type LeaseHolder, type OwnerLease } from './owner-lease.js';
import type { FromWorker, ImageExtras, RunRequest } from './protocol.js';

export interface QueueOptions {
  modelsDir: string;
  loraDir: string;
  dataDir: string;
  provider?: RunRequest['provider'];
  /** The worker script; defaults to the built one in dist/. */
  workerFile?: string;
  /** The queue's owner across processes: only its holder runs jobs. */
  lease: OwnerLease;
  /** Runs when this process becomes the queue's owner, before any job (finishing interrupted moves). */
  onOwnership?: () => void;
  /** How often the owner looks for changes other processes made to the catalogue (default 1 s). */
  watchMs?: number;
  /** Folders exports were written to, swept for temporary files at start. */
  exportFolders?: () => string[];
  /** ComfyUI servers the queue also sends images to (issue 21); none: the local engine alone. */
  backends?: BackendPool;
}

/**
 * A job being made: the images not yet given to a backend (`todo`), those being made and where,
 * and how it ends. Its images may be made on several backends at once; image i is always seed + i.
 */
interface ActiveJob {
  job: Job;
  todo: number[];
  /** Index → the backend making it ('local' or a server's name). */
  inFlight: Map<number, string>;
  aborts: Map<number, AbortController>;
  /** Indices whose image arrived (being written, or written). */
  received: Set<number>;
  init?: RunRequest['init'];
  cancelled: boolean;
  /** Why it fails (no backend can make its images); it ends once nothing is in flight. */
  failure?: string;
  saveError?: unknown;
  gpuSeconds: number;
  localSeconds: number;
  /** Servers that cannot make it (no model or LoRA there, a graph it refused), with why. */
  refused: Map<string, string>;
  /** The local engine failed it: other backends may still make its images. */
  localFailed?: string;
  /** Why the local engine cannot make it (its model or a LoRA not installed here), asked once when it starts; null when it can. */
  localLacks: string | null;
}

/** What `start` found and did. */
export interface QueueStart {
  resumed: number[];
  held: number[];
  adopted: number;
  unreadable: { id: number; reason: string }[];
  /** Another live process owns the queue: nothing was recovered or run here. */
  owner?: LeaseHolder;
}

/** Why a job stopped when its images could not be saved: how many are kept and how many are still to make. */
export function saveFailedMessage(error: unknown, kept: number, batch: number, folder: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  const left = `${kept} image${kept === 1 ? '' : 's'} kept, ${batch - kept} to go`;
  if (code === 'ENOSPC' || code === 'SQLITE_FULL' || code === 'EDQUOT')
    return `Disk full: ${left}. Free some space on the disk of ${folder} and retry the job; it makes only the missing images.`;
  return `Could not save an image (${(error as Error).message}): ${left}. Retry the job once the problem is fixed; it makes only the missing images.`;
}

/** Where a job's image goes: the job's day folder, a name that says job, index and seed. */
export function generationFileName(job: Pick<Job, 'id' | 'createdAt'>, index: number, seed: number): string {
  const day = localDay(new Date(job.createdAt));
  return path.join('generations', day, `job${job.id}_${String(index + 1).padStart(2, '0')}_${seed}.png`);
}

function localDay(date: Date): string {
  return `${date.getFullYear()}${String(date.getMonth() + 1).padStart(2, '0')}${String(date.getDate()).padStart(2, '0')}`;
}

/** A job is put on hold when the process has died this many times while running it. */
export const CRASH_LOOP_LIMIT = 2;

/** The error a job put on hold by the crash-loop guard shows (queue panel, `onbrand queue list`). */
export function crashLoopMessage(job: Pick<Job, 'settings' | 'batchSize'>): string {
  return (
    `Onbrand stopped twice while generating this job (${job.settings.width}×${job.settings.height}, batch ${job.batchSize}), ` +
    'so it was put on hold to let the app start. Try a smaller batch or size, or retry it as it is.'
  );
}

/** Resolves a job's model: a folder name in the models folder, or an absolute path. */
export function resolveModelDir(model: string, modelsDir: string): string {
  return path.isAbsolute(model) ? model : path.join(modelsDir, model);
}

export class GenerationQueue {
  private worker: Worker | undefined;
  /** Jobs being made, in the order they started. */
  private readonly active = new Map<number, ActiveJob>();
  /** What the engine's worker is making now. */
  private localRun: { active: ActiveJob; indices: number[] } | undefined;
  private localMade = 0;
  /** Adoption at start: nothing is assigned before the files found are recorded. */
  private ready: Promise<void> = Promise.resolve();
  private pumpAgain = false;
  private status: EngineStatus = { state: 'idle', model: null, provider: null, fallbacks: [] };
  private pumping: Promise<void> | null = null;
  private closed = false;
  /** Jobs only run once a shell has started the queue (the CLI's `queue add` only records them). */
  private started = false;
  private readonly idleWaiters: (() => void)[] = [];
  /** Writes of finished images, in order, so `done` is handled after every image is recorded. */
  private writes: Promise<void> = Promise.resolve();
  /** Whether this process holds the queue's lease (runs jobs); the others only add, cancel and retry. */
  private owner = false;
  private kind = 'app';
  private waitTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private seenVersion = -1;
  private seenJobs = new Map<number, string>();
  private seenImage = 0;
  private readonly announced = new Set<number>();
  private readonly ownerWaiters: (() => void)[] = [];
  private stopAnnounced: (() => void) | undefined;

  constructor(
    private readonly jobs: JobRepository,
    private readonly images: ImageRepository,
    private readonly projects: ProjectRepository,
    private readonly settings: AppSettings,
    private readonly events: EventBus,
    private readonly timelog: TimeLog,
    private readonly options: QueueOptions,
  ) {
    if (this.settings.get('queue.paused', false)) this.status = { ...this.status, state: 'paused' };
    if (this.options.backends)
      this.options.backends.onChange = () => {
        this.emitBackends();
        void this.pump();
      };
  }

  /** The backends (local engine first) with what each is doing. */
  backendViews() {
    const local = { running: this.localRun ? this.localRun.indices.length : 0, made: this.localMade };
    return this.options.backends?.views(local) ?? [];
  }

  /** The backends' settings changed (added, removed, resumed, switched): tell the windows, and use them. */
  backendsChanged(): void {
    this.emitBackends();
    void this.pump();
  }

  private emitBackends(): void {
    if (this.options.backends && !this.closed) this.events.emit('backends.updated', { backends: this.backendViews() });
  }

  /**
   * Recovers from a crash (interrupted jobs, unrecorded files, stray temp files), then starts working.
   * A job that was running when the process died resumes; one the process has now died in twice
   * (since it last completed or was retried) is `held`: failed with `crashLoopMessage`, so a job
   * that kills the process (an out-of-memory kill at a huge size or batch) cannot make the app
   * crash at every start; the rest of the queue runs, and only a retry runs it again. Finishing
   * an image between the two deaths does not clear the count: a job that dies at the same size and
   * batch again is just as likely to keep dying, and a false hold costs only a retry.
   */
  start(kind = 'app', options: { wait?: boolean } = {}): QueueStart {
    this.started = true;
    this.kind = kind;
    const holder = this.options.lease.tryAcquire(kind);
    if (!holder) return this.takeOver();
    // Another live process runs the queue: recovering here would run its job a second time.
    // The app and `serve` take over when it stops; `queue run` says so and leaves.
    if (options.wait ?? true) {
      this.waitForLease();
      // Shows what the owner does (jobs finishing, images landing) while this one waits.
      this.watchCatalogue();
    }
    this.setStatus({ ...this.status, elsewhere: describeHolder(holder) });
    return { resumed: [], held: [], adopted: 0, unreadable: [], owner: holder };
  }

  /**
   * Resolves once this process owns the queue (at once if it does). The shells resume what one
   * owner should do only once (unfinished model downloads) when it resolves.
   */
  whenOwner(): Promise<void> {
    if (this.owner) return Promise.resolve();
    return new Promise((resolve) => this.ownerWaiters.push(resolve));
  }

  /** The live owner of the queue in another process, if any. */
  otherOwner(): LeaseHolder | null {
    if (this.owner) return null;
    return this.options.lease.holder();
  }

  private takeOver(): QueueStart {
    this.owner = true;
    for (const resolve of this.ownerWaiters.splice(0)) queueMicrotask(resolve);
    if (this.status.elsewhere) this.setStatus({ ...this.status, elsewhere: null });
    this.options.lease.keepAlive(() => this.lostLease());
    this.options.onOwnership?.();
    const { resumed, held } = this.jobs.recoverInterrupted(crashLoopMessage, CRASH_LOOP_LIMIT);
    let adopted = 0;
    const { jobs, unreadable } = this.jobs.list();
    // Kept and shown as failed with the reason, never dropped, never run with guessed settings.
    for (const bad of unreadable) this.jobs.holdUnreadable(bad.id, bad.reason);
    for (const job of jobs) {
      if (held.includes(job.id) || resumed.includes(job.id)) this.events.emit('job.updated', this.jobs.get(job.id) ?? job);
      if (job.state === 'queued' || resumed.includes(job.id) || held.includes(job.id)) adopted += this.adopt(job);
    }
    // Before the first job, as adoption: leftovers of killed writers are gone when anything runs.
    this.writes = this.writes
      .then(() => this.sweepTempFiles())
      .catch((error: unknown) => console.warn(`onbrand: temporary files could not all be removed: ${(error as Error).message}`));
    this.ready = this.writes;
    this.watchCatalogue();
    void this.pump();
    return { resumed, held, adopted, unreadable };
  }

  /** Takes the lease as soon as its owner stops (or is killed), then recovers and runs the queue. */
  private waitForLease(): void {
    if (this.waitTimer || this.closed) return;
    this.waitTimer = setInterval(() => {
      if (this.closed) return this.stopWaiting();
      try {
        if (this.options.lease.tryAcquire(this.kind)) return;
      } catch {
        return; // Busy catalogue: try again next time.
      }
      this.stopWaiting();
      try {
        this.takeOver();
      } catch (error) {
        // A busy catalogue or a move that cannot be finished: give the lease back and try again,
        // rather than hold the queue with nothing running it.
        console.warn(`onbrand: could not take over the queue (${(error as Error).message}); trying again.`);
        this.owner = false;
        this.options.lease.release();
        this.waitForLease();
      }
    }, this.options.watchMs ?? 1_000);
    this.waitTimer.unref();
  }

  private stopWaiting(): void {
    if (this.waitTimer) clearInterval(this.waitTimer);
    this.waitTimer = undefined;
  }

  /**
   * Another process took the lease: this one was frozen past the stale limit (a suspended laptop,
   * a stopped debugger). The new owner resumes the running job; this one stops it and waits.
   */
  private lostLease(): void {
    this.owner = false;
    for (const active of this.active.values()) {
      console.warn(`onbrand: another process took over the queue; job ${active.job.id} continues there.`);
      this.stopActive(active);
    }
    this.waitForLease();
  }

  /**
   * Notices what other processes did to the catalogue (the CLI adding, cancelling, retrying,
   * pausing, importing; the owner generating): SQLite's data_version changes with every commit
   * from another connection. The owner runs what was queued; every started queue tells its shell.
   */
  private watchCatalogue(): void {
    if (this.watchTimer) return;
    this.seenVersion = this.jobs.dataVersion();
    this.seenJobs = new Map(this.jobs.list(undefined, { includeUnreadable: true }).jobs.map((j) => [j.id, jobKey(j)]));
    this.seenImage = this.images.maxId();
    // Images this process records are announced as they are made, not again by the sync.
    this.stopAnnounced = this.events.subscribe((event) => {
      if (event.type === 'images.added') for (const image of event.payload.images) this.announced.add(image.id);
    });
    this.watchTimer = setInterval(() => {
      if (this.closed) return;
      // Servers not heard from in a while (or unreachable a while ago) are asked again.
      if (this.owner) this.options.backends?.refresh();
      try {
        const version = this.jobs.dataVersion();
        if (version === this.seenVersion) return;
        this.syncFromCatalogue();
        this.seenVersion = version;
      } catch {
        // Busy or closing: seenVersion is unchanged, so the next look syncs again.
      }
    }, this.options.watchMs ?? 1_000);
    this.watchTimer.unref();
  }

  private stopWatching(): void {
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = undefined;
    this.stopAnnounced?.();
    this.stopAnnounced = undefined;
  }

  private syncFromCatalogue(): void {
    const jobs = this.jobs.list(undefined, { includeUnreadable: true }).jobs;
    const seen = new Map<number, string>();
    for (const job of jobs) {
      const key = jobKey(job);
      seen.set(job.id, key);
      if (this.seenJobs.get(job.id) !== key) this.events.emit('job.updated', job);
    }
    this.seenJobs = seen;
    // Images other processes recorded (the owner's generations, CLI imports), per project.
    const recorded = this.images.after(this.seenImage);
    const added = recorded.filter((image) => !this.announced.has(image.id));
    if (recorded.length) this.seenImage = recorded[recorded.length - 1]!.id;
    for (const image of recorded) this.announced.delete(image.id);
    const byProject = new Map<number, typeof added>();
    for (const image of added) byProject.set(image.projectId, [...(byProject.get(image.projectId) ?? []), image]);
    for (const [projectId, images] of byProject) this.events.emit('images.added', { projectId, images });
    if (!this.owner) return;
    // Cancelled from another process while running here: stop it (its finished images stay).
    for (const active of this.active.values())
      if (jobs.find((j) => j.id === active.job.id)?.state === 'cancelled') {
        active.cancelled = true;
        this.stopActive(active);
        this.settle(active);
      }
    void this.pump();
  }

  engineStatus(): EngineStatus {
    return this.status;
  }

  /**
   * Queues `batches` jobs. `origin` marks them as drafts (the Draft toggle), as the refine of a
   * draft image, or as img2img from an image of the same project (checked now: it must be in the
   * catalogue and its file inside the project's folder).
   */
  add(
    projectId: number,
    prompt: string,
    negativePrompt: string,
    settings: GenerationSettings,
    batches: number,
    seed?: number,
    origin: JobOrigin = {},
  ): Job[] {
    if (!this.projects.get(projectId)) throw new ApiError('not_found', `No project with id ${projectId}.`, 'projectId');
    if (origin.refines !== undefined) this.projectImage(projectId, origin.refines, 'The draft to refine', 'refines');
    if (origin.init) this.initImagePath(projectId, origin.init.imageId, 'init.imageId');
    // A model on a ComfyUI server (as last asked) will do: its images are made there.
    if (!this.localModel(settings.model) && !this.remoteModel(prompt, settings)) {
      throw new ApiError(
        'invalid_input',
        `No model "${settings.model}" is installed (in ${this.options.modelsDir}). Download Stable Diffusion 1.5 or import a checkpoint in Models (onbrand models pull / onbrand models import).`,
        'settings.model',
      );
    }
    if (settings.sampler === 'DDIM' && settings.scheduleType !== undefined && settings.scheduleType !== 'Automatic') {
      throw new ApiError(
        'invalid_input',
        `DDIM walks its own timesteps: set the schedule type to Automatic, or pick another sampler for ${settings.scheduleType}.`,
        'settings.scheduleType',
      );
    }
    try {
      this.checkPrompt(prompt);
    } catch (error) {
      // A LoRA only the servers have will do too: its images are made there.
      if (!this.remoteModel(prompt, settings)) throw error;
    }
    const first = seed ?? crypto.randomBytes(4).readUInt32BE();
    const created: Job[] = [];
    for (let b = 0; b < batches; b++) {
      // Batches follow on: 3 batches of 6 from seed S use S … S+17.
      const job = this.jobs.insert({ projectId, prompt, negativePrompt, settings, seed: (first + b * settings.batchSize) >>> 0, origin });
      created.push(job);
      this.events.emit('job.updated', job);
    }
    this.timelog.activity(projectId, 'prompt');
    void this.pump();
    return created;
  }

  /**
   * A prompt's LoRA tags must read and name installed LoRAs (as the engine resolves them): refused
   * now, with the closest installed name, instead of failing once the job runs. `label` names the
   * prompt in the message, `field` in the error.
   */
  checkPrompt(prompt: string, label = 'Prompt', field = 'prompt'): void {
    try {
      extractLoraTags(prompt);
    } catch (error) {
      throw new ApiError('invalid_input', `${label}: ${(error as Error).message}`, field);
    }
    const problem = loraProblem(label, prompt, loraNames(this.options.loraDir));
    if (problem) throw new ApiError('invalid_input', problemText(problem), field);
  }

  list(projectId?: number): Job[] {
    return this.jobs.list(projectId, { includeUnreadable: true }).jobs;
  }

  /** An image of the project, or an error naming `what` (in the designer's words) and the field. */
  private projectImage(projectId: number, imageId: number, what: string, field: string): { path: string; fileName: string } {
    const image = this.images.get(imageId);
    if (!image || image.projectId !== projectId)
      throw new ApiError('not_found', `${what} (image ${imageId}) is not in this project's catalogue any more.`, field);
    return image;
  }

  /**
   * The file of an img2img start image: an image of the project whose file (links resolved) lies
   * inside the project's folder. Checked when the job is queued and again when it runs (a draft
   * rejected meanwhile has moved to _Rejected, which is still inside).
   */
  private initImagePath(projectId: number, imageId: number, field: string): string {
    const image = this.projectImage(projectId, imageId, 'The image to start from', field);
    const project = this.projects.get(projectId)!;
    let real: string;
    try {
      real = fs.realpathSync(image.path);
    } catch {
      throw new ApiError('not_found', `The image to start from, ${image.fileName}, is missing from the project folder.`, field);
    }
    let root = project.folder;
    try {
      root = fs.realpathSync(project.folder);
    } catch {
      // The folder itself is gone: nothing inside it either.
    }
    if (!isInside(root, real) || !fs.statSync(real).isFile())
      throw new ApiError('unauthorized', `The image to start from, ${image.fileName}, is outside the project folder.`, field);
    return real;
  }

  /** Whether the model is installed here. */
  private localModel(model: string): boolean {
    return fs.existsSync(path.join(resolveModelDir(model, this.options.modelsDir), 'model_index.json'));
  }

  /** Whether an enabled ComfyUI server has the model and the prompt's LoRAs (as it last said). */
  private remoteModel(prompt: string, settings: GenerationSettings): boolean {
    try {
      return (this.options.backends?.list() ?? []).some(
        (r) => r.config.enabled && r.inventory !== null && !('reason' in r.plan({ prompt, settings })),
      );
    } catch {
      return false; // A prompt whose tags do not read: checkPrompt says why.
    }
  }

  /** Why the local engine cannot make a job's images (its model or a LoRA not installed here), or null. */
  private localLacks(job: Pick<Job, 'prompt' | 'settings'>): string | null {
    if (!this.localModel(job.settings.model)) return `the model "${job.settings.model}" is not installed here`;
    const problem = loraProblem('Prompt', job.prompt, loraNames(this.options.loraDir));
    return problem ? `this computer: ${problem.message}` : null;
  }

  cancel(jobId: number): Job {
    const job = this.require(jobId);
    if (job.state === 'queued') return this.update(jobId, 'cancelled');
    const active = this.active.get(jobId);
    if (job.state === 'running' && active) {
      // Finished images stay; those being made stop (the worker between steps, servers by /interrupt).
      active.cancelled = true;
      active.todo = [];
      this.stopActive(active);
      this.settle(active);
      return job;
    }
    // Running in the process that owns the queue (the app, while this is the CLI): recorded here,
    // that process stops it when it sees the change; its finished images stay.
    if (job.state === 'running' && !this.owner) return this.update(jobId, 'cancelled');
    throw new ApiError('conflict', `Job ${jobId} is ${job.state}; only queued or running jobs can be cancelled.`, 'jobId');
  }

  /**
   * A failed or cancelled job (or one put on hold by the crash-loop guard) goes back to the end of
   * the queue; it makes only its missing images. The user chose to run it again: its count of
   * process deaths starts again.
   */
  retry(jobId: number): Job {
    const job = this.require(jobId);
    if (job.state !== 'failed' && job.state !== 'cancelled')
      throw new ApiError('conflict', `Job ${jobId} is ${job.state}; only failed or cancelled jobs can be retried.`, 'jobId');
    this.jobs.clearInterruptions(jobId);
    this.jobs.toBack(jobId);
    const updated = this.update(jobId, 'queued');
    void this.pump();
    return updated;
  }

  move(jobId: number, position: number): Job[] {
    const job = this.require(jobId);
    if (job.state !== 'queued') throw new ApiError('conflict', `Job ${jobId} is ${job.state}; only queued jobs can be moved.`, 'jobId');
    this.jobs.move(jobId, position);
    const jobs = this.jobs.list(job.projectId).jobs;
    for (const j of jobs) if (j.state === 'queued') this.events.emit('job.updated', j);
    return jobs;
  }

  pause(): EngineStatus {
    this.settings.set('queue.paused', true);
    return this.setStatus({ ...this.status, state: this.localRun ? this.status.state : 'paused' });
  }

  resume(): EngineStatus {
    this.settings.set('queue.paused', false);
    const status = this.setStatus({ ...this.status, state: this.localRun ? 'running' : 'idle' });
    void this.pump();
    return status;
  }

  /** Resolves when nothing is running and nothing runnable is queued (the CLI's `queue run`). */
  whenIdle(): Promise<void> {
    if (this.active.size === 0 && (this.paused || !this.owner || !this.jobs.nextQueued().job)) return this.writes;
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    // A normal close (quit, Ctrl+C) is not a crash: the running job goes back to the queue now,
    // before anything awaits, so the next start resumes it without counting an interruption.
    const running = this.localRun?.active.job.id;
    for (const active of this.active.values()) {
      if (this.owner) this.jobs.setState(active.job.id, 'queued');
      for (const controller of active.aborts.values()) controller.abort();
    }
    this.stopWaiting();
    this.stopWatching();
    await this.writes;
    await this.stopWorker(running);
    this.worker = undefined;
    if (this.owner) this.options.lease.release();
    this.owner = false;
  }

  /**
   * Ends the engine thread. A thread terminated while an onnxruntime call is in flight takes the
   * whole process down with it (the call's completion throws into a torn-down environment:
   * "terminate called after throwing an instance of 'Napi::Error'"), so a running job is cancelled
   * first: the worker stops between steps and says so. Past \`graceMs\` (a step of minutes on a
   * slow CPU) it is terminated all the same.
   */
  private async stopWorker(running: number | undefined, graceMs = 3000): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    if (running !== undefined) {
      await new Promise<void>((resolve) => {
        const ended = (message: FromWorker): void => {
          if (message.type === 'cancelled' || message.type === 'done' || message.type === 'failed') finish();
        };
        const timer = setTimeout(finish, graceMs);
        function finish(): void {
          clearTimeout(timer);
          worker!.off('message', ended);
          worker!.off('exit', finish);
          resolve();
        }
        worker.on('message', ended);
        worker.once('exit', finish);
        worker.postMessage({ type: 'cancel', jobId: running });
      });
    }
    await worker.terminate();
  }

  private get paused(): boolean {
    return this.settings.get('queue.paused', false);
  }

  private require(jobId: number): Job {
    const job = this.jobs.get(jobId);
    if (!job) {
      const unreadable = this.jobs.unreadableReason(jobId);
      if (unreadable)
        throw new ApiError(
          'conflict',
          `Job ${jobId}'s settings cannot be read (${unreadable}); it is kept as failed with its prompt: queue the prompt again.`,
          'jobId',
        );
      throw new ApiError('not_found', `No job with id ${jobId}.`, 'jobId');
    }
    return job;
  }

  private update(jobId: number, state: Job['state'], fields: { error?: string | null; gpuSeconds?: number } = {}): Job {
    const job = this.jobs.setState(jobId, state, fields)!;
    this.events.emit('job.updated', job);
    return job;
  }

  private setStatus(status: EngineStatus): EngineStatus {
    this.status = status;
    this.events.emit('engine.status', status);
    return status;
  }

  /**
   * Gives the queue's images to free backends: the images of the jobs being made first (in queue
   * order), then the next queued job's. Never waits for an image: each finished or failed image
   * pumps again. Called from anywhere; calls that come while it runs make it look once more.
   */
  private pump(): Promise<void> {
    if (this.closed || !this.started || !this.owner) return Promise.resolve();
    if (this.pumping) {
      this.pumpAgain = true;
      return this.pumping;
    }
    this.pumping = (async () => {
      try {
        do {
          this.pumpAgain = false;
          // Images adopted at start are recorded before anything runs, so none is made twice.
          await this.ready;
          this.options.backends?.refresh();
          this.assign();
        } while (this.pumpAgain && !this.closed);
      } catch (error) {
        // The catalogue cannot be written (a full disk under it) or the worker cannot start: say
        // so once, plainly, and stop here; the job is still queued or running and resumes at the next start.
        console.error(`onbrand: the queue could not start an image: ${(error as Error).message}`);
      } finally {
        this.pumping = null;
      }
      if (this.active.size === 0) {
        if (this.paused && this.status.state !== 'paused') this.setStatus({ ...this.status, state: 'paused' });
        // Idle once the last job's images and its end are recorded.
        const waiters = this.idleWaiters.splice(0);
        if (waiters.length) void this.writes.then(() => waiters.forEach((resolve) => resolve()));
      }
    })();
    return this.pumping;
  }

  private assign(): void {
    let starting: number | null = null;
    try {
      this.assignEach((id) => (starting = id));
    } catch (error) {
      // The catalogue cannot be written (a full disk under it) or the worker cannot start: say so
      // once, plainly, and stop here; the job is still queued (or running) and runs at the next start.
      if (starting === null) throw error;
      console.error(`onbrand: job ${starting} could not start: ${(error as Error).message}`);
    }
  }

  private assignEach(starting: (jobId: number) => void): void {
    const remotes = this.options.backends?.list() ?? [];
    const localOn = this.options.backends?.registry.localEnabled() ?? true;
    for (;;) {
      if (this.paused || this.closed || !this.owner) return;
      const localFree = localOn && !this.localRun;
      const free = remotes.filter((r) => r.free());
      if (!localFree && free.length === 0) return;
      let given = false;
      for (const active of this.active.values()) {
        if (active.cancelled || active.failure !== undefined || active.saveError !== undefined || active.todo.length === 0) continue;
        starting(active.job.id);
        if (this.give(active, localFree, free, remotes)) {
          given = true;
          break;
        }
      }
      if (given) continue;
      // Nothing of the jobs under way fits a free backend: the next queued job, if one fits.
      const { job, unreadable } = this.jobs.nextQueued();
      for (const bad of unreadable) {
        console.warn(`onbrand: job ${bad.id} cannot be read (${bad.reason}); kept as failed.`);
        this.jobs.holdUnreadable(bad.id, bad.reason);
      }
      if (!job) return;
      starting(job.id);
      const why = this.unmakeable(job, localOn, remotes);
      if (why !== null) {
        this.update(job.id, 'failed', { error: why });
        continue;
      }
      if (!(localFree && this.localLacks(job) === null) && !free.some((r) => !('reason' in r.plan(job)))) return;
      if (!this.activate(job)) continue;
    }
  }

  /**
   * Why no backend can make a job's images (none has its model or LoRAs; the servers that might are
   * paused, switched off or never answered), or null when one can, now or once it answers or is back.
   */
  private unmakeable(
    job: Job,
    localOn: boolean,
    remotes: RemoteBackend[],
    refused?: Map<string, string>,
    localFailed?: string,
  ): string | null {
    const reasons: string[] = [];
    const lacks = this.localLacks(job);
    if (localOn && lacks === null && localFailed === undefined) return null;
    if (!localOn) reasons.push('the local engine is switched off');
    else if (localFailed !== undefined) reasons.push(`this computer: ${localFailed}`);
    else reasons.push(lacks!);
    for (const r of remotes) {
      if (!r.config.enabled) continue;
      const no = refused?.get(r.name) ?? r.wontRun(job);
      if (no === null) return null;
      reasons.push(no);
    }
    return `No backend can make this job's images: ${reasons.join('; ')}.`;
  }

  /** Starts a queued job: it is running, with the images it still lacks to give out. */
  private activate(job: Job): boolean {
    const project = this.projects.get(job.projectId);
    if (!project) {
      this.update(job.id, 'failed', { error: 'Its project no longer exists.' });
      return false;
    }
    const recorded = this.images.jobIndices(job.id);
    const todo = Array.from({ length: job.batchSize }, (_, i) => i).filter((i) => !recorded.has(i));
    if (todo.length === 0) {
      this.update(job.id, 'done');
      return false;
    }
    let init: RunRequest['init'];
    if (job.init) {
      try {
        init = { path: this.initImagePath(job.projectId, job.init.imageId, 'init'), strength: job.init.strength };
      } catch (error) {
        this.update(job.id, 'failed', { error: (error as Error).message });
        return false;
      }
    }
    const running = this.update(job.id, 'running');
    this.active.set(job.id, {
      job: running,
      todo,
      inFlight: new Map(),
      aborts: new Map(),
      received: new Set(),
      ...(init ? { init } : {}),
      cancelled: false,
      gpuSeconds: 0,
      localSeconds: 0,
      refused: new Map(),
      localLacks: this.localLacks(job),
    });
    this.timelog.activity(job.projectId, 'generate');
    return true;
  }

  /**
   * Gives images of a job to a free backend that can make it: an idle server that ran its model
   * last, then the one with the most free VRAM, then the local engine. With servers to share the
   * job, the local engine takes one image at a time; alone, it takes them all (one batch).
   */
  private give(active: ActiveJob, localFree: boolean, free: RemoteBackend[], remotes: RemoteBackend[]): boolean {
    const { job } = active;
    const capable = free.filter((r) => r.free() && !active.refused.has(r.name) && !('reason' in r.plan(job)));
    if (capable.length) {
      const model = job.settings.model;
      const rank = (r: RemoteBackend): number[] => [
        r.running === 0 ? 0 : 1,
        r.loadedModel === model ? 0 : 1,
        -(r.vramFree ?? 0),
        r.running,
      ];
      capable.sort((a, b) => {
        const x = rank(a);
        const y = rank(b);
        for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
        return 0;
      });
      this.startRemote(active, capable[0]!, active.todo.shift()!);
      return true;
    }
    if (!localFree || active.localFailed !== undefined || active.localLacks !== null) return false;
    const shared = remotes.some((r) => r.usable() && !active.refused.has(r.name) && !('reason' in r.plan(job)));
    this.startLocal(active, shared ? 1 : active.todo.length);
    return true;
  }

  private startLocal(active: ActiveJob, count: number): void {
    const { job } = active;
    // First, so a worker that cannot start leaves the images with the job.
    const worker = this.ensureWorker();
    const indices = active.todo.splice(0, count);
    this.localRun = { active, indices };
    for (const index of indices) active.inFlight.set(index, LOCAL_BACKEND);
    worker.postMessage({
      type: 'run',
      jobId: job.id,
      modelDir: resolveModelDir(job.settings.model, this.options.modelsDir),
      loraDir: this.options.loraDir,
      graphCacheDir: path.join(this.options.dataDir, 'graph-cache'),
      provider: this.options.provider ?? 'auto',
      prompt: job.prompt,
      negativePrompt: job.negativePrompt,
      settings: job.settings,
      seed: job.seed,
      indices,
      ...(active.init ? { init: active.init } : {}),
      dataDir: this.options.dataDir,
    } satisfies RunRequest);
    this.emitBackends();
  }

  /** One image on a ComfyUI server; a failure gives it back to the job's images to make (elsewhere, or there again). */
  private startRemote(active: ActiveJob, remote: RemoteBackend, index: number): void {
    const pool = this.options.backends!;
    const { job } = active;
    const controller = new AbortController();
    active.inFlight.set(index, remote.name);
    active.aborts.set(index, controller);
    remote.running++;
    this.emitBackends();
    const seed = (job.seed + index) >>> 0;
    let preview: string | null = null;
    void pool
      .make(
        remote,
        { job, index, seed, ...(active.init ? { init: active.init } : {}) },
        {
          signal: controller.signal,
          onPreview: (url) => (preview = url),
          onProgress: (step, steps, etaMs) => {
            if (this.closed || !this.owner) return;
            this.events.emit('job.progress', {
              jobId: job.id,
              projectId: job.projectId,
              index,
              step,
              steps,
              etaMs,
              preview,
              backend: remote.name,
            });
            preview = null;
          },
        },
      )
      .then(
        (image) => {
          remote.succeeded(job.settings.model);
          // Closing (the catalogue about to close): the job went back to the queue; the image is made again at the next start.
          if (this.closed || !this.owner) return;
          active.gpuSeconds += image.seconds;
          this.timelog.backendWork(job.projectId, remote.name, image.seconds, remote.config.ratePerHour);
          active.received.add(index);
          this.keep(active, {
            type: 'image',
            jobId: job.id,
            index,
            seed,
            png: image.png,
            parameters: image.parameters,
            width: image.width,
            height: image.height,
          });
        },
        (error: Error) => {
          if (controller.signal.aborted) return;
          // A graph the server refused (a model or LoRA it does not have after all) says nothing of
          // its health: the job is not sent there again, and what it has is asked anew.
          if (error instanceof ComfyBackendError && error.kind === 'rejected') {
            active.refused.set(remote.name, error.message);
            void remote.refresh(() => this.options.backends?.onChange(), true);
          } else remote.failed(error);
          console.warn(
            `onbrand: image ${index + 1} of job ${job.id} failed on ${remote.label()}: ${error.message}; it goes back to the queue.`,
          );
        },
      )
      .finally(() => {
        remote.running--;
        active.inFlight.delete(index);
        active.aborts.delete(index);
        if (!active.received.has(index) && !active.cancelled && this.owner && !this.closed) insertSorted(active.todo, index);
        this.emitBackends();
        this.settle(active);
        void this.pump();
      })
      .catch((error: unknown) =>
        console.error(`onbrand: image ${index + 1} of job ${job.id} from ${remote.label()}: ${(error as Error).message}`),
      );
  }

  /** Stops what is being made of a job: the worker between steps, each server's image by /interrupt. */
  private stopActive(active: ActiveJob): void {
    for (const controller of active.aborts.values()) controller.abort();
    if (this.localRun?.active === active) this.worker?.postMessage({ type: 'cancel', jobId: active.job.id });
  }

  /**
   * Ends a job once nothing of it is being made and nothing is left to give out (or it was
   * cancelled, or cannot be made): its state is recorded after its last image is.
   */
  private settle(active: ActiveJob): void {
    if (active.inFlight.size > 0 || this.active.get(active.job.id) !== active) return;
    if (!this.owner) {
      // The lease went to another process, which resumed this job: its state is that one's to write.
      this.active.delete(active.job.id);
      return;
    }
    if (this.closed) return;
    if (!active.cancelled && active.failure === undefined && active.saveError === undefined && active.todo.length > 0) {
      const remotes = this.options.backends?.list() ?? [];
      const localOn = this.options.backends?.registry.localEnabled() ?? true;
      const why = this.unmakeable(active.job, localOn, remotes, active.refused, active.localFailed);
      if (why === null) return;
      active.failure = why;
    }
    this.active.delete(active.job.id);
    const { job } = active;
    this.writes = this.writes.then(() => {
      let state: Job['state'] = active.cancelled ? 'cancelled' : active.failure !== undefined ? 'failed' : 'done';
      try {
        let error = active.failure;
        if (active.saveError !== undefined) {
          state = 'failed';
          const project = this.projects.get(job.projectId);
          error = saveFailedMessage(active.saveError, this.images.jobIndices(job.id).size, job.batchSize, project?.folder ?? 'the project');
        }
        this.update(job.id, state, { gpuSeconds: active.gpuSeconds, ...(error !== undefined ? { error } : {}) });
        this.timelog.jobFinished(job.projectId, active.localSeconds);
      } catch (failure) {
        // The catalogue itself cannot be written (a full disk): the job stays "running" and is
        // resumed at the next start, from its first missing image.
        console.error(`onbrand: job ${job.id} ended (${state}) but the catalogue could not record it: ${(failure as Error).message}`);
      }
    });
    // Its backends are free for the next job (and whoever waits for an idle queue hears of it).
    void this.pump();
  }

  /** Writes and records one finished image (local or remote) in order; a write that fails stops the job. */
  private keep(active: ActiveJob, image: FinishedImage): void {
    const staged = this.stage(active.job, image);
    this.writes = this.writes
      .then(() => this.record(active.job, image, staged))
      .catch((error: unknown) => {
        // A full disk (or another write failure): stop making images nobody can keep; the job
        // fails with what was kept and what is left, and a retry makes only the missing ones.
        if (active.saveError === undefined) {
          active.saveError = error;
          active.todo = [];
          this.stopActive(active);
          this.settle(active);
        }
      });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const file = this.options.workerFile ?? path.join(appPackage().root, 'dist', 'main', 'core', 'jobs', 'worker.js');
    if (!fs.existsSync(file)) throw new Error(`The engine worker ${file} is missing: run "npm run build".`);
    const worker = new Worker(file);
    worker.on('message', (message: FromWorker) => this.onMessage(message));
    let failed = false;
    worker.on('error', (error) => {
      // The next job must not be posted to the dying worker: a fresh one is started for it, and
      // this one's exit that follows is not the next job's failure.
      failed = true;
      if (this.worker === worker) this.worker = undefined;
      this.onWorkerExit(`The engine worker failed: ${error.message}`);
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      if (code !== 0 && !this.closed && !failed) this.onWorkerExit(`The engine worker stopped (exit code ${code}).`);
    });
    this.worker = worker;
    return worker;
  }

  /** A worker that dies takes its run down with it: as a failure of the local engine; finished images stay. */
  private onWorkerExit(message: string): void {
    const run = this.localRun;
    if (!run || this.closed) return;
    this.localEnded(run, 'failed', 0, message);
  }

  /**
   * The local engine's run ended. Its images that did not arrive go back to the job's images to
   * make; a failure fails the job unless a server can make them instead.
   */
  private localEnded(
    run: { active: ActiveJob; indices: number[] },
    type: 'done' | 'cancelled' | 'failed',
    gpuSeconds: number,
    message?: string,
  ): void {
    this.localRun = undefined;
    const active = run.active;
    active.gpuSeconds += gpuSeconds;
    active.localSeconds += gpuSeconds;
    for (const index of run.indices) active.inFlight.delete(index);
    const missing = run.indices.filter((i) => !active.received.has(i));
    if (this.owner && !active.cancelled) {
      if (type === 'failed') {
        active.localFailed = message ?? 'the engine failed';
        const remotes = this.options.backends?.list() ?? [];
        // With no server to make them, the job fails as it always has: with the engine's reason.
        if (!remotes.some((r) => !active.refused.has(r.name) && r.wontRun(active.job) === null)) active.failure = active.localFailed;
      }
      if (active.failure === undefined && active.saveError === undefined) for (const index of missing) insertSorted(active.todo, index);
    }
    this.emitBackends();
    this.settle(active);
    void this.pump();
  }

  private onMessage(message: FromWorker): void {
    // Closing: the job went back to the queue and the catalogue is about to close; an image that
    // arrives now is made again on the next start.
    if (this.closed) return;
    const run = this.localRun;
    switch (message.type) {
      case 'status':
        this.setStatus({
          state: message.state === 'idle' ? (this.paused ? 'paused' : 'idle') : message.state,
          model: message.model,
          provider: message.provider,
          fallbacks: message.fallbacks,
        });
        return;
      case 'progress':
        if (run)
          this.events.emit('job.progress', {
            jobId: message.jobId,
            projectId: run.active.job.projectId,
            index: message.index,
            step: message.step,
            steps: message.steps,
            etaMs: message.etaMs,
            preview: message.preview,
          });
        return;
      case 'warning':
        return;
      case 'image':
        // After another process took the queue over, it records (or adopts) the images itself.
        if (run && run.active.job.id === message.jobId && this.owner) {
          run.active.received.add(message.index);
          this.localMade++;
          // The file is written ahead (under its temporary name) while earlier images are recorded;
          // it gets its name and its record in order.
          this.keep(run.active, message);
        }
        return;
      case 'done':
      case 'cancelled':
      case 'failed': {
        if (!run || run.active.job.id !== message.jobId) return;
        // The worker is free: the next image starts now, while this run's last images are still
        // being written and recorded; the job's end is recorded once they are (in order, after them).
        this.localEnded(run, message.type, message.gpuSeconds, message.type === 'failed' ? message.message : undefined);
        return;
      }
    }
  }

  /**
   * Starts writing one finished image under a temporary name beside where it goes (null when its
   * project is gone). `record` gives it its name and records it, in order.
   */
  private stage(job: Job, image: FinishedImage): Staged | null {
    const project = this.projects.get(job.projectId);
    if (!project) return null;
    const relative = generationFileName(job, image.index, image.seed);
    const file = path.join(project.folder, relative);
    const bytes = Buffer.from(image.png.buffer, image.png.byteOffset, image.png.byteLength);
    let staged: StagedFile;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      staged = stageFile(file, (temp) => fs.promises.writeFile(temp, bytes));
    } catch (error) {
      const failed = Promise.reject(error);
      failed.catch(() => undefined);
      staged = { ready: failed, publish: () => failed, discard: async () => undefined };
    }
    return { relative, file, bytes, staged };
  }

  /**
   * Gives a staged image its name (never over another file), then records it with the hash and
   * renditions the worker made. A complete file already there (an earlier, interrupted run: same
   * job, index and seed) is recorded instead; a damaged one (cut short by a power loss) is moved
   * aside and the fresh image takes its name.
   */
  private async record(job: Job, image: FinishedImage, staging: Staged | null): Promise<void> {
    if (!staging) return;
    const { relative, file, staged } = staging;
    let bytes = staging.bytes;
    let extras: ImageExtras | undefined = image.extras;
    for (let attempt = 0; ; attempt++) {
      try {
        await staged.publish();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
          await staged.discard();
          throw error;
        }
      }
      const existing = await fs.promises.readFile(file);
      if (pngComplete(existing)) {
        await staged.discard();
        bytes = existing;
        extras = undefined;
        break;
      }
      await moveAside(file);
    }
    await this.insertImage(
      job,
      image.index,
      image.seed,
      relative,
      bytes,
      image.parameters,
      extras && { ...extras, width: image.width, height: image.height },
    );
  }

  /**
   * Records one image file that has its name, with its thumbnail and loupe rendition: those the
   * worker made (`made`), or made here from the file (adopted files, a file of an earlier run).
   * One catalogue write, then `images.added` at once: the grid shows it as soon as it is written.
   */
  private async insertImage(
    job: Job,
    index: number,
    seed: number,
    relative: string,
    bytes: Buffer,
    parameters: string | null,
    made?: ImageExtras & { width: number; height: number },
  ): Promise<void> {
    if (this.images.jobIndices(job.id).has(index)) return;
    const hash = made?.contentHash ?? crypto.createHash('sha256').update(bytes).digest('hex');
    let renditions = made?.renditions ?? null;
    let size = made && { width: made.width, height: made.height };
    if (!renditions || !size) {
      const info = await sharp(bytes).metadata();
      size = { width: info.width, height: info.height };
      renditions = await writeRenditions(bytes, { ...size, channels: info.channels }, this.options.dataDir, hash, true);
    }
    let image;
    try {
      image = this.images.insert({
        projectId: job.projectId,
        path: relative,
        contentHash: hash,
        width: size.width,
        height: size.height,
        format: 'png',
        byteSize: bytes.length,
        seed,
        params: parameters === null ? null : { parameters },
        jobId: job.id,
        batchIndex: index,
        thumbPath: renditions.thumbRelative,
        previewPath: renditions.previewRelative,
      });
    } catch (error) {
      // The same content already in the project (identical settings and seed queued twice):
      // the file stays, unrecorded twice is better than recorded twice.
      if (String(error).includes('UNIQUE')) return;
      throw error;
    }
    this.events.emit('images.added', { projectId: job.projectId, images: [image] });
    const updated = this.jobs.get(job.id);
    if (updated) this.events.emit('job.updated', updated);
  }

  /**
   * Records image files of a job that exist on disk but not in the catalogue (a crash between
   * rename and record). Each file on its own: a damaged one (empty or cut short) is moved aside
   * and made again; one that cannot be read is left for the job to make. `pump` waits for these.
   */
  private adopt(job: Job): number {
    const project = this.projects.get(job.projectId);
    if (!project) return 0;
    const recorded = this.images.jobIndices(job.id);
    let adopted = 0;
    const pending: Promise<void>[] = [];
    for (let index = 0; index < job.batchSize; index++) {
      if (recorded.has(index)) continue;
      const seed = (job.seed + index) >>> 0;
      const relative = generationFileName(job, index, seed);
      const file = path.join(project.folder, relative);
      if (!fs.existsSync(file)) continue;
      if (pngFileComplete(file)) adopted++;
      pending.push(
        (async () => {
          const bytes = await fs.promises.readFile(file);
          if (!pngComplete(bytes)) {
            await moveAside(file);
            return;
          }
          await this.insertImage(job, index, seed, relative, bytes, readParameters(bytes));
        })().catch((error: unknown) =>
          console.warn(`onbrand: could not adopt ${file}: ${(error as Error).message}; it will be made again.`),
        ),
      );
    }
    this.writes = this.writes.then(() => Promise.all(pending)).then(() => undefined);
    return adopted;
  }

  /**
   * Temporary files left by a killed process (never shown, never complete) are removed at start:
   * in the project folders (generations, rejects, exports inside them), the data folder and the
   * export destinations. Only Onbrand's own names, and only those of processes that are gone.
   */
  private async sweepTempFiles(): Promise<void> {
    // generations/ is written only by the queue's owner (this process, from now on): a hidden
    // temporary file there is a leftover, unless it names a process that is still writing.
    for (const folder of this.projects.folders()) {
      await sweepTempFiles(path.join(folder, 'generations'), { recursive: true, soleWriter: true }).catch(() => 0);
    }
    // Onbrand's own folders throughout; export folders (the user's, e.g. a Framer project) only at their top.
    const roots = [...this.projects.folders(), this.options.dataDir].map((root) => ({ root, recursive: true }));
    for (const root of this.options.exportFolders?.() ?? []) roots.push({ root, recursive: false });
    for (const { root, recursive } of roots) {
      try {
        await sweepTempFiles(root, { recursive });
      } catch {
        // A folder that went away or cannot be read: nothing of ours to remove there.
      }
    }
  }
}

type ImageMessage = Extract<FromWorker, { type: 'image' }>;
/** A finished image to write and record: the worker's (with its hash and renditions) or a server's. */
type FinishedImage = Omit<ImageMessage, 'extras' | 'png'> & { png: Uint8Array; extras?: ImageExtras };

/** Puts an index back among those to make, in order. */
function insertSorted(list: number[], index: number): void {
  if (list.includes(index)) return;
  const at = list.findIndex((i) => i > index);
  if (at < 0) list.push(index);
  else list.splice(at, 0, index);
}

/** A finished image being written under its temporary name (`GenerationQueue.stage`). */
interface Staged {
  relative: string;
  file: string;
  bytes: Buffer;
  staged: StagedFile;
}

/** Everything of a job the queue panel shows, to notice changes made by other processes. */
function jobKey(job: Job): string {
  return `${job.state}|${job.imagesDone}|${job.position}|${job.error ?? ''}`;
}

/** A PNG written to the end: its last chunk is IEND (a power cut leaves an empty or cut-short file). */
export function pngComplete(bytes: Buffer): boolean {
  return bytes.length > 20 && bytes.subarray(0, 8).equals(PNG_SIGNATURE) && bytes.subarray(-12).equals(PNG_IEND);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/** `pngComplete` from the file's first and last bytes, without reading it all. */
function pngFileComplete(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= 20) return false;
      const head = Buffer.alloc(8);
      const tail = Buffer.alloc(12);
      fs.readSync(fd, head, 0, 8, 0);
      fs.readSync(fd, tail, 0, 12, size - 12);
      return head.equals(PNG_SIGNATURE) && tail.equals(PNG_IEND);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Keeps a damaged file for the user to look at, under a name no image tool picks up: `name.png.damaged`. */
async function moveAside(file: string): Promise<void> {
  const dir = path.dirname(file);
  const name = await freeFileName(dir, `${path.basename(file)}.damaged`);
  await fs.promises.rename(file, path.join(dir, name));
  console.warn(`onbrand: ${file} was damaged (cut short); kept as ${name} and made again.`);
}

/** The A1111 parameters text of a PNG made by the engine, if any. */
function readParameters(png: Buffer): string | null {
  try {
    return readPngText(png).parameters ?? null;
  } catch {
    return null;
  }
}
