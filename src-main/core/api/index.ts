export * from './contract.js';
export * from './generation.js';
export * from './references.js';
export * from './sections.js';
export * from './export.js';
export * from './prompt.js';
export * from './models.js';
export * from './errors.js';
export type * from './bridge.js';
