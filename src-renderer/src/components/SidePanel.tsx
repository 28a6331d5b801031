import { toggleGenerate } from '../generation-actions';
import { useStore } from '../store';
import { GenerateForm } from './GenerateForm';
import { QueuePanel } from './QueuePanel';

/** The right-hand panel: the Generate form above, the project's queue below (Ctrl+G shows and hides it). */
export function SidePanel({ onSavePreset }: { onSavePreset(): void }) {
  const open = useStore((s) => s.generateOpen);
  if (!open) return null;
  return (
    <aside className="side-panel" aria-label="Generate and queue" data-testid="side-panel">
      <section className="generate" aria-labelledby="generate-title">
        <header className="panel-head">
          <h2 id="generate-title">Generate</h2>
          <span className="spacer" />
          <button type="button" className="link" onClick={() => toggleGenerate(false)} aria-label="Close the Generate panel" title="Close (Ctrl+G)">
            ✕
          </button>
        </header>
        <GenerateForm onSavePreset={onSavePreset} />
      </section>
      <QueuePanel />
    </aside>
  );
}
