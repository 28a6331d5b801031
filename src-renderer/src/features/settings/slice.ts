/** Whether the Settings view is open, and the GPU backends it shows (kept live by `backends.updated`). */
import type { BackendView } from '../../../../src-main/core/api/index';
import type { Slice } from '../../store/types';

export interface SettingsSlice {
  settingsOpen: boolean;
  setSettingsOpen(open: boolean): void;
  /** The local engine first, then the ComfyUI servers; null until first fetched. */
  backends: BackendView[] | null;
  setBackends(backends: BackendView[]): void;
}

export const createSettingsSlice: Slice<SettingsSlice> = (set) => ({
  settingsOpen: false,
  setSettingsOpen: (settingsOpen) => set({ settingsOpen }),
  backends: null,
  setBackends: (backends) => set({ backends }),
});
