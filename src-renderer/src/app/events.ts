/** What the UI does, as plain functions over the client and the store (callable from keys, buttons, tests). */
import { ApiCallError, getClient } from './api/client';
import { loadRefs, loadSections } from './board-actions';
import type { AppEvent } from '../../src-main/core/api/index';
import { takeUpdatedImages, withPendingMarks } from './curation-actions';
import { loadEngineStatus, loadGenerationChoices, loadJobs } from './generation-actions';
import { loadModelTasks, takeModelsChanged, takeModelTask } from './models/actions';
import { useStore } from './store';
import { loadTime } from './time-actions';

const LAST_PROJECT_KEY = 'onbrand.lastProject';

function report(error: unknown): void {
  const text = error instanceof ApiCallError || error instanceof Error ? error.message : String(error);
  useStore.getState().notify('error', text);
}

export async function loadProjects(): Promise<void> {
  try {
    const projects = await getClient().call('projects.list', {});
    useStore.getState().setProjects(projects);
    const state = useStore.getState();
    if (state.currentProjectId === null && projects.length > 0) {
      const last = Number(localStorage.getItem(LAST_PROJECT_KEY));
      const pick = projects.find((p) => p.id === last) ?? projects[0]!;
      await openProject(pick.id);
    }
  } catch (error) {
    report(error);
  }
}

export async function openProject(projectId: number): Promise<void> {
  const store = useStore.getState();
  store.setCurrentProject(projectId);
  store.setLoading(true);
  store.setPresets([]);
  localStorage.setItem(LAST_PROJECT_KEY, String(projectId));
  if (store.generateOpen) void loadGenerationChoices();
  try {
    const images = await getClient().call('images.list', { projectId });
    // Another project may have been opened while this one loaded: the last request wins.
    if (useStore.getState().currentProjectId === projectId) useStore.getState().setImages(images);
  } catch (error) {
    report(error);
  } finally {
    if (useStore.getState().currentProjectId === projectId) useStore.getState().setLoading(false);
  }
}

