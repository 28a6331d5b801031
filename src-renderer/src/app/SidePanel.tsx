import { Composer } from '../features/composer/Composer';
import { GenerateForm } from '../features/generation/GenerateForm';
import { QueuePanel } from '../features/generation/QueuePanel';
import { toggleGenerate } from '../features/generation/actions';
import type { SideTab } from '../features/generation/slice';
import { useStore } from '../store';

const TABS: { tab: SideTab; label: string; key: string }[] = [
  { tab: 'generate', label: 'Generate', key: 'Ctrl+G' },
  { tab: 'composer', label: 'Composer', key: 'Ctrl+K' },
];

/**
 * The right-hand panel: the Generate form or the prompt Composer (tabs; Ctrl+G and Ctrl+K) above,
 * the project's queue below. The key of the tab shown hides the panel.
 */
export function SidePanel({ onSavePreset }: { onSavePreset(): void }) {
  const open = useStore((s) => s.generateOpen);
  const tab = useStore((s) => s.sideTab);
  const setTab = useStore((s) => s.setSideTab);
  if (!open) return null;
  return (
    <aside className="side-panel" aria-label="Generate and queue" data-testid="side-panel">
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
                onClick={() => setTab(t.tab)}
              >
                {t.label}
              </button>
            ))}
          </div>
          <span className="spacer" />
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
