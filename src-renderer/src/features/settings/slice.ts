/** Whether the Settings view is open. */
import type { Slice } from '../../store/types';

export interface SettingsSlice {
  settingsOpen: boolean;
  setSettingsOpen(open: boolean): void;
}

export const createSettingsSlice: Slice<SettingsSlice> = (set) => ({
  settingsOpen: false,
  setSettingsOpen: (settingsOpen) => set({ settingsOpen }),
});
