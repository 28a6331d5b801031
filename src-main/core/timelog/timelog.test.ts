import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config.js';
import { createServices, type Services } from '../services.js';
import type { Job } from '../api/index.js';
import { mulberry32 } from '../util/index.js';
import { DEFAULT_GPU_COST_PER_HOUR, IDLE_MS, MIN_ACTIVITY_MS } from './timelog.js';

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
    draft: false,
    refines: null,
    init: null,
  };
}

const phase = (name: string) => services.timelog.snapshot(projectId).phases.find((p) => p.phase === name)!;

describe('time log', () => {
  it('input within the idle cut-off extends one interval; a longer pause ends it at the last input', () => {
    const log = services.timelog;
    expect(IDLE_MS).toBe(3 * minute);
    log.activity(projectId, 'curate', T0);
    log.activity(projectId, 'curate', T0 + 2 * minute);
    log.activity(projectId, 'curate', T0 + 4 * minute);
    // 4 minutes of activity plus the 30 s that the last burst counts for.
    expect(phase('curate').minutes).toBe(4.5);
    // Four minutes without input: those are not counted.
    log.activity(projectId, 'curate', T0 + 8 * minute);
    expect(phase('curate').minutes).toBe(5);
    log.activity(projectId, 'curate', T0 + 20 * minute);
    expect(phase('curate').minutes).toBe(5 + MIN_ACTIVITY_MS / minute);
    expect(phase('mood').minutes).toBe(0);
    const snapshot = services.timelog.snapshot(projectId);
    expect(snapshot).toMatchObject({ recordedMinutes: 5.5, elapsedMinutes: 20.5, firstAt: iso(T0), lastAt: iso(T0 + 20.5 * minute) });
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

  it('concurrent time in one phase counts once; curating during a run owns that time, the run the rest', () => {
    const log = services.timelog;
    log.span(projectId, 'generate', T0, T0 + 20 * minute);
    // A second job (another process, the CLI) overlapping the first by ten minutes.
    log.span(projectId, 'generate', T0 + 10 * minute, T0 + 30 * minute);
    // Bursts while the jobs ran (a job queued, a click on the queue) add nothing.
    log.activity(projectId, 'generate', T0 + 5 * minute);
    log.activity(projectId, 'generate', T0 + 25 * minute);
    expect(phase('generate').minutes).toBe(30);
    // Curating while the jobs ran is the designer's foreground: those ten minutes are curation's.
    log.span(projectId, 'curate', T0 + 2 * minute, T0 + 12 * minute);
    expect(phase('curate').minutes).toBe(10);
    expect(phase('generate').minutes).toBe(20);
    // Phases never overlap: the total is the real time, 30 minutes (it was 40).
    const snapshot = services.timelog.snapshot(projectId);
    expect(snapshot.totalMinutes).toBe(30);
    expect(snapshot.elapsedMinutes).toBe(30);
    expect(phase('generate').gpuSeconds).toBe(0);
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
        '|References|10|—|',
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

  it('phases never overlap: starting a phase ends the one before (the active phase wins)', () => {
    const log = services.timelog;
    // Typing a prompt, then culling, then back to the prompt: one line of time.
    log.activity(projectId, 'prompt', T0);
    log.activity(projectId, 'prompt', T0 + minute);
    log.activity(projectId, 'curate', T0 + 2 * minute);
    log.activity(projectId, 'curate', T0 + 5 * minute);
    log.activity(projectId, 'prompt', T0 + 6 * minute);
    // prompt 0–1.5 (its last key and 30 s) and 6–6.5, curate 2–5.5; the pauses between are nobody's.
    expect(phase('prompt').minutes).toBe(2);
    expect(phase('curate').minutes).toBe(3.5);
    // A key in another phase within a burst's 30 s ends that burst there.
    log.activity(projectId, 'curate', T0 + 6.2 * minute);
    expect(phase('prompt').minutes).toBe(1.7);
    expect(phase('curate').minutes).toBe(4);
    const snapshot = services.timelog.snapshot(projectId);
    expect(snapshot.totalMinutes).toBe(5.7);
    expect(snapshot.elapsedMinutes).toBe(6.7);
  });

  it("the trial's session: 17 minutes of real time is at most 17 minutes, typing counts only while typing", () => {
    const log = services.timelog;
    const at = (m: number): number => T0 + m * minute;
    // 0–3: references and an import.
    log.activity(projectId, 'mood', at(0));
    log.activity(projectId, 'mood', at(3));
    // 3–5: a prompt typed (the page reports typing every 20 s or so), then queued.
    for (let m = 3; m <= 5; m += 1 / 3) log.activity(projectId, 'prompt', at(m));
    // 5–15: three batches run; from 7 on, the designer culls the first images as they land.
    services.events.emit('job.updated', { ...jobRecord(1, 'running', at(5), null), projectId });
    for (let m = 7; m <= 16.5; m += 0.5) log.activity(projectId, 'curate', at(m));
    services.events.emit('job.updated', { ...jobRecord(1, 'done', at(5), at(15)), projectId });
    log.jobFinished(projectId, 540, at(15));
    const snapshot = services.timelog.snapshot(projectId);
    expect(snapshot.elapsedMinutes).toBe(17);
    expect(snapshot.recordedMinutes).toBeLessThanOrEqual(snapshot.elapsedMinutes);
    expect(snapshot.totalMinutes).toBe(17);
    expect(phase('mood').minutes).toBe(3);
    // The prompt from its first key to the curation's first key less the queue wait: 3 to 5.5 (last key + 30 s).
    expect(phase('prompt').minutes).toBe(2.5);
    // Waiting for the first images (5.5–7) is generation; from 7, curation owns the time.
    expect(phase('generate').minutes).toBe(1.5);
    expect(phase('curate').minutes).toBe(10);
    expect(phase('generate').gpuSeconds).toBe(540);
  });

  it('overlapping records from an older Onbrand are resolved: the phase that started last wins', () => {
    const insert = services.db.prepare('INSERT INTO time_log (project_id, phase, started_at, ended_at) VALUES (?, ?, ?, ?)');
    // "Prompt drafting 11.6 min": one session stretched over everything else.
    insert.run(projectId, 'prompt', iso(T0), iso(T0 + 11.6 * minute));
    insert.run(projectId, 'curate', iso(T0 + 2 * minute), iso(T0 + 10 * minute));
    insert.run(projectId, 'mood', iso(T0 + 9 * minute), iso(T0 + 12 * minute));
    expect(phase('curate').minutes).toBe(7);
    expect(phase('mood').minutes).toBe(3);
    expect(phase('prompt').minutes).toBe(2);
    const snapshot = services.timelog.snapshot(projectId);
    expect(snapshot.totalMinutes).toBe(12);
    expect(snapshot.elapsedMinutes).toBe(12);
  });

  it('the sum of the phases never exceeds the elapsed time, whatever the order of activity', () => {
    const random = mulberry32(18);
    const phases = ['mood', 'prompt', 'curate', 'post', 'generate'] as const;
    for (let round = 0; round < 20; round++) {
      const other = services.projects.create({ name: `Random ${round}` }).id;
      let now = T0;
      for (let step = 0; step < 60; step++) {
        now += Math.floor(random() * 6 * minute);
        const which = phases[Math.floor(random() * phases.length)]!;
        if (which === 'generate' && random() < 0.5) services.timelog.span(other, 'generate', now - 10 * minute, now + 5 * minute);
        // Now and then a report arrives late (a slow request).
        else services.timelog.activity(other, which, random() < 0.1 ? now - minute : now);
      }
      const snapshot = services.timelog.snapshot(other);
      expect(snapshot.recordedMinutes).toBeLessThanOrEqual(snapshot.elapsedMinutes);
      const sum = snapshot.phases.reduce((s, p) => s + p.recordedMinutes, 0);
      expect(sum).toBeLessThanOrEqual(snapshot.elapsedMinutes + 0.3); // each phase rounds to 0.1
      // With nothing set by hand, the total is the time recorded (one rounding, so they never read 12 and 13).
      expect(snapshot.totalMinutes).toBe(snapshot.recordedMinutes);
    }
  });

  it('says where the references came from, and names them in the table', () => {
    const ref = (sourceUrl: string | null, licence: string | null, hash: string) =>
      services.refs.insert({
        projectId,
        path: `references/${hash}.png`,
        contentHash: hash,
        width: 10,
        height: 10,
        sourceUrl,
        author: null,
        authorUrl: null,
        licence,
        palette: [],
      });
    expect(phase('mood')).toMatchObject({ label: 'References', detail: null });
    ref(null, null, 'a');
    ref(null, null, 'b');
    ref('https://example.com/brand/moodboard', null, 'c');
    ref('https://unsplash.com/photos/neon-AbC123?utm_source=onbrand', 'Unsplash License', 'd');
    ref('https://cdn.example.com/shots/teal.jpg', null, 'e');
    expect(phase('mood').detail).toBe('2 local files, 1 web page, 1 image link, 1 Unsplash photo');
    services.timelog.correct(projectId, 'mood', 4);
    expect(services.timelog.export(projectId, 'markdown')).toContain(
      '|References (2 local files, 1 web page, 1 image link, 1 Unsplash photo)|4|—|',
    );
  });
});
