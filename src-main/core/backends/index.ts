// ComfyUI servers as backends of the queue (issue 21): the registry of servers, the pool the
// queue dispatches to, the ComfyUI client and the translation of a job into a ComfyUI graph.
export * from './comfy-client.js';
export * from './comfy-graph.js';
export { BackendPool, PAUSE_AFTER, RemoteBackend, type RemoteImage, type RemotePlan, type RemoteTask } from './pool.js';
export { BackendRegistry, checkBackendUrl, DEFAULT_TIMEOUT_SECONDS, isLoopbackHost, localView, type StoredBackend } from './registry.js';
