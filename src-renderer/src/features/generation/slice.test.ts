import { beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../../../src-main/core/api/index';
import { useStore } from '../../store';
import { movePosition, projectJobs } from './slice';

const initial = useStore.getState();
beforeEach(() => useStore.setState(initial, true));

function job(id: number, fields: Partial<Job> = {}): Job {
  return {
    id,
    projectId: 1,
    state: 'queued',
    prompt: 'portrait',
    negativePrompt: '',
    settings: { model: 'tiny-sd', sampler: 'Euler', steps: 4, cfg: 7, width: 64, height: 64, batchSize: 6, loraWeight: 0.8, aspect: '1:1' },
    seed: 1,
    batchSize: 6,
    position: id,
    imagesDone: 0,
    error: null,
    gpuSeconds: 0,
    createdAt: '',
    startedAt: null,
    finishedAt: null,
    draft: false,
    refines: null,
    init: null,
    ...fields,
  };
}

describe('the queue slice', () => {
  it('lets events win over an older call result; a finished job keeps its last preview until retried', () => {
    const s = useStore.getState();
    s.upsertJobs([job(1, { state: 'running' })]);
    s.addJobs([job(1), job(2)]);
    expect(useStore.getState().jobs.map((j) => [j.id, j.state])).toEqual([
      [1, 'running'],
      [2, 'queued'],
    ]);
    s.setJobProgress(1, { index: 0, step: 1, steps: 4, etaMs: 300, preview: 'data:image/png;base64,AAA' });
    s.setJobProgress(1, { index: 0, step: 2, steps: 4, etaMs: 200, preview: null });
    expect(useStore.getState().jobProgress[1]).toEqual({ index: 0, step: 2, steps: 4, etaMs: 200, preview: 'data:image/png;base64,AAA' });
    s.upsertJobs([job(1, { state: 'done', imagesDone: 6 })]);
    expect(useStore.getState().jobProgress[1]!.preview).toBe('data:image/png;base64,AAA');
    // The last preview may arrive after the job ended: it becomes the job's picture.
    s.setJobProgress(1, { index: 5, step: 4, steps: 4, etaMs: 0, preview: 'data:image/png;base64,BBB' });
    expect(useStore.getState().jobProgress[1]!.preview).toBe('data:image/png;base64,BBB');
    // Retried: back in the queue, without the old run's progress, and deaf to its late steps.
    s.upsertJobs([job(1, { state: 'queued' })]);
    expect(useStore.getState().jobProgress[1]).toBeUndefined();
    s.setJobProgress(1, { index: 5, step: 4, steps: 4, etaMs: 0, preview: null });
    expect(useStore.getState().jobProgress[1]).toBeUndefined();
  });

  it('lists a project running first, queued in order, then finished newest first', () => {
    const jobs = [
      job(1, { state: 'done' }),
      job(2, { state: 'failed' }),
      job(3, { position: 9 }),
      job(4, { position: 5 }),
      job(5, { state: 'running' }),
      job(6, { projectId: 2 }),
    ];
    expect(projectJobs(jobs, 1).map((j) => j.id)).toEqual([5, 4, 3, 2, 1]);
    expect(projectJobs(jobs, null)).toEqual([]);
  });

  it('moves a queued job into its project neighbour’s place in the shared queue', () => {
    // Shared queue order: 10 (project 1), 11 (project 2), 12 (project 1), 13 (project 1).
    const jobs = [
      job(10, { position: 1 }),
      job(11, { position: 2, projectId: 2 }),
      job(12, { position: 3 }),
      job(13, { position: 4 }),
      job(14, { state: 'done', position: 0 }),
    ];
    expect(movePosition(jobs, jobs[2]!, -1)).toBe(0);
    expect(movePosition(jobs, jobs[0]!, 1)).toBe(2);
    expect(movePosition(jobs, jobs[3]!, -1)).toBe(2);
    expect(movePosition(jobs, jobs[0]!, -1)).toBeNull();
    expect(movePosition(jobs, jobs[3]!, 1)).toBeNull();
    expect(movePosition(jobs, jobs[4]!, -1)).toBeNull();
  });
});
