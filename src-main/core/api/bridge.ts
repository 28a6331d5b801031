/**
 * The shape of `window.onbrand`, the one object the Electron preload exposes to the renderer.
 * Part of the contract: the preload builds it, the renderer's client wraps it in typed methods.
 */
import type { AppEvent } from './contract.js';
import type { ApiErrorShape } from './errors.js';

export type BridgeResult = { ok: true; result: unknown } | { ok: false; error: ApiErrorShape };

export interface OnbrandBridge {
  shell: 'electron';
  /** Calls an API method; main validates the method name and the input. */
  invoke(method: string, input: unknown): Promise<BridgeResult>;
  /** Subscribes to core events; returns the unsubscribe function. */
  onEvent(listener: (event: AppEvent) => void): () => void;
  /** The absolute path of a file dropped onto the window (Electron's webUtils). */
  pathForFile(file: File): string;
  /**
   * Starts dragging these catalogue files out of the window to other apps (Electron's
   * `startDrag`); call it from a `dragstart` handler. Main checks every path.
   */
  startDrag(paths: string[]): void;
}
