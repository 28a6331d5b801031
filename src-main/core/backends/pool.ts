/**
 * The ComfyUI servers as the queue uses them (issue 21): each with its client, what it has
 * (checkpoints and LoRAs, asked at most once a minute), its free VRAM, the model it last ran, how
 * many images it is making, and its failures. A server that fails `PAUSE_AFTER` times in a row is
 * paused with the reason until the user resumes it; one that cannot be reached is left alone for
 * a while and asked again. `make` turns one image of a job into a ComfyUI graph, runs it there and
 * returns the PNG with Onbrand's A1111 parameters in it, so a remote image is recorded exactly as
 * a local one.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, LOCAL_BACKEND, type BackendTestResult, type BackendView, type Job } from '../api/index.js';
import {
  addPngText,
  extractLoraTags,
  formatParameters,
  loraNames,
  loraShortHash,
  matchLoraName,
  modelHash,
  readModelFolder,
} from '../diffusion/index.js';
import { appPackage } from '../util/index.js';
import { ComfyBackendError, ComfyClient } from './comfy-client.js';
import { closestComfyName, comfyInitImage, matchComfyName, toComfyGraph } from './comfy-graph.js';
import { localView, type BackendRegistry, type StoredBackend } from './registry.js';

/** A server that failed this many images in a row is paused until the user resumes it. */
export const PAUSE_AFTER = 3;
/** What a server has is asked again after this long. */
const INVENTORY_MAX_AGE_MS = 60_000;
/** A server that could not be reached is asked again after this long. */
const OFFLINE_RETRY_MS = 15_000;

/** One image for a server: the job, its index, its seed (job seed + index), and img2img's start file. */
export interface RemoteTask {
  job: Job;
  index: number;
  seed: number;
  init?: { path: string; strength: number };
}

export interface RemoteImage {
  png: Buffer;
  parameters: string;
  width: number;
  height: number;
  /** Seconds the server worked on it (submission to the last byte). */
  seconds: number;
}

export interface RemoteCallbacks {
  signal: AbortSignal;
  onProgress?(step: number, steps: number, etaMs: number): void;
  onPreview?(dataUrl: string): void;
}

/** Where a job can run on a server: its checkpoint and LoRA files there, or why not. */
export type RemotePlan = { ckpt: string; loras: Record<string, string> } | { reason: string };

export class RemoteBackend {
  client: ComfyClient;
  running = 0;
  made = 0;
  /** Failures in a row (a success clears it). */
  failures = 0;
  paused: string | null = null;
  lastError: string | null = null;
  inventory: { checkpoints: string[]; loras: string[]; checkedAt: string } | null = null;
  vramFree: number | null = null;
  /** The model it ran last (ComfyUI keeps it loaded). */
  loadedModel: string | null = null;
  private checkedAt = 0;
  private offlineUntil = 0;
  private refreshing: Promise<void> | null = null;

  constructor(
    public config: StoredBackend,
    public headersKey: string,
    headers: Record<string, string>,
  ) {
    this.client = newClient(config, headers);
  }

  get name(): string {
    return this.config.name;
  }

  /** Enabled, not paused, reachable as far as is known, and what it has is known. */
  usable(now = Date.now()): boolean {
    return this.config.enabled && this.paused === null && now >= this.offlineUntil && this.inventory !== null;
  }

  free(): boolean {
    return this.usable() && this.running < this.config.concurrency;
  }

  /** Asks what it has when that is unknown or old; `changed` runs when the answer (or the failure) arrives. */
  refresh(changed: () => void, force = false): Promise<void> {
    const now = Date.now();
    if (!this.config.enabled || this.paused !== null) return Promise.resolve();
    if (!force && (this.refreshing || now < this.offlineUntil || now - this.checkedAt < INVENTORY_MAX_AGE_MS))
      return this.refreshing ?? Promise.resolve();
    this.refreshing = (async () => {
      try {
        const [inventory, stats] = await Promise.all([this.client.inventory(), this.client.systemStats()]);
        this.inventory = { ...inventory, checkedAt: new Date().toISOString() };
        this.vramFree = stats.devices.reduce((max, d) => Math.max(max, d.vramFree), 0);
        this.checkedAt = Date.now();
        this.offlineUntil = 0;
        if (this.failures === 0) this.lastError = null;
      } catch (error) {
        this.offlineUntil = Date.now() + OFFLINE_RETRY_MS;
        this.lastError = (error as Error).message;
      } finally {
        this.refreshing = null;
        changed();
      }
    })();
    return this.refreshing;
  }

