import { create } from 'zustand';
import { createImagesSlice, createImportSlice, createNoticeSlice, createProjectsSlice, createViewSlice } from './slices';
import type { Store } from './types';

export type { Store, ViewMode } from './types';

/** The one bound store, built from typed slices. Actions work outside React too (event handlers). */
export const useStore = create<Store>()((...a) => ({
  ...createProjectsSlice(...a),
  ...createImagesSlice(...a),
  ...createViewSlice(...a),
  ...createImportSlice(...a),
  ...createNoticeSlice(...a),
}));

/** The currently selected image, if any. */
export const selectedImage = (state: Store) => (state.selected >= 0 ? state.images[state.selected] : undefined);
