/**
 * The model library service: what is installed, the curated list, and downloads and imports run
 * as tasks, one at a time, with progress events. A download is remembered on disk
 * (`<data>/model-downloads.json`, its files in `<models>/.downloads/`) so that one the app was
 * closed (or killed) during resumes at the next start, from where it stopped.
 *
 * A download is installed the way an import is: a checkpoint is converted into Onbrand's layout,
 * a folder is moved into place, both through a staging folder renamed when complete.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, type CatalogEntry, type ModelList, type ModelTask } from '../api/index.js';
import { formatBytes, suggestModelName } from '../common/index.js';
import { tempPathFor } from '../util/index.js';
import { CATALOG, CLIP_TOKENIZER, type CatalogModel } from './catalog.js';
import { downloadFiles, type DownloadProgress } from './download.js';
import { DownloadError, fetchRevision, hubEndpoint, parseModelRef, type HubFile, type HubOptions, type RetryOptions } from './hub.js';
import { checkModelName, importModel, ModelImportError, type ImportOptions, type ImportProgress, type ImportReport } from './importer.js';
import { listModels, removeModel, verifyModel, type VerifyResult } from './library.js';

export interface ModelStoreOptions {
  modelsDir: string;
  dataDir: string;
  /** Where built graphs are cached (removed with their model). */
  graphCacheDir?: string;
  /** Hub endpoint and environment (HF_ENDPOINT, HF_TOKEN); tests point it at a local imitation. */
  hub?: Pick<HubOptions, 'endpoint' | 'env' | 'timeoutMs'>;
  retry?: RetryOptions;
  /** The token from the app's settings, if any. */
  token?(): string | undefined;
  onTask?(task: ModelTask): void;
  onChanged?(name: string): void;
}

