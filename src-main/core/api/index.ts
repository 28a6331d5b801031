export * from './contract.js';
export * from './errors.js';
export type * from './bridge.js';
