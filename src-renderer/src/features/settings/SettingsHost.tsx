import { useEffect } from 'react';
import { modalOpen } from '../../shared/use-modal';
import { useStore } from '../../store';
import { openSettings } from './actions';
import { SettingsDialog } from './SettingsDialog';

/** Ctrl+, (⌘, on a Mac) opens Settings from anywhere but another dialog; the view itself while open. */
export function SettingsHost() {
  const open = useStore((s) => s.settingsOpen);
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.key !== ',' || !(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey || modalOpen()) return;
      event.preventDefault();
      openSettings();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return open ? <SettingsDialog /> : null;
}
