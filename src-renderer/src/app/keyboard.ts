import { mark, redo, stepZoom, toggleCompare, toggleFullscreen, toggleLabel, undo } from '../features/curation/actions';
import { refineKey } from '../features/generation/actions';
import { infoPanelKey } from '../features/loupe/InfoPanel';
import { openLibrary } from '../features/models/actions';
import { reportActivity } from '../features/timecost/actions';
import { zoomAtPointer } from '../shared/zoom';
import { useStore } from '../store';
import { actionFor, keyOf, type Action } from './keymap';
import { showSideTab, toggleSidePanel } from './SidePanel';

/** Inputs that take typing: they keep every key but Esc. */
const TEXT_INPUTS = new Set([
  'text',
  'search',
  'email',
  'url',
  'tel',
  'password',
  'number',
  'date',
  'time',
  'datetime-local',
  'month',
  'week',
]);
/** The keys a focused select, slider or radio needs for itself (to choose); every other key is the app's. */
const CHOOSING_KEYS = new Set(['ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End']);

/** True when the focused element takes typing (a text field): the app's keys wait until Esc. */
function isTextField(target: HTMLElement): boolean {
  if (target.isContentEditable || target.tagName === 'TEXTAREA') return true;
  return target instanceof HTMLInputElement && TEXT_INPUTS.has(target.type);
}

/**
 * True when a key belongs to the focused control, not to the app. A text field keeps every key; a
 * control that is not a text field keeps only the keys it needs (a select its arrows, a button
 * Enter and Space when it was reached with Tab): every other key reaches the grid or the loupe.
 */
function controlKeeps(target: EventTarget | null, event: KeyboardEvent): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (isTextField(target)) return true;
  if (event.ctrlKey || event.metaKey) return false;
  const press = event.key === 'Enter' || event.key === ' ';
  if (target instanceof HTMLSelectElement) return press || (CHOOSING_KEYS.has(event.key) && !event.shiftKey);
  if (target instanceof HTMLInputElement) {
    if (target.type === 'range') return CHOOSING_KEYS.has(event.key) || event.key === 'ArrowLeft' || event.key === 'ArrowRight';
    if (target.type === 'radio') return event.key === ' ' || event.key.startsWith('Arrow');
    return event.key === ' ';
  }
  return press && (['BUTTON', 'A', 'SUMMARY'].includes(target.tagName) || target.getAttribute('role') === 'button');
}

/** True when the focus came by the keyboard (Tab): the browser shows its focus ring then. */
function reachedByKeyboard(target: HTMLElement): boolean {
  try {
    return target.matches(':focus-visible');
  } catch {
    return true;
  }
}

/**
 * Controls that are not text fields give the keyboard back after use with the pointer: a button
 * clicked, a checkbox ticked, a value chosen in a select lose the focus, so the next key (Space, →,
 * a rating) goes to the grid or the loupe and never presses that button again. A control reached
 * with Tab keeps it (Enter and Space press it, arrows choose). Dialogs keep their own focus.
 * Returns the clean-up.
 */
export function giveKeysBackAfterUse(): () => void {
  let pointer = false;
  /** A select the pointer opened: it lets go once a value is chosen, by the mouse or by the keys. */
  let openedByPointer: Element | null = null;
  const onPointer = (event: Event): void => {
    pointer = true;
    openedByPointer = event.target instanceof Element ? event.target.closest('select') : null;
  };
  const onKey = (): void => void (pointer = false);
  const release = (event: Event): void => {
    if (!(event.target instanceof Element)) return;
    const control = event.target.closest(
      'button, summary, a[href], select, input[type="checkbox"], input[type="radio"], input[type="range"], [role="button"]',
    );
    if (!(control instanceof HTMLElement) || control.closest('[role="dialog"], .modal-backdrop')) return;
    if (control instanceof HTMLSelectElement) {
      // A click on a select opens its list: it lets go only once a value is chosen (its change).
      if (event.type === 'click' || (!pointer && openedByPointer !== control)) return;
      openedByPointer = null;
    } else if (!pointer) return;
    // After the control's own handlers: one that moved the focus on purpose keeps it there.
    setTimeout(() => {
      if (document.activeElement === control) control.blur();
    }, 0);
  };
  window.addEventListener('pointerdown', onPointer, true);
  window.addEventListener('keydown', onKey, true);
  window.addEventListener('click', release, true);
  window.addEventListener('change', release, true);
  return () => {
    window.removeEventListener('pointerdown', onPointer, true);
    window.removeEventListener('keydown', onKey, true);
    window.removeEventListener('click', release, true);
    window.removeEventListener('change', release, true);
  };
}

