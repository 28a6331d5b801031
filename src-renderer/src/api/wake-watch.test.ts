import { describe, expect, it } from 'vitest';
import { WAKE_GAP_MS, WAKE_TICK_MS, WakeWatch } from './wake-watch';

const T0 = Date.parse('2026-11-25T09:00:00Z');

describe('WakeWatch', () => {
  it('ticks on time are no reason to reconnect; a gap after a sleep is', () => {
    const watch = new WakeWatch(T0);
    let now = T0;
    for (let i = 0; i < 10; i++) expect(watch.tick((now += WAKE_TICK_MS), false)).toBe(false);
    // The lid was closed for ten minutes: the next tick comes late.
    expect(watch.tick((now += 10 * 60_000), false)).toBe(true);
    // Once: the ticks after it are on time again.
    expect(watch.tick((now += WAKE_TICK_MS), false)).toBe(false);
    expect(watch.tick(now + WAKE_GAP_MS - 1, false)).toBe(false);
  });

  it('a gap seen while the tab is hidden (throttled timers, or a sleep) waits until the tab is shown', () => {
    const watch = new WakeWatch(T0);
    expect(watch.tick(T0 + 60_000, true)).toBe(false);
    expect(watch.tick(T0 + 120_000, true)).toBe(false);
    expect(watch.shown(T0 + 125_000)).toBe(true);
    expect(watch.shown(T0 + 126_000)).toBe(false);
    // Shown without a gap seen while hidden: nothing to do.
    expect(watch.tick(T0 + 130_000, true)).toBe(false);
    expect(watch.shown(T0 + 131_000)).toBe(false);
  });
});
