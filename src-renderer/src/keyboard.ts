import { toggleGenerate } from './generation-actions';
import { useStore } from './store';
import { reportActivity } from './time-actions';

/** True when a key press belongs to a text field, not to the app's shortcuts. */
function typingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** True when Enter or Space would press a focused control (a button, a link): the control keeps it. */
function pressesControl(event: KeyboardEvent): boolean {
  if (event.key !== 'Enter' && event.key !== ' ') return false;
  return event.target instanceof HTMLElement && ['BUTTON', 'A', 'SUMMARY'].includes(event.target.tagName);
}

/** Keys that move through the images: the time log counts them as curation. */
const NAVIGATION_KEYS = new Set(['l', 'L', 'Enter', 'g', 'G', 'ArrowRight', 'ArrowLeft', 'ArrowDown', 'ArrowUp', 'Home', 'End', 'PageDown', 'PageUp']);

export interface ShortcutHandlers {
  newProject(): void;
  renameProject(): void;
  importImages(): void;
  timeCost(): void;
}

/**
 * The app's keys, Lightroom-style: L loupe (toggles), G or Esc grid, arrows move (Up/Down by a
 * row in the grid), Home/End, PageUp/PageDown by a screen, - and = zoom the grid, Ctrl+G the
 * Generate panel, T the Time + Cost view. Returns true when the key was handled.
 */
export function handleKey(event: KeyboardEvent, handlers: ShortcutHandlers): boolean {
  const mod = event.ctrlKey || event.metaKey;
  // Ctrl+G works from the prompt too: it opens and closes the panel the user is typing in.
  if (mod && !event.altKey && !event.shiftKey && event.key.toLowerCase() === 'g') {
    toggleGenerate();
    return true;
  }
  if (typingTarget(event.target) || pressesControl(event) || event.altKey) return false;
  const handled = handleAppKey(event, handlers, mod);
  if (handled && !mod && NAVIGATION_KEYS.has(event.key) && useStore.getState().images.length > 0) reportActivity('curate');
  return handled;
}

function handleAppKey(event: KeyboardEvent, handlers: ShortcutHandlers, mod: boolean): boolean {
  const state = useStore.getState();
  if (mod) {
    switch (event.key.toLowerCase()) {
      case 'n':
        handlers.newProject();
        return true;
      case 'i':
        if (state.currentProjectId !== null) handlers.importImages();
        return true;
      default:
        return false;
    }
  }
  const inGrid = state.mode === 'grid';
  const row = inGrid ? state.columns : 1;
  const page = inGrid ? state.columns * state.visibleRows : 1;
  switch (event.key) {
    case 'l':
    case 'L':
      if (state.selected >= 0) state.setMode(state.mode === 'loupe' ? 'grid' : 'loupe');
      return true;
    case 'Enter':
      if (inGrid && state.selected >= 0) state.setMode('loupe');
      return true;
    case 'g':
    case 'G':
    case 'Escape':
      state.setMode('grid');
      return true;
    case 'ArrowRight':
      state.select(state.selected + 1);
      return true;
    case 'ArrowLeft':
      state.select(state.selected - 1);
      return true;
    case 'ArrowDown':
      state.select(state.selected + row);
      return true;
    case 'ArrowUp':
      state.select(state.selected - row);
      return true;
    case 'Home':
      state.select(0);
      return true;
    case 'End':
      state.select(state.images.length - 1);
      return true;
    case 'PageDown':
      state.select(state.selected + page);
      return true;
    case 'PageUp':
      state.select(state.selected - page);
      return true;
    case '-':
      state.setCellSize(state.cellSize / 1.25);
      return true;
    case '=':
    case '+':
      state.setCellSize(state.cellSize * 1.25);
      return true;
    case 'F2':
      if (state.currentProjectId !== null) handlers.renameProject();
      return true;
    case 't':
    case 'T':
      if (state.currentProjectId !== null) handlers.timeCost();
      return true;
    default:
      return false;
  }
}
