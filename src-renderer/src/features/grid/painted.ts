/**
 * Whether the grid has painted its first screenful (every thumbnail in view decoded): the pages of a
 * large project that follow the first wait for it, so they never compete with the first paint.
 */
let painted = false;
let waiters: (() => void)[] = [];

/** Whether the grid of the open project has painted its first screenful. */
export function isGridPainted(): boolean {
  return painted;
}

/** A new project is opening: its grid has not painted yet. */
export function resetGridPainted(): void {
  painted = false;
}

/**
 * The browser host's picture of the first screenful (host/boot-view.ts), shown until the app's own
 * grid has painted, or sooner when the app shows something else.
 */
export function removeBootView(): void {
  document.getElementById('boot-view')?.remove();
  // The keys pressed on the picture, before the app listened, now act on the app's grid, in order.
  const keys = window.__onbrandBootKeys;
  window.__onbrandBootKeys = undefined;
  keys?.stop();
  for (const init of keys?.pressed ?? []) window.dispatchEvent(new KeyboardEvent('keydown', { ...init, bubbles: true, cancelable: true }));
}

/** The grid's thumbnails in view are decoded. */
export function markGridPainted(): void {
  painted = true;
  removeBootView();
  const ready = waiters;
  waiters = [];
  for (const resolve of ready) resolve();
}

/** Resolves once the grid has painted, or after `timeoutMs` (the grid may not be shown at all). */
export function whenGridPainted(timeoutMs: number): Promise<void> {
  if (painted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    function done(): void {
      clearTimeout(timer);
      waiters = waiters.filter((w) => w !== done);
      resolve();
    }
    waiters.push(done);
  });
}
