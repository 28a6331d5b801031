/**
 * The renderer's one way to talk to Onbrand: typed methods over either the Electron bridge
 * (`window.onbrand`) or the browser host (HTTP + WebSocket). Components never see a channel,
 * a URL or a token.
 */
import type { ApiErrorShape, AppEvent, Method, OnbrandBridge, RequestInput, RequestOutput } from '../../../src-main/core/api/index';

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
  /** A URL the <img> element can load for a file in the catalogue's folders. */
  mediaUrl(path: string): string;
  /** The path of a dropped file, where the shell can tell it (Electron only). */
  pathForFile(file: File): string | null;
  /** Whether files can be dragged out of the window to other apps (Electron only). */
  canDragOut: boolean;
  /** Drags these catalogue files out to other apps; call it from `dragstart`. No-op in a browser. */
  startDrag(paths: string[]): void;
  /** A URL that downloads the file (the browser's stand-in for dragging out); null in Electron. */
  downloadUrl(path: string): string | null;
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
    mediaUrl: (path) => `onbrand-media://local/file?path=${encodeURIComponent(path)}`,
    pathForFile: (file) => bridge.pathForFile(file) || null,
    canDragOut: true,
    startDrag: (paths) => bridge.startDrag(paths),
    downloadUrl: () => null,
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
  let socket: WebSocket | undefined;
  let retry = 0;

  const connect = (): void => {
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${window.location.host}/api/events?token=${encodeURIComponent(token)}`);
    socket.onopen = () => {
      retry = 0;
    };
    socket.onmessage = (message) => {
      const event = JSON.parse(String(message.data)) as AppEvent | { type: 'hello' };
      if (event.type === 'hello') {
        document.documentElement.dataset.events = 'connected';
        return;
      }
      for (const listener of listeners) listener(event);
    };
    socket.onclose = () => {
      document.documentElement.dataset.events = 'disconnected';
      if (listeners.size === 0) return;
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 250 * 2 ** retry);
    };
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
      if (!socket) connect();
      return () => listeners.delete(listener);
    },
    mediaUrl: (path) => `/media?path=${encodeURIComponent(path)}&token=${encodeURIComponent(token)}`,
    pathForFile: () => null,
    canDragOut: false,
    startDrag: () => undefined,
    downloadUrl: (path) => `/media?path=${encodeURIComponent(path)}&token=${encodeURIComponent(token)}&download=1`,
  };
}

let client: Client | undefined;

/** The client for the shell this page runs in. */
export function getClient(): Client {
  client ??= window.onbrand ? electronClient(window.onbrand) : browserClient();
  return client;
}
