import type { ImagesSlice, ImportSlice, NoticeSlice, ProjectsSlice, Slice, ViewSlice } from './types';

export const createProjectsSlice: Slice<ProjectsSlice> = (set) => ({
  projects: [],
  currentProjectId: null,
  setProjects: (projects) => set({ projects }),
  setCurrentProject: (id) => set({ currentProjectId: id, images: [], selected: -1, mode: 'grid' }),
});

export const createImagesSlice: Slice<ImagesSlice> = (set) => ({
  images: [],
  selected: -1,
  loading: false,
  thumbRevisions: {},
  setImages: (images) => set({ images, selected: images.length > 0 ? 0 : -1 }),
  addImages: (added) =>
    set((state) => {
      const known = new Set(state.images.map((i) => i.id));
      const fresh = added.filter((i) => !known.has(i.id));
      if (fresh.length === 0) return {};
      const images = state.images.concat(fresh);
      return { images, selected: state.selected < 0 ? 0 : state.selected };
    }),
  setThumbnail: (imageId, thumbPath) =>
    set((state) => ({
      images: state.images.map((i) => (i.id === imageId ? { ...i, thumbPath } : i)),
      thumbRevisions: { ...state.thumbRevisions, [imageId]: (state.thumbRevisions[imageId] ?? 0) + 1 },
    })),
  select: (index) =>
    set((state) => (state.images.length === 0 ? { selected: -1 } : { selected: Math.max(0, Math.min(state.images.length - 1, index)) })),
  setLoading: (loading) => set({ loading }),
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
