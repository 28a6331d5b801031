import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { SAMPLER_NAMES, SETTING_LIMITS as L } from '../../../../src-main/core/common/index';
import { useStore } from '../../store';
import { FirstRun, noModelInstalled, openLibrary } from '../models';
import { reportActivity } from '../timecost/actions';
import { describedBy, FieldMessage } from '../../shared/FieldMessage';
import { promptTakesFocus, queueDraft, queuedText, refreshHints } from './actions';
import { applyPreset, aspectOf, aspectsFor, matchesPreset, parseDraft, resolveSize, type Draft, type DraftField } from './draft';
import { draftPlan, modelFamily } from './fast-draft';
import { RefinePanel } from './RefinePanel';

/** The families' names as the form shows them beside the aspect buttons. */
const FAMILY_LABEL = { sd1: 'SD 1.x', sd2: 'SD 2.x', sdxl: 'SDXL' } as const;

/** Why Queue is off while no model is installed. */
const NO_MODEL_REASON = 'Generating needs a Stable Diffusion model: download or import one above.';

/** How long the form must be still before hints are asked for. */
const HINT_DEBOUNCE_MS = 400;

/**
 * The Generate form: prompt, negative prompt, model, preset, sampler, steps, CFG, size with aspect
 * buttons, batch size, batches and seed. Ctrl+Enter anywhere in it queues; Esc leaves the field
 * so the grid's keys work again.
 */
