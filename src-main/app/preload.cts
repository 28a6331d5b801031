/**
 * The Electron preload: sandboxed, so CommonJS with `electron` as its only import. It exposes one
 * narrow object, `window.onbrand`; the renderer never sees ipcRenderer or a channel name.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { AppEvent } from '../core/api/index.js';
import type { BridgeResult, OnbrandBridge, PickRequest } from '../core/api/bridge.js';

// Literal copies of bridge.ts's constants: a sandboxed preload cannot require local files.
const CHANNEL_INVOKE = 'onbrand:invoke';
const CHANNEL_EVENT = 'onbrand:event';
const CHANNEL_DRAG = 'onbrand:drag';
const CHANNEL_PICK = 'onbrand:pick';
const CHANNEL_GRANT = 'onbrand:grant';

/**
 * The path of a File the user gave the page (a drop, a file input), reported to main, which then
 * lets the renderer name it. The page cannot forge one: only this preload reaches ipcRenderer,
 * and webUtils answers '' for every File the page made itself. Sent before the page can ask for
 * anything with the path, on the same IPC pipe, so main has granted it by then.
 */
function pathOfFile(file: File): string {
  let found = '';
  try {
    found = webUtils.getPathForFile(file);
  } catch {
    return ''; // not a File at all
  }
  if (found) ipcRenderer.send(CHANNEL_GRANT, found);
  return found;
}

// src-main is type-checked without the DOM library; this is the one part of it the preload uses.
declare const window: {
  addEventListener(
    type: 'drop',
    listener: (event: { isTrusted: boolean; dataTransfer: { files: ArrayLike<File> } | null }) => void,
    capture: boolean,
  ): void;
};

const bridge: OnbrandBridge = {
  shell: 'electron',
  invoke: (method: string, input: unknown) => {
    if (typeof method !== 'string')
      return Promise.resolve<BridgeResult>({ ok: false, error: { code: 'unknown_method', message: 'method must be a string' } });
    return ipcRenderer.invoke(CHANNEL_INVOKE, method, input) as Promise<BridgeResult>;
  },
  onEvent: (listener: (event: AppEvent) => void) => {
    const handler = (_event: IpcRendererEvent, payload: AppEvent): void => listener(payload);
    ipcRenderer.on(CHANNEL_EVENT, handler);
    return () => {
      ipcRenderer.removeListener(CHANNEL_EVENT, handler);
    };
  },
  pathForFile: (file: File) => pathOfFile(file),
  pickPaths: async (request: PickRequest) => {
    const chosen = (await ipcRenderer.invoke(CHANNEL_PICK, request)) as unknown;
    return Array.isArray(chosen) ? chosen.filter((p): p is string => typeof p === 'string') : [];
  },
  startDrag: (paths: string[]) => {
    if (Array.isArray(paths) && paths.every((p) => typeof p === 'string')) ipcRenderer.send(CHANNEL_DRAG, paths.slice(0, 500));
  },
};

// Files dropped anywhere in the window are granted as they land, whether or not the page asks
// for their paths: the drop is the user's choice. Only real drops (isTrusted), not ones the page dispatches.
window.addEventListener(
  'drop',
  (event) => {
    if (!event.isTrusted || !event.dataTransfer) return;
    for (const file of Array.from(event.dataTransfer.files)) pathOfFile(file);
  },
  true,
);

contextBridge.exposeInMainWorld('onbrand', bridge);
