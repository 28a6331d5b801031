/**
 * Settings → GPU backends (issue 21): this computer's engine (on or off) and the ComfyUI servers
 * the queue sends images to, each with its address, images at once, cost, state and what it has;
 * Test, Resume, Edit and Remove; and the Add/Edit form. Header values (a reverse proxy's token)
 * are write-only: the view knows only whether one is set. Live from `backends.updated`.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { BackendSave, BackendTestResult, BackendView } from '../../../../src-main/core/api/index';
import { describedBy, FieldMessage } from '../../shared/FieldMessage';
import { useStore } from '../../store';
import {
  backendState,
  formField,
  gib,
  headerInput,
  inventoryText,
  MAX_AT_ONCE,
  mappingRecord,
  mappingRows,
  PLAIN_HTTP_WARNING,
  plural,
  type FormField,
  type Mapping,
} from './backends-format';
import { loadBackends, removeBackend, resumeBackend, saveBackend, setLocalEngine, testBackend, type Outcome } from './actions';

function StateBadge({ backend }: { backend: BackendView }) {
  const { text, tone, reason } = backendState(backend);
  return (
    <span className={`backend-state ${tone}`} data-testid="backend-state" title={reason ?? undefined}>
      {text}
    </span>
  );
}

/** What `backends.test` found: version, GPUs with free VRAM, checkpoints and LoRAs. */
function TestResult({ result }: { result: BackendTestResult }) {
  return (
    <div className="backend-test" role="status" data-testid="backend-test">
      <p>
        ✓ ComfyUI {result.version ?? '(version not given)'}, answered in {result.ms} ms
      </p>
      {result.devices.length === 0 ? (
        <p className="muted">No GPU named (it may run on the CPU).</p>
      ) : (
        <ul>
          {result.devices.map((d, i) => (
            <li key={i}>
              {d.name} ({d.type}): {gib(d.vramFree)} free of {gib(d.vramTotal)}
            </li>
          ))}
        </ul>
      )}
      <p>
        Checkpoints ({result.checkpoints.length}): {result.checkpoints.join(', ') || 'none'}
      </p>
      <p>
        LoRAs ({result.loras.length}): {result.loras.join(', ') || 'none'}
      </p>
    </div>
  );
}

