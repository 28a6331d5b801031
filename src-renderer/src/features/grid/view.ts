/**
 * The visible images: the catalogue filtered and sorted as the filter bar says, and a selection
 * that stays put (or moves to the next image, not the first) when the view changes under it.
 */
import type { ColourLabel, ImageFlag, ImageSummary } from '../../../../src-main/core/api/index';

/** `all` hides the rejected images ("Maybe Later"), which only `rejected` shows. */
export type FlagFilter = 'all' | 'picks' | 'unflagged' | 'rejected';
export type SortOrder = 'capture' | 'rating' | 'sharpness' | 'brand';
/** `any` shows every image; a colour shows the images with that label; `none` those without one. */
export type LabelFilter = 'any' | ColourLabel;

export interface ImageFilter {
  minRating: number;
  flag: FlagFilter;
  /** A generation job, or null for every image. */
  jobId: number | null;
  /** Words the prompt must contain (case-insensitive). */
  text: string;
  /** Digits the seed must start with; empty for any. */
  seed: string;
  /** Only images where a brand colour is clearly present. */
  brandPresent: boolean;
  /** Only images with this colour label. */
  label: LabelFilter;
}

export const DEFAULT_FILTER: ImageFilter = {
  minRating: 0,
  flag: 'all',
  jobId: null,
  text: '',
  seed: '',
  brandPresent: false,
  label: 'any',
};

/** The brand colour most present in an image (the badge's), or null when none is clearly present. */
export function bestBrandColour(image: ImageSummary): { name: string; hex: string; coverage: number } | null {
  let best: { name: string; hex: string; coverage: number } | null = null;
  for (const b of image.colour?.brand ?? []) if (b.present && (!best || b.coverage > best.coverage)) best = b;
  return best;
}

/** What "by brand coverage" sorts on: the best present brand colour's coverage; not analysed yet goes last. */
function brandCoverage(image: ImageSummary): number {
  if (!image.colour) return -Infinity;
  return bestBrandColour(image)?.coverage ?? 0;
}

function flagMatches(flag: ImageFlag, filter: FlagFilter): boolean {
  switch (filter) {
    case 'all':
      return flag !== 'reject';
    case 'picks':
      return flag === 'pick';
    case 'unflagged':
      return flag === 'none';
    case 'rejected':
      return flag === 'reject';
  }
}

/** Whether an image passes the filter (the filter's words and seed read once). */
export function filterMatcher(filter: ImageFilter): (image: ImageSummary) => boolean {
  const words = filter.text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const seed = filter.seed.trim();
  return (i) =>
    i.rating >= filter.minRating &&
    flagMatches(i.flag, filter.flag) &&
    (filter.jobId === null || i.jobId === filter.jobId) &&
    (words.length === 0 || (i.prompt !== null && words.every((w) => i.prompt!.toLowerCase().includes(w)))) &&
    (seed === '' || (i.seed !== null && String(i.seed).startsWith(seed))) &&
    (!filter.brandPresent || bestBrandColour(i) !== null) &&
    (filter.label === 'any' || i.label === filter.label);
}

/** What an order sorts on (higher first); capture order sorts on nothing. */
function sortKey(image: ImageSummary, sort: SortOrder): number {
  if (sort === 'rating') return image.rating;
  if (sort === 'sharpness') return image.sharpness ?? -Infinity;
  if (sort === 'brand') return brandCoverage(image);
  return 0;
}

/** The images the grid shows, in the order it shows them; `all` is in capture order. */
export function viewOf(all: readonly ImageSummary[], filter: ImageFilter, sort: SortOrder): ImageSummary[] {
  const view = all.filter(filterMatcher(filter));
  // Array.prototype.sort is stable: ties keep capture order; crisp first, images not scored yet last.
  if (sort !== 'capture') view.sort((a, b) => sortKey(b, sort) - sortKey(a, sort));
  return view;
}

/**
 * Whether an image changed so that the view keeps its place for it: in or out of the filter alike,
 * the same sort key, the same job (its stack). Then an update replaces it where it is, and the
 * view is not computed again (a focus score or a colour analysis arriving while the grid scrolls).
 */
export function keepsPlace(before: ImageSummary, after: ImageSummary, matches: (image: ImageSummary) => boolean, sort: SortOrder): boolean {
  return matches(before) === matches(after) && sortKey(before, sort) === sortKey(after, sort) && before.jobId === after.jobId;
}

/** Stacks: one generation job's images shown as one cell (its first image in the view, the top). */
export interface Stacks {
  /** Grouping by job is on. */
  on: boolean;
  /** Jobs whose stack is open (every image shown). */
  expanded: readonly number[];
}

/** A stack in the view: its top image and how many images of the view it holds. */
export interface StackInfo {
  top: number;
  size: number;
}

/**
 * The view with stacks applied: a closed stack shows only its top image. Images without a job, and
 * jobs with one image in the view, are never stacked. Returns the view and each stack by job id.
 */
export function stackView(view: readonly ImageSummary[], stacks: Stacks): { images: ImageSummary[]; info: Record<number, StackInfo> } {
  if (!stacks.on) return { images: [...view], info: {} };
  const info: Record<number, StackInfo> = {};
  for (const image of view) {
    if (image.jobId === null) continue;
    const stack = info[image.jobId];
    if (stack) stack.size++;
    else info[image.jobId] = { top: image.id, size: 1 };
  }
  for (const [job, stack] of Object.entries(info)) if (stack.size < 2) delete info[Number(job)];
  const open = new Set(stacks.expanded);
  const images = view.filter((i) => i.jobId === null || !info[i.jobId] || open.has(i.jobId) || info[i.jobId]!.top === i.id);
  return { images, info };
}

export interface Selection {
  /** Index into the view of the active image (the loupe's, the keyboard's), or -1. */
  selected: number;
  /** Ids of every selected image (the active one included); bulk actions apply to these. */
  selection: number[];
  /** Where a Shift range starts. */
  anchor: number;
}

/**
 * Carries the selection from an old view to a new one. An active image that left the view hands
 * over to the next image after it that is still shown (else the one before), as in Lightroom.
 */
export function carrySelection(before: readonly ImageSummary[], after: readonly ImageSummary[], old: Selection): Selection {
  if (after.length === 0) return { selected: -1, selection: [], anchor: -1 };
  const index = new Map(after.map((image, i) => [image.id, i]));
  const activeId = before[old.selected]?.id;
  let selected = activeId === undefined ? 0 : (index.get(activeId) ?? -1);
  if (selected < 0) {
    for (let i = old.selected + 1; i < before.length && selected < 0; i++) selected = index.get(before[i]!.id) ?? -1;
    for (let i = old.selected - 1; i >= 0 && selected < 0; i--) selected = index.get(before[i]!.id) ?? -1;
    if (selected < 0) selected = Math.min(old.selected, after.length - 1);
  }
  const kept = old.selection.filter((id) => index.has(id));
  const activeNow = after[selected]!.id;
  const selection = kept.length > 1 && kept.includes(activeNow) ? kept : [activeNow];
  const anchorId = before[old.anchor]?.id;
  const anchor = anchorId !== undefined && index.has(anchorId) ? index.get(anchorId)! : selected;
  return { selected, selection, anchor };
}

/** The ids of the view between two indexes, both included. */
export function rangeIds(view: readonly ImageSummary[], from: number, to: number): number[] {
  const [lo, hi] = from <= to ? [from, to] : [to, from];
  return view.slice(Math.max(0, lo), hi + 1).map((i) => i.id);
}
