export * from './comfy-graph.js';
