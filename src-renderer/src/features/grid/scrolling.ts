/**
 * Whether the grid is being scrolled. Updates that can wait (focus and colour scores from the
 * background analysis, in bursts while a large project opens) are held while it moves and taken
 * together once it is still: each one rebuilds the view's index and re-renders the grid, and taken
 * mid-scroll they cost frames (measured: scroll p95 33 ms with them, 16.8 ms without).
 */
const STILL_MS = 150;
let lastScrollAt = -Infinity;
let waiting: (() => void) | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;

/** The grid scrolled (its scroll handler). */
export function noteGridScroll(now = performance.now()): void {
  lastScrollAt = now;
}

/**
 * Runs `take` now when the grid is still, else once it has been still for a moment. While one is
 * waiting a later one replaces it: `take` must take everything gathered so far.
 */
export function whenGridStill(take: () => void): void {
  const idle = performance.now() - lastScrollAt;
  if (idle >= STILL_MS && waiting === null) {
    take();
    return;
  }
  waiting = take;
  if (timer !== undefined) return;
  const check = (): void => {
    const left = STILL_MS - (performance.now() - lastScrollAt);
    if (left > 0) {
      timer = setTimeout(check, left);
      return;
    }
    timer = undefined;
    const run = waiting;
    waiting = null;
    run?.();
  };
  timer = setTimeout(check, Math.max(0, STILL_MS - idle));
}
