/**
 * Onbrand's ComfyUI client: system stats, the checkpoint and LoRA lists, image uploads, and
 * running one API graph to its PNG over ComfyUI's HTTP routes and its WebSocket (/ws?clientId=).
 *
 * One WebSocket per client, opened when first needed and reused; several runs may follow their
 * prompts over it at once. Every failure is a ComfyBackendError whose `kind` tells the queue
 * whether another backend may try again (unreachable, timeout, lost, http, execution) or not.
 */
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { OnbrandError, type ApiErrorCode } from '../api/index.js';

export type ComfyErrorKind = 'unreachable' | 'auth' | 'rejected' | 'execution' | 'interrupted' | 'timeout' | 'lost' | 'http';

/** The contract's code for each kind: a refused graph is the input's fault, a refused token the user's, the rest the server's or the network's. */
const CODES: Record<ComfyErrorKind, ApiErrorCode> = {
  unreachable: 'io',
  auth: 'unauthorized',
  rejected: 'invalid_input',
  execution: 'io',
  interrupted: 'io',
  timeout: 'io',
  lost: 'io',
  http: 'io',
};

export class ComfyBackendError extends OnbrandError {
  constructor(
    readonly kind: ComfyErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(CODES[kind], message, undefined, options);
    this.name = 'ComfyBackendError';
  }
}

export interface ComfyClientOptions {
  /** The backend's name as the user gave it ("studio-1"). */
  name: string;
  /** http(s)://host:port of the ComfyUI server (or its reverse proxy). */
  url: string;
  /** Sent with every request and the WebSocket upgrade (Authorization for a reverse proxy, …). */
  headers?: Record<string, string>;
  /** No message for this long while a prompt runs is a timeout (default 120 s). */
  idleTimeoutMs?: number;
  /** Connecting (and each plain HTTP request) may take this long (default 10 s). */
  connectTimeoutMs?: number;
}

export interface ComfySystemStats {
  version: string;
  python: string;
  pytorch: string;
  devices: { name: string; type: string; vramTotal: number; vramFree: number }[];
}

export interface ComfyRunOptions {
  /** The SaveImage node whose first image is the result. */
  outputNode: string;
  signal?: AbortSignal;
  onProgress?(value: number, max: number): void;
  /** Preview frames while sampling, as data: URLs. */
  onPreview?(dataUrl: string): void;
}

export interface ComfyRunResult {
  promptId: string;
  png: Buffer;
  width: number;
  height: number;
}

/** A graph in ComfyUI's API format: node id → class and inputs (values, or [nodeId, outputIndex] links). */
export type ComfyApiGraph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

interface Message {
  type: string;
  data: Record<string, unknown>;
}

/** A run following its prompt's messages. */
interface Follower {
  onMessage(message: Message): void;
  onPreview(dataUrl: string): void;
  onClosed(error: ComfyBackendError): void;
}

const EARLY_LIMIT = 200;
/** After execution_success, how long to wait for `executing` with no node (the history filed) before asking for it anyway. */
const FILED_GRACE_MS = 250;
/** Waits before each attempt to reconnect a WebSocket that dropped while prompts ran. */
const RECONNECT_WAITS_MS = [0, 150, 300, 600, 900];

export class ComfyClient {
  readonly name: string;
  readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly idleTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly clientId = crypto.randomUUID();
  private socket: WebSocket | null = null;
  private opening: Promise<WebSocket> | null = null;
  private readonly followers = new Map<string, Follower>();
  /** Messages of prompts whose POST has not answered yet (they can arrive first). */
  private readonly early = new Map<string, Message[]>();
  /** The prompt that last reported from the server: binary previews carry no prompt id. */
  private current: string | null = null;

  constructor(options: ComfyClientOptions) {
    this.name = options.name;
    this.url = options.url.replace(/\/+$/, '');
    this.headers = { ...(options.headers ?? {}) };
    this.idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  }

  /** `ComfyUI "studio-1" (http://…)`: how messages name this server. */
  get label(): string {
    return `ComfyUI "${this.name}" (${this.url})`;
  }

