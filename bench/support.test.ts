/** The benchmarks' link to the README: every row a benchmark reports against is in the README's table. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCH_OUT, readmeFigure } from './support.js';

const benchDir = path.dirname(BENCH_OUT);

describe('readmeFigure', () => {
  it('reads the second cell of the row whose first cell is the label, backticks or not', () => {
    const readme = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'readme-')), 'README.md');
    fs.writeFileSync(readme, '# x\n\n| benchmark | figure |\n| --- | --- |\n| `loupe 1024×1792` | p95 12 ms |\n| plain row | 3 s |\n');
    expect(readmeFigure('loupe 1024×1792', readme)).toBe('p95 12 ms');
    expect(readmeFigure('plain row', readme)).toBe('3 s');
    expect(readmeFigure('loupe', readme)).toBeUndefined();
    expect(readmeFigure('anything', path.join(path.dirname(readme), 'missing.md'))).toBeUndefined();
  });

  it('finds a README figure for every label a benchmark reports with reportFigure', () => {
    const labels = fs
      .readdirSync(benchDir)
      .filter((f) => f.endsWith('.bench.ts'))
      .flatMap((f) => [...fs.readFileSync(path.join(benchDir, f), 'utf8').matchAll(/reportFigure\(\s*'([^']+)'/g)].map((m) => m[1]!));
    expect(labels.length).toBeGreaterThan(0);
    for (const label of labels) expect(readmeFigure(label), label).toBeDefined();
  });
});
