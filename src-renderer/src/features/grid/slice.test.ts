import { beforeEach, describe, expect, it } from 'vitest';
import type { ImageSummary } from '../../../../src-main/core/api/index';
import { useStore } from '../../store';

const initial = useStore.getState();
beforeEach(() => useStore.setState(initial, true));

function image(id: number): ImageSummary {
  return {
    id,
    projectId: 1,
    path: `/p/${id}.png`,
    fileName: `${id}.png`,
    thumbPath: null,
    width: 64,
    height: 64,
    rating: 0,
    flag: 'none',
    label: 'none',
    seed: id,
    createdAt: '',
    jobId: null,
    prompt: null,
    sharpness: null,
    colour: null,
  };
}

describe('images arriving while the user works', () => {
  it('keep the selected image selected', () => {
    const s = useStore.getState();
    s.setImages([image(1), image(2), image(3)]);
    s.select(2);
    s.addImages([image(4), image(5), image(3)]);
    const state = useStore.getState();
    expect(state.images.map((i) => i.id)).toEqual([1, 2, 3, 4, 5]);
    expect(state.images[state.selected]!.id).toBe(3);
  });
});
