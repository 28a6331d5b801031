/**
 * The loop's time as one wall-clock line: every moment belongs to at most one phase, so the
 * phases add up to no more than the time that really passed.
 *
 * - Foreground phases (mood, prompt, curate, post) are what the designer is doing. Where two of
 *   them overlap (recorded by an older Onbrand, or by two windows), the one that started last
 *   wins: starting a phase ends the one before.
 * - Generation (`generate`) runs in the background. It owns only the time no foreground phase
 *   holds: curating while a batch renders is curation time; waiting for it is generation time.
 *   Its GPU seconds are costed whatever phase owns the wall-clock time.
 */
import type { Phase } from '../api/index.js';

export interface Interval {
  phase: Phase;
  /** ms since the epoch; `end` > `start` or the interval is ignored. */
  start: number;
  end: number;
  /** Tie-break for equal starts: the later record wins (its row id). */
  order: number;
}

export interface Segment {
  phase: Phase;
  start: number;
  end: number;
}

export interface Timeline {
  /** Disjoint, in time order, neighbours of one phase merged. */
  segments: Segment[];
  /** The first and last recorded moments (null without any). */
  first: number | null;
  last: number | null;
}

export const BACKGROUND_PHASES: ReadonlySet<Phase> = new Set<Phase>(['generate']);

/** Resolves possibly overlapping intervals into one line of disjoint segments (see the module comment). */
export function resolveTimeline(intervals: readonly Interval[]): Timeline {
  const valid = intervals.filter((i) => Number.isFinite(i.start) && Number.isFinite(i.end) && i.end > i.start);
  if (valid.length === 0) return { segments: [], first: null, last: null };
  const points = [...new Set(valid.flatMap((i) => [i.start, i.end]))].sort((a, b) => a - b);
  const byStart = [...valid].sort((a, b) => a.start - b.start);
  const active: Interval[] = [];
  const segments: Segment[] = [];
  let next = 0;
  for (let p = 0; p < points.length - 1; p++) {
    const from = points[p]!;
    const to = points[p + 1]!;
    while (next < byStart.length && byStart[next]!.start <= from) active.push(byStart[next++]!);
    // Intervals that ended by `from` are done.
    for (let i = active.length - 1; i >= 0; i--) if (active[i]!.end <= from) active.splice(i, 1);
    let winner: Interval | undefined;
    let background: Interval | undefined;
    for (const candidate of active) {
      if (BACKGROUND_PHASES.has(candidate.phase)) {
        background ??= candidate;
        continue;
      }
      if (!winner || candidate.start > winner.start || (candidate.start === winner.start && candidate.order > winner.order))
        winner = candidate;
    }
    const owner = winner ?? background;
    if (!owner) continue;
    const previous = segments.at(-1);
    if (previous && previous.phase === owner.phase && previous.end === from) previous.end = to;
    else segments.push({ phase: owner.phase, start: from, end: to });
  }
  return { segments, first: points[0]!, last: points.at(-1)! };
}

/** Milliseconds per phase in a timeline. */
export function phaseTotals(timeline: Timeline): Map<Phase, number> {
  const totals = new Map<Phase, number>();
  for (const s of timeline.segments) totals.set(s.phase, (totals.get(s.phase) ?? 0) + (s.end - s.start));
  return totals;
}