/** A download as remembered on disk. */
interface DownloadRecord {
  id: string;
  source: string;
  name: string;
  state: ModelTask['state'];
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

/** What a pull resolves to. */
interface PullPlan {
  kind: CatalogModel['kind'];
  /** The Hub a pasted link pointed at (else the configured one). */
  endpoint?: string;
  title: string;
  repo: string;
  revision: string;
  /** The checkpoint file, or the folder's files. */
  file: string | null;
  /** The download's size (approximate for a catalogue entry). */
  bytes: number;
  files: ((p: string) => boolean) | readonly string[];
  sha256?: string;
  licence: string | null;
  name: string;
}

/** A user-given folder repository: the fp16 weights of each part if it has them, else the full ones; never pickles. */
function folderSelection(files: readonly HubFile[], repo: string): { kind: 'diffusers' | 'onnx'; files: string[] } {
  const paths = files.map((f) => f.path);
  if (paths.includes('unet/model.onnx'))
    return {
      kind: 'onnx',
      files: paths.filter((p) => p === 'model_index.json' || /^(tokenizer|scheduler|text_encoder|unet|vae_decoder|vae_encoder)\//.test(p)),
    };
  const chosen = [
    'model_index.json',
    ...paths.filter((p) => /^(tokenizer|scheduler)\//.test(p) || /^(unet|vae|text_encoder)\/config\.json$/.test(p)),
  ];
  for (const [part, base] of [
    ['unet', 'diffusion_pytorch_model'],
    ['vae', 'diffusion_pytorch_model'],
    ['text_encoder', 'model'],
  ] as const) {
    const candidates = [`${part}/${base}.fp16.safetensors`, `${part}/${base}.safetensors`];
    const hit = candidates.find((c) => paths.includes(c));
    if (!hit) {
      const pickle = paths.find((p) => p.startsWith(`${part}/`) && p.endsWith('.bin'));
      throw new DownloadError(
        'bad_request',
        pickle
          ? `${repo} has ${part} weights only as a PyTorch pickle (${pickle}), which Onbrand does not open (it can run code).`
          : `${repo} has no ${part}/${base}.safetensors: not a Stable Diffusion model folder.`,
      );
    }
    chosen.push(hit);
  }
  return { kind: 'diffusers', files: chosen };
}

export class ModelStore {
  private readonly records = new Map<string, DownloadRecord>();
  private readonly tasks = new Map<string, ModelTask>();
  private readonly controllers = new Map<string, AbortController>();
  /** Each queued or running task's turn in the chain, to wait for that task alone. */
  private readonly runs = new Map<string, Promise<void>>();
  private chain: Promise<void> = Promise.resolve();
  private readonly recordsFile: string;
  private closed = false;

  constructor(private readonly options: ModelStoreOptions) {
    this.recordsFile = path.join(options.dataDir, 'model-downloads.json');
    try {
      const saved = JSON.parse(fs.readFileSync(this.recordsFile, 'utf8')) as DownloadRecord[];
      for (const record of saved) {
        this.records.set(record.id, record);
        this.tasks.set(record.id, this.taskOf(record));
      }
    } catch {
      // No downloads remembered (or an unreadable file: they are started again by the user).
    }
  }

  get modelsDir(): string {
    return this.options.modelsDir;
  }

  list(): ModelList {
    return listModels(this.options.modelsDir, path.join(this.options.modelsDir, 'loras'));
  }

  catalog(): CatalogEntry[] {
    const installed = new Set(this.list().models.map((m) => m.name));
    return CATALOG.map(({ files: _files, sha256: _sha, ...entry }) => ({ ...entry, installed: installed.has(entry.name) }));
  }

  listTasks(): ModelTask[] {
    return [...this.tasks.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  verify(name: string): Promise<VerifyResult> {
    const model = this.list().models.find((m) => m.name === name);
    if (!model) throw new ApiError('not_found', `No model named "${name}" in ${this.options.modelsDir}`);
    return verifyModel(model.dir);
  }

  remove(name: string): void {
    if (!this.list().models.some((m) => m.name === name))
      throw new ApiError('not_found', `No model named "${name}" in ${this.options.modelsDir}`);
    removeModel(this.options.modelsDir, name, this.options.graphCacheDir ?? null);
    this.options.onChanged?.(name);
  }

  /**
   * Hub options: the configured endpoint, or the one a pasted link named. The token (settings or
   * HF_TOKEN) goes only to the configured endpoint, never to another host a link points at.
   */
  private hubOptions(signal?: AbortSignal, endpoint?: string): HubOptions {
    const configured = hubEndpoint(this.options.hub);
    const other = endpoint !== undefined && endpoint.replace(/\/+$/, '') !== configured;
    const token = other ? undefined : this.options.token?.();
    return {
      ...this.options.hub,
      ...(other ? { endpoint, env: { ...(this.options.hub?.env ?? process.env), HF_TOKEN: undefined } } : {}),
      ...(token ? { token } : {}),
      ...(this.options.retry ? { retry: this.options.retry } : {}),
      ...(signal ? { signal } : {}),
    };
  }

  /** CLIP's tokenizer, fetched once into the data folder from the configured Hub (never a pasted link's host), for checkpoints that carry none. */
  private async clipTokenizer(signal?: AbortSignal): Promise<string> {
    const dir = path.join(this.options.dataDir, 'tokenizers', 'clip-vit-large-patch14');
    if (CLIP_TOKENIZER.files.every((f) => fs.existsSync(path.join(dir, f)))) return dir;
    await downloadFiles(
      { repo: CLIP_TOKENIZER.repo, revision: CLIP_TOKENIZER.revision, files: CLIP_TOKENIZER.files, staging: dir },
      this.hubOptions(signal),
    );
    return dir;
  }

  /** Imports in the foreground (the CLI). */
  async importNow(options: Omit<ImportOptions, 'modelsDir'>, onProgress?: (progress: ImportProgress) => void): Promise<ImportReport> {
    const report = await importModel({
      ...options,
      modelsDir: this.options.modelsDir,
      fetchTokenizer: () => this.clipTokenizer(options.signal),
      ...(onProgress ? { onProgress } : {}),
    });
    this.options.onChanged?.(report.name);
    return report;
  }

  // -------------------------------------------------------------------------------------------
  // Pulls

  /** What a source names: a catalogue id, or a Hub reference (the repo is asked what it holds). */
  private async plan(source: string, name: string | undefined, signal?: AbortSignal): Promise<PullPlan> {
    const entry = CATALOG.find((c) => c.id === source.trim().toLowerCase());
    if (entry) {
      if (entry.file && entry.sha256) {
        // Before 2 GB are fetched: is the Hub's file the one Onbrand knows?
        const info = await fetchRevision(entry.repo, entry.revision, this.hubOptions(signal));
        const listed = info.files.find((f) => f.path === entry.file);
        if (!listed)
          throw new DownloadError(
            'not_found',
            `${entry.repo} no longer has ${entry.file}; Onbrand cannot download ${entry.title} from it.`,
          );
        if (listed.sha256 && listed.sha256 !== entry.sha256) {
          throw new DownloadError(
            'hash_mismatch',
            `${entry.file} on the Hub has SHA-256 ${listed.sha256}, not the ${entry.sha256} Onbrand knows for ${entry.title}: the repository changed. Nothing was installed.`,
          );
        }
      }
      return {
        kind: entry.kind,
        title: entry.title,
        repo: entry.repo,
        revision: entry.revision,
        file: entry.file,
        files: entry.file ? [entry.file] : entry.files!,
        bytes: entry.bytes,
        ...(entry.sha256 ? { sha256: entry.sha256 } : {}),
        licence: entry.licence,
        name: name ?? entry.name,
      };
    }
    const ref = parseModelRef(source);
    const hub = this.hubOptions(signal, ref.endpoint);
    const endpoint = ref.endpoint ? { endpoint: ref.endpoint } : {};
    const title = `${ref.repo}@${ref.revision}${ref.path ? `:${ref.path}` : ''}`;
    if (ref.path && !ref.path.toLowerCase().endsWith('.safetensors')) {
      throw new DownloadError(
        'bad_request',
        `${ref.path}: Onbrand downloads .safetensors checkpoints or whole model folders (a .ckpt is a Python pickle, which can run code).`,
      );
    }
    const info = await fetchRevision(ref.repo, ref.revision, hub);
    const licence = info.licence ?? null;
    const sizeOf = (paths: readonly string[]): number => info.files.filter((f) => paths.includes(f.path)).reduce((n, f) => n + f.size, 0);
    if (ref.path) {
      return {
        kind: 'checkpoint',
        ...endpoint,
        title,
        repo: ref.repo,
        revision: info.commit,
        file: ref.path,
        files: [ref.path],
        bytes: sizeOf([ref.path]),
        licence,
        name: name ?? suggestModelName(ref.path),
      };
    }
    const paths = info.files.map((f) => f.path);
    if (paths.includes('model_index.json')) {
      const selection = folderSelection(info.files, ref.repo);
      return {
        kind: selection.kind,
        ...endpoint,
        title,
        repo: ref.repo,
        revision: info.commit,
        file: null,
        files: selection.files,
        bytes: sizeOf(selection.files),
        licence,
        name: name ?? suggestModelName(ref.repo),
      };
    }
    const checkpoints = paths.filter((p) => !p.includes('/') && p.toLowerCase().endsWith('.safetensors'));
    if (checkpoints.length === 1) {
      return {
        kind: 'checkpoint',
        ...endpoint,
        title,
        repo: ref.repo,
        revision: info.commit,
        file: checkpoints[0]!,
        files: checkpoints,
        bytes: sizeOf(checkpoints),
        licence,
        name: name ?? suggestModelName(checkpoints[0]!),
      };
    }
    if (checkpoints.length === 0)
      throw new DownloadError(
        'not_found',
        `${ref.repo} has neither a model_index.json (a model folder) nor a .safetensors checkpoint at its top level.`,
      );
    throw new DownloadError(
      'bad_request',
      `${ref.repo} has ${checkpoints.length} checkpoints (${checkpoints.slice(0, 4).join(', ')}${checkpoints.length > 4 ? ', …' : ''}): name one as ${ref.repo}:FILE.`,
    );
  }

  /** The download folder of a pull (kept across restarts so that it resumes). */
  private downloadFolder(id: string): string {
    return path.join(this.options.modelsDir, '.downloads', id);
  }

  /**
   * Downloads and installs a model; `id` names its download folder (the same id resumes). Throws a
   * DownloadError or ModelImportError; partial files stay for a resume unless the download was discarded.
   */
  private async pull(
    id: string,
    source: string,
    name: string | undefined,
    signal: AbortSignal,
    onDownload: (p: DownloadProgress) => void,
    onImport: (p: ImportProgress) => void,
    onPlan: (plan: { name: string; title: string }) => void = () => undefined,
  ): Promise<ImportReport> {
    const plan = await this.plan(source, name, signal);
    plan.name = checkModelName(plan.name);
    onPlan(plan);
    const target = path.join(this.options.modelsDir, plan.name);
    if (fs.existsSync(target))
      throw new ModelImportError('exists', `A model named "${plan.name}" is already installed; remove it first or give another name.`);
    // A checkpoint carries no tokenizer: have one before the long download (unless a model has one to reuse).
    if (plan.kind === 'checkpoint' && !this.list().models.some((m) => fs.existsSync(path.join(m.dir, 'tokenizer', 'vocab.json'))))
      await this.clipTokenizer(signal);
    const staging = this.downloadFolder(id);
    const set = await downloadFiles(
      { repo: plan.repo, revision: plan.revision, files: plan.files, staging },
      {
        ...this.hubOptions(signal, plan.endpoint),
        onProgress: onDownload,
        // A checkpoint is converted next to the download: room for both is checked before the first byte.
        ...(plan.kind === 'checkpoint' ? { diskMarginBytes: 64 * 1024 * 1024 + plan.bytes } : {}),
      },
    );
    const origin = { repo: set.repo, revision: set.commit, url: `${set.endpoint}/${set.repo}` };
    let report: ImportReport;
    if (plan.kind === 'checkpoint') {
      const file = path.join(staging, ...plan.file!.split('/'));
      const hubSha = set.files.find((f) => f.path === plan.file)?.sha256;
      if (plan.sha256 && hubSha && hubSha !== plan.sha256) {
        throw new DownloadError(
          'hash_mismatch',
          `${plan.file} on the Hub has SHA-256 ${hubSha}, not the ${plan.sha256} Onbrand knows for ${plan.title}: the repository changed. Nothing was installed.`,
        );
      }
      report = await importModel({
        source: file,
        name: plan.name,
        modelsDir: this.options.modelsDir,
        licence: plan.licence,
        origin,
        signal,
        onProgress: onImport,
        fetchTokenizer: () => this.clipTokenizer(signal),
      });
    } else {
      report = await importModel({
        source: staging,
        name: plan.name,
        modelsDir: this.options.modelsDir,
        licence: plan.licence,
        origin,
        signal,
        onProgress: onImport,
        consume: true,
        onlyFiles: set.files.map((f) => f.path),
      });
    }
    fs.rmSync(staging, { recursive: true, force: true });
    this.options.onChanged?.(report.name);
    return report;
  }

  /** Pulls in the foreground (the CLI); `progress` gets one line at a time. */
  async pullNow(
    source: string,
    name: string | undefined,
    progress?: (line: string) => void,
  ): Promise<{ name: string; dir: string; import: ImportReport }> {
    const id = crypto
      .createHash('sha256')
      .update(`${source}|${name ?? ''}`)
      .digest('hex')
      .slice(0, 16);
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    process.once('SIGINT', stop);
    try {
      const report = await this.pull(
        id,
        source,
        name,
        controller.signal,
        (p) =>
          progress?.(
            `${p.file}  ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}${p.bytesPerSecond ? `  ${formatBytes(p.bytesPerSecond)}/s` : ''}${p.etaSeconds !== null ? `  ${Math.ceil(p.etaSeconds)} s left` : ''}`,
          ),
        (p) => progress?.(`installing ${p.bytesTotal ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 0} %`),
      );
      return { name: report.name, dir: report.dir, import: report };
    } finally {
      process.off('SIGINT', stop);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Tasks (the app)

  private taskOf(record: DownloadRecord): ModelTask {
    return {
      ...waitingTask(
        record.id,
        'download',
        record.name,
        CATALOG.find((c) => c.id === record.source.toLowerCase())?.title ?? record.source,
        record.createdAt,
      ),
      state: record.state,
      phase:
        record.state === 'done' ? 'Installed' : record.state === 'failed' ? 'Failed' : record.state === 'cancelled' ? 'Paused' : 'Waiting',
      error: record.error,
      resumable: record.state === 'cancelled' || record.state === 'failed',
      finishedAt: record.finishedAt,
    };
  }

  private update(id: string, change: Partial<ModelTask>): ModelTask | undefined {
    const current = this.tasks.get(id);
    if (!current) return undefined; // Cleared meanwhile.
    const task = { ...current, ...change };
    this.tasks.set(id, task);
    const record = this.records.get(id);
    if (record && (change.state !== undefined || change.error !== undefined)) {
      Object.assign(record, { state: task.state, error: task.error, finishedAt: task.finishedAt });
      this.saveRecords();
    }
    this.options.onTask?.(task);
    return task;
  }

  /** Written at once (a small file), through a temporary file and a rename: saves never land out of order, nor half-written. */
  private saveRecords(): void {
    const records = [...this.records.values()].filter((r) => r.state !== 'done');
    try {
      fs.mkdirSync(path.dirname(this.recordsFile), { recursive: true });
      const temp = tempPathFor(this.recordsFile);
      fs.writeFileSync(temp, JSON.stringify(records, null, 1));
      fs.renameSync(temp, this.recordsFile);
    } catch (error) {
      console.error(
        `onbrand: the list of downloads could not be saved (${(error as Error).message}); they go on, but will not resume after a restart.`,
      );
    }
  }

  /** Queues a download; returns its task at once. */
  startPull(source: string, name?: string): ModelTask {
    if (name !== undefined) {
      try {
        name = checkModelName(name);
      } catch (error) {
        throw new ApiError('invalid_input', (error as Error).message, 'name');
      }
    }
    const trimmed = source.trim();
    const entry = CATALOG.find((c) => c.id === trimmed.toLowerCase());
    const id = `dl-${crypto.randomBytes(6).toString('hex')}`;
    const record: DownloadRecord = {
      id,
      source: trimmed,
      name: name ?? entry?.name ?? '',
      state: 'queued',
      error: null,
      createdAt: new Date().toISOString(),
      finishedAt: null,
    };
    this.records.set(id, record);
    this.tasks.set(id, this.taskOf(record));
    this.saveRecords();
    this.enqueue(id, (signal) => this.runPull(id, signal));
    return this.tasks.get(id)!;
  }

  /** Queues an import; returns its task at once. */
  startImport(options: Omit<ImportOptions, 'modelsDir' | 'signal' | 'onProgress'>): ModelTask {
    const id = `im-${crypto.randomBytes(6).toString('hex')}`;
    this.tasks.set(id, waitingTask(id, 'import', options.name, options.source, new Date().toISOString()));
    this.enqueue(id, async (signal) => {
      this.update(id, { state: 'running', phase: 'Checking' });
      try {
        const report = await this.importNow({ ...options, signal }, (p) =>
          this.update(id, { phase: importPhase(p), bytesDone: p.bytesDone, bytesTotal: p.bytesTotal }),
        );
        this.update(id, {
          state: 'done',
          phase: 'Installed',
          finishedAt: new Date().toISOString(),
          notes: report.notes,
          name: report.name,
        });
      } catch (error) {
        const cancelled = signal.aborted;
        this.update(id, {
          state: cancelled ? 'cancelled' : 'failed',
          phase: cancelled ? 'Cancelled' : 'Failed',
          error: cancelled ? null : (error as Error).message,
          finishedAt: new Date().toISOString(),
        });
      }
    });
    return this.tasks.get(id)!;
  }

  private enqueue(id: string, run: (signal: AbortSignal) => Promise<void>): void {
    const controller = new AbortController();
    this.controllers.set(id, controller);
    const turn = this.chain.then(async () => {
      if (controller.signal.aborted || this.closed) return;
      try {
        await run(controller.signal);
      } finally {
        this.controllers.delete(id);
      }
    });
    // One task's unexpected failure never stops the ones after it.
    const settled = turn.catch((error: unknown) => {
      console.error(`onbrand: model task ${id} failed unexpectedly:`, error);
      this.update(id, {
        state: 'failed',
        phase: 'Failed',
        error: (error as Error).message ?? String(error),
        finishedAt: new Date().toISOString(),
      });
    });
    this.chain = settled;
    this.runs.set(id, settled);
    void settled.finally(() => {
      if (this.runs.get(id) === settled) this.runs.delete(id);
    });
  }

  private async runPull(id: string, signal: AbortSignal): Promise<void> {
    const record = this.records.get(id)!;
    this.update(id, { state: 'running', phase: 'Asking the Hub', error: null, finishedAt: null, resumable: false });
    try {
      const report = await this.pull(
        id,
        record.source,
        record.name || undefined,
        signal,
        (p) => {
          this.update(id, {
            phase: `Downloading ${p.file}`,
            bytesDone: p.bytesDone,
            bytesTotal: p.bytesTotal,
            bytesPerSecond: p.bytesPerSecond,
            etaSeconds: p.etaSeconds,
          });
        },
        (p) =>
          this.update(id, { phase: importPhase(p), bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, bytesPerSecond: 0, etaSeconds: null }),
        (plan) => {
          record.name = plan.name;
          this.update(id, { name: plan.name });
          this.saveRecords();
        },
      );
      record.name = report.name;
      this.update(id, {
        state: 'done',
        phase: 'Installed',
        name: report.name,
        finishedAt: new Date().toISOString(),
        notes: report.notes,
        etaSeconds: 0,
      });
      this.records.delete(id);
      this.saveRecords();
    } catch (error) {
      if (signal.aborted) {
        if (this.closed) return; // Closing the app: the record stays "running" and resumes at the next start.
        this.update(id, {
          state: 'cancelled',
          phase: 'Paused',
          error: null,
          resumable: true,
          finishedAt: new Date().toISOString(),
          bytesPerSecond: 0,
          etaSeconds: null,
        });
        return;
      }
      const message = (error as Error).message;
      // What trying again can fix (the network, a full disk, a name taken meanwhile) stays resumable; a wrong file or repository does not.
      const permanent =
        (error instanceof ModelImportError && !['tokenizer', 'disk_full', 'exists', 'cancelled'].includes(error.reason)) ||
        (error instanceof DownloadError && ['hash_mismatch', 'not_found', 'bad_request'].includes(error.reason));
      this.update(id, {
        state: 'failed',
        phase: 'Failed',
        error: message,
        resumable: !permanent,
        finishedAt: new Date().toISOString(),
        bytesPerSecond: 0,
        etaSeconds: null,
      });
    }
  }

  /** Stops a task. A download keeps its partial files (resumable) unless `discard`. */
  cancel(taskId: string, discard = false): ModelTask {
    const task = this.tasks.get(taskId);
    if (!task) throw new ApiError('not_found', `No model task ${taskId}`);
    this.controllers.get(taskId)?.abort();
    if (task.state === 'queued')
      this.update(taskId, {
        state: 'cancelled',
        phase: 'Paused',
        resumable: task.kind === 'download',
        finishedAt: new Date().toISOString(),
      });
    if (discard && task.kind === 'download') {
      const discardNow = (): void => {
        fs.rmSync(this.downloadFolder(taskId), { recursive: true, force: true });
        this.records.delete(taskId);
        this.saveRecords();
        this.update(taskId, { state: 'cancelled', phase: 'Discarded', resumable: false });
      };
      // A running download first sees the abort and stops writing; a waiting or stopped one has nothing open.
      const running = task.state === 'running' ? this.runs.get(taskId) : undefined;
      if (running) void running.then(discardNow);
      else discardNow();
    }
    return this.tasks.get(taskId)!;
  }

  /** Forgets a finished, failed or cancelled task (a download's partial files go with it). */
  clear(taskId: string): { cleared: string } {
    const task = this.tasks.get(taskId);
    if (!task) throw new ApiError('not_found', `No model task ${taskId}`);
    if (task.state === 'running' || task.state === 'queued')
      throw new ApiError('conflict', `The task for "${task.name || task.source}" is still ${task.state}; cancel it first.`);
    if (task.kind === 'download') fs.rmSync(this.downloadFolder(taskId), { recursive: true, force: true });
    this.tasks.delete(taskId);
    if (this.records.delete(taskId)) this.saveRecords();
    return { cleared: taskId };
  }

  /** Whether a Hugging Face token is set (in settings or HF_TOKEN), and the Hub in use; never the token itself. */
  hubSettings(): { hasToken: boolean; endpoint: string } {
    const env = this.options.hub?.env ?? process.env;
    return { hasToken: Boolean(this.options.token?.() || env['HF_TOKEN']), endpoint: hubEndpoint(this.options.hub) };
  }

  /** Starts a paused or failed download again, from where it stopped. */
  resume(taskId: string): ModelTask {
    const task = this.tasks.get(taskId);
    const record = this.records.get(taskId);
    if (!task || !record) throw new ApiError('not_found', `No download ${taskId} to resume`);
    if (task.state === 'running' || task.state === 'queued') return task;
    this.update(taskId, { state: 'queued', phase: 'Waiting', error: null, resumable: false, finishedAt: null });
    this.enqueue(taskId, (signal) => this.runPull(taskId, signal));
    return this.tasks.get(taskId)!;
  }

  /** At start: downloads that were running or waiting when the app stopped go on. */
  resumePending(): void {
    for (const record of this.records.values()) {
      if (record.state !== 'running' && record.state !== 'queued') continue;
      this.update(record.id, { state: 'queued', phase: 'Waiting' });
      this.enqueue(record.id, (signal) => this.runPull(record.id, signal));
    }
  }

  /** Stops running work (partial downloads are kept and resume at the next start). */
  async close(): Promise<void> {
    this.closed = true;
    for (const controller of this.controllers.values()) controller.abort();
    await this.chain.catch(() => undefined);
  }
}

/** A task that has not started: nothing done, nothing known yet. */
function waitingTask(id: string, kind: ModelTask['kind'], name: string, source: string, createdAt: string): ModelTask {
  return {
    id,
    kind,
    name,
    source,
    state: 'queued',
    phase: 'Waiting',
    bytesDone: 0,
    bytesTotal: 0,
    bytesPerSecond: 0,
    etaSeconds: null,
    error: null,
    resumable: false,
    createdAt,
    finishedAt: null,
    notes: [],
  };
}

function importPhase(p: ImportProgress): string {
  switch (p.phase) {
    case 'checking':
      return 'Checking';
    case 'hashing':
      return 'Verifying';
    case 'writing':
      return 'Converting';
    case 'copying':
      return 'Copying';
    default:
      return 'Finishing';
  }
}