/** This computer: the local engine, with its on/off switch. */
function LocalRow({ backend }: { backend: BackendView }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const toggle = async (enabled: boolean): Promise<void> => {
    setBusy(true);
    const outcome = await setLocalEngine(enabled);
    setBusy(false);
    setError(outcome.ok ? null : outcome.text);
  };
  return (
    <li className="backend" data-testid="backend" data-backend={backend.name}>
      <div className="backend-head">
        <strong>This computer</strong>
        <span className="muted small">local engine · cost from Time + Cost’s GPU rate</span>
        <span className="spacer" />
        <StateBadge backend={backend} />
        <label className="backend-switch">
          <input
            type="checkbox"
            role="switch"
            checked={backend.enabled}
            disabled={busy}
            aria-checked={backend.enabled}
            onChange={(e) => void toggle(e.target.checked)}
          />
          <span>Make images on this computer</span>
        </label>
      </div>
      {!backend.enabled && <p className="muted small">Off: only the ComfyUI servers below make images.</p>}
      {error && (
        <p className="settings-outcome error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

/** A ComfyUI server: its settings and state, Test, Resume, Edit, Remove (with a confirmation). */
function RemoteRow({ backend, onEdit, editing }: { backend: BackendView; onEdit: () => void; editing: boolean }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [test, setTest] = useState<BackendTestResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const confirm = useRef<HTMLButtonElement>(null);
  const removeButton = useRef<HTMLButtonElement>(null);
  const has = inventoryText(backend);
  const state = backendState(backend);
  const name = backend.name;

  useEffect(() => {
    if (confirming) confirm.current?.focus();
  }, [confirming]);

  const run = async (what: string, work: () => Promise<void>): Promise<void> => {
    setBusy(what);
    try {
      await work();
    } finally {
      setBusy(null);
    }
  };
  const keep = (): void => {
    setConfirming(false);
    requestAnimationFrame(() => removeButton.current?.focus());
  };

  return (
    <li className={editing ? 'backend editing' : 'backend'} data-testid="backend" data-backend={name}>
      <div className="backend-head">
        <strong>{name}</strong>
        <code className="backend-url">{backend.url}</code>
        <span className="spacer" />
        <StateBadge backend={backend} />
      </div>
      <div className="backend-facts muted small">
        <span data-testid="backend-concurrency">{plural(backend.concurrency, 'image')} at once</span>
        <span>${(backend.ratePerHour ?? 0).toFixed(2)} per GPU hour</span>
        {backend.headerNames.length > 0 && <span>header {backend.headerNames.join(', ')}: set</span>}
        {backend.made > 0 && <span>{plural(backend.made, 'image')} made</span>}
        {has ? (
          <details className="backend-has">
            <summary data-testid="backend-has" title={has.names}>
              has {has.text}
            </summary>
            <p>{has.names.split('\n')[0]}</p>
            <p>{has.names.split('\n')[1]}</p>
          </details>
        ) : null}
      </div>
      {state.reason ? (
        <p className={`backend-reason ${state.tone}`} data-testid="backend-reason">
          {state.reason}
        </p>
      ) : (
        backend.reason &&
        backend.enabled && (
          <p className="muted small" data-testid="backend-reason">
            Last failure: {backend.reason}
          </p>
        )
      )}
      {confirming ? (
        <div className="confirm backend-actions" role="group" aria-label={`Remove ${name}?`}>
          <span>Remove {name}? The queue stops sending it images, and its stored header goes.</span>
          <button type="button" onClick={keep} disabled={busy !== null}>
            Keep
          </button>
          <button
            ref={confirm}
            type="button"
            className="danger"
            disabled={busy !== null}
            onClick={() =>
              void run('remove', async () => {
                const outcome = await removeBackend(name);
                if (!outcome.ok) {
                  setError(outcome.text);
                  setConfirming(false);
                }
              })
            }
          >
            Remove {name}
          </button>
        </div>
      ) : (
        <div className="backend-actions">
          <button
            type="button"
            disabled={busy !== null}
            aria-label={`Test ${name}`}
            title="Ask the server its version, GPUs and free VRAM, checkpoints and LoRAs"
            onClick={() =>
              void run('test', async () => {
                setError(null);
                setTest(null);
                const outcome = await testBackend(name);
                if (outcome.ok) setTest(outcome.result);
                else setError(outcome.text);
              })
            }
          >
            {busy === 'test' ? 'Testing…' : 'Test'}
          </button>
          {backend.state === 'paused' && (
            <button
              type="button"
              disabled={busy !== null}
              aria-label={`Resume ${name}`}
              title="Send it images again"
              onClick={() =>
                void run('resume', async () => {
                  const outcome = await resumeBackend(name);
                  setError(outcome.ok ? null : outcome.text);
                })
              }
            >
              Resume
            </button>
          )}
          <button type="button" disabled={busy !== null || editing} aria-label={`Edit ${name}`} onClick={onEdit}>
            Edit
          </button>
          <button
            ref={removeButton}
            type="button"
            disabled={busy !== null}
            aria-label={`Remove ${name}…`}
            onClick={() => setConfirming(true)}
          >
            Remove…
          </button>
        </div>
      )}
      {error && (
        <p className="settings-outcome error" role="alert" data-testid="backend-error">
          {error}
        </p>
      )}
      {test && <TestResult result={test} />}
    </li>
  );
}

/** Rows "Onbrand name → server file" for renamed checkpoints or LoRAs. */
function MappingRows({
  id,
  legend,
  fromLabel,
  value,
  onChange,
  error,
}: {
  id: string;
  legend: string;
  fromLabel: string;
  value: Mapping[];
  onChange: (rows: Mapping[]) => void;
  error: string | undefined;
}) {
  const set = (i: number, patch: Partial<Mapping>): void => onChange(value.map((row, j) => (j === i ? { ...row, ...patch } : row)));
  return (
    <fieldset className="backend-mappings" {...describedBy(`${id}-error`, error)}>
      <legend>{legend}</legend>
      {value.map((row, i) => (
        <div className="backend-mapping" key={i}>
          <input
            type="text"
            spellCheck={false}
            aria-label={`${fromLabel} ${i + 1}`}
            placeholder={fromLabel}
            value={row.from}
            maxLength={200}
            onChange={(e) => set(i, { from: e.target.value })}
          />
          <span aria-hidden="true">→</span>
          <input
            type="text"
            spellCheck={false}
            aria-label={`Server file ${i + 1} (${legend.toLowerCase()})`}
            placeholder="file on the server"
            value={row.to}
            maxLength={400}
            onChange={(e) => set(i, { to: e.target.value })}
          />
          <button
            type="button"
            className="link"
            aria-label={`Remove row ${i + 1} (${legend.toLowerCase()})`}
            onClick={() => onChange(value.filter((_, j) => j !== i))}
          >
            ✕
          </button>
        </div>
      ))}
      <button type="button" className="link" onClick={() => onChange([...value, { from: '', to: '' }])}>
        + Add a row
      </button>
      <FieldMessage id={`${id}-error`} message={error} />
    </fieldset>
  );
}

/** The Add/Edit form of a ComfyUI server. `editing`: the server being changed, else a new one. */
function BackendForm({ editing, onDone }: { editing: BackendView | null; onDone: (saved: { name: string; text: string } | null) => void }) {
  const id = useId();
  const first = useRef<HTMLInputElement>(null);
  const [name, setName] = useState(editing?.name ?? '');
  const [url, setUrl] = useState(editing?.url ?? '');
  const storedHeader = editing?.headerNames[0] ?? '';
  const [headerName, setHeaderName] = useState(storedHeader);
  const [headerValue, setHeaderValue] = useState('');
  const [headerSet] = useState((editing?.headerNames.length ?? 0) > 0);
  const [clearHeader, setClearHeader] = useState(false);
  const [concurrency, setConcurrency] = useState(String(editing?.concurrency ?? 1));
  const [rate, setRate] = useState(String(editing?.ratePerHour ?? 0));
  const [timeout, setTimeoutText] = useState(String(editing?.timeoutSeconds ?? 120));
  const [allowInsecure, setAllowInsecure] = useState(editing?.allowInsecure ?? false);
  const [models, setModels] = useState<Mapping[]>(mappingRows(editing?.models));
  const [loras, setLoras] = useState<Mapping[]>(mappingRows(editing?.loras));
  const [errors, setErrors] = useState<Partial<Record<FormField, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => first.current?.focus(), []);

  const fid = (field: FormField): string => `${id}-${field}`;
  const err = (field: FormField): string | undefined => errors[field];
  const number = (text: string): number => (text.trim() === '' ? Number.NaN : Number(text));

  const submit = async (): Promise<void> => {
    const found: Partial<Record<FormField, string>> = {};
    const modelRecord = mappingRecord(models);
    const loraRecord = mappingRecord(loras);
    if (typeof modelRecord === 'string') found.models = modelRecord;
    if (typeof loraRecord === 'string') found.loras = loraRecord;
    const header = headerInput({ name: headerName, value: headerValue, stored: storedHeader, clear: clearHeader });
    if ('error' in header) found.headers = header.error;
    const headers = 'headers' in header ? header.headers : undefined;
    if (Object.keys(found).length) {
      setErrors(found);
      setFormError(null);
      return;
    }
    const input: BackendSave = {
      name: name.trim(),
      url: url.trim(),
      concurrency: number(concurrency),
      ratePerHour: number(rate),
      timeoutSeconds: number(timeout),
      allowInsecure,
      models: modelRecord as Record<string, string>,
      loras: loraRecord as Record<string, string>,
      ...(headers ? { headers } : {}),
    };
    setBusy(true);
    const outcome = await saveBackend(input);
    setBusy(false);
    if (outcome.ok) {
      const v = outcome.view;
      onDone({
        name: v.name,
        text: v.inventory
          ? `Saved ${v.name}: it has ${plural(v.inventory.checkpoints.length, 'checkpoint')} and ${plural(v.inventory.loras.length, 'LoRA')}.`
          : `Saved ${v.name}. It did not answer yet${v.reason ? `: ${v.reason}` : ''}; the queue uses it once it does.`,
      });
      return;
    }
    const field = formField(outcome.field);
    setErrors(field ? { [field]: outcome.text } : {});
    setFormError(field ? null : outcome.text);
  };

  const edit =
    <T,>(setter: (value: T) => void, ...fields: FormField[]) =>
    (value: T): void => {
      setter(value);
      if (fields.some((f) => errors[f]))
        setErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !fields.includes(k as FormField))));
    };

  return (
    <form
      className="backend-form"
      aria-label={editing ? `Edit ${editing.name}` : 'Add a ComfyUI server'}
      data-testid="backend-form"
      // The core's words beside the field (not the browser's bubble) for a number out of range.
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h4>{editing ? `Edit ${editing.name}` : 'Add a ComfyUI server'}</h4>
      <div className="settings-grid">
        <label htmlFor={fid('name')}>Name</label>
        <div className="field">
          <input
            id={fid('name')}
            ref={editing ? undefined : first}
            type="text"
            spellCheck={false}
            placeholder="studio-1"
            maxLength={40}
            value={name}
            readOnly={editing !== null}
            onChange={(e) => edit(setName, 'name')(e.target.value)}
            {...describedBy(`${fid('name')}-error`, err('name'))}
          />
          <FieldMessage id={`${fid('name')}-error`} message={err('name')} />
        </div>

        <label htmlFor={fid('url')}>Address</label>
        <div className="field">
          <input
            id={fid('url')}
            ref={editing ? first : undefined}
            type="text"
            spellCheck={false}
            placeholder="https://gpu-1.studio.example or http://127.0.0.1:8188"
            maxLength={2000}
            value={url}
            onChange={(e) => edit(setUrl, 'url')(e.target.value)}
            {...describedBy(`${fid('url')}-error`, err('url'))}
          />
          <FieldMessage id={`${fid('url')}-error`} message={err('url')} />
        </div>

        <span id={`${fid('headers')}-label`}>Header</span>
        <div className="field" role="group" aria-labelledby={`${fid('headers')}-label`}>
          <div className="settings-row">
            <input
              className="backend-header-name"
              type="text"
              spellCheck={false}
              aria-label="Header name"
              placeholder="Authorization"
              maxLength={100}
              value={headerName}
              onChange={(e) => edit(setHeaderName, 'headers')(e.target.value)}
              {...describedBy(`${fid('headers')}-error`, err('headers'))}
            />
            <input
              className="grow"
              type="password"
              autoComplete="off"
              spellCheck={false}
              aria-label="Header value"
              placeholder={headerSet ? 'Type a new value to replace it' : 'Bearer … (optional)'}
              maxLength={4000}
              value={headerValue}
              onChange={(e) => edit(setHeaderValue, 'headers')(e.target.value)}
              {...describedBy(`${fid('headers')}-error`, err('headers'))}
            />
            <span className={headerSet && !clearHeader ? 'key-state set' : 'key-state'} data-testid="backend-header-state">
              {headerValue ? 'set on Save' : clearHeader ? 'removed on Save' : headerSet ? 'set' : 'not set'}
            </span>
            {headerSet && !clearHeader && (
              <button
                type="button"
                onClick={() => {
                  setClearHeader(true);
                  setHeaderName('');
                  setHeaderValue('');
                }}
              >
                Clear header
              </button>
            )}
          </div>
          <FieldMessage id={`${fid('headers')}-error`} message={err('headers')} />
        </div>

        <label htmlFor={fid('concurrency')}>Images at once</label>
        <div className="field">
          <input
            id={fid('concurrency')}
            className="backend-number"
            type="number"
            min={1}
            max={MAX_AT_ONCE}
            step={1}
            value={concurrency}
            onChange={(e) => edit(setConcurrency, 'concurrency')(e.target.value)}
            {...describedBy(`${fid('concurrency')}-error`, err('concurrency'))}
          />
          <FieldMessage id={`${fid('concurrency')}-error`} message={err('concurrency')} />
        </div>

        <label htmlFor={fid('ratePerHour')}>Cost per GPU hour ($)</label>
        <div className="field">
          <input
            id={fid('ratePerHour')}
            className="backend-number"
            type="number"
            min={0}
            max={1000}
            step={0.01}
            value={rate}
            onChange={(e) => edit(setRate, 'ratePerHour')(e.target.value)}
            {...describedBy(`${fid('ratePerHour')}-error`, err('ratePerHour'))}
          />
          <FieldMessage id={`${fid('ratePerHour')}-error`} message={err('ratePerHour')} />
        </div>

        <label htmlFor={fid('timeoutSeconds')}>Timeout (seconds)</label>
        <div className="field">
          <input
            id={fid('timeoutSeconds')}
            className="backend-number"
            type="number"
            min={5}
            max={3600}
            step={1}
            value={timeout}
            title="An image with no word from the server for this long is made elsewhere"
            onChange={(e) => edit(setTimeoutText, 'timeoutSeconds')(e.target.value)}
            {...describedBy(`${fid('timeoutSeconds')}-error`, err('timeoutSeconds'))}
          />
          <FieldMessage id={`${fid('timeoutSeconds')}-error`} message={err('timeoutSeconds')} />
        </div>

        <span />
        <div className="field backend-insecure">
          <label>
            <input
              type="checkbox"
              checked={allowInsecure}
              onChange={(e) => edit(setAllowInsecure, 'allowInsecure', 'url')(e.target.checked)}
              aria-describedby={`${fid('allowInsecure')}-warning`}
            />{' '}
            Allow plain http to another machine
          </label>
          <small id={`${fid('allowInsecure')}-warning`} className="muted" data-testid="plain-http-warning">
            {PLAIN_HTTP_WARNING}
          </small>
          <FieldMessage id={`${fid('allowInsecure')}-error`} message={err('allowInsecure')} />
        </div>
      </div>

      <details className="backend-renames" open={models.length + loras.length > 0 || Boolean(err('models') || err('loras'))}>
        <summary>Renamed files (optional)</summary>
        <p className="muted small">
          The queue sends a server the images of jobs whose model and LoRAs it has, matched by file name. Where the server names a file
          differently, map Onbrand’s name to the server’s file.
        </p>
        <MappingRows
          id={fid('models')}
          legend="Models"
          fromLabel="Onbrand model"
          value={models}
          onChange={edit(setModels, 'models')}
          error={err('models')}
        />
        <MappingRows
          id={fid('loras')}
          legend="LoRAs"
          fromLabel="Onbrand LoRA"
          value={loras}
          onChange={edit(setLoras, 'loras')}
          error={err('loras')}
        />
      </details>

      {formError && (
        <p className="settings-outcome error" role="alert" data-testid="backend-form-error">
          {formError}
        </p>
      )}
      <div className="backend-actions">
        <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
          {busy ? 'Saving…' : editing ? 'Save' : 'Add server'}
        </button>
        <button type="button" disabled={busy} onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** The "GPU backends" block of the Settings dialog. */
export function BackendsSection() {
  const backends = useStore((s) => s.backends);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [form, setForm] = useState<{ editing: string | null } | null>(null);
  /** The last save's line, shown while that server is listed. */
  const [outcome, setOutcome] = useState<(Outcome & { name: string }) | null>(null);
  const addButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    void loadBackends().then(setLoadError);
  }, []);

  const local = backends?.find((b) => b.kind === 'local');
  const remotes = backends?.filter((b) => b.kind === 'comfyui') ?? [];
  const editing = form?.editing ? (remotes.find((b) => b.name === form.editing) ?? null) : null;
  const busyCount = remotes.reduce((n, b) => n + b.running, 0);

  const done = (saved: { name: string; text: string } | null): void => {
    setForm(null);
    if (saved) setOutcome({ ok: true, ...saved });
    requestAnimationFrame(() => addButton.current?.focus());
  };

  return (
    <section className="settings-block backends" aria-labelledby="settings-backends" data-testid="backends">
      <h3 id="settings-backends">GPU backends</h3>
      <p className="muted small">
        The queue makes images on this computer and on ComfyUI servers (a studio’s GPU boxes, rented cloud GPUs), each image on a free
        backend that has the job’s model and LoRAs.
        {busyCount > 0 ? ` The servers are making ${plural(busyCount, 'image')} now.` : ''}
      </p>
      {loadError && (
        <p className="settings-outcome error" role="alert">
          {loadError}
        </p>
      )}
      {backends === null && !loadError && <p className="muted small">Loading…</p>}
      <ul className="backend-list">
        {local && <LocalRow backend={local} />}
        {remotes.map((b) => (
          <RemoteRow
            key={b.name}
            backend={b}
            editing={form?.editing === b.name}
            onEdit={() => {
              setOutcome(null);
              setForm({ editing: b.name });
            }}
          />
        ))}
      </ul>
      {form ? (
        <BackendForm key={form.editing ?? '(new)'} editing={editing} onDone={done} />
      ) : (
        <div className="settings-row">
          <button
            ref={addButton}
            type="button"
            onClick={() => {
              setOutcome(null);
              setForm({ editing: null });
            }}
          >
            Add ComfyUI server…
          </button>
        </div>
      )}
      {outcome && remotes.some((b) => b.name === outcome.name) && (
        <p className={outcome.ok ? 'settings-outcome ok' : 'settings-outcome error'} role="status" data-testid="backends-outcome">
          {outcome.ok ? '✓ ' : ''}
          {outcome.text}
        </p>
      )}
    </section>
  );
}
