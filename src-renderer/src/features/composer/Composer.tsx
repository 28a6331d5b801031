import { useEffect, useState, type KeyboardEvent } from 'react';
import type { Draft as PromptDraft, Expansion, LlmSettings, Skeleton } from '../../../../src-main/core/api/index';
import {
  WORKFLOW_TEMPLATE,
  draftPrompts,
  expandTemplate,
  loadComposer,
  newestFirst,
  parseSeed,
  queuePrompts,
  saveSkeleton,
  starDraft,
  FALLBACK_BATCH_SIZE,
  type ExpandOptions,
} from './actions';
import { loraProblem, readAspectFlag } from '../../../../src-main/core/common/index';
import { FieldMessage } from '../../shared/FieldMessage';
import { errorText } from '../../shared/report';
import { useStore } from '../../store';
import { parseDraft } from '../generation/draft';
import { NO_MODEL_REASON, noModelInstalled } from '../models/slice';

/** How long the template must be still before it is expanded again. */
const EXPAND_DEBOUNCE_MS = 250;
/** How many expanded prompts the preview lists. */
const PREVIEW_COUNT = 5;
const ASPECT_CHOICES = ['9:16', '4:5', '1:1', '16:9', '3:2', '2:3'];

type Status = { ok: boolean; text: string } | null;

/**
 * The prompt Composer (WORKFLOW §2 "Write the skeleton prompt"): the brand skeleton, five offline
 * (or language-model) drafts with their annotations and stars, the draft history, and the template
 * editor with its live expansion count; starred drafts or the expansions queue with the Generate
 * form's settings.
 */