  async systemStats(): Promise<ComfySystemStats> {
    const body = (await this.json('GET', '/system_stats')) as {
      system?: { comfyui_version?: string; python_version?: string; pytorch_version?: string };
      devices?: { name?: string; type?: string; vram_total?: number; vram_free?: number }[];
    };
    if (!body || typeof body !== 'object' || !body.system)
      throw this.error('http', 'answered /system_stats with something that is not ComfyUI');
    return {
      version: String(body.system.comfyui_version ?? 'unknown'),
      python: String(body.system.python_version ?? 'unknown'),
      pytorch: String(body.system.pytorch_version ?? 'unknown'),
      devices: (body.devices ?? []).map((d) => ({
        name: String(d.name ?? ''),
        type: String(d.type ?? ''),
        vramTotal: Number(d.vram_total ?? 0),
        vramFree: Number(d.vram_free ?? 0),
      })),
    };
  }

  /** The checkpoints and LoRAs the server can load (names as its graphs take them). */
  async inventory(): Promise<{ checkpoints: string[]; loras: string[] }> {
    const [ckpt, lora] = await Promise.all([
      this.json('GET', '/object_info/CheckpointLoaderSimple'),
      this.json('GET', '/object_info/LoraLoader'),
    ]);
    return { checkpoints: comboOptions(ckpt, 'CheckpointLoaderSimple', 'ckpt_name'), loras: comboOptions(lora, 'LoraLoader', 'lora_name') };
  }

