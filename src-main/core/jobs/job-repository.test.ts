/** The job repository's crash-loop bookkeeping, on a real catalogue file (no engine, no model). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BRAND_LOOP_PRESET, type Job } from '../api/index.js';
import { openCatalog, type CatalogDb } from '../catalog/index.js';
import { JobRepository } from './job-repository.js';
import { CRASH_LOOP_LIMIT, crashLoopMessage } from './queue.js';

let dir: string;
let db: CatalogDb;
let jobs: JobRepository;
let projectId: number;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-jobrepo-'));
  db = openCatalog(path.join(dir, 'catalog.sqlite'));
  const now = new Date().toISOString();
  projectId = Number(
    db
      .prepare("INSERT INTO projects (name, folder, palette, created_at, updated_at) VALUES ('P', ?, '[]', ?, ?)")
      .run(path.join(dir, 'p'), now, now).lastInsertRowid,
  );
  jobs = new JobRepository(db);
});

afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const add = (batchSize = 6): Job =>
  jobs.insert({
    projectId,
    prompt: 'portrait',
    negativePrompt: '',
    settings: { ...BRAND_LOOP_PRESET.settings, model: 'm', batchSize },
    seed: 1,
  });
/** A process start: what the queue does first. */
const restart = (): { resumed: number[]; held: number[] } => jobs.recoverInterrupted(crashLoopMessage, CRASH_LOOP_LIMIT);

describe('JobRepository crash-loop guard', () => {
  it('resumes a job the process died in once; holds it (failed, with its size and batch) the second time; others are untouched', () => {
    const big = add(6);
    const other = add(2);
    jobs.setState(big.id, 'running');
    expect(restart()).toEqual({ resumed: [big.id], held: [] });
    expect(jobs.get(big.id)).toMatchObject({ state: 'queued', error: null });
    expect(jobs.interruptions(big.id)).toBe(1);
    expect(jobs.nextQueued().job?.id).toBe(big.id);

    // Picked again, and the process dies again in the same job (an image finished in between does not matter).
    jobs.setState(big.id, 'running');
    expect(restart()).toEqual({ resumed: [], held: [big.id] });
    const held = jobs.get(big.id)!;
    expect(held.state).toBe('failed');
    expect(held.finishedAt).not.toBeNull();
    expect(held.error).toBe(
      'Onbrand stopped twice while generating this job (576×1024, batch 6), so it was put on hold to let the app start. Try a smaller batch or size, or retry it as it is.',
    );
    expect(jobs.interruptions(big.id)).toBe(2);
    // It never runs again by itself: the next job is the other one, and later starts leave it alone.
    expect(jobs.nextQueued().job?.id).toBe(other.id);
    expect(restart()).toEqual({ resumed: [], held: [] });
    expect(jobs.get(big.id)!.state).toBe('failed');
    expect(jobs.get(other.id)).toMatchObject({ state: 'queued' });
    expect(jobs.interruptions(other.id)).toBe(0);
  });

  it('a completed job and an explicit retry both clear the count', () => {
    const a = add();
    jobs.setState(a.id, 'running');
    restart();
    expect(jobs.interruptions(a.id)).toBe(1);
    jobs.setState(a.id, 'running');
    jobs.setState(a.id, 'done');
    expect(jobs.interruptions(a.id)).toBe(0);

    const b = add();
    for (let i = 0; i < CRASH_LOOP_LIMIT; i++) {
      jobs.setState(b.id, 'running');
      restart();
    }
    expect(jobs.get(b.id)!.state).toBe('failed');
    jobs.clearInterruptions(b.id); // what the queue's retry does, with toBack and 'queued'
    jobs.setState(b.id, 'queued');
    expect(jobs.get(b.id)).toMatchObject({ state: 'queued', error: null });
    jobs.setState(b.id, 'running');
    expect(restart()).toEqual({ resumed: [b.id], held: [] });
  });

  it('a failed or cancelled job keeps its count (only completion or retry clear it); a row that no longer parses is requeued for the caller to drop', () => {
    const a = add();
    jobs.setState(a.id, 'running');
    restart();
    jobs.setState(a.id, 'running');
    jobs.setState(a.id, 'cancelled');
    expect(jobs.interruptions(a.id)).toBe(1);

    const bad = add();
    db.prepare("UPDATE jobs SET settings = '{}', state = 'running', interruptions = 5 WHERE id = ?").run(bad.id);
    expect(restart()).toEqual({ resumed: [bad.id], held: [] });
    expect(jobs.list().unreadable.map((u) => u.id)).toEqual([bad.id]);
  });
});

describe('JobRepository draft and refine', () => {
  it('records a draft, the image a job refines and its img2img start, and reads them back', () => {
    const now = new Date().toISOString();
    const imageId = Number(
      db
        .prepare(
          "INSERT INTO images (project_id, path, content_hash, width, height, format, byte_size, created_at) VALUES (?, 'generations/a.png', 'h', 64, 64, 'png', 1, ?)",
        )
        .run(projectId, now).lastInsertRowid,
    );
    const plain = add();
    expect(plain).toMatchObject({ draft: false, refines: null, init: null });
    const settings = { ...BRAND_LOOP_PRESET.settings, model: 'm' };
    const draft = jobs.insert({ projectId, prompt: 'p', negativePrompt: '', settings, seed: 1, origin: { draft: true } });
    expect(draft).toMatchObject({ draft: true, refines: null, init: null });
    const refine = jobs.insert({
      projectId,
      prompt: 'p',
      negativePrompt: '',
      settings: { ...settings, batchSize: 1 },
      seed: 1,
      origin: { refines: imageId, init: { imageId, strength: 0.35 } },
    });
    expect(jobs.get(refine.id)).toMatchObject({ draft: false, refines: imageId, init: { imageId, strength: 0.35 } });
    expect(jobs.list(projectId).jobs.map((j) => j.draft)).toEqual([false, true, false]);
  });
});

describe('JobRepository settings', () => {
  it('reads a job queued before schedule types (no scheduleType) as it was, and keeps one queued with SGM Uniform', () => {
    const old = add(2);
    // The settings JSON exactly as an older version stored it.
    const { scheduleType: _none, ...before } = old.settings;
    db.prepare('UPDATE jobs SET settings = ? WHERE id = ?').run(JSON.stringify(before), old.id);
    expect(jobs.get(old.id)).toMatchObject({ state: 'queued', error: null, settings: before });
    expect(jobs.get(old.id)!.settings.scheduleType).toBeUndefined();

    const lightning = jobs.insert({
      projectId,
      prompt: 'poster <lora:sdxl_lightning_4step_lora:1>',
      negativePrompt: '',
      settings: { ...BRAND_LOOP_PRESET.settings, model: 'sdxl', sampler: 'Euler', scheduleType: 'SGM Uniform', steps: 4, cfg: 1 },
      seed: 7,
    });
    expect(jobs.get(lightning.id)!.settings).toMatchObject({ sampler: 'Euler', scheduleType: 'SGM Uniform', steps: 4, cfg: 1 });
  });
});
