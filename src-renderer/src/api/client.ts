/**
 * The renderer's one way to talk to Onbrand: typed methods over either the Electron bridge
 * (`window.onbrand`) or the browser host (HTTP + WebSocket). Components never see a channel,
 * a URL or a token.
 */
import type {
  ApiErrorShape,
  AppEvent,
  Method,
  OnbrandBridge,
  PickRequest,
  RequestInput,
  RequestOutput,
  UploadKind,
  UploadResult,
} from '../../../src-main/core/api/index';
import { hostMediaUrl, UPLOAD_CONTENT_TYPE } from '../../../src-main/core/common/index';
import { WAKE_TICK_MS, WakeWatch } from './wake-watch';

declare global {
  interface Window {
    onbrand?: OnbrandBridge;
  }
}

/** An API call that failed; `code` and `field` come from the contract's error. */
export class ApiCallError extends Error {
  readonly code: ApiErrorShape['code'];
  readonly field: string | undefined;
  constructor(shape: ApiErrorShape) {
    super(shape.message);
    this.name = 'ApiCallError';
    this.code = shape.code;
    this.field = shape.field;
  }
}

export interface Client {
  shell: 'electron' | 'browser';
  call<M extends Method>(method: M, input: RequestInput<M>): Promise<RequestOutput<M>>;
  /** Subscribes to every event; returns the unsubscribe function. */
  subscribe(listener: (event: AppEvent) => void): () => void;
  /**
   * Called each time the event stream is back after a break (the host restarted, the network
   * dropped, the machine slept): events sent during the break are lost, so whatever the window
   * keeps from events must be fetched again. Returns the unsubscribe function.
   */
  onReconnect(listener: () => void): () => void;
  /** A URL the <img> element can load for a file in the catalogue's folders. */
  mediaUrl(path: string): string;
  /** The path of a dropped file, where the shell can tell it (Electron only). */
  pathForFile(file: File): string | null;
  /**
   * A native open dialog (Electron only; null in a browser, where paths are typed). In Electron a
   * path the renderer passes must be in Onbrand's folders or one the user chose here or dropped.
   */
  pickPaths: ((request: PickRequest) => Promise<string[]>) | null;
  /** Whether files can be dragged out of the window to other apps (Electron only). */
  canDragOut: boolean;
  /** Drags these catalogue files out to other apps; call it from `dragstart`. No-op in a browser. */
  startDrag(paths: string[]): void;
  /** A URL that downloads the file (the browser's stand-in for dragging out); null in Electron. */
  downloadUrl(path: string): string | null;
  /**
   * Sends dropped or chosen files to the browser host, which imports them (`POST /api/upload`);
   * null in Electron, where a dropped file has a path. `onProgress` hears the bytes sent.
   */
  upload: ((request: UploadRequest, onProgress?: (sent: number, total: number) => void) => Promise<UploadResult>) | null;
}

export interface UploadRequest {
  projectId: number;
  kind: UploadKind;
  /** Each file with the name to report it by (a chosen folder's relative path). */
  files: { file: File; name: string }[];
}

/**
 * One upload request: the list of files as one JSON line, then the files' bytes (a Blob of the
 * files themselves, which the browser streams from disk). XMLHttpRequest, for its upload progress.
 */
function sendUpload(token: string, request: UploadRequest, onProgress?: (sent: number, total: number) => void): Promise<UploadResult> {
  const manifest = JSON.stringify({ files: request.files.map((f) => ({ name: f.name, size: f.file.size })) });
  const body = new Blob([`${manifest}\n`, ...request.files.map((f) => f.file)]);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/upload?projectId=${request.projectId}&kind=${request.kind}`);
    xhr.setRequestHeader('content-type', UPLOAD_CONTENT_TYPE);
    xhr.setRequestHeader('x-onbrand-token', token);
    xhr.responseType = 'json';
    xhr.upload.onprogress = (event) => onProgress?.(event.loaded, event.lengthComputable ? event.total : body.size);
    xhr.onload = () => {
      const answer = (xhr.response ?? {}) as { result?: UploadResult; error?: ApiErrorShape };
      if (xhr.status >= 200 && xhr.status < 300 && answer.result) resolve(answer.result);
      else reject(new ApiCallError(answer.error ?? { code: 'internal', message: `The upload failed (HTTP ${xhr.status}).` }));
    };
    xhr.onerror = () => reject(new ApiCallError({ code: 'io', message: 'The upload was cut off: is Onbrand still running?' }));
    xhr.onabort = () => reject(new ApiCallError({ code: 'io', message: 'The upload was stopped.' }));
    xhr.send(body);
  });
}

function electronClient(bridge: OnbrandBridge): Client {
  return {
    shell: 'electron',
    async call(method, input) {
      const response = await bridge.invoke(method, input);
      if (!response.ok) throw new ApiCallError(response.error);
      return response.result as never;
    },
    subscribe: (listener) => bridge.onEvent(listener),
    // IPC inside one app has no connection to lose.
    onReconnect: () => () => undefined,
    mediaUrl: (path) => `onbrand-media://local/file?path=${encodeURIComponent(path)}`,
    pathForFile: (file) => bridge.pathForFile(file) || null,
    pickPaths: (request) => bridge.pickPaths(request),
    canDragOut: true,
    startDrag: (paths) => bridge.startDrag(paths),
    downloadUrl: () => null,
    upload: null,
  };
}

