/** The model library: first-run choices, the library dialog, import, downloads and their progress. */
export { FirstRun } from './FirstRun';
export { ImportModelDialog } from './ImportModelDialog';
export { ModelFolderDialog } from './ModelFolderDialog';
export { ModelLibraryDialog } from './ModelLibraryDialog';
export { ModelStatus } from './ModelStatus';
export { loadModelLibrary, openLibrary, openModelDialog, takeModelsChanged, takeModelTask } from './actions';
export { createModelLibrarySlice, NO_MODEL_REASON, noModelInstalled, type ModelDialog, type ModelLibrarySlice } from './slice';
