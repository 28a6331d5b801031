import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config.js';
import { createServices, type Services } from '../services.js';
import type { Job } from '../api/index.js';
import { DEFAULT_GPU_COST_PER_HOUR, MIN_ACTIVITY_MS } from './timelog.js';

let services: Services;
let projectId: number;
const T0 = Date.parse('2026-11-25T09:00:00Z');
const minute = 60_000;

beforeEach(() => {
  services = createServices(resolveConfig({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-timelog-')) }));
  projectId = services.projects.create({ name: 'Loop' }).id;
});
afterEach(async () => services.close());

const iso = (ms: number): string => new Date(ms).toISOString();

/** The record the queue announces in `job.updated` (only the fields the time log reads matter). */
function jobRecord(id: number, state: Job['state'], startedAt: number | null, finishedAt: number | null): Job {
  const settings = {
    model: 'tiny-sd',
    sampler: 'Euler' as const,
    steps: 4,
    cfg: 7,
    width: 64,
    height: 64,
    batchSize: 6,
    loraWeight: 0.8,
    aspect: '1:1',
  };
  return {
    id,
    projectId,
    state,
    prompt: 'teal',
    negativePrompt: '',
    settings,
    seed: 1,
    batchSize: 6,
    position: id,
    imagesDone: 0,
    error: null,
    gpuSeconds: 0,
    createdAt: iso(T0 - 60 * minute),
    startedAt: startedAt === null ? null : iso(startedAt),
    finishedAt: finishedAt === null ? null : iso(finishedAt),
  };
}

const phase = (name: string) => services.timelog.snapshot(projectId).phases.find((p) => p.phase === name)!;

describe('time log', () => {
  it('activity within five minutes extends one session; a longer pause starts another', () => {
    const log = services.timelog;
    log.activity(projectId, 'curate', T0);
    log.activity(projectId, 'curate', T0 + 2 * minute);
    log.activity(projectId, 'curate', T0 + 4 * minute);
    // 4 minutes of activity plus the 30 s that the last burst counts for.
    expect(phase('curate').minutes).toBe(4.5);
    log.activity(projectId, 'curate', T0 + 20 * minute);
    expect(phase('curate').minutes).toBe(4.5 + MIN_ACTIVITY_MS / minute);
    expect(phase('mood').minutes).toBe(0);
  });

  it('a span counts its whole length: a 20-minute job is 20 minutes, not its start and end bursts', () => {
    const log = services.timelog;
    // What the queue records around a job: a burst when it starts, the run, a burst when it ends.
    log.activity(projectId, 'generate', T0);
    log.span(projectId, 'generate', T0, T0 + 20 * minute);
    log.jobFinished(projectId, 1100, T0 + 20 * minute);
    // 20 minutes of run plus the 30 s the closing burst counts for; nothing counted twice.
    expect(phase('generate').minutes).toBe(20.5);
    expect(phase('generate').gpuSeconds).toBe(1100);
    expect(() => log.span(projectId, 'generate', T0 + minute, T0)).toThrow(/cannot end .* before it starts/);
    expect(() => log.span(projectId, 'generate', 'soon', T0)).toThrow(/needs two times/);
  });

  it('concurrent time in one phase counts once: overlapping jobs and bursts inside a job', () => {
    const log = services.timelog;
    log.span(projectId, 'generate', T0, T0 + 20 * minute);
    // A second job (another process, the CLI) overlapping the first by ten minutes.
    log.span(projectId, 'generate', T0 + 10 * minute, T0 + 30 * minute);
    // Bursts while the jobs ran (a job queued, a click on the queue) add nothing.
    log.activity(projectId, 'generate', T0 + 5 * minute);
    log.activity(projectId, 'generate', T0 + 25 * minute);
    expect(phase('generate').minutes).toBe(30);
    // Other phases are their own: curating during the run is curation time too.
    log.span(projectId, 'curate', T0 + 2 * minute, T0 + 12 * minute);
    expect(phase('curate').minutes).toBe(10);
    expect(services.timelog.snapshot(projectId).totalMinutes).toBe(40);
  });

  it("a job announced running and then done counts from its record's start to its end", () => {
    // The queue's own announcements, with the times its records carry: a 20-minute run.
    services.events.emit('job.updated', jobRecord(1, 'running', T0, null));
    services.events.emit('job.updated', jobRecord(1, 'running', T0, null)); // an image recorded
    services.events.emit('job.updated', jobRecord(1, 'done', T0, T0 + 20 * minute));
    expect(phase('generate').minutes).toBe(20);
    // A second, concurrent job in the same project (a second queue owner) overlaps by 5 minutes.
    services.events.emit('job.updated', jobRecord(2, 'running', T0 + 15 * minute, null));
    services.events.emit('job.updated', jobRecord(2, 'failed', T0 + 15 * minute, T0 + 25 * minute));
    expect(phase('generate').minutes).toBe(25);
  });

  it('a job not seen running here adds no time (held at start-up, cancelled while queued after a retry)', () => {
    // Held by the crash-loop guard at start-up: its start is from a run before the app restarted.
    services.events.emit('job.updated', jobRecord(3, 'failed', T0, T0 + 600 * minute));
    // Ran once, retried (back to queued), then cancelled before it ran again.
    services.events.emit('job.updated', jobRecord(4, 'running', T0, null));
    services.events.emit('job.updated', jobRecord(4, 'queued', T0, null));
    services.events.emit('job.updated', jobRecord(4, 'cancelled', T0, T0 + 300 * minute));
    expect(phase('generate').minutes).toBe(0);
  });

  it('turns GPU seconds into money at the rate in settings, and totals the table', () => {
    services.timelog.jobFinished(projectId, 90, T0);
    services.timelog.jobFinished(projectId, 90, T0 + minute);
    expect(phase('generate').gpuSeconds).toBe(180);
    expect(phase('generate').cost).toBeCloseTo((180 / 3600) * DEFAULT_GPU_COST_PER_HOUR, 4);
    services.timelog.setGpuCostPerHour(3.6);
    const snapshot = services.timelog.snapshot(projectId);
    expect(snapshot.gpuCostPerHour).toBe(3.6);
    expect(snapshot.totalCost).toBeCloseTo(0.18, 4);
    expect(snapshot.totalMinutes).toBe(phase('generate').minutes);
  });

  it('a manual correction replaces the recorded minutes until cleared', () => {
    services.timelog.activity(projectId, 'post', T0);
    services.timelog.correct(projectId, 'post', 10);
    expect(phase('post')).toMatchObject({ minutes: 10, corrected: true });
    services.timelog.correct(projectId, 'post', null);
    expect(phase('post')).toMatchObject({ minutes: 0.5, corrected: false });
  });

  it('exports the workflow table as Markdown and CSV', () => {
    services.timelog.correct(projectId, 'mood', 10);
    services.timelog.correct(projectId, 'prompt', 5);
    services.timelog.correct(projectId, 'generate', 5);
    services.timelog.correct(projectId, 'curate', 10);
    services.timelog.correct(projectId, 'post', 10);
    services.timelog.jobFinished(projectId, 1620, T0); // 0.45 GPU hours at $0.40 = $0.18
    expect(services.timelog.export(projectId, 'markdown')).toBe(
      [
        '|Phase|Minutes|Cost (GPU credits)|',
        '|---|---|---|',
        '|Unsplash pull|10|—|',
        '|Prompt drafting|5|—|',
        '|Batch generation|5|~$0.18|',
        '|Curation + export|10|—|',
        '|Post-treatment|10|—|',
        '|**Total**|**40**|**<$0.18**|',
        '',
      ].join('\n'),
    );
    const csv = services.timelog.export(projectId, 'csv').trim().split('\n');
    expect(csv[0]).toBe('phase,minutes,gpu_seconds,cost_usd');
    expect(csv[3]).toBe('"Batch generation",5,1620,0.1800');
    expect(csv.at(-1)).toBe('"Total",40,1620,0.1800');
  });
});
