import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'out');

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Prints a figure line and appends it to bench/out/results.txt. */
export function report(line: string): void {
  console.log(line);
  fs.mkdirSync(BENCH_OUT, { recursive: true });
  fs.appendFileSync(path.join(BENCH_OUT, 'results.txt'), `${new Date().toISOString()} ${line}\n`);
}

/** Runs a benchmark body; a failure is printed, never thrown (benchmarks never fail a run). */
export async function measure(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    report(`${name}: could not be measured: ${(error as Error).message}`);
  }
}

/** The README, where the figures of the last measured run are kept (section "Culling speed"). */
const README = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'README.md');

/**
 * The figure the README gives for a benchmark row: the second cell of the table row whose first
 * cell is `label` (in backticks or not); undefined when the README has no such row.
 */
export function readmeFigure(label: string, readme = README): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(readme, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells.length >= 2 && cells[0]!.replace(/`/g, '') === label) return cells[1];
  }
  return undefined;
}

/**
 * Prints a figure beside the one the README gives for the same row, so a run shows at a glance
 * whether the line held: `label: new figure (README: previous figure)`.
 */
export function reportFigure(label: string, figure: string): void {
  report(`${label}: ${figure}  (README: ${readmeFigure(label) ?? 'no figure yet'})`);
}
