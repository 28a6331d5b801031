/** The image grid: the project's images as filtered and sorted, the selection, and the grid's shape. */
import type { ImageSummary } from '../../../../src-main/core/api/index';
import type { Slice, Store } from '../../store/types';
import {
  DEFAULT_FILTER,
  carrySelection,
  filterMatcher,
  keepsPlace,
  rangeIds,
  stackView,
  viewOf,
  type ImageFilter,
  type Selection,
  type SortOrder,
  type StackInfo,
  type Stacks,
} from './view';

export interface ImagesSlice extends Selection {
  /** Every image of the project, in capture order. */
  allImages: ImageSummary[];
  /** The images shown: `allImages` filtered, sorted and stacked (see view.ts). Indexes point here. */
  images: ImageSummary[];
  filter: ImageFilter;
  /** Stacks by generation job (off, or on with the open ones). */
  stacks: Stacks;
  /** The stacks of the view, by job id (empty while stacking is off). */
  stackInfo: Record<number, StackInfo>;
  sort: SortOrder;
  loading: boolean;
  /**
   * How many images the project holds while its pages are still arriving (the grid's height and
   * the count are right at once); null once every page is in.
   */
  streamTotal: number | null;
  /** Bumped when an image's thumbnail is re-made, so the grid reloads it. */
  thumbRevisions: Record<number, number>;
  /** A project's images (or its first page, `total` giving how many it holds: see `streamTotal`); selects the first. */
  setImages(images: ImageSummary[], total?: number): void;
  /** The rest of the project's pages are in (or no longer awaited). */
  endStream(): void;
  /** The project's images fetched again (after the event stream was cut): the selection stays. */
  refreshImages(images: ImageSummary[]): void;
  /** Appends images that arrived (import, generation) without moving the selection. */
  addImages(images: ImageSummary[]): void;
  /** Replaces images by id (rating, flag, path, sharpness changed); the selection stays stable. */
  updateImages(images: ImageSummary[]): void;
  setThumbnail(imageId: number, thumbPath: string): void;
  /** A loupe rendition landed in the cache for an image (`preview.ready`). */
  setPreview(imageId: number, previewPath: string): void;
  /** Selects one image (and only it). */
  select(index: number): void;
  /** Shift+click, Shift+arrows: selects from the anchor to here. */
  extendTo(index: number): void;
  /** Ctrl+click: adds or removes one image. */
  toggleSelected(index: number): void;
  selectAll(): void;
  /** Selects these images (those shown), the first shown active: undo shows what it changed. */
  selectIds(ids: readonly number[]): void;
  /** Groups each job's images into a stack, or shows every image. */
  setStacking(on: boolean): void;
  /** Opens or closes the stack of this job; closing selects its top image when a member was active. */
  toggleStack(jobId: number): void;
  setFilter(patch: Partial<ImageFilter>): void;
  setSort(sort: SortOrder): void;
  setLoading(loading: boolean): void;
}

export interface GridSlice {
  /** Thumbnail cell size in CSS pixels (the grid's zoom). */
  cellSize: number;
  /** Columns the grid shows now (for Up/Down and PageUp/PageDown). */
  columns: number;
  /** Rows that fit in the grid's viewport. */
  visibleRows: number;
  setGridShape(columns: number, visibleRows: number): void;
  setCellSize(size: number): void;
}

/** Recomputes the view from a changed catalogue, filter or sort, carrying the selection over. */
function reflow(state: Store, patch: Partial<Pick<Store, 'allImages' | 'filter' | 'sort' | 'stacks'>>): Partial<Store> {
  const allImages = patch.allImages ?? state.allImages;
  const { images, info } = stackView(
    viewOf(allImages, patch.filter ?? state.filter, patch.sort ?? state.sort),
    patch.stacks ?? state.stacks,
  );
  return { ...patch, images, stackInfo: info, ...carrySelection(state.images, images, state) };
}

/** Capture order, as the catalogue lists images: by creation time, then id. */
const byCapture = (a: ImageSummary, b: ImageSummary): number =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id - b.id;

const clamp = (state: Store, index: number): number => Math.max(0, Math.min(state.images.length - 1, index));

