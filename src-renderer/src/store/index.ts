import { create } from 'zustand';
import { createNoticeSlice } from '../app/notices';
import { createViewSlice } from '../app/view-slice';
import { createCurationSlice } from '../features/curation/slice';
import { createGenerationSlice, createQueueSlice } from '../features/generation/slice';
import { createGridSlice, createImagesSlice } from '../features/grid/slice';
import { createModelLibrarySlice } from '../features/models/slice';
import { createMoodBoardSlice } from '../features/moodboard/slice';
import { createImportSlice, createProjectsSlice } from '../features/projects/slice';
import { createUploadSlice } from '../features/projects/upload-slice';
import { createSectionsSlice } from '../features/sections/slice';
import { createSettingsSlice } from '../features/settings/slice';
import { createTimeSlice } from '../features/timecost/slice';
import type { Store } from './types';

export type { Store } from './types';

/** The one bound store, built from the features' typed slices. Actions work outside React too (event handlers). */
export const useStore = create<Store>()((...a) => ({
  ...createProjectsSlice(...a),
  ...createImagesSlice(...a),
  ...createGridSlice(...a),
  ...createCurationSlice(...a),
  ...createViewSlice(...a),
  ...createImportSlice(...a),
  ...createNoticeSlice(...a),
  ...createGenerationSlice(...a),
  ...createQueueSlice(...a),
  ...createTimeSlice(...a),
  ...createMoodBoardSlice(...a),
  ...createSectionsSlice(...a),
  ...createModelLibrarySlice(...a),
  ...createUploadSlice(...a),
  ...createSettingsSlice(...a),
}));
