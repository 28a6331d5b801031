// The model library's face: the store the services hold, and the import and listing the
// command line and the real-size tests call directly.
export { DownloadError, type DownloadFailure } from './hub.js';
export { importModel, ModelImportError, type ImportFailure, type ImportReport } from './importer.js';
export { listModels } from './library.js';
export { ModelStore } from './store.js';