  /** Uploads an image into the server's input folder; returns the value for `LoadImage.image`. */
  async uploadImage(bytes: Buffer | Uint8Array, fileName: string): Promise<string> {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(bytes)]), fileName);
    form.append('type', 'input');
    form.append('subfolder', 'onbrand');
    form.append('overwrite', 'true');
    const response = await this.request('POST', '/upload/image', form);
    const body = (await this.read(response, '/upload/image')) as { name?: string; subfolder?: string };
    if (!body || typeof body.name !== 'string') throw this.error('http', 'answered the image upload without a file name');
    return body.subfolder ? `${body.subfolder}/${body.name}` : body.name;
  }

  /** Queues the graph, follows its prompt to the end and returns the output node's first image. */
  async run(graph: ComfyApiGraph, options: ComfyRunOptions): Promise<ComfyRunResult> {
    const { signal } = options;
    signal?.throwIfAborted();
    await this.ensureSocket();
    signal?.throwIfAborted();
    const wanted = crypto.randomUUID();
    const response = await this.request('POST', '/prompt', JSON.stringify({ prompt: graph, client_id: this.clientId, prompt_id: wanted }), {
      'content-type': 'application/json',
    });
    if (response.status === 400) throw this.rejected(await response.json().catch(() => null));
    const queued = (await this.read(response, '/prompt')) as { prompt_id?: string };
    if (!queued || typeof queued.prompt_id !== 'string') throw this.error('http', 'queued the graph without a prompt id');
    const promptId = queued.prompt_id;
    try {
      await this.follow(promptId, options);
    } catch (error) {
      if (signal?.aborted) {
        await this.cancel(promptId).catch(() => undefined);
        throw abortError(signal);
      }
      throw error;
    } finally {
      this.early.delete(wanted);
      this.early.delete(promptId);
    }
    return this.result(promptId, options.outputNode);
  }

  /** Closes the WebSocket; runs still following fail as lost. A later run connects again. */
  close(): void {
    const ws = this.socket;
    this.socket = null;
    const lost = this.error('lost', 'was disconnected by Onbrand while the image was being made');
    for (const follower of [...this.followers.values()]) follower.onClosed(lost);
    ws?.terminate();
  }

  // ── following a prompt ──

  private follow(promptId: string, options: ComfyRunOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let idle: NodeJS.Timeout | undefined;
      let filed: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        clearTimeout(filed);
        this.followers.delete(promptId);
        options.signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onAbort = (): void => finish(abortError(options.signal!));
      const arm = (): void => {
        clearTimeout(idle);
        idle = setTimeout(() => void this.checkIdle(promptId).then(arm, finish), this.idleTimeoutMs);
      };
      const follower: Follower = {
        onMessage: (message) => {
          arm();
          const data = message.data;
          switch (message.type) {
            case 'progress':
              options.onProgress?.(Number(data.value), Number(data.max));
              break;
            case 'execution_success':
              // The prompt is filed in the history only after this, just before `executing` with no
              // node: finish on that (servers that never send it: a moment later all the same).
              clearTimeout(filed);
              filed = setTimeout(() => finish(), FILED_GRACE_MS);
              break;
            case 'executing':
              if (data.node === null) finish();
              break;
            case 'execution_error':
              finish(
                this.error(
                  'execution',
                  `failed in ${String(data.node_type || 'a node')} ${String(data.node_id ?? '')}: ${String(data.exception_message ?? 'unknown error').trim()}`,
                ),
              );
              break;
            case 'execution_interrupted':
              finish(
                options.signal?.aborted
                  ? abortError(options.signal)
                  : this.error('interrupted', 'was interrupted on the server before the image was done'),
              );
              break;
          }
        },
        onPreview: (dataUrl) => {
          arm();
          options.onPreview?.(dataUrl);
        },
        onClosed: (error) => finish(error),
      };
      if (options.signal?.aborted) return finish(abortError(options.signal));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.followers.set(promptId, follower);
      arm();
      for (const message of this.early.get(promptId) ?? []) {
        if (settled) break;
        follower.onMessage(message);
      }
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN)
        finish(this.error('lost', 'dropped the connection while the image was being made'));
    });
  }

  /** Where the server has the prompt: waiting its turn, running, finished (in its history) or nowhere (forgotten). */
  private async whereIs(promptId: string): Promise<'pending' | 'running' | 'done' | 'unknown'> {
    const queue = (await this.json('GET', '/queue')) as { queue_running?: unknown[][]; queue_pending?: unknown[][] };
    const has = (list?: unknown[][]): boolean => (list ?? []).some((item) => Array.isArray(item) && item[1] === promptId);
    if (has(queue.queue_running)) return 'running';
    if (has(queue.queue_pending)) return 'pending';
    const history = (await this.json('GET', `/history/${encodeURIComponent(promptId)}`)) as Record<string, unknown>;
    return history && history[promptId] ? 'done' : 'unknown';
  }

  /** Nothing heard for idleTimeoutMs: still waiting its turn (keep waiting), finished unheard, forgotten, or stalled. */
  private async checkIdle(promptId: string): Promise<void> {
    let where: Awaited<ReturnType<ComfyClient['whereIs']>>;
    try {
      where = await this.whereIs(promptId);
    } catch (error) {
      if (error instanceof ComfyBackendError && error.kind === 'unreachable') {
        throw this.error('lost', 'stopped answering while the image was being made', error);
      }
      throw error;
    }
    this.settleBy(promptId, where);
    if (where === 'running') {
      const seconds = Math.round(this.idleTimeoutMs / 100) / 10;
      throw this.error('timeout', `said nothing for ${seconds} s while making the image (it may be stuck)`);
    }
  }

  /** Finished unheard: follow on to the result; forgotten: lost. Pending or running: nothing to do here. */
  private settleBy(promptId: string, where: 'pending' | 'running' | 'done' | 'unknown'): void {
    const follower = this.followers.get(promptId);
    if (where === 'done') follower?.onMessage({ type: 'executing', data: { node: null, prompt_id: promptId } });
    if (where === 'unknown') follower?.onClosed(this.error('lost', 'no longer knows the image it was making (the server restarted?)'));
  }

  /**
   * The WebSocket dropped while prompts run (a restart, a proxy's idle limit): connect again and ask
   * the server about each one. Unreachable or forgotten prompts are lost; the others go on.
   */
  private async recover(): Promise<void> {
    const following = [...this.followers.keys()];
    let failure: unknown;
    // A proxy's drop reconnects at once; a server that went away stays away (lost within about 2 s).
    for (const wait of RECONNECT_WAITS_MS) {
      await new Promise((resolve) => setTimeout(resolve, wait));
      if (following.every((id) => !this.followers.has(id))) return;
      try {
        await this.ensureSocket();
        for (const promptId of following) this.settleBy(promptId, await this.whereIs(promptId));
        return;
      } catch (error) {
        failure = error;
        if (error instanceof ComfyBackendError && error.kind === 'auth') break;
      }
    }
    const lost = this.error('lost', 'dropped the connection while the image was being made, and cannot be reached again', failure);
    for (const promptId of following) this.followers.get(promptId)?.onClosed(lost);
  }

  private async result(promptId: string, outputNode: string): Promise<ComfyRunResult> {
    let entry: HistoryEntry | undefined;
    // ComfyUI sends execution_success just before it files the prompt in its history.
    for (let attempt = 0; attempt < 20 && !entry; attempt++) {
      const history = (await this.json('GET', `/history/${encodeURIComponent(promptId)}`)) as Record<string, HistoryEntry>;
      entry = history?.[promptId];
      if (!entry) await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
    if (!entry) throw this.error('lost', 'no longer knows the image it made (the server restarted?)');
    if (entry.status && entry.status.status_str === 'error') {
      const failure = entry.status.messages?.find(([type]) => type === 'execution_error')?.[1] as Record<string, unknown> | undefined;
      if (failure)
        throw this.error(
          'execution',
          `failed in ${String(failure.node_type)} ${String(failure.node_id)}: ${String(failure.exception_message)}`,
        );
      throw this.error('interrupted', 'was interrupted on the server before the image was done');
    }
    const image = entry.outputs?.[outputNode]?.images?.[0];
    if (!image || typeof image.filename !== 'string') {
      throw this.error('execution', `finished without an image from node ${outputNode} (is it the graph's SaveImage node?)`);
    }
    const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder ?? '', type: image.type ?? 'output' });
    const response = await this.request('GET', `/view?${query}`);
    if (!response.ok) throw this.error('http', `could not send back ${image.filename} (HTTP ${response.status})`);
    const png = Buffer.from(await response.arrayBuffer());
    const size = pngSize(png);
    if (!size) throw this.error('http', `sent back ${image.filename}, which is not a PNG`);
    return { promptId, png, ...size };
  }

  /** Abort: drop it from the queue, and interrupt it only if it is the one running. */
  private async cancel(promptId: string): Promise<void> {
    await this.request('POST', '/queue', JSON.stringify({ delete: [promptId] }), { 'content-type': 'application/json' });
    const queue = (await this.json('GET', '/queue')) as { queue_running?: unknown[][] };
    if ((queue.queue_running ?? []).some((item) => Array.isArray(item) && item[1] === promptId)) {
      await this.request('POST', '/interrupt', JSON.stringify({ prompt_id: promptId }), { 'content-type': 'application/json' });
    }
  }

  // ── the WebSocket ──

  private async ensureSocket(): Promise<WebSocket> {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) return this.socket;
    this.opening ??= this.openSocket().finally(() => (this.opening = null));
    return this.opening;
  }

  private openSocket(): Promise<WebSocket> {
    const wsUrl = `${this.url.replace(/^http/, 'ws')}/ws?clientId=${encodeURIComponent(this.clientId)}`;
    return new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { headers: this.headers, handshakeTimeout: this.connectTimeoutMs });
      let open = false;
      ws.on('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        ws.terminate();
        reject(
          status === 401 || status === 403
            ? this.error('auth', `refused the connection (HTTP ${status}): check the backend's access token or headers`)
            : this.error('http', `refused the WebSocket connection (HTTP ${status})`),
        );
      });
      ws.on('error', (error) => {
        if (!open) reject(this.unreachable(error));
      });
      ws.on('open', () => {
        open = true;
        this.socket = ws;
        resolve(ws);
      });
      ws.on('message', (data, isBinary) => this.onSocketMessage(data as Buffer, isBinary));
      ws.on('close', () => {
        if (!open) {
          reject(this.error('unreachable', 'closed the connection before it opened'));
          return;
        }
        if (this.socket !== ws) return; // closed by Onbrand
        this.socket = null;
        this.early.clear();
        if (this.followers.size > 0) void this.recover();
      });
    });
  }

  private onSocketMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      if (data.length < 8 || data.readUInt32BE(0) !== 1 || !this.current) return;
      const mime = data.readUInt32BE(4) === 2 ? 'image/png' : 'image/jpeg';
      this.followers.get(this.current)?.onPreview(`data:${mime};base64,${data.subarray(8).toString('base64')}`);
      return;
    }
    let message: Message;
    try {
      message = JSON.parse(data.toString('utf8')) as Message;
    } catch {
      return;
    }
    const promptId = message?.data && typeof message.data.prompt_id === 'string' ? message.data.prompt_id : null;
    if (!promptId) return;
    if (message.type === 'execution_start' || message.type === 'executing' || message.type === 'progress') {
      this.current = message.type === 'executing' && message.data.node === null ? null : promptId;
    }
    const follower = this.followers.get(promptId);
    if (follower) {
      follower.onMessage(message);
      return;
    }
    const list = this.early.get(promptId) ?? [];
    if (list.length < EARLY_LIMIT) list.push(message);
    this.early.set(promptId, list);
    if (this.early.size > EARLY_LIMIT) this.early.delete(this.early.keys().next().value!);
  }

  // ── HTTP ──

  private async request(method: string, route: string, body?: string | FormData, headers: Record<string, string> = {}): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${route}`, {
        method,
        headers: { ...this.headers, ...headers },
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(Math.max(this.connectTimeoutMs, 30_000)),
      });
    } catch (error) {
      throw this.unreachable(error);
    }
    if (response.status === 401 || response.status === 403) {
      throw this.error('auth', `refused ${route.split('?')[0]} (HTTP ${response.status}): check the backend's access token or headers`);
    }
    return response;
  }

  private async read(response: Response, route: string): Promise<unknown> {
    if (!response.ok) {
      const text = (await response.text().catch(() => '')).slice(0, 300).trim();
      throw this.error('http', `answered ${route} with HTTP ${response.status}${text ? `: ${text}` : ''}`);
    }
    try {
      return await response.json();
    } catch (error) {
      throw this.error('http', `answered ${route} with something that is not JSON`, error);
    }
  }

  private async json(method: string, route: string): Promise<unknown> {
    return this.read(await this.request(method, route), route);
  }

  // ── errors in a designer's words ──

  private error(kind: ComfyErrorKind, what: string, cause?: unknown): ComfyBackendError {
    return new ComfyBackendError(kind, `${this.label} ${what}`, cause === undefined ? undefined : { cause });
  }

  private unreachable(error: unknown): ComfyBackendError {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const code = (cause as { code?: string })?.code;
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      return this.error('timeout', `did not answer within ${Math.round(Math.max(this.connectTimeoutMs, 30_000) / 1000)} s`, error);
    }
    const why =
      code === 'ECONNREFUSED'
        ? 'nothing is listening there (is ComfyUI running?)'
        : code === 'ENOTFOUND'
          ? 'that host name is unknown'
          : String((cause as Error)?.message ?? cause);
    return this.error('unreachable', `cannot be reached: ${why}`, error);
  }

  private rejected(body: unknown): ComfyBackendError {
    const parsed = body as {
      error?: { message?: string; details?: string };
      node_errors?: Record<string, { class_type?: string; errors?: { message?: string; details?: string }[] }>;
    } | null;
    const nodeErrors = Object.entries(parsed?.node_errors ?? {}).flatMap(([id, n]) =>
      (n.errors ?? []).map((e) => `${n.class_type ?? 'node'} ${id}: ${e.message ?? 'invalid'}${e.details ? ` (${e.details})` : ''}`),
    );
    const top = parsed?.error
      ? `${parsed.error.message ?? 'invalid graph'}${parsed.error.details && nodeErrors.length === 0 ? `: ${parsed.error.details}` : ''}`
      : 'invalid graph';
    return this.error('rejected', `refused the graph: ${nodeErrors.length > 0 ? nodeErrors.join('; ') : top}`);
  }
}