  /** The server's checkpoint and LoRA files for a job, or why it cannot run it. */
  plan(job: Pick<Job, 'prompt' | 'settings'>): RemotePlan {
    if (!this.inventory) return { reason: `${this.label()} has not answered yet` };
    const model = path.basename(job.settings.model);
    const ckpt = matchComfyName(model, this.inventory.checkpoints, this.config.models[model]);
    if (!ckpt) {
      const close = closestComfyName(model, this.inventory.checkpoints);
      return {
        reason: `${this.label()} has no checkpoint for the model "${model}"${close ? ` (closest: ${close}; map it in the backend's model names)` : ''}`,
      };
    }
    const loras: Record<string, string> = {};
    for (const tag of extractLoraTags(job.prompt).loras) {
      const file = matchComfyName(tag.name, this.inventory.loras, this.config.loras[tag.name]);
      if (!file) return { reason: `${this.label()} has no LoRA "${tag.name}"` };
      loras[tag.name] = file;
    }
    return { ckpt, loras };
  }

  /**
   * Why it will not make a job's images (switched off, paused, unreachable before it ever answered,
   * no model or LoRA there), or null when it can, now or once it answers or is back.
   */
  wontRun(job: Pick<Job, 'prompt' | 'settings'>): string | null {
    if (!this.config.enabled) return `${this.label()} is switched off`;
    if (this.paused !== null) return `${this.label()}: ${this.paused}`;
    if (this.inventory === null) return this.lastError === null ? null : this.lastError;
    const plan = this.plan(job);
    return 'reason' in plan ? plan.reason : null;
  }

  /** A failed image: after PAUSE_AFTER in a row, the server is paused with the reason. */
  failed(error: Error): void {
    this.failures++;
    this.lastError = error.message;
    if (error instanceof ComfyBackendError && (error.kind === 'unreachable' || error.kind === 'lost'))
      this.offlineUntil = Date.now() + OFFLINE_RETRY_MS;
    if (this.failures >= PAUSE_AFTER) this.paused = `Paused after ${this.failures} failed images in a row; the last: ${error.message}`;
  }

  succeeded(model: string): void {
    this.failures = 0;
    this.made++;
    this.loadedModel = model;
  }

  resume(): void {
    this.paused = null;
    this.failures = 0;
    this.offlineUntil = 0;
    this.checkedAt = 0;
  }

  label(): string {
    return `ComfyUI "${this.name}"`;
  }

  view(): BackendView {
    const c = this.config;
    return {
      name: c.name,
      kind: 'comfyui',
      url: c.url,
      headerNames: c.headerNames,
      concurrency: c.concurrency,
      enabled: c.enabled,
      ratePerHour: c.ratePerHour,
      allowInsecure: c.allowInsecure,
      timeoutSeconds: c.timeoutSeconds,
      models: c.models,
      loras: c.loras,
      state: !c.enabled ? 'disabled' : this.paused !== null ? 'paused' : this.running > 0 ? 'busy' : 'idle',
      running: this.running,
      made: this.made,
      reason: this.paused ?? this.lastError,
      inventory: this.inventory,
    };
  }
}

function newClient(config: StoredBackend, headers: Record<string, string>): ComfyClient {
  return new ComfyClient({ name: config.name, url: config.url, headers, idleTimeoutMs: config.timeoutSeconds * 1000 });
}

/** The ComfyUI servers of the registry, kept in step with it (another process may change it). */
export class BackendPool {
  private readonly remotes = new Map<string, RemoteBackend>();
  private readonly hashes = new Map<string, Promise<string>>();
  /** Runs when a server's state changes in a way that may let the queue assign more work. */
  onChange: () => void = () => undefined;

