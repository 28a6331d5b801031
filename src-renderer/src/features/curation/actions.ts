/** Culling: ratings, flags and colour labels (stored at once, undoable), compare, zoom, full screen, drag out. */
import type { ColourLabel, ImageSummary, MarkChange } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
import { reportError } from '../../shared/report';
import { KeyedQueue } from '../../shared/keyed-queue';
import { useStore } from '../../store';
import { reportActivity } from '../timecost/actions';
import { zoomTo } from '../../shared/zoom';
import { ZOOM_SCALES, type MarkStep } from './slice';

type Mark = { rating: number } | { flag: ImageSummary['flag'] } | { label: ColourLabel };

/** When this window last marked each image (ms): events older than its marks must not undo them. */
const localMarks = new Map<number, number>();
/** How long an event may lag behind a mark's answer (the WebSocket and HTTP are separate roads). */
const EVENT_LAG_MS = 5_000;

/**
 * Takes an `images.updated` event into the store. An event that left the core before this
 * window's own mark (a background sharpness score) can arrive after the mark's answer: for an image
 * marked here moments ago, only its sharpness and thumbnail come from the event.
 */
export function takeUpdatedImages(images: ImageSummary[], now = Date.now()): void {
  const state = useStore.getState();
  const current = new Map(state.allImages.map((i) => [i.id, i]));
  state.updateImages(
    images.map((image) => {
      const markedAt = localMarks.get(image.id);
      const mine = current.get(image.id);
      if (markedAt === undefined || !mine || now - markedAt > EVENT_LAG_MS) return image;
      return { ...mine, sharpness: image.sharpness ?? mine.sharpness, thumbPath: image.thumbPath ?? mine.thumbPath };
    }),
  );
}

/** The images an action applies to: the multi-selection, else the active image. */
export function targetImages(): ImageSummary[] {
  const { images, selected, selection } = useStore.getState();
  if (selection.length > 1) {
    const ids = new Set(selection);
    return images.filter((i) => ids.has(i.id));
  }
  const active = images[selected];
  return active ? [active] : [];
}

/** Marks of one image go to the core one at a time, in the order they were made. */
const markQueue = new KeyedQueue<number>();
/**
 * The newest mark made here for each image whose mark is not answered yet (with the number of the
 * `apply` that made it): an earlier mark's answer shows this on top, not the older value.
 */
const wanted = new Map<number, { call: number; marks: MarkStep['after'] }>();
let calls = 0;
/** Mark calls in flight that move each image's file (into or out of Maybe Later). */
const moves = new Map<number, number>();

function countMoves(ids: readonly number[], by: 1 | -1): void {
  if (ids.length === 0) return;
  for (const id of ids) {
    const n = (moves.get(id) ?? 0) + by;
    if (n > 0) moves.set(id, n);
    else moves.delete(id);
  }
  useStore.getState().setMoving([...moves.keys()]);
}

/** Images as fetched, with the marks made here that the core has not answered yet on top. */
export function withPendingMarks(images: ImageSummary[]): ImageSummary[] {
  return wanted.size === 0 ? images : images.map((image) => ({ ...image, ...wanted.get(image.id)?.marks }));
}

/**
 * Applies marks here at once (the grid answers on the key press), stores them with `images.mark`,
 * then takes the core's answer (new paths of rejected files). A failure puts the old values back.
 * Marks of one image are sent strictly in order, each after the one before is answered: a reject
 * then its undo, pressed before the reject's answer came, must reach the core in that order.
 */
async function apply(steps: MarkStep[], side: 'before' | 'after', reveal = false): Promise<boolean> {
  const state = useStore.getState();
  const projectId = state.currentProjectId;
  if (projectId === null || steps.length === 0) return false;
  const call = ++calls;
  const byId = new Map(state.allImages.map((i) => [i.id, i]));
  const optimistic = steps.flatMap((s) => {
    const image = byId.get(s.imageId);
    return image ? [{ ...image, ...s[side] }] : [];
  });
  const started = Date.now();
  const changes: MarkChange[] = steps.map((s) => ({ imageId: s.imageId, ...s[side] }));
  const newest = (imageId: number): boolean => wanted.get(imageId)?.call === call;
  // The request leaves first, on the key press itself; the optimistic update (and the render it
  // schedules) follows in the same turn, so the grid still answers at once.
  const request = markQueue.run(
    steps.map((s) => s.imageId),
    () => getClient().call('images.mark', { projectId, changes }),
  );
  // Until the core answers, the file is on its way and its new path unknown: the loupe waits for it.
  const moving = steps.filter((s) => (s.before.flag === 'reject') !== (s.after.flag === 'reject')).map((s) => s.imageId);
  countMoves(moving, 1);
  for (const s of steps) {
    localMarks.set(s.imageId, started);
    wanted.set(s.imageId, { call, marks: s[side] });
  }
  state.updateImages(optimistic);
  // Undo and redo show what they changed: an undone reject is back under the loupe.
  if (reveal) useStore.getState().selectIds(steps.map((s) => s.imageId));
  try {
    const changed = await request;
    const answered = Date.now();
    for (const s of steps) localMarks.set(s.imageId, answered);
    // The answer is the truth now (paths included); a later mark still on its way shows on top.
    const shown = changed.map((image) => (newest(image.id) ? image : { ...image, ...wanted.get(image.id)?.marks }));
    if (useStore.getState().currentProjectId === projectId) useStore.getState().updateImages(shown);
    return true;
  } catch (error) {
    if (useStore.getState().currentProjectId === projectId) {
      const other = side === 'before' ? 'after' : 'before';
      // Only what no later mark has changed since goes back (onto the image as it is now).
      const now = new Map(useStore.getState().allImages.map((i) => [i.id, i]));
      const back = steps.flatMap((s) => {
        const image = now.get(s.imageId);
        return image && newest(s.imageId) ? [{ ...image, ...s[other] }] : [];
      });
      useStore.getState().updateImages(back);
    }
    reportError(error);
    return false;
  } finally {
    for (const s of steps) if (newest(s.imageId)) wanted.delete(s.imageId);
    countMoves(moving, -1);
  }
}

