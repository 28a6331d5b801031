/**
 * GPU time per backend (issue 21, item 6): jobs run partly on this computer and partly on ComfyUI
 * servers, each costed at its own rate, with a real SQLite catalogue behind the time log.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config.js';
import { createServices, type Services } from '../services.js';
import { DEFAULT_GPU_COST_PER_HOUR } from './timelog.js';

let services: Services;
let projectId: number;
const T0 = Date.parse('2026-11-30T09:00:00Z');
const minute = 60_000;

beforeEach(() => {
  services = createServices(resolveConfig({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-backend-usage-')) }));
  projectId = services.projects.create({ name: 'Render farm' }).id;
});
afterEach(async () => services.close());

const snapshot = () => services.timelog.snapshot(projectId);
const generate = () => snapshot().phases.find((p) => p.phase === 'generate')!;

describe('GPU time by backend', () => {
  it('costs each backend at its own rate: this computer at the global rate, a rented GPU at its own, a studio box at $0', () => {
    const changes: number[] = [];
    services.events.subscribe((e) => e.type === 'timelog.changed' && changes.push(e.payload.projectId));
    services.timelog.setGpuCostPerHour(0.4);
    // Recorded out of name order: the snapshot sorts them, this computer first.
    services.timelog.backendWork(projectId, 'studio-box', 600, 0, T0);
    services.timelog.backendWork(projectId, 'cloud-a100', 3600, 2.5, T0 + minute);
    services.timelog.jobFinished(projectId, 1800, T0 + 2 * minute);
    services.timelog.backendWork(projectId, 'local', 900, null, T0 + 3 * minute);
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.every((id) => id === projectId)).toBe(true);

    expect(snapshot().backends).toEqual([
      { name: 'local', gpuSeconds: 2700, ratePerHour: 0.4, cost: 0.3 },
      { name: 'cloud-a100', gpuSeconds: 3600, ratePerHour: 2.5, cost: 2.5 },
      { name: 'studio-box', gpuSeconds: 600, ratePerHour: 0, cost: 0 },
    ]);
    // The generate phase holds all the GPU seconds, and costs what the backends cost together.
    expect(generate().gpuSeconds).toBe(6900);
    expect(generate().cost).toBeCloseTo(2.8, 4);
    expect(snapshot().totalCost).toBeCloseTo(2.8, 4);
    // Remote work is generation activity like a local job's end.
    expect(generate().minutes).toBeGreaterThan(0);
  });

  it("a rate changed after the work leaves past costs alone; the global rate still prices this computer's work", () => {
    services.timelog.setGpuCostPerHour(0.4);
    services.timelog.jobFinished(projectId, 3600, T0);
    services.timelog.backendWork(projectId, 'cloud', 3600, 2.5, T0 + minute);
    expect(snapshot().totalCost).toBeCloseTo(2.9, 4);
    // The cloud doubles its price: the next hour costs the new rate, the first hour what it cost then.
    services.timelog.backendWork(projectId, 'cloud', 3600, 5, T0 + 2 * minute);
    expect(snapshot().backends.find((b) => b.name === 'cloud')).toEqual({ name: 'cloud', gpuSeconds: 7200, ratePerHour: 3.75, cost: 7.5 });
    // A new global rate re-prices this computer's work (as it always did), not the cloud's.
    services.timelog.setGpuCostPerHour(1);
    expect(snapshot().backends).toEqual([
      { name: 'local', gpuSeconds: 3600, ratePerHour: 1, cost: 1 },
      { name: 'cloud', gpuSeconds: 7200, ratePerHour: 3.75, cost: 7.5 },
    ]);
    expect(generate().cost).toBeCloseTo(8.5, 4);
    expect(snapshot().totalCost).toBeCloseTo(8.5, 4);
  });

  it('a project that only used this computer shows what it showed before: one local row, costs at the global rate, no GPU rows in the CSV', () => {
    services.timelog.jobFinished(projectId, 90, T0);
    services.timelog.jobFinished(projectId, 90, T0 + minute);
    services.timelog.backendWork(projectId, 'local', 0, null, T0 + 2 * minute);
    services.timelog.backendWork(projectId, 'idle-box', 0, 3, T0 + 3 * minute);
    const snap = snapshot();
    // Backends without seconds are left out.
    expect(snap.backends).toEqual([{ name: 'local', gpuSeconds: 180, ratePerHour: DEFAULT_GPU_COST_PER_HOUR, cost: 0.02 }]);
    expect(generate().cost).toBe(Math.round((180 / 3600) * DEFAULT_GPU_COST_PER_HOUR * 10_000) / 10_000);
    expect(snap.totalCost).toBe(generate().cost);
    const csv = services.timelog.export(projectId, 'csv').trim().split('\n');
    expect(csv).toHaveLength(7);
    expect(csv.at(-1)).toMatch(/^"Total",/);
    expect(csv.some((line) => line.startsWith('"GPU:'))).toBe(false);
  });

  it('GPU seconds recorded before backends existed are this computer’s', () => {
    // An earlier Onbrand wrote GPU seconds straight into the time log.
    services.db
      .prepare("INSERT INTO time_log (project_id, phase, started_at, ended_at, gpu_seconds) VALUES (?, 'generate', ?, ?, 540)")
      .run(projectId, new Date(T0).toISOString(), new Date(T0 + 10 * minute).toISOString());
    expect(snapshot().backends).toEqual([{ name: 'local', gpuSeconds: 540, ratePerHour: 0.4, cost: 0.06 }]);
    services.timelog.backendWork(projectId, 'cloud', 360, 2, T0 + 20 * minute);
    expect(snapshot().backends).toEqual([
      { name: 'local', gpuSeconds: 540, ratePerHour: 0.4, cost: 0.06 },
      { name: 'cloud', gpuSeconds: 360, ratePerHour: 2, cost: 0.2 },
    ]);
    expect(generate().gpuSeconds).toBe(900);
    expect(snapshot().totalCost).toBeCloseTo(0.26, 4);
  });

  it('the CSV lists the GPU by backend after the total', () => {
    services.timelog.correct(projectId, 'generate', 5);
    services.timelog.jobFinished(projectId, 1620, T0); // 0.45 GPU hours at $0.40 = $0.18
    services.timelog.backendWork(projectId, 'cloud "A"', 720, 2.5, T0 + minute); // 0.2 h at $2.50 = $0.50
    const csv = services.timelog.export(projectId, 'csv').trim().split('\n');
    expect(csv[0]).toBe('phase,minutes,gpu_seconds,cost_usd');
    expect(csv[3]).toBe('"Batch generation",5,2340,0.6800');
    expect(csv.slice(-3)).toEqual(['"Total",5,2340,0.6800', '"GPU: local",,1620,0.1800', '"GPU: cloud ""A""",,720,0.5000']);
  });

  it('one remote backend alone is split out too: its rate is not the one in settings', () => {
    services.timelog.backendWork(projectId, 'cloud', 3600, 2.5, T0);
    expect(snapshot().backends).toEqual([{ name: 'cloud', gpuSeconds: 3600, ratePerHour: 2.5, cost: 2.5 }]);
    expect(services.timelog.export(projectId, 'csv').trim().split('\n').at(-1)).toBe('"GPU: cloud",,3600,2.5000');
  });

  it('refuses work it cannot cost, naming what is wrong, and records nothing', () => {
    const log = services.timelog;
    expect(() => log.backendWork(projectId, '  ', 10, null, T0)).toThrow('GPU time needs the name of the backend that did the work.');
    expect(() => log.backendWork(projectId, 'cloud', -1, 2, T0)).toThrow(
      'GPU time on cloud must be a number of seconds from 0 up, not -1.',
    );
    expect(() => log.backendWork(projectId, 'cloud', Number.NaN, 2, T0)).toThrow(/GPU time on cloud must be a number of seconds/);
    expect(() => log.backendWork(projectId, 'cloud', 10, -2, T0)).toThrow(
      'The GPU rate of cloud must be a number of dollars per hour from 0 up, not -2.',
    );
    expect(snapshot().backends).toEqual([]);
    expect(generate().gpuSeconds).toBe(0);
    expect(snapshot().firstAt).toBeNull();
  });

  it('keeps the work with its project (migration 0013): a deleted project takes its rows along; negative seconds never get in', () => {
    services.timelog.backendWork(projectId, 'cloud', 60, 2.5, T0);
    const count = (): number => (services.db.prepare('SELECT COUNT(*) AS n FROM backend_usage').get() as { n: number }).n;
    expect(count()).toBe(1);
    expect(services.db.prepare('SELECT backend, gpu_seconds, rate_per_hour FROM backend_usage').get()).toEqual({
      backend: 'cloud',
      gpu_seconds: 60,
      rate_per_hour: 2.5,
    });
    expect(() =>
      services.db
        .prepare(
          "INSERT INTO backend_usage (project_id, backend, gpu_seconds, rate_per_hour, recorded_at) VALUES (?, 'x', -1, NULL, 'now')",
        )
        .run(projectId),
    ).toThrow(/CHECK/);
    services.db.prepare('DELETE FROM projects WHERE id = ?').run(projectId);
    expect(count()).toBe(0);
  });
});
