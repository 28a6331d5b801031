import type { ImageSummary } from '../../../src-main/core/api/index';
import type { BoardSlice, CurationSlice, ImagesSlice, ImportSlice, NoticeSlice, ProjectsSlice, Slice, Store, ViewSlice } from './types';
import { DEFAULT_FILTER, carrySelection, rangeIds, viewOf } from './view';

export const createProjectsSlice: Slice<ProjectsSlice> = (set) => ({
  projects: [],
  currentProjectId: null,
  setProjects: (projects) => set({ projects }),
  setCurrentProject: (id) =>
    set((state) => ({
      currentProjectId: id,
      allImages: [],
      images: [],
      selected: -1,
      selection: [],
      anchor: -1,
      // The board and sections views follow the user to another project; the image views start over.
      mode: state.mode === 'moodboard' || state.mode === 'sections' ? state.mode : 'grid',
      past: [],
      future: [],
      compareIds: [],
      refs: [],
      boardPalette: [],
      refReport: null,
      sections: [],
      checks: [],
    })),
});

/** Recomputes the view from a changed catalogue, filter or sort, carrying the selection over. */
function reflow(state: Store, patch: Partial<Pick<Store, 'allImages' | 'filter' | 'sort'>>): Partial<Store> {
  const allImages = patch.allImages ?? state.allImages;
  const images = viewOf(allImages, patch.filter ?? state.filter, patch.sort ?? state.sort);
  return { ...patch, images, ...carrySelection(state.images, images, state) };
}

const clamp = (state: Store, index: number): number => Math.max(0, Math.min(state.images.length - 1, index));

export const createImagesSlice: Slice<ImagesSlice> = (set) => ({
  allImages: [],
  images: [],
  selected: -1,
  selection: [],
  anchor: -1,
  filter: DEFAULT_FILTER,
  sort: 'capture',
  loading: false,
  thumbRevisions: {},
  setImages: (all) =>
    set((state) => {
      const images = viewOf(all, state.filter, state.sort);
      const first = images[0];
      return { allImages: all, images, selected: first ? 0 : -1, selection: first ? [first.id] : [], anchor: first ? 0 : -1 };
    }),
  refreshImages: (all) => set((state) => reflow(state, { allImages: all })),
  addImages: (added) =>
    set((state) => {
      const known = new Set(state.allImages.map((i) => i.id));
      const fresh = added.filter((i) => !known.has(i.id));
      if (fresh.length === 0) return {};
      return reflow(state, { allImages: state.allImages.concat(fresh) });
    }),
  updateImages: (updated) =>
    set((state) => {
      const byId = new Map(updated.map((i) => [i.id, i]));
      let changed = false;
      const allImages = state.allImages.map((i) => {
        const next = byId.get(i.id);
        if (!next) return i;
        changed = true;
        // A thumbnail made after the update was sent wins over the update's older null.
        return next.thumbPath === null && i.thumbPath !== null ? { ...next, thumbPath: i.thumbPath } : next;
      });
      return changed ? reflow(state, { allImages }) : {};
    }),
  setThumbnail: (imageId, thumbPath) =>
    set((state) => {
      const update = (i: ImageSummary): ImageSummary => (i.id === imageId ? { ...i, thumbPath } : i);
      return {
        allImages: state.allImages.map(update),
        images: state.images.map(update),
        thumbRevisions: { ...state.thumbRevisions, [imageId]: (state.thumbRevisions[imageId] ?? 0) + 1 },
      };
    }),
  select: (index) =>
    set((state) => {
      if (state.images.length === 0) return { selected: -1, selection: [], anchor: -1 };
      const selected = clamp(state, index);
      return { selected, selection: [state.images[selected]!.id], anchor: selected };
    }),
  extendTo: (index) =>
    set((state) => {
      if (state.images.length === 0) return {};
      const selected = clamp(state, index);
      const anchor = state.anchor < 0 ? selected : state.anchor;
      return { selected, anchor, selection: rangeIds(state.images, anchor, selected) };
    }),
  toggleSelected: (index) =>
    set((state) => {
      const image = state.images[index];
      if (!image) return {};
      const has = state.selection.includes(image.id);
      const selection = has ? state.selection.filter((id) => id !== image.id) : [...state.selection, image.id];
      if (selection.length === 0) return { selected: index, selection: [image.id], anchor: index };
      // Removing the active image hands the focus to the last one still selected.
      const activeId = has ? selection[selection.length - 1]! : image.id;
      const selected = state.images.findIndex((i) => i.id === activeId);
      return { selected, selection, anchor: index };
    }),
  selectAll: () => set((state) => (state.images.length === 0 ? {} : { selection: state.images.map((i) => i.id) })),
  setFilter: (patch) => set((state) => reflow(state, { filter: { ...state.filter, ...patch } })),
  setSort: (sort) => set((state) => reflow(state, { sort })),
  setLoading: (loading) => set({ loading }),
});

const MAX_HISTORY = 500;

export const createCurationSlice: Slice<CurationSlice> = (set, get) => ({
  past: [],
  future: [],
  autoAdvance: false,
  showSharpness: false,
  lightsOut: false,
  zoom: { on: false, cx: 0.5, cy: 0.5 },
  compareIds: [],
  pushHistory: (steps) => set((state) => ({ past: [...state.past.slice(-MAX_HISTORY + 1), steps], future: [] })),
  takeUndo: () => {
    const { past, future } = get();
    const steps = past[past.length - 1];
    if (steps) set({ past: past.slice(0, -1), future: [...future, steps] });
    return steps;
  },
  takeRedo: () => {
    const { past, future } = get();
    const steps = future[future.length - 1];
    if (steps) set({ past: [...past, steps], future: future.slice(0, -1) });
    return steps;
  },
  setAutoAdvance: (autoAdvance) => set({ autoAdvance }),
  setShowSharpness: (showSharpness) => set({ showSharpness }),
  setLightsOut: (lightsOut) => set({ lightsOut }),
  setZoom: (zoom) => set((state) => ({ zoom: { ...state.zoom, ...zoom } })),
  setCompareIds: (compareIds) => set({ compareIds }),
});

export const MIN_CELL = 96;
export const MAX_CELL = 384;

export const createViewSlice: Slice<ViewSlice> = (set) => ({
  mode: 'grid',
  cellSize: 176,
  columns: 1,
  visibleRows: 1,
  setMode: (mode) => set({ mode }),
  setGridShape: (columns, visibleRows) => set({ columns, visibleRows }),
  setCellSize: (size) => set({ cellSize: Math.max(MIN_CELL, Math.min(MAX_CELL, Math.round(size))) }),
});

export const createImportSlice: Slice<ImportSlice> = (set) => ({
  importing: false,
  progress: null,
  lastReport: null,
  startImport: () => set({ importing: true, progress: null, lastReport: null }),
  setProgress: (progress) => set({ progress }),
  finishImport: (report) => set({ importing: false, progress: null, lastReport: report }),
  dismissReport: () => set({ lastReport: null }),
});

export const createNoticeSlice: Slice<NoticeSlice> = (set) => ({
  notice: null,
  notify: (kind, text) => set({ notice: { kind, text } }),
  dismissNotice: () => set({ notice: null }),
});

export const createBoardSlice: Slice<BoardSlice> = (set) => ({
  refs: [],
  boardPalette: [],
  refReport: null,
  sections: [],
  checks: [],
  setRefs: (refs, boardPalette) => set({ refs, boardPalette }),
  setRefReport: (refReport) => set({ refReport }),
  setSections: (sections, checks) => set({ sections, checks }),
});
