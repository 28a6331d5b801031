import { useEffect, useMemo } from 'react';
import { Composer } from '../features/composer/Composer';
import { GenerateForm } from '../features/generation/GenerateForm';
import { QueuePanel } from '../features/generation/QueuePanel';
import { showFormQuietly, toggleGenerate, toggleSideTab } from '../features/generation/actions';
import { projectJobs, type SideTab } from '../features/generation/slice';
import { localFlag } from '../shared/local-flag';
import { useStore } from '../store';

const TABS: { tab: SideTab; label: string; key: string }[] = [
  { tab: 'generate', label: 'Generate', key: 'Ctrl+G' },
  { tab: 'composer', label: 'Composer', key: 'Ctrl+K' },
];

/** Whether the open side panel is collapsed to a narrow rail (F8): remembered across sessions. */
export const sidePanelCollapsed = localFlag('onbrand.sidePanel.collapsed', false);
/** Whether the side panel was open when the app was last used: it opens again with the first project. */
const sidePanelOpen = localFlag('onbrand.sidePanel.open', false);
/** Until the first project is open, the remembered state waits to be restored (and must not be overwritten). */
let restoring = true;

/** Collapses or expands the side panel (F8); a closed panel opens, expanded. */
export function toggleSidePanel(): void {
  if (!useStore.getState().generateOpen) {
    sidePanelCollapsed.set(false);
    showFormQuietly();
    toggleGenerate(true);
    return;
  }
  if (sidePanelCollapsed.get()) showFormQuietly();
  sidePanelCollapsed.toggle();
}

/**
 * A tab's key (Ctrl+G, Ctrl+K) or the top bar's Generate: asking for a tab shows it, so a
 * collapsed panel expands on it; otherwise as `toggleSideTab` (open, switch, or close).
 */
export function showSideTab(tab: SideTab): void {
  const state = useStore.getState();
  const collapsed = sidePanelCollapsed.get();
  sidePanelCollapsed.set(false);
  if (state.generateOpen && collapsed) {
    state.setSideTab(tab);
    return;
  }
  toggleSideTab(tab);
}

/**
 * The right-hand panel: the Generate form or the prompt Composer (tabs; Ctrl+G and Ctrl+K) above,
 * the project's queue below. The key of the tab shown hides the panel; F8 collapses it to a rail
 * that keeps the queue's counts in view and gives the room to the images. Open, collapsed or
 * closed, it comes back as it was left.
 */
export function SidePanel({ onSavePreset }: { onSavePreset(): void }) {
  const open = useStore((s) => s.generateOpen);
  const tab = useStore((s) => s.sideTab);
  const setTab = useStore((s) => s.setSideTab);
  const collapsed = sidePanelCollapsed.use();
  const projectId = useStore((s) => s.currentProjectId);
  useEffect(() => {
    // The panel as it was left: open (full or as the rail) or closed, once there is a project to generate into.
    if (!restoring || projectId === null) return;
    if (sidePanelOpen.get() && !useStore.getState().generateOpen) toggleGenerate(true);
    else restoring = false;
  }, [projectId]);
  useEffect(() => {
    if (restoring && open) {
      // Restored at start, the form does not take the keyboard from the images (it focuses its prompt when shown).
      restoring = false;
      if (document.activeElement instanceof HTMLElement && document.activeElement.closest('.side-panel')) document.activeElement.blur();
    }
    if (!restoring) sidePanelOpen.set(open);
  }, [open]);
  if (!open) return null;
  if (collapsed) return <SideRail />;
  return (
    <aside className="side-panel" aria-label="Generate and queue" data-testid="side-panel" data-collapsed="false">
      <section className="generate" aria-labelledby={`${tab}-title`}>
        <header className="panel-head">
          <div className="side-tabs" role="tablist" aria-label="Side panel">
            {TABS.map((t) => (
              <button
                key={t.tab}
                type="button"
                role="tab"
                id={`${t.tab}-title`}
                aria-selected={tab === t.tab}
                aria-controls={`${t.tab}-tabpanel`}
                className={tab === t.tab ? 'side-tab active' : 'side-tab'}
                title={`${t.label} (${t.key})`}
                onClick={() => {
                  if (t.tab !== tab) showFormQuietly();
                  setTab(t.tab);
                }}
              >
                {t.label}
              </button>
            ))}
          </div>
          <span className="spacer" />
          <button
            type="button"
            className="link"
            onClick={() => sidePanelCollapsed.set(true)}
            aria-label="Collapse the side panel"
            aria-expanded={true}
            title="Collapse to a narrow rail (F8)"
          >
            »
          </button>
          <button
            type="button"
            className="link"
            onClick={() => toggleGenerate(false)}
            aria-label="Close the Generate panel"
            title="Close (Ctrl+G)"
          >
            ✕
          </button>
        </header>
        <div role="tabpanel" id={`${tab}-tabpanel`} aria-labelledby={`${tab}-title`}>
          {tab === 'generate' ? <GenerateForm onSavePreset={onSavePreset} /> : <Composer />}
        </div>
      </section>
      <QueuePanel />
    </aside>
  );
}

/** The collapsed side panel: expand, the two tabs, and the queue's counts for this project. */
function SideRail() {
  const allJobs = useStore((s) => s.jobs);
  const projectId = useStore((s) => s.currentProjectId);
  const paused = useStore((s) => s.engine?.state === 'paused');
  const jobs = useMemo(() => projectJobs(allJobs, projectId), [allJobs, projectId]);
  const running = jobs.filter((j) => j.state === 'running').length;
  const waiting = jobs.filter((j) => j.state === 'queued').length;
  const queueText = `${running > 0 ? `${running} running · ` : ''}${waiting} waiting${paused ? ' · paused' : ''}`;
  return (
    <aside className="side-panel collapsed" aria-label="Generate and queue (collapsed)" data-testid="side-panel" data-collapsed="true">
      <button
        type="button"
        className="link rail-expand"
        onClick={() => {
          showFormQuietly();
          sidePanelCollapsed.set(false);
        }}
        aria-label="Expand the side panel"
        aria-expanded={false}
        title="Expand the side panel (F8)"
      >
        «
      </button>
      {TABS.map((t) => (
        <button key={t.tab} type="button" className="rail-tab" onClick={() => showSideTab(t.tab)} title={`${t.label} (${t.key})`}>
          {t.label}
        </button>
      ))}
      <span className="spacer" />
      <span
        className={running + waiting > 0 ? 'rail-queue active' : 'rail-queue'}
        data-testid="rail-queue"
        role="status"
        aria-label={`Queue: ${queueText}`}
        title={`Queue: ${queueText}`}
      >
        {running + waiting}
      </span>
    </aside>
  );
}