/** Actions that move through or judge the images: the time log counts them as curation. */
const CURATION = new Set<Action>([
  'loupe',
  'grid',
  'compare',
  'zoom',
  'next',
  'previous',
  'rowDown',
  'rowUp',
  'first',
  'last',
  'pageDown',
  'pageUp',
  'zoomIn',
  'zoomOut',
  'toggleStack',
]);

export interface ShortcutHandlers {
  newProject(): void;
  renameProject(): void;
  importImages(): void;
  timeCost(): void;
  exportImages(): void;
  cheatSheet(): void;
}

/**
 * The app's keys, from the keymap (keymap.ts: Onbrand's default or the Lightroom preset, plus the
 * user's own). Ctrl+G (the Generate panel) and Ctrl+K (the Composer) are fixed and work from the prompt too. Returns true
 * when the key was handled.
 */
export function handleKey(event: KeyboardEvent, handlers: ShortcutHandlers): boolean {
  const mod = event.ctrlKey || event.metaKey;
  if (mod && !event.altKey && !event.shiftKey && event.key.toLowerCase() === 'g') {
    showSideTab('generate');
    return true;
  }
  if (mod && !event.altKey && !event.shiftKey && event.key.toLowerCase() === 'k') {
    showSideTab('composer');
    return true;
  }
  // A function key types nothing: the side panel's key (F8) works from the prompt too.
  if (/^F\d{1,2}$/.test(event.key) && actionFor(keyOf(event)) === 'sidePanel') return runAction('sidePanel', handlers);
  const focused = event.target instanceof HTMLElement && event.target !== document.body ? event.target : null;
  // A control focused by the pointer (or given the focus back by a closing dialog) holds no key.
  // A select holds the keys it chooses with while it has the focus, however it got it (it lets go
  // once a value is chosen); → and the digits still reach the grid.
  const holding = focused !== null && (isTextField(focused) || reachedByKeyboard(focused) || focused instanceof HTMLSelectElement);
  if (event.key === 'Escape' && focused && !event.ctrlKey && !event.metaKey && !event.altKey) {
    // Esc always gives the keyboard back to the grid or the loupe: the field or control lets go.
    focused.blur();
    if (holding) return true;
  }
  if (holding && controlKeeps(focused, event)) return false;
  const action = actionFor(keyOf(event));
  if (!action) return false;
  const handled = runAction(action, handlers);
  if (handled && CURATION.has(action) && useStore.getState().images.length > 0) reportActivity('curate');
  return handled;
}

/** What still applies while the mood board or the sections view is open (the grid is out of sight). */
const BOARD_ACTIONS = new Set<Action>([
  'loupe',
  'grid',
  'moodBoard',
  'sections',
  'fullscreen',
  'lightsOut',
  'cheatSheet',
  'newProject',
  'importImages',
  'renameProject',
  'timeCost',
  'exportImages',
  'modelLibrary',
  'sidePanel',
]);

/** Lightroom's colour labels by key: 6 red, 7 yellow, 8 green, 9 blue. */
const LABEL_OF = { labelRed: 'red', labelYellow: 'yellow', labelGreen: 'green', labelBlue: 'blue' } as const;

