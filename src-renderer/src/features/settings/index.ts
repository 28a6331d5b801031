/** Settings: the Unsplash access key and the language model endpoint (Ctrl+,). */
export { closeSettings, openSettings } from './actions';
export { SettingsHost } from './SettingsHost';
export { createSettingsSlice, type SettingsSlice } from './slice';
