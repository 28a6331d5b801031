/** An on/off setting of this browser or app window, kept in localStorage and shared by every component that reads it. */
import { useSyncExternalStore } from 'react';

export interface LocalFlag {
  get(): boolean;
  set(value: boolean): void;
  toggle(): void;
  /** The value, re-rendering the component when it changes. */
  use(): boolean;
}

export function localFlag(key: string, initial: boolean): LocalFlag {
  const listeners = new Set<() => void>();
  let value = initial;
  try {
    const stored = localStorage.getItem(key);
    if (stored === 'true' || stored === 'false') value = stored === 'true';
  } catch {
    // No storage (a locked-down browser): the setting lasts this session.
  }
  const subscribe = (listener: () => void): (() => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  const get = (): boolean => value;
  const set = (next: boolean): void => {
    if (next === value) return;
    value = next;
    try {
      localStorage.setItem(key, String(next));
    } catch {
      // As above: kept for this session only.
    }
    for (const listener of listeners) listener();
  };
  return { get, set, toggle: () => set(!value), use: () => useSyncExternalStore(subscribe, get) };
}
