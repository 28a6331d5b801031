export * from './comfy-client.js';