const TOKEN_KEY = 'onbrand.token';

/** Takes the token from the URL once (then removes it from the address bar) or from the session. */
function browserToken(): string {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

function browserClient(): Client {
  const token = browserToken();
  const listeners = new Set<(event: AppEvent) => void>();
  const reconnectListeners = new Set<() => void>();
  let socket: WebSocket | undefined;
  let started = false;
  let retry = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the stream has been up before: every later `hello` ends a break with events lost. */
  let wasConnected = false;

  const connect = (): void => {
    clearTimeout(retryTimer);
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${window.location.host}/api/events?token=${encodeURIComponent(token)}`);
    socket = ws;
    ws.onmessage = (message) => {
      if (socket !== ws) return;
      const event = JSON.parse(String(message.data)) as AppEvent | { type: 'hello' };
      if (event.type === 'hello') {
        // The host itself answered (not just a socket that opened): the break, if any, is over.
        retry = 0;
        document.documentElement.dataset.events = 'connected';
        if (wasConnected) for (const listener of reconnectListeners) listener();
        wasConnected = true;
        return;
      }
      for (const listener of listeners) listener(event);
    };
    ws.onclose = () => {
      // A socket dropped on purpose (see reconnectNow) has already been replaced.
      if (socket !== ws) return;
      document.documentElement.dataset.events = 'disconnected';
      if (listeners.size === 0) return;
      retry = Math.min(retry + 1, 6);
      retryTimer = setTimeout(connect, 250 * 2 ** retry);
    };
  };

  /** Drops the socket (it may look open and be dead) and connects again at once. */
  const reconnectNow = (): void => {
    if (listeners.size === 0) return;
    const old = socket;
    socket = undefined;
    old?.close();
    document.documentElement.dataset.events = 'disconnected';
    connect();
  };

  /** Notices a sleep (and a network that came back), which a socket does not always notice. */
  const watchWake = (): void => {
    const watch = new WakeWatch(Date.now());
    setInterval(() => {
      if (watch.tick(Date.now(), document.hidden)) reconnectNow();
    }, WAKE_TICK_MS);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && watch.shown(Date.now())) reconnectNow();
    });
    window.addEventListener('online', reconnectNow);
  };

  return {
    shell: 'browser',
    async call(method, input) {
      const response = await fetch(`/api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-onbrand-token': token },
        body: JSON.stringify(input ?? {}),
      });
      const body = (await response.json().catch(() => ({}))) as { result?: unknown; error?: ApiErrorShape };
      if (!response.ok || body.error) {
        throw new ApiCallError(body.error ?? { code: 'internal', message: `${method}: HTTP ${response.status}` });
      }
      return body.result as never;
    },
    subscribe(listener) {
      listeners.add(listener);
      if (!started) {
        started = true;
        connect();
        watchWake();
      }
      return () => listeners.delete(listener);
    },
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    mediaUrl: (path) => hostMediaUrl(path, token),
    pathForFile: () => null,
    pickPaths: null,
    canDragOut: false,
    startDrag: () => undefined,
    downloadUrl: (path) => `${hostMediaUrl(path, token)}&download=1`,
    upload: (request, onProgress) => sendUpload(token, request, onProgress),
  };
}

let client: Client | undefined;

/** The client for the shell this page runs in. */
export function getClient(): Client {
  client ??= window.onbrand ? electronClient(window.onbrand) : browserClient();
  return client;
}
