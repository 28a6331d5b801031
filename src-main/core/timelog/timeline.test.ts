import { describe, expect, it } from 'vitest';
import { phaseTotals, resolveTimeline, type Interval } from './timeline.js';

const i = (phase: Interval['phase'], start: number, end: number, order = 0): Interval => ({ phase, start, end, order });

describe('the time line', () => {
  it('gives each moment to one phase: the foreground phase that started last', () => {
    const line = resolveTimeline([i('prompt', 0, 100, 1), i('curate', 20, 60, 2), i('mood', 50, 80, 3)]);
    expect(line.segments).toEqual([
      { phase: 'prompt', start: 0, end: 20 },
      { phase: 'curate', start: 20, end: 50 },
      { phase: 'mood', start: 50, end: 80 },
      { phase: 'prompt', start: 80, end: 100 },
    ]);
    expect([line.first, line.last]).toEqual([0, 100]);
  });

  it('lets generation own only the time no foreground phase holds, and merges its overlaps', () => {
    const line = resolveTimeline([i('generate', 0, 50), i('generate', 40, 90), i('curate', 10, 30), i('prompt', 95, 100)]);
    expect(line.segments).toEqual([
      { phase: 'generate', start: 0, end: 10 },
      { phase: 'curate', start: 10, end: 30 },
      { phase: 'generate', start: 30, end: 90 },
      { phase: 'prompt', start: 95, end: 100 },
    ]);
    expect(Object.fromEntries(phaseTotals(line))).toEqual({ generate: 70, curate: 20, prompt: 5 });
  });

  it('breaks a tie of equal starts by the later record, and ignores empty or broken intervals', () => {
    expect(resolveTimeline([i('curate', 0, 10, 5), i('prompt', 0, 10, 7)]).segments).toEqual([{ phase: 'prompt', start: 0, end: 10 }]);
    expect(resolveTimeline([i('curate', 5, 5), i('prompt', 9, 3), i('mood', NaN, 4)])).toEqual({ segments: [], first: null, last: null });
  });
});
