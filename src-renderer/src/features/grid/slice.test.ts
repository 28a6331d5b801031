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
    previewPath: null,
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

describe('stacks: a generation job in one cell', () => {
  const job = (id: number, jobId: number | null): ImageSummary => ({ ...image(id), jobId });
  const ids = (): number[] => useStore.getState().images.map((i) => i.id);

  it('show only the top of a closed stack, with its size; K opens and closes it, closing selects the top', () => {
    const s = useStore.getState();
    s.setImages([job(1, null), job(2, 7), job(3, 7), job(4, 7), job(5, 8), job(6, null)]);
    expect(ids()).toEqual([1, 2, 3, 4, 5, 6]);
    s.setStacking(true);
    // Job 8 has one image: not a stack.
    expect(ids()).toEqual([1, 2, 5, 6]);
    expect(useStore.getState().stackInfo).toEqual({ 7: { top: 2, size: 3 } });
    s.select(1);
    s.toggleStack(7);
    expect(ids()).toEqual([1, 2, 3, 4, 5, 6]);
    s.select(3);
    s.toggleStack(7);
    const state = useStore.getState();
    expect(ids()).toEqual([1, 2, 5, 6]);
    expect(state.images[state.selected]!.id).toBe(2);
  });

  it('stack what the filter shows: the top is the first image of the job still shown', () => {
    const s = useStore.getState();
    s.setImages([job(1, 7), { ...job(2, 7), rating: 3 }, { ...job(3, 7), rating: 4 }]);
    s.setStacking(true);
    s.setFilter({ minRating: 3 });
    expect(ids()).toEqual([2]);
    expect(useStore.getState().stackInfo[7]).toEqual({ top: 2, size: 2 });
  });
});

describe('colour label filter', () => {
  it('shows the images with that label, or those without one', () => {
    const s = useStore.getState();
    s.setImages([{ ...image(1), label: 'red' }, image(2), { ...image(3), label: 'blue' }]);
    s.setFilter({ label: 'red' });
    expect(useStore.getState().images.map((i) => i.id)).toEqual([1]);
    s.setFilter({ label: 'none' });
    expect(useStore.getState().images.map((i) => i.id)).toEqual([2]);
  });
});

describe('selectIds (undo shows what it changed)', () => {
  it('selects the shown ones, the first active; none shown leaves the selection', () => {
    const s = useStore.getState();
    s.setImages([image(1), image(2), image(3), image(4)]);
    s.select(0);
    s.selectIds([3, 9]);
    expect(useStore.getState()).toMatchObject({ selected: 2, selection: [3] });
    s.selectIds([9]);
    expect(useStore.getState()).toMatchObject({ selected: 2, selection: [3] });
  });
});

describe('updates that move nothing in the view', () => {
  it('replace the images where they are (a focus score while the grid scrolls): the rest of the view is untouched', () => {
    const s = useStore.getState();
    s.setImages([image(1), image(2), image(3), image(4)]);
    s.select(2);
    const before = useStore.getState().images;
    const stacksBefore = useStore.getState().stackInfo;
    useStore.getState().updateImages([{ ...image(2), sharpness: 80 }]);
    const after = useStore.getState();
    expect(after.images.map((i) => i.id)).toEqual([1, 2, 3, 4]);
    expect(after.images[1]!.sharpness).toBe(80);
    expect(after.allImages[1]!.sharpness).toBe(80);
    // The same objects for the images that did not change, so their cells do not render again.
    expect(after.images[0]).toBe(before[0]);
    expect(after.images[2]).toBe(before[2]);
    expect(after.selected).toBe(2);
    // The view was not computed again (a new view makes new stacks).
    expect(after.stackInfo).toBe(stacksBefore);
  });

  it('still re-sort and re-filter when the change does move an image', () => {
    const s = useStore.getState();
    s.setImages([image(1), image(2), image(3)]);
    s.setSort('sharpness');
    useStore.getState().updateImages([{ ...image(3), sharpness: 90 }]);
    expect(useStore.getState().images.map((i) => i.id)).toEqual([3, 1, 2]);
    useStore.getState().setFilter({ minRating: 2 });
    expect(useStore.getState().images).toEqual([]);
    useStore.getState().updateImages([{ ...image(1), rating: 3 }]);
    expect(useStore.getState().images.map((i) => i.id)).toEqual([1]);
  });
});
