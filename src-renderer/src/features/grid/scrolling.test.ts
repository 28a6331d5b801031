import { describe, expect, it } from 'vitest';
import { noteGridScroll, whenGridStill } from './scrolling';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('updates held while the grid scrolls', () => {
  it('takes an update at once when the grid is still', () => {
    let taken = 0;
    whenGridStill(() => taken++);
    expect(taken).toBe(1);
  });

  it('holds updates while it scrolls and takes the last one once, after it has been still for a moment', async () => {
    const taken: string[] = [];
    const started = performance.now();
    noteGridScroll();
    whenGridStill(() => taken.push('first'));
    // Scrolling goes on for 240 ms: nothing is taken meanwhile.
    for (let i = 0; i < 6; i++) {
      await sleep(40);
      noteGridScroll();
      whenGridStill(() => taken.push(`update ${i}`));
      expect(taken).toEqual([]);
    }
    const stoppedAt = performance.now();
    await sleep(400);
    expect(taken).toEqual(['update 5']);
    expect(stoppedAt - started).toBeGreaterThanOrEqual(200);
    // Still again: the next update is taken at once.
    whenGridStill(() => taken.push('after'));
    expect(taken).toEqual(['update 5', 'after']);
  });
});
