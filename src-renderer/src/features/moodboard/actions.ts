/** The mood board: plain functions over the client and the store. */
import type { BrandColour, UnsplashPhoto } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
import { reportError } from '../../shared/report';
import { useStore } from '../../store';
import { loadProjects } from '../projects/actions';
import { mergePalette } from './palette';

/** Loads the board and its aggregated palette; a reply for a project no longer open is dropped. */
export async function loadRefs(projectId = useStore.getState().currentProjectId): Promise<void> {
  if (projectId === null) return;
  try {
    const client = getClient();
    const [refs, palette] = await Promise.all([client.call('refs.list', { projectId }), client.call('refs.palette', { projectId })]);
    if (useStore.getState().currentProjectId === projectId) useStore.getState().setRefs(refs, palette);
  } catch (error) {
    reportError(error);
  }
}

/** Adds files, folders or URLs to the board; the per-item report lands in the store. */
export async function addRefs(items: string[]): Promise<void> {
  const projectId = useStore.getState().currentProjectId;
  const unique = [...new Set(items.map((i) => i.trim()).filter(Boolean))];
  if (projectId === null || unique.length === 0) return;
  try {
    const result = await getClient().call('refs.add', { projectId, items: unique });
    if (useStore.getState().currentProjectId !== projectId) return;
    useStore.getState().setRefReport(result);
    await loadRefs(projectId);
  } catch (error) {
    reportError(error);
  }
}

export async function removeRefs(refIds: number[]): Promise<void> {
  const projectId = useStore.getState().currentProjectId;
  if (projectId === null || refIds.length === 0) return;
  try {
    await getClient().call('refs.remove', { projectId, refIds });
    await loadRefs(projectId);
  } catch (error) {
    reportError(error);
  }
}

/** Moves a reference to a 0-based place on the board. */
export async function moveRef(refId: number, position: number): Promise<void> {
  const projectId = useStore.getState().currentProjectId;
  if (projectId === null || position < 0) return;
  try {
    await getClient().call('refs.move', { refId, position });
    await loadRefs(projectId);
  } catch (error) {
    reportError(error);
  }
}

export async function saveMood(mood: string): Promise<boolean> {
  const projectId = useStore.getState().currentProjectId;
  if (projectId === null) return false;
  try {
    await getClient().call('projects.update', { projectId, mood });
    await loadProjects();
    return true;
  } catch (error) {
    reportError(error);
    return false;
  }
}

/** Takes the board's palette into the brand palette: `replace` makes it the palette, `append` adds what it lacks. */
export async function takeBoardPalette(how: 'replace' | 'append'): Promise<void> {
  const state = useStore.getState();
  const project = state.projects.find((p) => p.id === state.currentProjectId);
  if (!project || state.boardPalette.length === 0) return;
  const palette = mergePalette(project.palette, state.boardPalette, how);
  try {
    await getClient().call('projects.update', { projectId: project.id, palette });
    await loadProjects();
  } catch (error) {
    reportError(error);
  }
}

/** Saves the brand palette as edited; false (and the reason on the notice line) when the core refuses it. */
export async function savePalette(palette: BrandColour[]): Promise<boolean> {
  const projectId = useStore.getState().currentProjectId;
  if (projectId === null) return false;
  try {
    await getClient().call('projects.update', { projectId, palette });
    await loadProjects();
    return true;
  } catch (error) {
    reportError(error);
    return false;
  }
}

/** One page of Unsplash results (their thumbnails fetched by the core); throws with the core's message. */
export function searchUnsplash(query: string, page: number): Promise<{ results: UnsplashPhoto[]; total: number }> {
  return getClient().call('unsplash.search', { query, page });
}

/** Pins an Unsplash photo on the board, credited; the report lands in the store like any other addition. */
export async function addUnsplashPhoto(photoId: string): Promise<boolean> {
  const projectId = useStore.getState().currentProjectId;
  if (projectId === null) return false;
  try {
    const result = await getClient().call('unsplash.import', { projectId, photoId });
    if (useStore.getState().currentProjectId !== projectId) return false;
    useStore.getState().setRefReport(result);
    await loadRefs(projectId);
    return result.added.length > 0;
  } catch (error) {
    reportError(error);
    return false;
  }
}
