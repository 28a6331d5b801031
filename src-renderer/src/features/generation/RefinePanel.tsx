import { REFINE_STRENGTH, strengthProblem } from '../../../../src-main/core/common/index';
import { describedBy, FieldMessage } from '../../shared/FieldMessage';
import { useStore } from '../../store';
import { refineKey } from './actions';
import { jobOrigin } from './fast-draft';

/**
 * Refine, under the Generate form while a draft image is selected (grid or loupe): the same seed at
 * the form's full settings, or img2img from the draft at a strength. R does the same from the grid
 * and the loupe.
 */
export function RefinePanel() {
  const image = useStore((s) => s.images[s.selected]);
  const jobs = useStore((s) => s.jobs);
  const selection = useStore((s) => s.selection);
  const images = useStore((s) => s.images);
  const choice = useStore((s) => s.refineChoice);
  const setChoice = useStore((s) => s.setRefineChoice);
  const message = useStore((s) => s.refineMessage);
  const busy = useStore((s) => s.refineBusy);

  const drafts = (selection.length > 0 ? images.filter((i) => selection.includes(i.id)) : image ? [image] : []).filter(
    (i) => jobOrigin(jobs, i.jobId) === 'draft',
  );
  if (drafts.length === 0) return null;
  const strengthError = choice.mode === 'img2img' ? strengthProblem(choice.strength) : null;

  const refine = (): Promise<void> => refineKey();

  return (
    <section className="refine-panel" aria-label="Refine" data-testid="refine-panel">
      <h3>Refine {drafts.length === 1 ? <span className="muted">{drafts[0]!.fileName}</span> : `${drafts.length} drafts`}</h3>
      <div className="segmented refine-modes" role="radiogroup" aria-label="Refine as">
        {(
          [
            ['seed', 'Same seed', 'Make it again from its seed at the full settings of the form'],
            ['img2img', 'img2img', 'Start from the draft image itself and repaint it at the strength'],
          ] as const
        ).map(([mode, label, title]) => (
          <button
            key={mode}
            type="button"
            role="radio"
            aria-checked={choice.mode === mode}
            aria-pressed={choice.mode === mode}
            title={title}
            onClick={() => setChoice({ mode })}
          >
            {label}
          </button>
        ))}
      </div>
      {choice.mode === 'img2img' && (
        <label className="field refine-strength">
          <span>Strength</span>
          <input
            type="number"
            name="refineStrength"
            aria-label="Strength"
            inputMode="decimal"
            min={REFINE_STRENGTH.min}
            max={REFINE_STRENGTH.max}
            step={0.05}
            value={choice.strength}
            {...describedBy('refine-strength-error', strengthError?.message)}
            title={`How much of the draft is repainted: ${REFINE_STRENGTH.min} keeps nearly all of it, 1 none`}
            onChange={(e) => setChoice({ strength: e.target.value })}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                void refine();
              }
            }}
          />
          <FieldMessage
            id="refine-strength-error"
            message={strengthError?.message}
            fix={strengthError?.fix}
            onFix={(value) => setChoice({ strength: value })}
          />
        </label>
      )}
      <div className="generate-actions">
        <span className={message?.ok === false ? 'form-error' : 'muted'} data-testid="refine-message" aria-live="polite">
          {message?.text ?? 'At the form’s full settings, batch 1.'}
        </span>
        <button
          type="button"
          className="primary"
          onClick={() => void refine()}
          disabled={busy || strengthError !== null}
          aria-busy={busy}
          title="Refine the selected draft (R)"
        >
          Refine
        </button>
      </div>
    </section>
  );
}
