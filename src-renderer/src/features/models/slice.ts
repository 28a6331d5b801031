/** The model library's state: the curated list, downloads and imports as the core reports them, and which of its dialogs show. */
import type { CatalogEntry, ModelTask } from '../../../../src-main/core/api/index';
import type { Slice, Store } from '../../store/types';

/** The library's smaller dialogs, shown over the library or on their own (from the first-run choices). */
export type ModelDialog = 'import' | 'folder';

export interface ModelLibrarySlice {
  /** Null until `models.catalog` answers. */
  catalog: CatalogEntry[] | null;
  /** Downloads and imports the core knows (it keeps finished ones until it restarts), oldest first. */
  modelTasks: ModelTask[];
  /** Finished tasks the user cleared from the lists. */
  clearedTasks: string[];
  libraryOpen: boolean;
  modelDialog: ModelDialog | null;
  setCatalog(catalog: CatalogEntry[]): void;
  /** Adds tasks not known yet: a known one may be newer already (its events came first). */
  addModelTasks(tasks: ModelTask[]): void;
  /** Replaces a task: `models.task` events, which arrive in order, are the latest word. */
  upsertModelTask(task: ModelTask): void;
  setClearedTasks(ids: string[]): void;
  /** Drops a task the core has forgotten. */
  removeModelTask(id: string): void;
  setLibraryOpen(open: boolean): void;
  setModelDialog(dialog: ModelDialog | null): void;
}

export const createModelLibrarySlice: Slice<ModelLibrarySlice> = (set) => ({
  catalog: null,
  modelTasks: [],
  clearedTasks: [],
  libraryOpen: false,
  modelDialog: null,
  setCatalog: (catalog) => set({ catalog }),
  addModelTasks: (tasks) =>
    set((state) => {
      const known = new Set(state.modelTasks.map((t) => t.id));
      const fresh = tasks.filter((t) => !known.has(t.id));
      return fresh.length === 0
        ? {}
        : { modelTasks: [...state.modelTasks, ...fresh].sort((a, b) => a.createdAt.localeCompare(b.createdAt)) };
    }),
  upsertModelTask: (task) =>
    set((state) => {
      const at = state.modelTasks.findIndex((t) => t.id === task.id);
      if (at < 0) return { modelTasks: [...state.modelTasks, task] };
      const modelTasks = state.modelTasks.slice();
      modelTasks[at] = task;
      return { modelTasks };
    }),
  setClearedTasks: (clearedTasks) => set({ clearedTasks }),
  removeModelTask: (id) => set((state) => ({ modelTasks: state.modelTasks.filter((t) => t.id !== id) })),
  setLibraryOpen: (libraryOpen) => set(libraryOpen ? { libraryOpen } : { libraryOpen, modelDialog: null }),
  setModelDialog: (modelDialog) => set({ modelDialog }),
});

/** True once `models.list` answered with no model: generating is off until one is installed. */
export const noModelInstalled = (state: Pick<Store, 'models'>): boolean => state.models !== null && state.models.models.length === 0;

/** Why queueing is off while no model is installed. */
export const NO_MODEL_REASON = 'Generating needs a Stable Diffusion model: download or import one (Models, Shift+M).';

/** The tasks the lists show: every one not cleared. */
export function shownTasks(tasks: readonly ModelTask[], cleared: readonly string[]): ModelTask[] {
  if (cleared.length === 0) return tasks as ModelTask[];
  const hidden = new Set(cleared);
  return tasks.filter((t) => !hidden.has(t.id));
}