export const createImagesSlice: Slice<ImagesSlice> = (set) => ({
  allImages: [],
  images: [],
  selected: -1,
  selection: [],
  anchor: -1,
  filter: DEFAULT_FILTER,
  stacks: { on: false, expanded: [] },
  stackInfo: {},
  sort: 'capture',
  loading: false,
  thumbRevisions: {},
  streamTotal: null,
  setImages: (all, total) =>
    set((state) => {
      const { images, info } = stackView(viewOf(all, state.filter, state.sort), state.stacks);
      const first = images[0];
      return {
        allImages: all,
        streamTotal: total !== undefined && total > all.length ? total : null,
        images,
        stackInfo: info,
        selected: first ? 0 : -1,
        selection: first ? [first.id] : [],
        anchor: first ? 0 : -1,
      };
    }),
  endStream: () => set({ streamTotal: null }),
  refreshImages: (all) => set((state) => reflow(state, { allImages: all })),
  addImages: (added) =>
    set((state) => {
      const known = new Set(state.allImages.map((i) => i.id));
      const fresh = added.filter((i) => !known.has(i.id));
      if (fresh.length === 0) return {};
      const allImages = state.allImages.concat(fresh);
      // A page of older images can arrive after a new image (generated while the project opened): capture order stays.
      const last = state.allImages[state.allImages.length - 1];
      if (state.streamTotal !== null && last && byCapture(last, fresh[0]!) > 0) allImages.sort(byCapture);
      return reflow(state, { allImages });
    }),
  updateImages: (updated) =>
    set((state) => {
      const byId = new Map(updated.map((i) => [i.id, i]));
      const matches = filterMatcher(state.filter);
      const taken = new Map<number, ImageSummary>();
      let inPlace = true;
      const allImages = state.allImages.map((i) => {
        const update = byId.get(i.id);
        if (!update) return i;
        // A thumbnail made after the update was sent wins over the update's older null.
        const next = update.thumbPath === null && i.thumbPath !== null ? { ...update, thumbPath: i.thumbPath } : update;
        taken.set(i.id, next);
        if (!keepsPlace(i, next, matches, state.sort)) inPlace = false;
        return next;
      });
      if (taken.size === 0) return {};
      if (!inPlace) return reflow(state, { allImages });
      // Nothing moves in the view: the images are replaced where they are, the selection stays as it is.
      return { allImages, images: state.images.map((i) => taken.get(i.id) ?? i) };
    }),
  setPreview: (imageId, previewPath) =>
    set((state) => {
      const update = (i: ImageSummary): ImageSummary => (i.id === imageId ? { ...i, previewPath } : i);
      return { allImages: state.allImages.map(update), images: state.images.map(update) };
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
  selectIds: (ids) =>
    set((state) => {
      const wanted = new Set(ids);
      const shown = state.images.flatMap((image, index) => (wanted.has(image.id) ? [index] : []));
      if (shown.length === 0) return {};
      return { selected: shown[0]!, anchor: shown[0]!, selection: shown.map((i) => state.images[i]!.id) };
    }),
  setStacking: (on) => set((state) => reflow(state, { stacks: { on, expanded: [] } })),
  toggleStack: (jobId) =>
    set((state) => {
      const open = state.stacks.expanded.includes(jobId);
      const expanded = open ? state.stacks.expanded.filter((j) => j !== jobId) : [...state.stacks.expanded, jobId];
      const next = reflow(state, { stacks: { ...state.stacks, expanded } });
      const top = state.stackInfo[jobId]?.top;
      const wasMember = state.images[state.selected]?.jobId === jobId;
      if (!open || !wasMember || top === undefined) return next;
      const selected = (next.images ?? []).findIndex((i) => i.id === top);
      return selected < 0 ? next : { ...next, selected, anchor: selected, selection: [top] };
    }),
  setFilter: (patch) => set((state) => reflow(state, { filter: { ...state.filter, ...patch } })),
  setSort: (sort) => set((state) => reflow(state, { sort })),
  setLoading: (loading) => set({ loading }),
});

export const MIN_CELL = 96;
export const MAX_CELL = 384;

export const createGridSlice: Slice<GridSlice> = (set) => ({
  cellSize: 176,
  columns: 1,
  visibleRows: 1,
  setGridShape: (columns, visibleRows) => set({ columns, visibleRows }),
  setCellSize: (size) => set({ cellSize: Math.max(MIN_CELL, Math.min(MAX_CELL, Math.round(size))) }),
});

/** The currently selected image, if any. */
export const selectedImage = (state: Store) => (state.selected >= 0 ? state.images[state.selected] : undefined);