export function Composer() {
  const projectId = useStore((s) => s.currentProjectId);
  const [skeleton, setSkeleton] = useState<Skeleton | null>(null);
  const [mood, setMood] = useState('');
  const [subjects, setSubjects] = useState<string[]>([]);
  const [newSubject, setNewSubject] = useState('');
  const [aspect, setAspect] = useState('9:16');
  const [history, setHistory] = useState<PromptDraft[]>([]);
  const [latest, setLatest] = useState<number[]>([]);
  const [llm, setLlm] = useState<LlmSettings | null>(null);
  const [useLlm, setUseLlm] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [skeletonStatus, setSkeletonStatus] = useState<Status>(null);
  const [draftStatus, setDraftStatus] = useState<Status>(null);
  const [queueStatus, setQueueStatus] = useState<Status>(null);
  const [busy, setBusy] = useState<'skeleton' | 'draft' | 'queue' | null>(null);
  // Queueing is off, with its reason, until a model is installed.
  const noModels = useStore(noModelInstalled);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    if (projectId === null) return;
    let live = true;
    setLoadError(null);
    loadComposer(projectId).then(
      (data) => {
        if (!live) return;
        setSkeleton(data.skeleton);
        setMood(data.skeleton.mood);
        setSubjects(data.skeleton.subjects);
        setAspect(data.skeleton.aspect);
        setHistory(data.drafts);
        setLlm(data.llm);
      },
      (error: unknown) => {
        if (live) setLoadError(errorText(error));
      },
    );
    return () => {
      live = false;
    };
  }, [projectId, reload]);

  if (projectId === null) return <p className="muted">Open a project to compose prompts.</p>;
  if (loadError)
    return (
      <div className="composer">
        <p className="form-error" role="alert">
          The composer could not load: {loadError}
        </p>
        <button type="button" onClick={() => setReload((n) => n + 1)}>
          Try again
        </button>
      </div>
    );
  if (!skeleton) return <p className="muted">Loading the brand skeleton…</p>;

  const addSubject = (): void => {
    const text = newSubject.trim();
    if (!text || subjects.includes(text)) return;
    setSubjects([...subjects, text]);
    setNewSubject('');
    setSkeletonStatus(null);
  };

  const onSave = async (): Promise<void> => {
    setBusy('skeleton');
    try {
      const saved = await saveSkeleton(projectId, { mood, subjects, aspect });
      setSkeleton(saved);
      setSubjects(saved.subjects);
      setSkeletonStatus({ ok: true, text: 'Skeleton saved.' });
    } catch (error) {
      setSkeletonStatus({ ok: false, text: errorText(error) });
    }
    setBusy(null);
  };

  const onDraft = async (): Promise<void> => {
    setBusy('draft');
    setDraftStatus(null);
    try {
      const drafts = await draftPrompts(projectId, useLlm && Boolean(llm?.baseUrl));
      setLatest(drafts.map((d) => d.id));
      setHistory((old) => newestFirst([...drafts, ...old.filter((o) => !drafts.some((d) => d.id === o.id))]));
      const fromLlm = drafts.filter((d) => d.source === 'llm').length;
      setDraftStatus({ ok: true, text: `${drafts.length} drafts${fromLlm ? ` (${fromLlm} from the language model)` : ''}.` });
    } catch (error) {
      setDraftStatus({ ok: false, text: errorText(error) });
    }
    setBusy(null);
  };

  const onStar = async (draft: PromptDraft): Promise<void> => {
    try {
      const updated = await starDraft(draft.id, !draft.starred);
      setHistory((old) => old.map((d) => (d.id === updated.id ? updated : d)));
    } catch (error) {
      setDraftStatus({ ok: false, text: errorText(error) });
    }
  };

  const queue = async (prompts: string[]): Promise<void> => {
    setBusy('queue');
    const result = await queuePrompts(prompts);
    setQueueStatus({ ok: result.ok, text: result.message });
    setBusy(null);
  };

  const starred = history.filter((d) => d.starred);
  const latestDrafts = history.filter((d) => latest.includes(d.id));
  const older = history.filter((d) => !latest.includes(d.id));
  const abstract = subjects.some((s) => s.trim().toLowerCase() === 'abstract shape');

  return (
    <div className="composer" data-testid="composer">
      <section className="composer-block" aria-labelledby="skeleton-title" data-testid="skeleton">
        <h3 id="skeleton-title">Brand skeleton</h3>
        <div className="palette-swatches" data-testid="palette" aria-label="Brand palette">
          {skeleton.palette.length === 0 && <span className="muted">No brand palette yet.</span>}
          {skeleton.palette.map((c) => (
            <span key={c.hex} className="swatch-chip" title={`${c.name} ${c.hex}`}>
              <span className="swatch large" style={{ background: c.hex }} aria-hidden="true" />
              {c.name}
            </span>
          ))}
          <button
            type="button"
            className="link-button"
            onClick={() => useStore.getState().setMode('moodboard')}
            title="Edit the brand palette on the mood board (B)"
          >
            Edit palette
          </button>
        </div>
        <label className="field">
          <span>Mood</span>
          <input
            name="mood"
            value={mood}
            placeholder="hopeful / rebellious finance"
            onChange={(e) => {
              setMood(e.target.value);
              setSkeletonStatus(null);
            }}
          />
        </label>
        <div className="field">
          <span id="subjects-label">Subjects</span>
          <ul className="subjects" aria-labelledby="subjects-label" data-testid="subjects">
            {subjects.map((s) => (
              <li key={s}>
                <span>{s}</span>
                <button
                  type="button"
                  className="link"
                  aria-label={`Remove subject ${s}`}
                  onClick={() => {
                    setSubjects(subjects.filter((x) => x !== s));
                    setSkeletonStatus(null);
                  }}
                >
                  ✕
                </button>
              </li>
            ))}
          </ul>
          <div className="inline">
            <input
              aria-label="New subject"
              value={newSubject}
              placeholder="device close-up"
              onChange={(e) => setNewSubject(e.target.value)}
              onKeyDown={(e: KeyboardEvent<HTMLInputElement>) => {
                if (e.key === 'Enter') {
                  e.preventDefault();
                  addSubject();
                }
              }}
            />
            <button type="button" onClick={addSubject} disabled={!newSubject.trim()}>
              Add subject
            </button>
          </div>
        </div>
        <label className="field">
          <span>Aspect</span>
          <select
            name="skeleton-aspect"
            value={aspect}
            onChange={(e) => {
              setAspect(e.target.value);
              setSkeletonStatus(null);
            }}
          >
            {(ASPECT_CHOICES.includes(aspect) ? ASPECT_CHOICES : [aspect, ...ASPECT_CHOICES]).map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        {abstract && (
          <p className="composer-hint" data-testid="abstract-hint">
            “abstract shape” is a subject: abstract backgrounds usually work best at 1:1.
          </p>
        )}
        <div className="composer-actions">
          <button type="button" onClick={() => void onSave()} disabled={busy === 'skeleton' || subjects.length === 0}>
            Save skeleton
          </button>
          {skeletonStatus && (
            <span
              className={skeletonStatus.ok ? 'muted' : 'form-error'}
              role={skeletonStatus.ok ? 'status' : 'alert'}
              data-testid="skeleton-status"
            >
              {skeletonStatus.text}
            </span>
          )}
        </div>
      </section>

      <section className="composer-block" aria-labelledby="drafts-title">
        <h3 id="drafts-title">Drafts</h3>
        <div className="composer-actions">
          <button type="button" onClick={() => void onDraft()} disabled={busy === 'draft'}>
            Draft 5
          </button>
          {llm?.baseUrl && (
            <label className="check">
              <input type="checkbox" checked={useLlm} onChange={(e) => setUseLlm(e.target.checked)} /> Use the language model
            </label>
          )}
          {draftStatus && (
            <span className={draftStatus.ok ? 'muted' : 'form-error'} role={draftStatus.ok ? 'status' : 'alert'}>
              {draftStatus.text}
            </span>
          )}
        </div>
        {latestDrafts.length > 0 && (
          <ol className="drafts" data-testid="drafts">
            {latestDrafts.map((d) => (
              <DraftRow key={d.id} draft={d} onStar={() => void onStar(d)} />
            ))}
          </ol>
        )}
        <details className="history" data-testid="draft-history">
          <summary>History ({older.length})</summary>
          {older.length === 0 ? (
            <p className="muted">No earlier drafts.</p>
          ) : (
            <ol className="drafts">
              {older.map((d) => (
                <DraftRow key={d.id} draft={d} onStar={() => void onStar(d)} />
              ))}
            </ol>
          )}
        </details>
        <div className="composer-actions">
          <button
            type="button"
            onClick={() => void queue(starred.map((d) => d.text))}
            disabled={busy === 'queue' || starred.length === 0 || noModels}
            title={noModels ? NO_MODEL_REASON : "Queue the starred drafts with the Generate form's settings"}
          >
            Queue starred ({starred.length})
          </button>
        </div>
      </section>

      <TemplateEditor projectId={projectId} busy={busy === 'queue'} noModels={noModels} onQueue={(prompts) => void queue(prompts)} />

      {queueStatus && (
        <p
          className={queueStatus.ok ? 'muted' : 'form-error'}
          role={queueStatus.ok ? 'status' : 'alert'}
          data-testid="composer-queue-status"
        >
          {queueStatus.text}
        </p>
      )}
    </div>
  );
}