  constructor(
    readonly registry: BackendRegistry,
    private readonly options: { modelsDir: string; loraDir: string },
  ) {}

  /** The servers as the registry has them now; a changed address or header rebuilds the client. */
  list(): RemoteBackend[] {
    const configs = this.registry.list();
    const names = new Set(configs.map((c) => c.name));
    for (const [name, remote] of this.remotes)
      if (!names.has(name)) {
        remote.client.close();
        this.remotes.delete(name);
      }
    for (const config of configs) {
      const headers = this.registry.headers(config.name);
      const headersKey = JSON.stringify([config.url, config.timeoutSeconds, headers]);
      const existing = this.remotes.get(config.name);
      if (existing && existing.headersKey === headersKey) {
        if (!config.enabled && existing.config.enabled) existing.resume();
        existing.config = config;
        continue;
      }
      existing?.client.close();
      this.remotes.set(config.name, new RemoteBackend(config, headersKey, headers));
    }
    return configs.map((c) => this.remotes.get(c.name)!);
  }

  get(name: string): RemoteBackend | undefined {
    return this.list().find((r) => r.name.toLowerCase() === name.toLowerCase());
  }

  /** Asks the enabled servers what they have where that is unknown or old (in the background). */
  refresh(): void {
    for (const remote of this.list()) void remote.refresh(() => this.onChange());
  }

  views(local: { running: number; made: number }): BackendView[] {
    return [localView(this.registry.localEnabled(), local.running, local.made), ...this.list().map((r) => r.view())];
  }

  /** `backends.test`: the server's version, devices, free VRAM, checkpoints and LoRAs. */
  async test(name: string): Promise<BackendTestResult> {
    const remote = this.get(name);
    if (!remote) {
      if (name.toLowerCase() === LOCAL_BACKEND)
        throw new ApiError('invalid_input', 'The local engine is this computer: nothing to test over the network.', 'name');
      this.registry.require(name);
      throw new ApiError('not_found', `No backend named "${name}".`, 'name');
    }
    const started = performance.now();
    try {
      const [stats, inventory] = await Promise.all([remote.client.systemStats(), remote.client.inventory()]);
      remote.inventory = { ...inventory, checkedAt: new Date().toISOString() };
      remote.vramFree = stats.devices.reduce((max, d) => Math.max(max, d.vramFree), 0);
      this.onChange();
      return {
        name: remote.name,
        url: remote.config.url,
        version: stats.version,
        devices: stats.devices.map((d) => ({ name: d.name, type: d.type, vramTotal: d.vramTotal, vramFree: d.vramFree })),
        checkpoints: inventory.checkpoints,
        loras: inventory.loras,
        ms: Math.round(performance.now() - started),
      };
    } catch (error) {
      throw new ApiError('io', (error as Error).message, 'name');
    }
  }

