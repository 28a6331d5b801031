export type { BridgeResult, OnbrandBridge } from '../core/api/bridge.js';

/** The IPC channels; only the preload and main know them. */
export const CHANNEL_INVOKE = 'onbrand:invoke';
export const CHANNEL_EVENT = 'onbrand:event';
export const CHANNEL_DRAG = 'onbrand:drag';
/** Opens a native open dialog; main grants what the user chose. */
export const CHANNEL_PICK = 'onbrand:pick';
/** The preload reports the path of a real File (a drop); main grants it. */
export const CHANNEL_GRANT = 'onbrand:grant';
/** The scheme that serves the renderer, and the one that serves images from the catalogue's folders. */
export const APP_SCHEME = 'onbrand';
export const MEDIA_SCHEME = 'onbrand-media';
