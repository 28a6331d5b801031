/** The Time + Cost view's calls, and the activity reports that feed the time log. */
import type { Phase } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
import { useStore } from '../../store';

/** At most one activity report per project in this long while the phase stays the same (the core counts minutes). */
export const ACTIVITY_INTERVAL_MS = 20_000;
const lastReport = new Map<number, { phase: Phase; at: number }>();

/**
 * Tells the time log the user is working in a phase: `prompt` while typing in the Generate panel,
 * `curate` while moving through or rating images. A change of phase is reported at once (it ends
 * the phase before: phases never overlap); more of the same phase at most every 20 s. Never an
 * error the user sees.
 */
export function reportActivity(phase: Extract<Phase, 'prompt' | 'curate'>, now = Date.now()): void {
  const projectId = useStore.getState().currentProjectId;
  if (projectId === null) return;
  const last = lastReport.get(projectId);
  if (last && last.phase === phase && now - last.at >= 0 && now - last.at < ACTIVITY_INTERVAL_MS) return;
  const report = { phase, at: now };
  lastReport.set(projectId, report);
  getClient()
    .call('timelog.activity', { projectId, phase })
    .catch(() => {
      // Let the next activity try again rather than losing its time.
      if (lastReport.get(projectId) === report) lastReport.delete(projectId);
    });
}

/** Loads the project's time log into the open view; the last request wins. */
export async function loadTime(projectId: number): Promise<string | null> {
  try {
    const time = await getClient().call('timelog.get', { projectId });
    if (useStore.getState().currentProjectId === projectId) useStore.getState().setTime(time);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Sets a phase's minutes by hand, or (null) gives it back to the automatic count. */
export async function correctMinutes(projectId: number, phase: Phase, minutes: number | null): Promise<string | null> {
  try {
    useStore.getState().setTime(await getClient().call('timelog.correct', { projectId, phase, minutes }));
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

export async function setGpuCost(projectId: number, gpuCostPerHour: number): Promise<string | null> {
  try {
    await getClient().call('settings.setCost', { gpuCostPerHour });
    return await loadTime(projectId);
  } catch (error) {
    return (error as Error).message;
  }
}

/** Copies the table as Markdown. Returns the text when the clipboard refused it (to show for copying by hand). */
export async function copyMarkdown(projectId: number): Promise<{ copied: boolean; text: string }> {
  const { text } = await getClient().call('timelog.export', { projectId, format: 'markdown' });
  try {
    await navigator.clipboard.writeText(text);
    return { copied: true, text };
  } catch {
    return { copied: false, text };
  }
}

/** Downloads the table as CSV through a Blob link (a browser download; Electron saves it too). */
export async function downloadCsv(projectId: number): Promise<void> {
  const { text, fileName } = await getClient().call('timelog.export', { projectId, format: 'csv' });
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once it started; give it a moment before freeing the Blob.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
