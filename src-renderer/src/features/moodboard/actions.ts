/** The mood board and the page sections: plain functions over the client and the store. */
import type { Section } from '../../src-main/core/api/index';
import { ApiCallError, getClient } from './api/client';
import { loadProjects } from './actions';
import { mergePalette } from './palette';
import { useStore } from './store';

function report(error: unknown): void {
  useStore.getState().notify('error', error instanceof ApiCallError || error instanceof Error ? error.message : String(error));
}

// ---- Mood board ----------------------------------------------------------------------------

/** Loads the board and its aggregated palette; a reply for a project no longer open is dropped. */
export async function loadRefs(projectId = useStore.getState().currentProjectId): Promise<void> {
  if (projectId === null) return;
  try {
    const client = getClient();
    const [refs, palette] = await Promise.all([client.call('refs.list', { projectId }), client.call('refs.palette', { projectId })]);
    if (useStore.getState().currentProjectId === projectId) useStore.getState().setRefs(refs, palette);
  } catch (error) {
    report(error);
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
    report(error);
  }
}

export async function removeRefs(refIds: number[]): Promise<void> {
  const projectId = useStore.getState().currentProjectId;
  if (projectId === null || refIds.length === 0) return;
  try {
    await getClient().call('refs.remove', { projectId, refIds });
    await loadRefs(projectId);
  } catch (error) {
    report(error);
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
    report(error);
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
    report(error);
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
    report(error);
  }
}

// ---- Sections ------------------------------------------------------------------------------

/** Loads the sections and their colour check; the last request for the open project wins. */
export async function loadSections(projectId = useStore.getState().currentProjectId): Promise<void> {
  if (projectId === null) return;
  try {
    const client = getClient();
    const sections = await client.call('sections.list', { projectId });
    const checks = await client.call('sections.check', { projectId });
    if (useStore.getState().currentProjectId === projectId) useStore.getState().setSections(sections, checks);
  } catch (error) {
    report(error);
  }
}

export type SectionFields = Pick<Section, 'name' | 'backgroundHex' | 'slotWidth' | 'slotHeight'>;

/** Saves a new section (no id) or an edited one; returns an error message for the form, or null. */
export async function saveSection(fields: SectionFields, sectionId?: number): Promise<string | null> {
  const projectId = useStore.getState().currentProjectId;
  if (projectId === null) return 'Open a project first.';
  try {
    await getClient().call('sections.save', { projectId, ...(sectionId === undefined ? {} : { sectionId }), ...fields });
    await loadSections(projectId);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

async function sectionCall(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
    await loadSections();
  } catch (error) {
    report(error);
  }
}

export const removeSection = (sectionId: number): Promise<void> => sectionCall(() => getClient().call('sections.remove', { sectionId }));
export const moveSection = (sectionId: number, position: number): Promise<void> =>
  sectionCall(() => getClient().call('sections.move', { sectionId, position: Math.max(0, position) }));
export const pairSection = (sectionId: number, imageId: number | null): Promise<void> => sectionCall(() => getClient().call('sections.pair', { sectionId, imageId }));
