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