/** Creates a project and opens it. Returns an error message for the dialog, or null. */
export async function createProject(name: string, folder: string): Promise<string | null> {
  try {
    const project = await getClient().call('projects.create', { name, ...(folder.trim() ? { folder: folder.trim() } : {}) });
    await loadProjects();
    await openProject(project.id);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

export async function renameProject(projectId: number, name: string): Promise<string | null> {
  try {
    await getClient().call('projects.rename', { projectId, name });
    await loadProjects();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

export async function importPaths(paths: string[]): Promise<void> {
  const store = useStore.getState();
  const projectId = store.currentProjectId;
  if (projectId === null || paths.length === 0 || store.importing) return;
  store.startImport();
  try {
    const result = await getClient().call('images.import', { projectId, paths });
    useStore.getState().finishImport(result);
    if (useStore.getState().currentProjectId === projectId) useStore.getState().addImages(result.imported);
    void loadProjects();
  } catch (error) {
    useStore.getState().finishImport(null);
    report(error);
  }
}

/** Colour analyses arrive in bursts: the sections' check is redone once they settle. */
let recheck: ReturnType<typeof setTimeout> | undefined;
function recheckSoon(): void {
  clearTimeout(recheck);
  recheck = setTimeout(() => {
    if (useStore.getState().mode === 'sections') void loadSections();
  }, 300);
}

/**
 * Events that arrived while a resync was fetching (see `resync`), or null when none is. Those of
 * them that carry state are taken again once the fetched state is in: the fetched copy may be
 * older than they are.
 */
let journal: AppEvent[] | null = null;
let resyncing: Promise<void> | null = null;
let resyncAgain = false;

/** Events whose payload is the whole new state of something: taking one twice changes nothing. */
const STATEFUL: ReadonlySet<AppEvent['type']> = new Set(['job.updated', 'job.progress', 'engine.status', 'images.added', 'images.updated', 'thumbnail.ready', 'models.task']);

/**
 * Fetches again everything this window keeps from events: the queue, the engine, downloads, the
 * projects, the open project's images (the selection stays) and the open board, sections or time
 * view. Called when the event stream is back after a break (a laptop sleep, the host restarted):
 * what was sent meanwhile is lost, and a job that finished in the break would show "running"
 * forever. Events that arrive while it fetches are taken again after, in order, so none is undone.
 */
export function resync(): Promise<void> {
  if (resyncing) {
    // Another break while fetching: once more when this one is done, with what is true then.
    resyncAgain = true;
    return resyncing;
  }
  resyncing = (async () => {
    do {
      resyncAgain = false;
      journal = [];
      const projectId = useStore.getState().currentProjectId;
      const state = useStore.getState();
      await Promise.all([
        loadProjects(),
        loadJobs(),
        loadEngineStatus(),
        loadModelTasks(),
        projectId === null ? undefined : reloadImages(projectId),
        projectId !== null && state.mode === 'moodboard' ? loadRefs(projectId) : undefined,
        projectId !== null && state.mode === 'sections' ? loadSections(projectId) : undefined,
        projectId !== null && state.time?.projectId === projectId ? loadTime(projectId) : undefined,
      ]);
      takeModelsChanged();
      const missed = journal;
      journal = null;
      for (const event of missed) if (STATEFUL.has(event.type)) takeEvent(event);
    } while (resyncAgain);
  })().finally(() => {
    resyncing = null;
  });
  return resyncing;
}

/** The open project's images, fetched again without moving the selection. */
async function reloadImages(projectId: number): Promise<void> {
  try {
    const images = await getClient().call('images.list', { projectId });
    if (useStore.getState().currentProjectId === projectId) useStore.getState().refreshImages(withPendingMarks(images));
  } catch (error) {
    report(error);
  }
}

/** Feeds core events into the store, and fetches the state again after a break; returns the unsubscribe function. */
export function connectEvents(): () => void {
  const client = getClient();
  const unsubscribe = client.subscribe((event) => {
    journal?.push(event);
    takeEvent(event);
  });
  const stopResync = client.onReconnect(() => void resync());
  return () => {
    unsubscribe();
    stopResync();
  };
}

/** Takes one core event into the store. */
function takeEvent(event: AppEvent): void {
  const state = useStore.getState();
  switch (event.type) {
    case 'images.added':
      if (event.payload.projectId === state.currentProjectId) state.addImages(event.payload.images);
      break;
    case 'images.updated':
      if (event.payload.projectId === state.currentProjectId) {
        takeUpdatedImages(event.payload.images);
        recheckSoon();
      }
      break;
    case 'refs.changed':
      if (event.payload.projectId === state.currentProjectId) void loadRefs(event.payload.projectId);
      break;
    case 'sections.changed':
      if (event.payload.projectId === state.currentProjectId) void loadSections(event.payload.projectId);
      break;
    case 'thumbnail.ready':
      if (event.payload.projectId === state.currentProjectId) state.setThumbnail(event.payload.imageId, event.payload.thumbPath);
      break;
    case 'import.progress':
      if (state.importing) state.setProgress(event.payload);
      break;
    case 'projects.changed':
      void loadProjects();
      break;
    case 'job.updated':
      state.upsertJobs([event.payload]);
      // The project picker shows image counts; a finished job changed one.
      if (event.payload.state !== 'queued' && event.payload.state !== 'running') void loadProjects();
      break;
    case 'job.progress': {
      const { jobId, index, step, steps, etaMs, preview } = event.payload;
      state.setJobProgress(jobId, { index, step, steps, etaMs, preview });
      break;
    }
    case 'engine.status':
      state.setEngine(event.payload);
      break;
    case 'models.task':
      takeModelTask(event.payload);
      break;
    case 'models.changed':
      takeModelsChanged();
      break;
    case 'timelog.changed':
      // Only the open Time + Cost view needs the fresh numbers.
      if (state.time?.projectId === event.payload.projectId) void loadTime(event.payload.projectId);
      break;
  }
}