interface HistoryEntry {
  outputs?: Record<string, { images?: { filename?: string; subfolder?: string; type?: string }[] }>;
  status?: { status_str?: string; completed?: boolean; messages?: [string, unknown][] };
}

/** A combo input's values from /object_info/{Class}: `[[...names], {...}]` or V3's `["COMBO", {options: [...]}]`. */
function comboOptions(info: unknown, nodeClass: string, input: string): string[] {
  const node = (info as Record<string, { input?: { required?: Record<string, unknown>; optional?: Record<string, unknown> } }>)?.[
    nodeClass
  ];
  const spec = node?.input?.required?.[input] ?? node?.input?.optional?.[input];
  if (!Array.isArray(spec)) return [];
  if (Array.isArray(spec[0])) return spec[0].map(String);
  if (spec[0] === 'COMBO' && spec[1] && Array.isArray((spec[1] as { options?: unknown }).options)) {
    return ((spec[1] as { options: unknown[] }).options ?? []).map(String);
  }
  return [];
}

/** Width and height from a PNG's IHDR; null when the bytes are not a PNG. */
function pngSize(png: Buffer): { width: number; height: number } | null {
  if (png.length < 24 || png.readUInt32BE(0) !== 0x89504e47 || png.toString('latin1', 12, 16) !== 'IHDR') return null;
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error && reason.name === 'AbortError' ? reason : new DOMException('The image was cancelled', 'AbortError');
}
