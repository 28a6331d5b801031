/** The notice line: one message for the user (errors from calls), cleared by dismissing it. */
import type { Slice } from '../store/types';

export interface NoticeSlice {
  notice: { kind: 'error' | 'info'; text: string } | null;
  notify(kind: 'error' | 'info', text: string): void;
  dismissNotice(): void;
}

export const createNoticeSlice: Slice<NoticeSlice> = (set) => ({
  notice: null,
  notify: (kind, text) => set({ notice: { kind, text } }),
  dismissNotice: () => set({ notice: null }),
});
