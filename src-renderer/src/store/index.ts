import { create } from 'zustand';
import { createModelLibrarySlice } from '../models/slice';
import { createGenerationSlice, createQueueSlice, createTimeSlice } from './generation';
import { createBoardSlice, createCurationSlice, createImagesSlice, createImportSlice, createNoticeSlice, createProjectsSlice, createViewSlice } from './slices';
import type { Store } from './types';

export type { JobProgress, MarkStep, SideTab, Store, ViewMode } from './types';
export type { FlagFilter, ImageFilter, SortOrder } from './view';
export { bestBrandColour } from './view';
export { movePosition, projectJobs } from './generation';

/** The one bound store, built from typed slices. Actions work outside React too (event handlers). */
export const useStore = create<Store>()((...a) => ({
  ...createProjectsSlice(...a),
  ...createImagesSlice(...a),
  ...createCurationSlice(...a),
  ...createViewSlice(...a),
  ...createImportSlice(...a),
  ...createNoticeSlice(...a),
  ...createGenerationSlice(...a),
  ...createQueueSlice(...a),
  ...createTimeSlice(...a),
  ...createBoardSlice(...a),
  ...createModelLibrarySlice(...a),
}));

/** The currently selected image, if any. */
export const selectedImage = (state: Store) => (state.selected >= 0 ? state.images[state.selected] : undefined);
