/**
 * The Electron preload: sandboxed, so CommonJS with `electron` as its only import. It exposes one
 * narrow object, `window.onbrand`; the renderer never sees ipcRenderer or a channel name.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { AppEvent } from '../core/api/index.js';
import type { BridgeResult, OnbrandBridge } from '../core/api/bridge.js';

// Literal copies of bridge.ts's constants: a sandboxed preload cannot require local files.
const CHANNEL_INVOKE = 'onbrand:invoke';
const CHANNEL_EVENT = 'onbrand:event';
const CHANNEL_DRAG = 'onbrand:drag';

const bridge: OnbrandBridge = {
  shell: 'electron',
  invoke: (method: string, input: unknown) => {
    if (typeof method !== 'string') return Promise.resolve<BridgeResult>({ ok: false, error: { code: 'unknown_method', message: 'method must be a string' } });
    return ipcRenderer.invoke(CHANNEL_INVOKE, method, input) as Promise<BridgeResult>;
  },
  onEvent: (listener: (event: AppEvent) => void) => {
    const handler = (_event: IpcRendererEvent, payload: AppEvent): void => listener(payload);
    ipcRenderer.on(CHANNEL_EVENT, handler);
    return () => {
      ipcRenderer.removeListener(CHANNEL_EVENT, handler);
    };
  },
  pathForFile: (file: File) => webUtils.getPathForFile(file),
  startDrag: (paths: string[]) => {
    if (Array.isArray(paths) && paths.every((p) => typeof p === 'string')) ipcRenderer.send(CHANNEL_DRAG, paths.slice(0, 500));
  },
};

contextBridge.exposeInMainWorld('onbrand', bridge);
