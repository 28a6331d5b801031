/** Core events into the store, and fetching the state again after the event stream was cut. */
import type { AppEvent, BackendView, ImageSummary } from '../../../src-main/core/api/index';
import { getClient } from '../api/client';
import { takeUpdatedImages, withPendingMarks } from '../features/curation/actions';
import { loadEngineStatus, loadJobs } from '../features/generation/actions';
import { whenGridStill } from '../features/grid/scrolling';
import { loadModelTasks, takeModelsChanged, takeModelTask } from '../features/models/actions';
import { loadRefs } from '../features/moodboard/actions';
import { PAGE, loadProjects, streamImagePages } from '../features/projects/actions';
import { loadSections } from '../features/sections/actions';
import { loadBackends, takeBackends } from '../features/settings/actions';
import { loadTime } from '../features/timecost/actions';
import { reportError } from '../shared/report';
import { useStore } from '../store';

/** Colour analyses arrive in bursts: the sections' check is redone once they settle. */
let recheck: ReturnType<typeof setTimeout> | undefined;
function recheckSoon(): void {
  clearTimeout(recheck);
  recheck = setTimeout(() => {
    if (useStore.getState().mode === 'sections') void loadSections();
  }, 300);
}

/** Updated images held while the grid scrolls (features/grid/scrolling.ts), the newest of each. */
const held = new Map<number, ImageSummary>();
let heldProject: number | null = null;
function takeWhenStill(projectId: number, images: readonly ImageSummary[]): void {
  if (heldProject !== projectId) held.clear();
  heldProject = projectId;
  for (const image of images) held.set(image.id, image);
  whenGridStill(() => {
    const batch = [...held.values()];
    held.clear();
    // Another project opened meanwhile: these were not its images.
    if (heldProject !== useStore.getState().currentProjectId || batch.length === 0) return;
    takeUpdatedImages(batch);
    recheckSoon();
  });
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
const STATEFUL: ReadonlySet<AppEvent['type']> = new Set([
  'job.updated',
  'job.progress',
  'engine.status',
  'images.added',
  'images.updated',
  'thumbnail.ready',
  'preview.ready',
  'models.task',
  'backends.updated',
]);

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
        state.backends !== null ? loadBackends() : undefined,
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
    // Page by page, as the opening does: a 100,000-image project is not one answer of 50 MB.
    const first = await getClient().call('images.page', { projectId, offset: 0, limit: PAGE });
    const images = first.images;
    const wanted = (): boolean => useStore.getState().currentProjectId === projectId;
    const whole = await streamImagePages(projectId, images.length, first.total, (page) => images.push(...page), wanted);
    if (whole && wanted()) useStore.getState().refreshImages(withPendingMarks(images));
  } catch (error) {
    reportError(error);
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
      if (event.payload.projectId === state.currentProjectId) takeWhenStill(event.payload.projectId, event.payload.images);
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
    case 'preview.ready':
      if (event.payload.projectId === state.currentProjectId) state.setPreview(event.payload.imageId, event.payload.previewPath);
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
      const { jobId, index, step, steps, etaMs, preview, backend } = event.payload;
      state.setJobProgress(jobId, { index, step, steps, etaMs, preview, backend: backend ?? null });
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
    case 'backends.updated':
      takeBackends(event.payload.backends as BackendView[]);
      break;
    case 'timelog.changed':
      // Only the open Time + Cost view needs the fresh numbers.
      if (state.time?.projectId === event.payload.projectId) void loadTime(event.payload.projectId);
      break;
  }
}
