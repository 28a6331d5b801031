/** The current project's mood board, as the core last reported it. */
import type { PaletteEntry, Reference, ReferenceReport } from '../../../../src-main/core/api/index';
import type { Slice } from '../../store/types';

export interface MoodBoardSlice {
  refs: Reference[];
  /** The board's aggregated palette (`refs.palette`). */
  boardPalette: PaletteEntry[];
  /** What the last drop or Add… did, item by item. */
  refReport: ReferenceReport | null;
  setRefs(refs: Reference[], palette: PaletteEntry[]): void;
  setRefReport(report: ReferenceReport | null): void;
}

export const createMoodBoardSlice: Slice<MoodBoardSlice> = (set) => ({
  refs: [],
  boardPalette: [],
  refReport: null,
  setRefs: (refs, boardPalette) => set({ refs, boardPalette }),
  setRefReport: (refReport) => set({ refReport }),
});
