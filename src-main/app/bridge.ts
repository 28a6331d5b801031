export type { BridgeResult, OnbrandBridge } from '../core/api/bridge.js';

/** The IPC channels; only the preload and main know them. */
export const CHANNEL_INVOKE = 'onbrand:invoke';
export const CHANNEL_EVENT = 'onbrand:event';
export const CHANNEL_DRAG = 'onbrand:drag';
/** The scheme that serves the renderer, and the one that serves images from the catalogue's folders. */
export const APP_SCHEME = 'onbrand';
export const MEDIA_SCHEME = 'onbrand-media';
