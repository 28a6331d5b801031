/**
 * The remappable keys: every action has a name, a label for the cheat sheet and a list of key
 * specs (`ctrl+shift+z`, `space`, `?`). Two presets (Onbrand's default, Lightroom's) and the
 * user's own edits, kept in localStorage.
 */

export const ACTIONS = {
  loupe: 'Loupe on the selected image (toggles)',
  grid: 'Back to the grid; in the grid, clears a multi-selection (Esc also lets go of a field or control)',
  compare: 'Compare the selected images (2 to 4) side by side',
  zoom: 'Zoom to 100 % around the pointer (toggles); drag to pan',
  zoomIn: 'Zoom in: fit → 50 % → 100 % → 200 % (in the grid, opens the loupe)',
  zoomOut: 'Zoom out: 200 % → 100 % → 50 % → fit',
  fullscreen: 'Full screen',
  lightsOut: 'Lights out: dim everything but the images',
  cheatSheet: 'This list of keys',
  next: 'Next image',
  previous: 'Previous image',
  rowDown: 'A row down (grid)',
  rowUp: 'A row up (grid)',
  first: 'First image',
  last: 'Last image',
  pageDown: 'A screenful down',
  pageUp: 'A screenful up',
  extendNext: 'Extend the selection right',
  extendPrevious: 'Extend the selection left',
  extendDown: 'Extend the selection a row down',
  extendUp: 'Extend the selection a row up',
  selectAll: 'Select all shown images',
  rate0: 'Clear the rating',
  rate1: '★ 1 star',
  rate2: '★★ 2 stars',
  rate3: '★★★ 3 stars',
  rate4: '★★★★ 4 stars',
  rate5: '★★★★★ 5 stars',
  pick: 'Flag as pick',
  reject: 'Reject (moves the file to _Rejected/Maybe Later)',
  unflag: 'Unflag (restores a rejected image)',
  labelRed: 'Red label (again: off)',
  labelYellow: 'Yellow label (again: off)',
  labelGreen: 'Green label (again: off)',
  labelBlue: 'Blue label (again: off)',
  undo: 'Undo the last rating, flag or label change (shows the image again)',
  redo: 'Redo',
  autoAdvance: 'Auto-advance after rating (toggles)',
  maybeLater: 'Show Maybe Later (rejected images) / back to all',
  filterAll: 'Filter: every rating',
  filter1: 'Filter: ★ and up',
  filter2: 'Filter: ★★ and up',
  filter3: 'Filter: ★★★ and up',
  filter4: 'Filter: ★★★★ and up',
  filter5: 'Filter: ★★★★★ only',
  sharpness: 'Show sharpness scores on the cells (toggles)',
  smaller: 'Smaller thumbnails (in the loupe and compare: zoom out)',
  larger: 'Larger thumbnails (in the loupe and compare: zoom in)',
  toggleStack: "Open / close the selected image's stack (a generation job's images; turns stacks on)",
  stacking: 'Stacks on / off: one cell per generation job',
  newProject: 'New project',
  importImages: 'Import images',
  renameProject: 'Rename the project',
  timeCost: 'Time + Cost',
  exportImages: 'Export to Framer, Sora or a folder',
  moodBoard: 'Mood board (toggles)',
  sections: 'Page sections and their colour check (toggles)',
  modelLibrary: 'Models: download, import and remove Stable Diffusion models',
  infoPanel: 'Info panel in the loupe: histogram and generation parameters (toggles)',
  sidePanel: 'Collapse or expand the side panel (Generate, Composer, queue)',
  refine: 'Refine the selected draft: same seed at full settings, or img2img (as chosen in the Generate panel)',
} as const;

export type Action = keyof typeof ACTIONS;
export type Keymap = Record<Action, string[]>;
export type PresetName = 'default' | 'lightroom';

const COMMON: Omit<Keymap, 'loupe' | 'lightsOut'> = {
  grid: ['g', 'escape'],
  compare: ['c'],
  zoom: ['z', 'space'],
  zoomIn: ['ctrl+=', 'ctrl++'],
  zoomOut: ['ctrl+-'],
  fullscreen: ['f'],
  cheatSheet: ['?'],
  next: ['arrowright'],
  previous: ['arrowleft'],
  rowDown: ['arrowdown'],
  rowUp: ['arrowup'],
  first: ['home'],
  last: ['end'],
  pageDown: ['pagedown'],
  pageUp: ['pageup'],
  extendNext: ['shift+arrowright'],
  extendPrevious: ['shift+arrowleft'],
  extendDown: ['shift+arrowdown'],
  extendUp: ['shift+arrowup'],
  selectAll: ['ctrl+a'],
  rate0: ['0'],
  rate1: ['1'],
  rate2: ['2'],
  rate3: ['3'],
  rate4: ['4'],
  rate5: ['5'],
  pick: ['p'],
  reject: ['x'],
  unflag: ['u'],
  labelRed: ['6'],
  labelYellow: ['7'],
  labelGreen: ['8'],
  labelBlue: ['9'],
  undo: ['ctrl+z'],
  redo: ['ctrl+shift+z', 'ctrl+y'],
  autoAdvance: ['capslock'],
  maybeLater: ['m'],
  filterAll: ['ctrl+0'],
  filter1: ['ctrl+1'],
  filter2: ['ctrl+2'],
  filter3: ['ctrl+3'],
  filter4: ['ctrl+4'],
  filter5: ['ctrl+5'],
  sharpness: ['s'],
  smaller: ['-'],
  larger: ['=', '+'],
  toggleStack: ['k'],
  stacking: ['shift+k'],
  newProject: ['ctrl+n'],
  importImages: ['ctrl+i'],
  renameProject: ['f2'],
  timeCost: ['t'],
  exportImages: ['ctrl+e'],
  moodBoard: ['b'],
  sections: ['shift+s'],
  modelLibrary: ['shift+m'],
  // Lightroom: I for the loupe's info, F8 for the right-hand panels.
  infoPanel: ['i'],
  sidePanel: ['f8'],
  // Free in both presets (Lightroom's R is Develop's crop, which Onbrand's Library has no use for).
  refine: ['r'],
};

