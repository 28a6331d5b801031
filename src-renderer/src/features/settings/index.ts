/** Settings: the Unsplash access key, the language model endpoint and the GPU backends (Ctrl+,). */
export { closeSettings, openSettings } from './actions';
export { SettingsHost } from './SettingsHost';
export { createSettingsSlice, type SettingsSlice } from './slice';
