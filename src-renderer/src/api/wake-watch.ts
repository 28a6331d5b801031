/**
 * Tells when the machine has slept (a laptop lid closed): a timer that ticks every few seconds
 * finds a long gap since its last tick. After a sleep the event socket may look open and be dead
 * (nothing closed it), with every event sent meanwhile lost, so the client connects again and the
 * window fetches its state again. A hidden tab's timers are slowed by the browser (to one a
 * minute), which looks the same: there the reconnect waits until the tab is shown.
 */

/** Ticks this far apart or more mean the machine slept (or the tab was throttled). */
export const WAKE_GAP_MS = 20_000;
/** How often the timer ticks. */
export const WAKE_TICK_MS = 5_000;

export class WakeWatch {
  private last: number;
  /** A gap seen while the tab was hidden: reconnect when it is shown. */
  private missed = false;

  constructor(
    now: number,
    private readonly gapMs = WAKE_GAP_MS,
  ) {
    this.last = now;
  }

  /** A tick at `now`; true when the page should connect again now. */
  tick(now: number, hidden: boolean): boolean {
    const slept = now - this.last >= this.gapMs;
    this.last = now;
    if (!slept) return false;
    if (hidden) {
      this.missed = true;
      return false;
    }
    this.missed = false;
    return true;
  }

  /** The tab was shown at `now`; true when a gap was seen while it was hidden. */
  shown(now: number): boolean {
    this.last = now;
    const missed = this.missed;
    this.missed = false;
    return missed;
  }
}
