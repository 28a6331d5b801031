/** The projects: listing, opening, creating, renaming, and importing images into the open one. */
import { getClient } from '../../api/client';
import { reportError } from '../../shared/report';
import { useStore } from '../../store';
import { loadGenerationChoices } from '../generation/actions';

const LAST_PROJECT_KEY = 'onbrand.lastProject';

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
    reportError(error);
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
    reportError(error);
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
    reportError(error);
  }
}
