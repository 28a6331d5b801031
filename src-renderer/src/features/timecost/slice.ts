/** The Time + Cost view's snapshot while it is open (null when closed). */
import type { TimeSnapshot } from '../../../../src-main/core/api/index';
import type { Slice } from '../../store/types';

export interface TimeSlice {
  time: TimeSnapshot | null;
  setTime(time: TimeSnapshot | null): void;
}

export const createTimeSlice: Slice<TimeSlice> = (set) => ({
  time: null,
  setTime: (time) => set({ time }),
});
