import type { PickRequest } from '../../../src-main/core/api/index';
import { getClient } from '../api/client';
import { useStore } from '../store';

interface ChooseButtonProps {
  request: PickRequest;
  label?: string;
  disabled?: boolean;
  onChoose(paths: string[]): void;
}

/**
 * "Choose…": the native open dialog, in the desktop app only (a browser cannot tell a page where
 * a file is, so there the path is typed). The desktop app accepts a path outside Onbrand's own
 * folders only when the user chose it here or dropped it onto the window.
 */
export function ChooseButton({ request, label = 'Choose…', disabled, onChoose }: ChooseButtonProps) {
  const pick = getClient().pickPaths;
  if (!pick) return null;
  const choose = (): void => {
    pick(request).then(
      (paths) => paths.length > 0 && onChoose(paths),
      (error: unknown) => useStore.getState().notify('error', (error as Error).message),
    );
  };
  return (
    <button type="button" className="choose" onClick={choose} disabled={disabled}>
      {label}
    </button>
  );
}
