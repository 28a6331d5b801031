import { mark, redo, toggleCompare, toggleFullscreen, undo } from '../features/curation/actions';
import { infoPanelKey } from '../features/loupe/InfoPanel';
import { openLibrary } from '../features/models/actions';
import { reportActivity } from '../features/timecost/actions';
import { zoomAtPointer } from '../shared/zoom';
import { useStore } from '../store';
import { actionFor, keyOf, type Action } from './keymap';
import { showSideTab, toggleSidePanel } from './SidePanel';

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
  if (typingTarget(event.target) || pressesControl(event)) return false;
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
      state.setCellSize(state.cellSize / 1.25);
      return true;
    case 'larger':
      state.setCellSize(state.cellSize * 1.25);
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
  }
}