export function GenerateForm({ onSavePreset }: { onSavePreset(): void }) {
  const draft = useStore((s) => s.draft);
  const editDraft = useStore((s) => s.editDraft);
  const models = useStore((s) => s.models);
  const presets = useStore((s) => s.presets);
  const hints = useStore((s) => s.hints);
  const hasProject = useStore((s) => s.currentProjectId !== null);
  const [error, setError] = useState<string | null>(null);
  const [queued, setQueued] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** Set once Queue was pressed: from then on an empty prompt is named too (not on a fresh form). */
  const [tried, setTried] = useState(false);
  const prompt = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (promptTakesFocus()) prompt.current?.focus();
  }, []);

  // Hints follow the settings as they are edited, debounced; they never hold up the form.
  useEffect(() => {
    const timer = setTimeout(() => void refreshHints(draft), HINT_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [draft]);

  // Checked live as the core checks at queue time: sizes, and the prompt's LoRAs once the installed ones are known.
  const parsed = useMemo(() => parseDraft(draft, models?.loras), [draft, models]);
  const noModels = useStore(noModelInstalled);
  const preset = presets.find((p) => p.name === draft.preset);
  // Sizes follow the selected model's family: the aspect buttons, a preset applied, a model chosen.
  const family = modelFamily(models, draft.model);
  const aspects = useMemo(() => aspectsFor(family), [family]);
  const edited = preset !== undefined && !matchesPreset(draft, preset, family);
  const plan = useMemo(() => draftPlan(draft, models), [draft, models]);
  const shownFamily = useRef(family);
  useEffect(() => {
    if (shownFamily.current === family) return;
    shownFamily.current = family;
    // A bucket size (the Brand loop's 576×1024 at 9:16) becomes the new family's (768×1344 on SDXL); a size typed by hand stays.
    const patch = resolveSize(useStore.getState().draft, family);
    if (patch) editDraft(patch);
  }, [family, editDraft]);

  const edit = (patch: Partial<Draft>): void => {
    editDraft(patch);
    setError(null);
    setQueued(null);
    reportActivity('prompt');
  };

  const setSize = (field: 'width' | 'height', text: string): void => {
    const next = { ...draft, [field]: text };
    edit({ [field]: text, aspect: aspectOf(Number(next.width), Number(next.height), draft.aspect) });
  };

  const submit = async (): Promise<void> => {
    if (busy) return;
    if (noModels) {
      setError(NO_MODEL_REASON);
      return;
    }
    setBusy(true);
    setTried(true);
    const result = await queueDraft();
    setBusy(false);
    if ('error' in result) setError(result.error);
    else setQueued(queuedText(result.jobs));
  };

  const onKeyDown = (event: KeyboardEvent<HTMLFormElement>): void => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void submit();
    } else if (event.key === 'Escape' && event.target instanceof HTMLElement) {
      event.target.blur();
    }
  };

  const fieldError = (name: DraftField): string | undefined => parsed.errors[name];
  const fieldId = (name: DraftField | 'prompt'): string => `generate-${name}-error`;
  const sizeInput = (side: 'width' | 'height', label: string) => (
    <input
      type="number"
      name={side}
      aria-label={label}
      min={L.size.min}
      max={L.size.max}
      step={L.size.step}
      value={draft[side]}
      {...describedBy(fieldId(side), fieldError(side))}
      title={`${label}: multiples of ${L.size.step}`}
      onChange={(e) => setSize(side, e.target.value)}
    />
  );
  const message = (name: DraftField, onFix?: (value: string) => void) => (
    <FieldMessage
      id={fieldId(name)}
      message={fieldError(name)}
      fix={parsed.fixes[name]}
      onFix={onFix ?? ((value) => edit({ [name]: value }))}
    />
  );
  const promptError = draft.prompt.trim() === '' && !tried ? undefined : parsed.errors.prompt;
  const numberField = (
    name: 'steps' | 'cfg' | 'batchSize' | 'batches' | 'loraWeight',
    label: string,
    attrs: { min: number; max: number; step: number },
  ) => (
    <label className="field">
      <span>{label}</span>
      <input
        type="number"
        name={name}
        // Named by aria-label: the label element also holds the field's message.
        aria-label={label}
        inputMode="decimal"
        {...attrs}
        value={draft[name]}
        {...describedBy(fieldId(name), fieldError(name))}
        onChange={(e) => edit({ [name]: e.target.value })}
      />
      {message(name)}
    </label>
  );

  const totalImages = (Number(draft.batches) || 0) * (Number(draft.batchSize) || 0);

  return (
    <>
      <form
        className="generate-form"
        aria-label="Generation settings"
        onKeyDown={onKeyDown}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {noModels && <FirstRun />}
        <label className="field">
          <span>Prompt</span>
          <textarea
            ref={prompt}
            name="prompt"
            aria-label="Prompt"
            rows={3}
            placeholder="<lora:FluxPortraitTrainer:0.8>, portrait, looks into the lens, rich teal light, brand colours weaving through scene, 35 mm DSLR"
            value={draft.prompt}
            {...describedBy(fieldId('prompt'), promptError)}
            onChange={(e) => edit({ prompt: e.target.value })}
          />
          <FieldMessage id={fieldId('prompt')} message={promptError} fix={parsed.fixes.prompt} onFix={(value) => edit({ prompt: value })} />
        </label>
        <label className="field">
          <span>Negative prompt</span>
          <textarea
            name="negativePrompt"
            rows={2}
            value={draft.negativePrompt}
            onChange={(e) => edit({ negativePrompt: e.target.value })}
          />
        </label>

        <div className="field">
          <label htmlFor="generate-model">Model</label>
          <div className="inline">
            <select
              id="generate-model"
              name="model"
              value={draft.model}
              onChange={(e) => edit({ model: e.target.value })}
              disabled={!models || noModels}
            >
              {!models && <option value="">Loading models…</option>}
              {noModels && <option value="">No model installed</option>}
              {models?.models.map((m) => (
                <option key={m.name} value={m.name} title={m.dir}>
                  {m.name}
                </option>
              ))}
            </select>
            <button type="button" onClick={() => openLibrary()} title="Models: download, import and remove (Shift+M)">
              Models…
            </button>
          </div>
          {noModels && <small data-testid="no-models">No model installed yet: the choices above get one.</small>}
        </div>

        <div className="field">
          <label htmlFor="generate-preset">Preset {edited && <em className="muted">(edited)</em>}</label>
          <div className="inline">
            <select
              id="generate-preset"
              name="preset"
              value={preset ? preset.name : ''}
              onChange={(e) => {
                const chosen = presets.find((p) => p.name === e.target.value);
                if (chosen) edit(applyPreset(draft, chosen, family));
              }}
            >
              {!preset && <option value="">{presets.length === 0 ? 'Loading presets…' : 'Custom'}</option>}
              {presets.map((p) => (
                <option key={p.id ?? `built-in-${p.name}`} value={p.name}>
                  {p.name}
                  {p.builtIn ? ' (built-in)' : ''}
                </option>
              ))}
            </select>
            <button
              type="button"
              onClick={onSavePreset}
              disabled={!hasProject}
              title="Save these settings and the negative prompt as a preset of this project"
            >
              Save as preset…
            </button>
          </div>
        </div>

        <label className="field">
          <span>Sampler</span>
          <select name="sampler" value={draft.sampler} onChange={(e) => edit({ sampler: e.target.value as Draft['sampler'] })}>
            {SAMPLER_NAMES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>

        <div className="field-row">
          {numberField('steps', 'Steps', { ...L.steps, step: 1 })}
          {numberField('cfg', 'CFG', { ...L.cfg, step: 0.5 })}
          {numberField('loraWeight', 'LoRA weight', { ...L.loraWeight, step: 0.1 })}
        </div>

        <div className="field">
          <span id="generate-size">Size</span>
          <div className="inline size" role="group" aria-labelledby="generate-size">
            {sizeInput('width', 'Width')}
            <span aria-hidden="true">×</span>
            {sizeInput('height', 'Height')}
          </div>
          {message('width', (value) => setSize('width', value))}
          {message('height', (value) => setSize('height', value))}
          <div className="segmented aspects" role="group" aria-label="Aspect">
            {aspects.map((a) => (
              <button
                key={a.aspect}
                type="button"
                aria-pressed={draft.aspect === a.aspect}
                title={`${a.aspect}: ${a.width}×${a.height}`}
                onClick={() => edit({ aspect: a.aspect, width: String(a.width), height: String(a.height) })}
              >
                {a.aspect}
              </button>
            ))}
          </div>
          <small className="muted size-family" data-testid="size-family" data-family={family ?? 'unknown'}>
            {family ? `${FAMILY_LABEL[family]} sizes` : 'SD 1.x sizes (the model’s family is not known)'}
            {draft.aspect ? ` · ${draft.aspect} is ${draft.width}×${draft.height}` : ''}
          </small>
        </div>

        <div className="field-row">
          {numberField('batchSize', 'Batch size', { ...L.batchSize, step: 1 })}
          {numberField('batches', 'Batches', { ...L.batches, step: 1 })}
          <label className="field">
            <span>Seed</span>
            <input
              type="text"
              name="seed"
              aria-label="Seed"
              inputMode="numeric"
              placeholder="random"
              value={draft.seed}
              {...describedBy(fieldId('seed'), fieldError('seed'))}
              title="Blank: a random seed (recorded). Image i of a batch uses seed + i."
              onChange={(e) => edit({ seed: e.target.value })}
            />
            {message('seed')}
          </label>
        </div>

        <div className="draft-toggle field" data-testid="draft-toggle" data-on={draft.fastDraft} data-mode={plan.choice.mode}>
          <button
            type="button"
            role="switch"
            aria-checked={draft.fastDraft}
            aria-describedby="draft-toggle-note"
            className={draft.fastDraft ? 'draft-switch on' : 'draft-switch'}
            onClick={() => edit({ fastDraft: !draft.fastDraft })}
            title="Draft: queue with the fast settings of this model's family (the fields keep the full ones for Refine)"
          >
            <span className="draft-knob" aria-hidden="true" />
            <span className="draft-label" data-testid="draft-label">
              {plan.label}
            </span>
          </button>
          <small id="draft-toggle-note" className="muted" data-testid="draft-note">
            {draft.fastDraft ? '' : 'Off: Queue sends the settings above. '}
            {plan.choice.note}
            {plan.choice.loraTag ? ` The prompt gets ${plan.choice.loraTag}.` : ''}
          </small>
        </div>

        {hints.length > 0 && (
          <ul className="hints" aria-label="Field notes" aria-live="polite" data-testid="hints">
            {hints.map((hint) => (
              <li key={hint}>{hint}</li>
            ))}
          </ul>
        )}

        {error && (
          <p className="form-error" role="alert" data-testid="generate-error">
            {error}
          </p>
        )}
        {noModels && (
          <p className="generate-blocked" id="generate-blocked" data-testid="generate-blocked">
            {NO_MODEL_REASON}
          </p>
        )}
        <div className="generate-actions">
          <span className="muted" data-testid="queue-summary" aria-live="polite">
            {queued ??
              (totalImages > 0
                ? `${draft.fastDraft ? 'Drafts: ' : ''}${draft.batches} × ${draft.batchSize} = ${totalImages} image${totalImages === 1 ? '' : 's'}`
                : '')}
          </span>
          <button
            type="submit"
            className="primary"
            disabled={!hasProject || busy || noModels}
            aria-busy={busy}
            aria-describedby={noModels ? 'generate-blocked' : undefined}
            title={noModels ? NO_MODEL_REASON : 'Queue these batches (Ctrl+Enter)'}
          >
            {draft.fastDraft ? 'Queue drafts' : 'Queue'}
          </button>
        </div>
      </form>
      <RefinePanel />
    </>
  );
}
