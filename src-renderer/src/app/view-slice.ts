/** Which view the window shows: the grid, the loupe, compare, the mood board or the sections. */
import type { Slice } from '../store/types';

export type ViewMode = 'grid' | 'loupe' | 'compare' | 'moodboard' | 'sections';

export interface ViewSlice {
  mode: ViewMode;
  setMode(mode: ViewMode): void;
}

export const createViewSlice: Slice<ViewSlice> = (set) => ({
  mode: 'grid',
  setMode: (mode) => set({ mode }),
});