export const PRESETS: Record<PresetName, Keymap> = {
  // Onbrand: L for the loupe, as the designers' loop says ("hit L for loupe"), Enter too.
  default: { ...COMMON, loupe: ['l', 'enter'], lightsOut: ['shift+l'] },
  // Lightroom Classic: E for the loupe (Library), L cycles lights out.
  lightroom: { ...COMMON, loupe: ['e', 'enter'], lightsOut: ['l'] },
};

const KEYMAP_KEY = 'onbrand.keymap';

export interface KeySettings {
  preset: PresetName;
  /** The user's own bindings, over the preset's. */
  overrides: Partial<Keymap>;
}

export function loadKeySettings(): KeySettings {
  try {
    const raw = JSON.parse(localStorage.getItem(KEYMAP_KEY) ?? 'null') as Partial<KeySettings> | null;
    const preset = raw?.preset === 'lightroom' ? 'lightroom' : 'default';
    const overrides: Partial<Keymap> = {};
    for (const [action, keys] of Object.entries(raw?.overrides ?? {})) {
      if (action in ACTIONS && Array.isArray(keys)) overrides[action as Action] = keys.filter((k): k is string => typeof k === 'string');
    }
    return { preset, overrides };
  } catch {
    return { preset: 'default', overrides: {} };
  }
}

export function saveKeySettings(settings: KeySettings): void {
  localStorage.setItem(KEYMAP_KEY, JSON.stringify(settings));
  current = undefined;
}

export function keymapOf(settings: KeySettings): Keymap {
  return { ...PRESETS[settings.preset], ...settings.overrides };
}

let current: Map<string, Action> | undefined;

/** The action a key spec runs under the saved settings (cached until they change). */
export function actionFor(spec: string): Action | undefined {
  if (!current) {
    current = new Map();
    for (const [action, keys] of Object.entries(keymapOf(loadKeySettings())) as [Action, string[]][]) {
      for (const key of keys) if (!current.has(key)) current.set(normalizeSpec(key), action);
    }
  }
  return current.get(spec);
}

/** Splits a spec into its modifiers and its key; `+` and `ctrl++` name the plus key. */
function splitSpec(spec: string): { mods: string[]; key: string } {
  const trimmed = spec.trim().toLowerCase();
  const plus = trimmed === '+' || trimmed.endsWith('++');
  const parts = (plus ? trimmed.slice(0, -1) : trimmed).split('+').map((p) => p.trim());
  const key = plus ? '+' : (parts.pop() ?? '');
  return { mods: parts.filter(Boolean), key };
}

/** Puts a typed spec (`Shift+Ctrl+Z`) in the form key events produce (`ctrl+shift+z`). */
export function normalizeSpec(spec: string): string {
  const { mods, key } = splitSpec(spec);
  const named = new Set(mods.map((m) => (m === 'cmd' || m === 'meta' || m === 'control' ? 'ctrl' : m === 'option' ? 'alt' : m)));
  const name = key === ' ' ? 'space' : key === 'esc' ? 'escape' : key;
  return [...['ctrl', 'alt', 'shift'].filter((m) => named.has(m)), name].join('+');
}

/**
 * A key event as a spec. Digits come from the physical key, so Shift+1 is `shift+1` on every
 * layout; a symbol already says whether Shift was down (`?`), so Shift is left out for it.
 */
export function keyOf(event: Pick<KeyboardEvent, 'key' | 'code' | 'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey'>): string {
  const digit = /^(?:Digit|Numpad)(\d)$/.exec(event.code);
  let key = digit ? digit[1]! : event.key === ' ' ? 'space' : event.key.toLowerCase();
  if (key === 'esc') key = 'escape';
  const symbol = key.length === 1 && !/[a-z0-9]/.test(key);
  const parts: string[] = [];
  if (event.ctrlKey || event.metaKey) parts.push('ctrl');
  if (event.altKey) parts.push('alt');
  if (event.shiftKey && !symbol) parts.push('shift');
  parts.push(key);
  return parts.join('+');
}

/** How a spec reads on the cheat sheet: `ctrl+shift+z` → `Ctrl+Shift+Z`. */
export function describeSpec(spec: string): string {
  const names: Record<string, string> = {
    arrowright: '→',
    arrowleft: '←',
    arrowup: '↑',
    arrowdown: '↓',
    space: 'Space',
    escape: 'Esc',
    capslock: 'Caps Lock',
    pageup: 'PageUp',
    pagedown: 'PageDown',
    home: 'Home',
    end: 'End',
    enter: 'Enter',
  };
  const word = (p: string): string => names[p] ?? (p.length <= 1 ? p.toUpperCase() : p[0]!.toUpperCase() + p.slice(1));
  const { mods, key } = splitSpec(spec);
  return [...mods, key].map(word).join('+');
}
