/**
 * What the model library does, as plain functions over the client and the store: the installed
 * models, the curated list, downloads and imports (tasks whose progress arrives as `models.task`
 * events), removal and the Hugging Face token.
 */
import type { ModelList, ModelTask, RequestInput } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
import { errorText } from '../../shared/report';
import { useStore } from '../../store';
import type { ModelDialog } from './slice';

const CLEARED_KEY = 'onbrand.clearedModelTasks';

/** Library errors name the field the core names (a folder, a token). */
function report(error: unknown): void {
  useStore.getState().notify('error', errorText(error));
}

/** The installed models (the Generate form's choice follows; see `setModels`). */
export async function loadModels(): Promise<ModelList | null> {
  try {
    const models = await getClient().call('models.list', {});
    useStore.getState().setModels(models);
    return models;
  } catch (error) {
    report(error);
    return null;
  }
}

export async function loadCatalog(): Promise<void> {
  try {
    useStore.getState().setCatalog(await getClient().call('models.catalog', {}));
  } catch (error) {
    report(error);
  }
}

/** Downloads and imports, running ones included: a download goes on across restarts of the app. */
export async function loadModelTasks(): Promise<void> {
  try {
    const tasks = await getClient().call('models.tasks', {});
    const known = new Set(tasks.map((t) => t.id));
    // Cleared tasks the core has forgotten (it restarted) need not be remembered either.
    const cleared = readCleared().filter((id) => known.has(id));
    writeCleared(cleared);
    useStore.getState().setClearedTasks(cleared);
    useStore.getState().addModelTasks(tasks);
  } catch (error) {
    report(error);
  }
}

/** Everything the library and the first-run choices show; called at start. */
export async function loadModelLibrary(): Promise<void> {
  await Promise.all([loadModels(), loadCatalog(), loadModelTasks()]);
}

export function openLibrary(open = true): void {
  useStore.getState().setLibraryOpen(open);
  if (open) void loadModelLibrary();
}

/** Opens the import or models-folder dialog (over the library when it is open). */
export function openModelDialog(dialog: ModelDialog | null): void {
  useStore.getState().setModelDialog(dialog);
  if (dialog) void loadModels();
}

/** The model the Generate form uses for the next jobs. */
export function selectModel(name: string): void {
  useStore.getState().editDraft({ model: name });
}

/** Starts a download (a catalogue id, `owner/repo[@rev][:file]` or a URL). Returns an error message, or null. */
export async function pullModel(source: string, name?: string): Promise<string | null> {
  try {
    const task = await getClient().call('models.pull', { source, ...(name ? { name } : {}) });
    // Its events may have come first (and be newer): only add it when missing.
    useStore.getState().addModelTasks([task]);
    return null;
  } catch (error) {
    return errorText(error);
  }
}

/** Starts an import; returns its task, or an error message for the dialog. */
export async function importModel(input: RequestInput<'models.import'>): Promise<ModelTask | string> {
  try {
    const task = await getClient().call('models.import', input);
    useStore.getState().addModelTasks([task]);
    return task;
  } catch (error) {
    return errorText(error);
  }
}

// Cancel, resume and discard show their effect through the `models.task` events, which arrive in
// order; a call's own answer can be older than them.

/** Stops a task; a download keeps what it fetched (Resume goes on) unless `discard`. */
export async function cancelModelTask(task: ModelTask, discard = false): Promise<void> {
  try {
    await getClient().call('models.cancel', { taskId: task.id, ...(discard ? { discard: true } : {}) });
    if (discard) clearModelTask(task.id);
  } catch (error) {
    report(error);
  }
}

export async function resumeModelTask(task: ModelTask): Promise<void> {
  try {
    await getClient().call('models.resume', { taskId: task.id });
  } catch (error) {
    report(error);
  }
}

/** Takes a finished task off the lists, and has the core forget it (a failed download's partial files go too). */
export function clearModelTask(id: string): void {
  const cleared = [...new Set([...useStore.getState().clearedTasks, id])];
  writeCleared(cleared);
  useStore.getState().setClearedTasks(cleared);
  void getClient()
    .call('models.clear', { taskId: id })
    .then(() => useStore.getState().removeModelTask(id))
    .catch(() => undefined); // Still running (a discard that finishes later: it stays hidden), or already forgotten.
}

/** Whether a Hugging Face token is saved (settings or HF_TOKEN); never the token itself. */
export async function hubSettings(): Promise<{ hasToken: boolean; endpoint: string } | null> {
  try {
    return await getClient().call('models.hub', {});
  } catch {
    return null;
  }
}

/** Removes an installed model (its folder). Returns an error message, or null. */
export async function removeModel(name: string): Promise<string | null> {
  try {
    await getClient().call('models.remove', { name });
    await Promise.all([loadModels(), loadCatalog()]);
    return null;
  } catch (error) {
    return errorText(error);
  }
}

/** Saves (or, with null, removes) the Hugging Face token. Returns what to tell the user. */
export async function saveHfToken(token: string | null): Promise<{ ok: boolean; text: string }> {
  try {
    const { hasToken } = await getClient().call('models.setToken', { token });
    return {
      ok: true,
      text: hasToken ? 'Token saved: downloads from gated repositories you have access to will use it.' : 'Token removed.',
    };
  } catch (error) {
    return { ok: false, text: errorText(error) };
  }
}

/**
 * A `models.task` event. A task that has just finished installing refreshes the models and
 * becomes the Generate form's model: the user downloaded it to use it.
 */
export function takeModelTask(task: ModelTask): void {
  const state = useStore.getState();
  const before = state.modelTasks.find((t) => t.id === task.id);
  state.upsertModelTask(task);
  if (task.state !== 'done' || before?.state === 'done') return;
  void loadModels().then((models) => {
    if (models?.models.some((m) => m.name === task.name)) selectModel(task.name);
  });
  if (state.catalog) void loadCatalog();
}

/** A `models.changed` event: a model was added or removed (here or in another window). */
export function takeModelsChanged(): void {
  void loadModels();
  if (useStore.getState().catalog) void loadCatalog();
}

function readCleared(): string[] {
  try {
    const raw = JSON.parse(localStorage.getItem(CLEARED_KEY) ?? '[]') as unknown;
    return Array.isArray(raw) ? raw.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

function writeCleared(ids: string[]): void {
  try {
    localStorage.setItem(CLEARED_KEY, JSON.stringify(ids));
  } catch {
    // Storage full or off: the lists just show the task again after a reload.
  }
}