  /** One image of a job on a server: uploads img2img's start image, runs the graph, returns the PNG with Onbrand's parameters. */
  async make(remote: RemoteBackend, task: RemoteTask, callbacks: RemoteCallbacks): Promise<RemoteImage> {
    const plan = remote.plan(task.job);
    if ('reason' in plan) throw new ComfyBackendError('rejected', plan.reason);
    const { job } = task;
    let init: { image: string; strength: number } | undefined;
    if (task.init) {
      // Resized as the engine resizes its start image: the graph does not resize.
      const bytes = await comfyInitImage(task.init.path, job.settings.width, job.settings.height);
      const digest = crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 16);
      const image = await remote.client.uploadImage(bytes, `onbrand-${digest}.png`);
      init = { image, strength: task.init.strength };
    }
    const { graph, outputNode, notes } = toComfyGraph({
      // SDXL's empty negative prompt is zeros, as the local engine (and A1111) make it.
      zeroEmptyNegative: this.family(job.settings.model) === 'sdxl',
      prompt: job.prompt,
      negativePrompt: job.negativePrompt,
      settings: job.settings,
      seed: task.seed,
      ckptName: plan.ckpt,
      loras: plan.loras,
      ...(init ? { init } : {}),
      filenamePrefix: `onbrand/job${job.id}_${String(task.index + 1).padStart(2, '0')}`,
    });
    const started = performance.now();
    let first = 0;
    const result = await remote.client.run(graph, {
      outputNode,
      signal: callbacks.signal,
      onProgress: (value, max) => {
        const now = performance.now();
        if (value <= 1 || first === 0) first = now;
        const perStep = value > 1 ? (now - first) / (value - 1) : 0;
        callbacks.onProgress?.(value, max, Math.max(0, (max - value) * perStep));
      },
      onPreview: (url) => callbacks.onPreview?.(url),
    });
    const seconds = (performance.now() - started) / 1000;
    // A server whose graph came out at another size (a custom node resizing, a wrong output node) made something else.
    if (result.width !== job.settings.width || result.height !== job.settings.height)
      throw new ComfyBackendError(
        'execution',
        `${remote.label()} sent back a ${result.width}×${result.height} image for a ${job.settings.width}×${job.settings.height} job`,
      );
    const parameters = await this.parameters(task, remote.name, notes);
    return { png: addPngText(result.png, 'parameters', parameters), parameters, width: result.width, height: result.height, seconds };
  }

  /** A1111 parameters as the local engine writes them, with the backend (and how ComfyUI read the prompt differently). */
  private async parameters(task: RemoteTask, backend: string, notes: string[]): Promise<string> {
    const { job } = task;
    const model = path.basename(job.settings.model);
    const modelDir = this.modelDir(job.settings.model);
    // The hashes of the files installed here (a model or LoRA only the servers have has none to give).
    const hash = await (async () => modelHash(readModelFolder(modelDir)))().catch(() => '');
    const installed = loraNames(this.options.loraDir);
    const loraHashes: string[] = [];
    for (const tag of extractLoraTags(job.prompt).loras) {
      const name = tag.weight === 0 ? undefined : matchLoraName(installed, tag.name);
      if (!name) continue;
      const file = path.join(this.options.loraDir, `${name}.safetensors`);
      const digest = await this.loraHash(file).catch(() => null);
      if (digest) loraHashes.push(`${name}: ${digest}`);
    }
    return formatParameters({
      prompt: job.prompt,
      negativePrompt: job.negativePrompt,
      steps: job.settings.steps,
      sampler: job.settings.sampler,
      scheduleType: job.settings.scheduleType,
      cfg: job.settings.cfg,
      seed: task.seed,
      width: job.settings.width,
      height: job.settings.height,
      modelHash: hash,
      modelName: model,
      ...(task.init ? { denoisingStrength: task.init.strength } : {}),
      ...(loraHashes.length ? { loraHashes: loraHashes.join(', ') } : {}),
      extra: [['Backend', `ComfyUI ${backend}${notes.length ? ` (${notes.join('; ')})` : ''}`]],
      version: appPackage().version,
    });
  }

  /** The model's family when it is installed here too (null when it is only on servers). */
  private family(model: string): string | null {
    try {
      // SDXL has a second text encoder; SD 1.x and 2.x have none.
      return readModelFolder(this.modelDir(model)).parts.text_encoder_2 ? 'sdxl' : 'sd';
    } catch {
      return null;
    }
  }

  private modelDir(model: string): string {
    return path.isAbsolute(model) ? model : path.join(this.options.modelsDir, model);
  }

  /** A LoRA file's short hash, remembered while the file is unchanged (size and modification time). */
  private async loraHash(file: string): Promise<string> {
    const stat = await fs.promises.stat(file);
    const key = `${file}:${stat.size}:${stat.mtimeMs}`;
    let hit = this.hashes.get(key);
    if (!hit) {
      hit = loraShortHash(file);
      hit.catch(() => this.hashes.delete(key));
      this.hashes.set(key, hit);
    }
    return hit;
  }

  close(): void {
    for (const remote of this.remotes.values()) remote.client.close();
    this.remotes.clear();
  }
}
