/** The projects: listing, opening, creating, renaming, and importing images into the open one. */
import type { ImagePage, ImageSummary, Project } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
import { reportError } from '../../shared/report';
import { useStore } from '../../store';
import { loadGenerationChoices } from '../generation/actions';
import { resetGridPainted, whenGridPainted } from '../grid/painted';

const LAST_PROJECT_KEY = 'onbrand.lastProject';

/** The first page of the project opened last time, asked for beside the list of projects at start-up. */
let prefetched: { projectId: number; page: Promise<ImagePage> } | null = null;

/**
 * The requests the boot script (boot.ts) started before the app loaded, taken over once: the
 * project list and the first page of the project it expected to open. Null where it started none.
 */
function takeBoot(): { projects: Promise<Project[]>; firstPage: Promise<{ projectId: number; page: ImagePage } | null> } | null {
  const boot = window.__onbrandBoot;
  if (!boot) return null;
  window.__onbrandBoot = undefined;
  return boot;
}

export async function loadProjects(): Promise<void> {
  try {
    const last = Number(localStorage.getItem(LAST_PROJECT_KEY));
    const boot = takeBoot();
    if (useStore.getState().currentProjectId === null) {
      if (boot) {
        // The boot script asked already: its page is used if it is the project that opens.
        const page = boot.firstPage.then((first) => first?.page ?? Promise.reject(new Error('no first page')));
        page.catch(() => undefined);
        const projectId = await boot.firstPage.then((first) => first?.projectId ?? null).catch(() => null);
        if (projectId !== null) prefetched = { projectId, page };
      } else if (last > 0) {
        // Most likely the project to open: its first page need not wait for the list's round trip.
        const page = getClient().call('images.page', { projectId: last, offset: 0, limit: FIRST_PAGE });
        page.catch(() => undefined);
        prefetched = { projectId: last, page };
      }
    }
    const projects = await (boot?.projects.catch(() => getClient().call('projects.list', {})) ?? getClient().call('projects.list', {}));
    useStore.getState().setProjects(projects);
    const state = useStore.getState();
    if (state.currentProjectId === null && projects.length > 0) {
      const pick = projects.find((p) => p.id === last) ?? projects[0]!;
      await openProject(pick.id);
    }
  } catch (error) {
    reportError(error);
  } finally {
    prefetched = null;
    shown();
  }
}

/** The first page of a project: more than a screenful of the largest grid, small enough to come at once. */
export const FIRST_PAGE = 200;
/** The pages that follow, streamed in after the first paint. */
export const PAGE = 5000;

/** How long the pages after the first wait for the grid's first paint at most. */
const PAINT_WAIT_MS = 1000;

let shownResolve: () => void = () => undefined;
/**
 * Resolves once the first project's first screenful is painted (or there is no project to open, or
 * it failed): start-up calls the grid does not need wait for it, so they do not take the browser's
 * few connections from its thumbnails.
 */
export const firstProjectShown = new Promise<void>((resolve) => (shownResolve = resolve));
const shown = (): void => shownResolve();

/** Bumped by each opening: a stream of pages stops as soon as another opening starts. */
let opening = 0;

/**
 * Fetches a project's images page by page from `offset`, handing each page over as it comes,
 * until the project's `total` is in or `wanted` says stop. Returns false when it stopped early.
 */
export async function streamImagePages(
  projectId: number,
  offset: number,
  total: number,
  onPage: (images: ImageSummary[], total: number) => void,
  wanted: () => boolean,
): Promise<boolean> {
  while (offset < total) {
    if (!wanted()) return false;
    const page = await getClient().call('images.page', { projectId, offset, limit: PAGE });
    if (!wanted()) return false;
    if (page.images.length === 0) break;
    onPage(page.images, page.total);
    offset += page.images.length;
    total = page.total;
  }
  return true;
}

/**
 * Opens a project: its first page is shown at once (the grid knows the project's size from it),
 * the rest is streamed in behind it without moving the selection or the scroll. Opening another
 * project meanwhile stops the stream.
 */
export async function openProject(projectId: number): Promise<void> {
  const ticket = ++opening;
  resetGridPainted();
  const store = useStore.getState();
  store.setCurrentProject(projectId);
  store.setLoading(true);
  store.endStream();
  store.setPresets([]);
  localStorage.setItem(LAST_PROJECT_KEY, String(projectId));
  // For the browser host, which draws the first screenful of the project that opens (host/boot-view.ts).
  document.cookie = `${LAST_PROJECT_KEY}=${projectId}; path=/; max-age=31536000; SameSite=Strict`;
  if (store.generateOpen) void loadGenerationChoices();
  // Another project may have been opened while this one loaded: the last opening wins.
  const current = (): boolean => opening === ticket && useStore.getState().currentProjectId === projectId;
  try {
    const early = prefetched?.projectId === projectId ? prefetched.page : null;
    prefetched = null;
    const first = await (early ?? getClient().call('images.page', { projectId, offset: 0, limit: FIRST_PAGE }));
    if (!current()) return;
    useStore.getState().setImages(first.images, first.total);
    useStore.getState().setLoading(false);
    // The rest waits for the first screenful's thumbnails: a page of 5,000 would hold them up at the server.
    if (first.images.length > 0) await whenGridPainted(PAINT_WAIT_MS);
    shown();
    await streamImagePages(projectId, first.images.length, first.total, (images) => useStore.getState().addImages(images), current);
  } catch (error) {
    if (current()) reportError(error);
  } finally {
    shown();
    if (current()) {
      useStore.getState().setLoading(false);
      useStore.getState().endStream();
    }
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
    reportError(error);
  }
}
