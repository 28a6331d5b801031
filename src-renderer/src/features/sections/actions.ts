/** The page sections: plain functions over the client and the store. */
import type { Section } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
import { reportError } from '../../shared/report';
import { useStore } from '../../store';

/** Loads the sections and their colour check; the last request for the open project wins. */
export async function loadSections(projectId = useStore.getState().currentProjectId): Promise<void> {
  if (projectId === null) return;
  try {
    const client = getClient();
    const sections = await client.call('sections.list', { projectId });
    const checks = await client.call('sections.check', { projectId });
    if (useStore.getState().currentProjectId === projectId) useStore.getState().setSections(sections, checks);
  } catch (error) {
    reportError(error);
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
    reportError(error);
  }
}

export const removeSection = (sectionId: number): Promise<void> => sectionCall(() => getClient().call('sections.remove', { sectionId }));
export const moveSection = (sectionId: number, position: number): Promise<void> =>
  sectionCall(() => getClient().call('sections.move', { sectionId, position: Math.max(0, position) }));
export const pairSection = (sectionId: number, imageId: number | null): Promise<void> =>
  sectionCall(() => getClient().call('sections.pair', { sectionId, imageId }));
