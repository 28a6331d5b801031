import { describe, expect, it } from 'vitest';
import type { ModelTask } from '../../../../src-main/core/api/index';
import { useStore } from '../../store';
import { formatBytes, suggestModelName } from '../../../../src-main/core/common/index';
import { formatDuration, isPickle, taskDetail } from './format';
import { shownTasks } from './slice';

function task(fields: Partial<ModelTask> = {}): ModelTask {
  return {
    id: 'dl-1',
    kind: 'download',
    name: '',
    source: 'Stable Diffusion 1.5',
    state: 'running',
    phase: 'Downloading v1-5-pruned-emaonly-fp16.safetensors',
    bytesDone: 0,
    bytesTotal: 0,
    bytesPerSecond: 0,
    etaSeconds: null,
    error: null,
    resumable: false,
    createdAt: '2025-01-01T00:00:00.000Z',
    finishedAt: null,
    notes: [],
    ...fields,
  };
}

describe('model library wording', () => {
  it('writes sizes in decimal units, as the Hub does', () => {
    expect(formatBytes(2_132_625_894)).toBe('2.1 GB');
    expect(formatBytes(512_000)).toBe('512 KB');
    expect(formatBytes(1)).toBe('1 byte');
  });

  it('writes times left a glance can read', () => {
    expect(formatDuration(12.2)).toBe('13 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(725)).toBe('12 min');
    expect(formatDuration(4380)).toBe('1 h 13 min');
  });

  it('says bytes, speed and time left while downloading, where it stopped when paused, why it failed', () => {
    expect(taskDetail(task({ bytesDone: 412_000_000, bytesTotal: 2_132_625_894, bytesPerSecond: 3_100_000, etaSeconds: 555 }))).toBe(
      '412 MB of 2.1 GB · 3.1 MB/s · 9 min 15 s left',
    );
    expect(taskDetail(task({ phase: 'Converting', bytesDone: 40, bytesTotal: 100 }))).toBe('40 bytes of 100 bytes · 40 %');
    expect(taskDetail(task({ state: 'cancelled', resumable: true, bytesDone: 1_000_000, bytesTotal: 2_000_000 }))).toMatch(
      /^Paused at 1.0 MB of 2.0 MB/,
    );
    expect(taskDetail(task({ state: 'failed', error: 'The Hub refused: give a token.' }))).toBe('The Hub refused: give a token.');
    expect(taskDetail(task({ state: 'done', name: 'Stable Diffusion 1.5' }))).toBe('Installed as “Stable Diffusion 1.5”.');
  });

  it('suggests a name from a file or folder as the core does, and knows pickles', () => {
    expect(suggestModelName('/Users/me/Downloads/dreamshaper_8.safetensors', '')).toBe('dreamshaper_8');
    // Only a model file's extension goes: a folder's "V6.0" is part of its name (the core always kept it).
    expect(suggestModelName('C:\\models\\Realistic Vision V6.0\\', '')).toBe('Realistic Vision V6.0');
    expect(suggestModelName('  ', '')).toBe('');
    expect(suggestModelName('  ')).toBe('model');
    expect(suggestModelName('/m/__odd name!.safetensors', '')).toBe('odd name_');
    expect(isPickle('/m/v1-5-pruned.ckpt')).toBe(true);
    expect(isPickle('/m/v1-5-pruned.safetensors')).toBe(false);
  });
});

describe('model library slice', () => {
  it('keeps the newer task when a call answers after its events', () => {
    useStore.setState({ modelTasks: [] });
    useStore.getState().upsertModelTask(task({ bytesDone: 50 }));
    useStore.getState().addModelTasks([task({ bytesDone: 0 }), task({ id: 'dl-2', createdAt: '2025-01-02T00:00:00.000Z' })]);
    expect(useStore.getState().modelTasks.map((t) => [t.id, t.bytesDone])).toEqual([
      ['dl-1', 50],
      ['dl-2', 0],
    ]);
    expect(shownTasks(useStore.getState().modelTasks, ['dl-1']).map((t) => t.id)).toEqual(['dl-2']);
  });
});
