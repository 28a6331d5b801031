/** Culling: undo history, auto-advance, what the cells show, zoom and compare. */
import type { ImageSummary } from '../../../../src-main/core/api/index';
import type { Slice } from '../../store/types';

/** An image's marks: what ratings, flags and colour labels change. */
export type MarkValues = Pick<ImageSummary, 'rating' | 'flag' | 'label'>;

/** One rating/flag/label change as undo and redo replay it. */
export interface MarkStep {
  imageId: number;
  before: MarkValues;
  after: MarkValues;
}

/** The loupe's zoom levels besides fit: 50, 100 and 200 %. */
export const ZOOM_SCALES = [0.5, 1, 2] as const;

/** Zoom (off: fit to the window): `scale` 0.5, 1 or 2; `cx`, `cy` are the image point (0..1) at the centre of the view. */
export interface Zoom {
  on: boolean;
  scale: number;
  cx: number;
  cy: number;
}

export interface CurationSlice {
  /** Each entry is one user action (a key press or click), possibly over many images. */
  past: MarkStep[][];
  future: MarkStep[][];
  /** Lightroom's Caps Lock: move to the next image after rating or flagging. */
  autoAdvance: boolean;
  showSharpness: boolean;
  lightsOut: boolean;
  zoom: Zoom;
  /** The images compare shows side by side (2 to 4). */
  compareIds: number[];
  /** Images whose file is being moved (a reject, or its undo): their full-size file is not loaded meanwhile. */
  moving: number[];
  setMoving(moving: number[]): void;
  pushHistory(steps: MarkStep[]): void;
  /** Moves the last action from past to future (undo) or back (redo); returns it. */
  takeUndo(): MarkStep[] | undefined;
  takeRedo(): MarkStep[] | undefined;
  setAutoAdvance(on: boolean): void;
  setShowSharpness(on: boolean): void;
  setLightsOut(on: boolean): void;
  setZoom(zoom: Partial<Zoom>): void;
  setCompareIds(ids: number[]): void;
}

const MAX_HISTORY = 500;

export const createCurationSlice: Slice<CurationSlice> = (set, get) => ({
  past: [],
  future: [],
  autoAdvance: false,
  showSharpness: false,
  lightsOut: false,
  zoom: { on: false, scale: 1, cx: 0.5, cy: 0.5 },
  compareIds: [],
  moving: [],
  setMoving: (moving) => set({ moving }),
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
