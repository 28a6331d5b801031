/** Runs a measurement in its own node process under an RSS watchdog. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';

export type Result = Record<string, unknown> & { error?: string; peakRssMb?: number };

const limitMb = Number(process.env.ONBRAND_BENCH_RSS_LIMIT_MB ?? 16_000);

/**
 * Runs `node WORKER TASK ARGS` and parses its `RESULT {json}` line; kills it when its RSS passes
 * the limit (a runaway allocation would otherwise take the whole machine down).
 */
export function runIsolated(worker: string, task: string, args: Record<string, unknown>, rssLimitMb = limitMb): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [worker, task, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let watchdogPeak = 0;
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const timer = setInterval(() => {
      try {
        const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
        watchdogPeak = Math.max(watchdogPeak, rss);
        if (rss > rssLimitMb) {
          killed = true;
          child.kill('SIGKILL');
        }
      } catch {
        // The process has just ended.
      }
    }, 100);
    child.on('exit', () => {
      clearInterval(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (killed)
        resolve({
          error: `killed by the watchdog at ${Math.round(watchdogPeak)} MB RSS (limit ${rssLimitMb} MB)`,
          peakRssMb: Math.round(watchdogPeak),
        });
      else if (!line) resolve({ error: 'no result (the process ended without one)' });
      else resolve(JSON.parse(line.slice('RESULT '.length)) as Result);
    });
  });
}
