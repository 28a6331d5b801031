import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config.js';
import { createServices, type Services } from '../services.js';
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