/** Rates or flags the selection; one undo step. With auto-advance on, moves to the next image. */
export function mark(change: Mark): Promise<boolean> {
  const targets = targetImages();
  const steps: MarkStep[] = targets
    .map((i) => {
      const before = { rating: i.rating, flag: i.flag, label: i.label };
      return { imageId: i.id, before, after: { ...before, ...change } };
    })
    .filter((s) => s.before.rating !== s.after.rating || s.before.flag !== s.after.flag || s.before.label !== s.after.label);
  reportActivity('curate');
  const state = useStore.getState();
  const single = targets.length === 1;
  const activeId = state.images[state.selected]?.id;
  if (steps.length === 0) {
    if (single && state.autoAdvance) state.select(state.selected + 1);
    return Promise.resolve(true);
  }
  state.pushHistory(steps);
  const saved = apply(steps, 'after');
  // Auto-advance: unless the image already left the view (a reject), step past it.
  const now = useStore.getState();
  if (single && now.autoAdvance && now.images[now.selected]?.id === activeId) now.select(now.selected + 1);
  return saved;
}

/**
 * Lightroom's 6–9: gives the selection a colour label, or takes it off when every selected image
 * has it already. One undo step, like a rating.
 */
export function toggleLabel(label: Exclude<ColourLabel, 'none'>): Promise<boolean> {
  const targets = targetImages();
  const off = targets.length > 0 && targets.every((i) => i.label === label);
  return mark({ label: off ? 'none' : label });
}

export function undo(): Promise<boolean> {
  const steps = useStore.getState().takeUndo();
  return steps ? apply(steps, 'before', true) : Promise.resolve(false);
}

export function redo(): Promise<boolean> {
  const steps = useStore.getState().takeRedo();
  return steps ? apply(steps, 'after', true) : Promise.resolve(false);
}

/** The loupe's zoom levels in order: fit, 50, 100, 200 %. */
const LEVELS: (number | null)[] = [null, ...ZOOM_SCALES];

/** One zoom level in (+1) or out (−1): fit → 50 → 100 → 200 % and back. */
export function stepZoom(by: 1 | -1): void {
  const { zoom } = useStore.getState();
  const at = zoom.on ? Math.max(1, LEVELS.indexOf(zoom.scale)) : 0;
  zoomTo(LEVELS[Math.max(0, Math.min(LEVELS.length - 1, at + by))]!);
}

/** Compare: the selected images (2 to 4), or the active image and the next one. */
export function toggleCompare(): void {
  const state = useStore.getState();
  if (state.mode === 'compare') {
    state.setMode('grid');
    return;
  }
  let ids = state.selection.length > 1 ? targetImages().map((i) => i.id) : [];
  if (ids.length < 2) ids = state.images.slice(Math.max(0, state.selected), Math.max(0, state.selected) + 2).map((i) => i.id);
  if (ids.length < 2) {
    state.notify('info', 'Compare needs two images: select two to four (Shift or Ctrl+click) and press C.');
    return;
  }
  state.setCompareIds(ids.slice(0, 4));
  state.setZoom({ on: false });
  // In compare, marks go to the active pane only (click a pane to make it active).
  state.select(state.selected);
  state.setMode('compare');
}

export function toggleFullscreen(): void {
  const done = document.fullscreenElement ? document.exitFullscreen() : document.documentElement.requestFullscreen();
  done.catch((error: unknown) => useStore.getState().notify('info', `Full screen is not available here: ${(error as Error).message}`));
}

/** Browser: downloads the selected files (the stand-in for dragging them out). */
export function downloadSelection(): void {
  const client = getClient();
  for (const image of targetImages()) {
    const url = client.downloadUrl(image.path);
    if (!url) continue;
    const link = document.createElement('a');
    link.href = url;
    link.download = image.fileName;
    link.click();
  }
}

/** Electron: drags the selected files (or the dragged one, if it is not selected) to other apps. */
export function dragOut(image: ImageSummary): void {
  const selected = targetImages();
  const paths = selected.some((i) => i.id === image.id) ? selected.map((i) => i.path) : [image.path];
  getClient().startDrag(paths);
}
