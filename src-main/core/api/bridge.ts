/**
 * The shape of `window.onbrand`, the one object the Electron preload exposes to the renderer.
 * Part of the contract: the preload builds it, the renderer's client wraps it in typed methods.
 */
import type { AppEvent } from './contract.js';
import type { ApiErrorShape } from './errors.js';

export type BridgeResult = { ok: true; result: unknown } | { ok: false; error: ApiErrorShape };

/** What a native open dialog should let the user choose. */
export interface PickRequest {
  select: 'files' | 'folder';
  /** More than one (default false). */
  multiple?: boolean;
  /** Only these kinds of file (files only). */
  filter?: 'images' | 'checkpoints';
  title?: string;
}

export interface OnbrandBridge {
  shell: 'electron';
  /** Calls an API method; main validates the method name and the input. */
  invoke(method: string, input: unknown): Promise<BridgeResult>;
  /** Subscribes to core events; returns the unsubscribe function. */
  onEvent(listener: (event: AppEvent) => void): () => void;
  /**
   * The absolute path of a file dropped onto the window (Electron's webUtils). Main lets the
   * renderer name that file (or folder) from then on: the path comes from a real File.
   */
  pathForFile(file: File): string;
  /**
   * Opens a native open dialog; resolves to the chosen paths (none when cancelled). Main lets
   * the renderer name them from then on: paths a renderer passes must lie in the catalogue's
   * folders or in files and folders the user chose here or dropped.
   */
  pickPaths(request: PickRequest): Promise<string[]>;
  /**
   * Starts dragging these catalogue files out of the window to other apps (Electron's
   * `startDrag`); call it from a `dragstart` handler. Main checks every path.
   */
  startDrag(paths: string[]): void;
}