/** Runs one action (a key or a toolbar button); false when it does not apply here. */
export function runAction(action: Action, handlers: ShortcutHandlers): boolean {
  const state = useStore.getState();
  if ((state.mode === 'moodboard' || state.mode === 'sections') && !BOARD_ACTIONS.has(action)) return false;
  const inGrid = state.mode === 'grid';
  const row = inGrid ? state.columns : 1;
  const page = inGrid ? state.columns * state.visibleRows : 1;
  const hasProject = state.currentProjectId !== null;
  const rate = (rating: number): boolean => {
    void mark({ rating });
    return true;
  };
  const filter = (minRating: number): boolean => {
    state.setFilter({ minRating });
    return true;
  };
  switch (action) {
    case 'loupe':
      if (state.selected >= 0) state.setMode(state.mode === 'loupe' ? 'grid' : 'loupe');
      return true;
    case 'grid':
      if (document.fullscreenElement && state.mode === 'grid') void document.exitFullscreen().catch(() => undefined);
      // In the grid, Esc (or G) clears a multi-selection (Ctrl+A, Shift+arrows): the active image stays.
      if (state.mode === 'grid' && state.selection.length > 1) state.select(state.selected);
      state.setMode('grid');
      return true;
    case 'compare':
      toggleCompare();
      return true;
    case 'zoom':
      if (state.mode === 'grid') {
        if (state.selected < 0) return true;
        state.setMode('loupe');
      }
      zoomAtPointer();
      return true;
    case 'fullscreen':
      toggleFullscreen();
      return true;
    case 'lightsOut':
      state.setLightsOut(!state.lightsOut);
      return true;
    case 'cheatSheet':
      handlers.cheatSheet();
      return true;
    case 'next':
      state.select(state.selected + 1);
      return true;
    case 'previous':
      state.select(state.selected - 1);
      return true;
    case 'rowDown':
      state.select(state.selected + row);
      return true;
    case 'rowUp':
      state.select(state.selected - row);
      return true;
    case 'first':
      state.select(0);
      return true;
    case 'last':
      state.select(state.images.length - 1);
      return true;
    case 'pageDown':
      state.select(state.selected + page);
      return true;
    case 'pageUp':
      state.select(state.selected - page);
      return true;
    case 'extendNext':
      state.extendTo(state.selected + 1);
      return true;
    case 'extendPrevious':
      state.extendTo(state.selected - 1);
      return true;
    case 'extendDown':
      state.extendTo(state.selected + row);
      return true;
    case 'extendUp':
      state.extendTo(state.selected - row);
      return true;
    case 'selectAll':
      state.selectAll();
      return true;
    case 'rate0':
      return rate(0);
    case 'rate1':
      return rate(1);
    case 'rate2':
      return rate(2);
    case 'rate3':
      return rate(3);
    case 'rate4':
      return rate(4);
    case 'rate5':
      return rate(5);
    case 'pick':
      void mark({ flag: 'pick' });
      return true;
    case 'reject':
      void mark({ flag: 'reject' });
      return true;
    case 'unflag':
      void mark({ flag: 'none' });
      return true;
    case 'undo':
      void undo();
      return true;
    case 'redo':
      void redo();
      return true;
    case 'autoAdvance':
      state.setAutoAdvance(!state.autoAdvance);
      return true;
    case 'maybeLater':
      state.setFilter({ flag: state.filter.flag === 'rejected' ? 'all' : 'rejected' });
      return true;
    case 'filterAll':
      return filter(0);
    case 'filter1':
      return filter(1);
    case 'filter2':
      return filter(2);
    case 'filter3':
      return filter(3);
    case 'filter4':
      return filter(4);
    case 'filter5':
      return filter(5);
    case 'sharpness':
      state.setShowSharpness(!state.showSharpness);
      return true;
    case 'smaller':
      // Where no thumbnails show (loupe, compare), - and = step the zoom levels instead.
      if (state.mode === 'loupe' || state.mode === 'compare') stepZoom(-1);
      else state.setCellSize(state.cellSize / 1.25);
      return true;
    case 'larger':
      if (state.mode === 'loupe' || state.mode === 'compare') stepZoom(1);
      else state.setCellSize(state.cellSize * 1.25);
      return true;
    case 'zoomIn':
    case 'zoomOut':
      if (state.mode === 'grid') {
        if (state.selected < 0) return true;
        state.setMode('loupe');
      }
      stepZoom(action === 'zoomIn' ? 1 : -1);
      return true;
    case 'labelRed':
    case 'labelYellow':
    case 'labelGreen':
    case 'labelBlue':
      void toggleLabel(LABEL_OF[action]);
      return true;
    case 'toggleStack': {
      const jobId = state.images[state.selected]?.jobId ?? null;
      if (!state.stacks.on) state.setStacking(true);
      else if (jobId !== null && (state.stackInfo[jobId] || state.stacks.expanded.includes(jobId))) state.toggleStack(jobId);
      return true;
    }
    case 'stacking':
      state.setStacking(!state.stacks.on);
      return true;
    case 'newProject':
      handlers.newProject();
      return true;
    case 'importImages':
      if (hasProject) handlers.importImages();
      return true;
    case 'renameProject':
      if (hasProject) handlers.renameProject();
      return true;
    case 'timeCost':
      if (hasProject) handlers.timeCost();
      return true;
    case 'exportImages':
      if (hasProject) handlers.exportImages();
      return true;
    case 'moodBoard':
      if (hasProject) state.setMode(state.mode === 'moodboard' ? 'grid' : 'moodboard');
      return true;
    case 'sections':
      if (hasProject) state.setMode(state.mode === 'sections' ? 'grid' : 'sections');
      return true;
    case 'modelLibrary':
      openLibrary();
      return true;
    case 'infoPanel':
      infoPanelKey();
      return true;
    case 'sidePanel':
      toggleSidePanel();
      return true;
    case 'refine':
      if (hasProject && state.selected >= 0) void refineKey();
      return true;
  }
}