function DraftRow({ draft, onStar }: { draft: PromptDraft; onStar(): void }) {
  return (
    <li className="draft" data-testid="draft" data-draft-id={draft.id} data-starred={draft.starred ? 'true' : 'false'}>
      <div className="draft-text">
        <button
          type="button"
          className="star"
          aria-pressed={draft.starred}
          aria-label={draft.starred ? `Unstar draft ${draft.id}` : `Star draft ${draft.id}`}
          title={draft.starred ? 'Unstar' : 'Star (keep it)'}
          onClick={onStar}
        >
          {draft.starred ? '★' : '☆'}
        </button>
        <span>{draft.text}</span>
      </div>
      <div className="annotations" data-testid="annotations">
        <span>{draft.words} words</span>
        <span>camera: {draft.cameraVerbs.length ? draft.cameraVerbs.join(', ') : '—'}</span>
        <span>light: {draft.lightingAdjectives.length ? draft.lightingAdjectives.join(', ') : '—'}</span>
        <span>colours: {draft.brandColours.length ? draft.brandColours.join(', ') : '—'}</span>
        {draft.source === 'llm' && <span>language model</span>}
      </div>
      {draft.problems.length > 0 && (
        <ul className="problems" data-testid="problems">
          {draft.problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
    </li>
  );
}

function TemplateEditor({
  projectId,
  busy,
  noModels,
  onQueue,
}: {
  projectId: number;
  busy: boolean;
  noModels: boolean;
  onQueue(prompts: string[]): void;
}) {
  const [template, setTemplate] = useState(WORKFLOW_TEMPLATE);
  const [mode, setMode] = useState<'all' | 'random'>('all');
  const [count, setCount] = useState('12');
  const [seed, setSeed] = useState('');
  const [expansion, setExpansion] = useState<Expansion | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** The options the shown count or error is for: older than `key` while the next expansion is on its way. */
  const [shownKey, setShownKey] = useState('');
  const formDraft = useStore((s) => s.draft);
  const installedLoras = useStore((s) => s.models?.loras);
  const batchSize = parseDraft(formDraft).settings.batchSize ?? FALLBACK_BATCH_SIZE;
  // Checked here, live, as the core checks them: a bad `--ar` (with the nearest that passes) and
  // LoRAs that are not installed, which the queue would refuse.
  const flag = readAspectFlag(template.trim());
  const aspectError = 'problem' in flag ? flag.problem : null;
  const loraError = installedLoras ? loraProblem('Template', template, installedLoras) : null;

  const countNumber = Number(count);
  const seedNumber = parseSeed(seed);
  const options: ExpandOptions = {
    template,
    mode,
    count: Number.isInteger(countNumber) && countNumber >= 1 && countNumber <= 500 ? countNumber : undefined,
    seed: seedNumber,
  };
  const key = JSON.stringify(options);

  useEffect(() => {
    if (!template.trim()) {
      setExpansion(null);
      setError('The template is empty.');
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      expandTemplate(projectId, JSON.parse(key) as ExpandOptions).then(
        (result) => {
          if (!live) return;
          setExpansion(result);
          setError(null);
          setShownKey(key);
        },
        (failure: unknown) => {
          if (!live) return;
          setExpansion(null);
          setError(errorText(failure));
          setShownKey(key);
        },
      );
    }, EXPAND_DEBOUNCE_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // `key` holds every option, the template included.
  }, [key, projectId, template]);

  const made = expansion ? (mode === 'random' ? expansion.prompts.length : expansion.total) : 0;
  const shownError = aspectError ? `Template, character ${(flag as { at: number }).at + 1}: ${aspectError.message}` : error;
  const describedIds = [shownError ? 'template-error' : '', loraError ? 'template-lora-error' : ''].filter(Boolean).join(' ');
  const toQueue = expansion ? expansion.prompts.map((p) => (expansion.aspect ? `${p} --ar ${expansion.aspect}` : p)) : [];

  return (
    <section className="composer-block" aria-labelledby="template-title">
      <h3 id="template-title">Prompt template</h3>
      <label className="field">
        <span>Template</span>
        <textarea
          name="template"
          rows={4}
          value={template}
          spellCheck={false}
          aria-invalid={shownError || loraError ? true : undefined}
          aria-describedby={describedIds || undefined}
          onChange={(e) => setTemplate(e.target.value)}
        />
      </label>
      <FieldMessage id="template-lora-error" message={loraError?.message} fix={loraError?.fix} onFix={setTemplate} />
      <small className="muted">
        {'{a|b}'} alternatives · {'{subject}'} {'{camera action}'} {'{lighting adjective}'} · {'<lora:Name:0.8>'} · --ar W:H
      </small>
      <div className="field-row">
        <label className="field">
          <span>Mode</span>
          <select name="mode" value={mode} onChange={(e) => setMode(e.target.value as 'all' | 'random')}>
            <option value="all">All combinations</option>
            <option value="random">Random picks</option>
          </select>
        </label>
        {mode === 'random' && (
          <label className="field">
            <span>Count</span>
            <input type="number" name="count" min={1} max={500} value={count} onChange={(e) => setCount(e.target.value)} />
          </label>
        )}
        <label className="field">
          <span>Expand seed</span>
          <input type="number" name="expand-seed" min={0} value={seed} placeholder="random" onChange={(e) => setSeed(e.target.value)} />
        </label>
      </div>
      {shownError ? (
        <p
          className="form-error"
          role="alert"
          id="template-error"
          data-testid="template-error"
          data-fresh={aspectError ? true : shownKey === key}
        >
          {shownError}
          {aspectError?.fix && (
            <>
              {' — '}
              <button type="button" className="link field-fix" onClick={() => setTemplate(aspectError.fix!.value)}>
                Use {aspectError.fix.label}
              </button>
            </>
          )}
        </p>
      ) : (
        <p
          className={shownKey === key ? 'expand-count' : 'expand-count stale'}
          data-testid="expand-count"
          data-fresh={shownKey === key}
          aria-live="polite"
        >
          {expansion ? `${made} prompt${made === 1 ? '' : 's'} × ${batchSize} = ${made * batchSize} images` : 'Counting…'}
          {expansion?.aspect && <span className="muted"> · --ar {expansion.aspect}</span>}
          {expansion && expansion.loras.length > 0 && (
            <span className="muted"> · {expansion.loras.map((l) => `${l.name} ${l.weight}`).join(', ')}</span>
          )}
        </p>
      )}
      {!shownError && expansion && expansion.prompts.length > 0 && (
        <ol className="expansions" data-testid="expansions">
          {expansion.prompts.slice(0, PREVIEW_COUNT).map((p, i) => (
            <li key={i}>{p}</li>
          ))}
          {expansion.prompts.length > PREVIEW_COUNT && <li className="muted">… {made - PREVIEW_COUNT} more</li>}
        </ol>
      )}
      <div className="composer-actions">
        <button
          type="button"
          onClick={() => onQueue(toQueue)}
          disabled={busy || toQueue.length === 0 || noModels || Boolean(shownError) || Boolean(loraError)}
          title={
            noModels
              ? NO_MODEL_REASON
              : loraError
                ? loraError.message
                : "Queue the expanded prompts (200 at most) with the Generate form's settings"
          }
        >
          Queue expansions{toQueue.length > 0 ? ` (${Math.min(toQueue.length, 200)})` : ''}
        </button>
      </div>
    </section>
  );
}
