// The model library's face: the store the services hold, and the import and listing the
// command line and the real-size tests call directly.
export { importModel, type ImportReport } from './importer.js';
export { listModels } from './library.js';
export { ModelStore } from './store.js';
