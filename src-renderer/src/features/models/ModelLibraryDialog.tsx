import { useEffect, useMemo, useRef, useState } from 'react';
import type { CatalogEntry, InstalledModel, ModelTask } from '../../../../src-main/core/api/index';
import { useModal } from '../../shared/use-modal';
import { useStore } from '../../store';
import { ModelTaskList } from './ModelTaskList';
import { hubSettings, openLibrary, openModelDialog, pullModel, removeModel, saveHfToken, selectModel } from './actions';
import { formatBytes } from '../../../../src-main/core/common/index';
import { familyLabel, isActive, isPickle } from './format';
import { shownTasks } from './slice';

/** An installed model: what it is, where it came from, Use and Remove (with a confirmation). */
function InstalledRow({ model, selected }: { model: InstalledModel; selected: boolean }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const confirm = useRef<HTMLButtonElement>(null);
  const removeButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (confirming) confirm.current?.focus();
  }, [confirming]);

  const keep = (): void => {
    setConfirming(false);
    // The Remove button comes back: the focus goes back to it, not to the page.
    requestAnimationFrame(() => removeButton.current?.focus());
  };
  const remove = async (): Promise<void> => {
    setBusy(true);
    const message = await removeModel(model.name);
    setBusy(false);
    setError(message);
    if (message) setConfirming(false);
  };

  return (
    <tr data-testid="installed-model" data-model={model.name} className={selected ? 'selected' : undefined}>
      <th scope="row">
        <span className="model-name">{model.name}</span>
        {selected && <span className="badge done">Selected</span>}
        <div className="muted small">{model.layout === 'onnx' ? 'ONNX' : 'diffusers'}</div>
      </th>
      <td>{familyLabel(model.family)}</td>
      <td className="num">{formatBytes(model.bytes)}</td>
      <td className="model-source" title={model.dir}>
        {model.source}
      </td>
      <td>{model.licence ?? <span className="muted">not recorded</span>}</td>
      <td>{model.hash ? <code title="A1111's short model hash">{model.hash}</code> : <span className="muted">—</span>}</td>
      <td className="model-actions">
        {confirming ? (
          <div className="confirm" role="group" aria-label={`Remove ${model.name}?`}>
            <span>Delete its folder ({formatBytes(model.bytes)})?</span>
            <button type="button" onClick={keep} disabled={busy}>
              Keep
            </button>
            <button ref={confirm} type="button" className="danger" onClick={() => void remove()} disabled={busy} aria-busy={busy}>
              Remove {model.name}
            </button>
          </div>
        ) : (
          <>
            <button
              type="button"
              onClick={() => selectModel(model.name)}
              disabled={selected}
              aria-label={`Use ${model.name} for generation`}
              title="Use this model for the next jobs"
            >
              Use
            </button>
            <button
              ref={removeButton}
              type="button"
              onClick={() => setConfirming(true)}
              aria-label={`Remove ${model.name}…`}
              title="Delete this model's folder"
            >
              Remove…
            </button>
          </>
        )}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </td>
    </tr>
  );
}

/** A curated model: what it is, its size and licence, and Download (or Installed, or Downloading…). */
function CatalogCard({ entry, tasks }: { entry: CatalogEntry; tasks: readonly ModelTask[] }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const downloading = tasks.some((t) => isActive(t) && t.kind === 'download' && (t.source === entry.title || t.source === entry.id));
  const download = async (): Promise<void> => {
    setBusy(true);
    setError(await pullModel(entry.id));
    setBusy(false);
  };
  return (
    <li className="catalog-entry" data-testid="catalog-entry" data-catalog-id={entry.id}>
      <div className="catalog-text">
        <strong>{entry.title}</strong>
        <p className="muted">{entry.description}</p>
        <small>
          {formatBytes(entry.bytes)} ·{' '}
          <a href={entry.licenceUrl} target="_blank" rel="noreferrer">
            {entry.licence}
          </a>{' '}
          · <code>{entry.repo}</code>
        </small>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </div>
      {entry.installed ? (
        <span className="badge done" data-testid="catalog-installed">
          Installed
        </span>
      ) : (
        <button
          type="button"
          className="primary"
          onClick={() => void download()}
          disabled={busy || downloading}
          aria-label={`Download ${entry.title}`}
        >
          {downloading ? 'Downloading…' : 'Download'}
        </button>
      )}
    </li>
  );
}

/** A repository or a link: `owner/repo[@rev][:file]` or a …/resolve/… URL, and an optional name. */
function HubForm() {
  const [source, setSource] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [started, setStarted] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (): Promise<void> => {
    const trimmed = source.trim();
    setStarted(null);
    if (!trimmed) return setError('Give a repository (owner/name) or a link to a .safetensors file.');
    if (isPickle(trimmed.split('?')[0]!))
      return setError(
        'Onbrand downloads .safetensors checkpoints or model folders: a .ckpt, .pt or .bin file is a Python pickle, which can run code when opened.',
      );
    setBusy(true);
    const message = await pullModel(trimmed, name.trim() || undefined);
    setBusy(false);
    setError(message);
    if (!message) {
      setStarted(`Downloading ${trimmed}: its progress shows above.`);
      setSource('');
      setName('');
    }
  };
  return (
    <form
      className="hub-form"
      aria-label="Download from the Hugging Face Hub"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div className="hub-fields">
        <label className="field hub-source">
          <span>Repository or link</span>
          <input
            name="hub-source"
            value={source}
            spellCheck={false}
            autoComplete="off"
            placeholder="owner/repo[@revision][:file.safetensors] or https://huggingface.co/…/resolve/main/model.safetensors"
            onChange={(e) => {
              setSource(e.target.value);
              setError(null);
            }}
          />
        </label>
        <label className="field hub-name">
          <span>Name (optional)</span>
          <input
            name="hub-name"
            value={name}
            spellCheck={false}
            autoComplete="off"
            placeholder="from the file or repository"
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
          Download
        </button>
      </div>
      <small className="muted">
        A repository with one .safetensors checkpoint at its top level, a diffusers folder (safetensors weights) or an ONNX folder. Pickled
        .ckpt files are refused: opening one can run code.
      </small>
      {error && (
        <p className="form-error" role="alert" data-testid="hub-error">
          {error}
        </p>
      )}
      {started && (
        <p className="muted" role="status">
          {started}
        </p>
      )}
    </form>
  );
}

/** The Hugging Face token, for gated repositories. */
function TokenForm() {
  const [token, setToken] = useState('');
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [saved, setSaved] = useState<boolean | null>(null);
  useEffect(() => {
    void hubSettings().then((hub) => hub && setSaved(hub.hasToken));
  }, []);
  const save = async (value: string | null): Promise<void> => {
    const result = await saveHfToken(value);
    setStatus(result);
    if (result.ok) setSaved(value !== null || Boolean((await hubSettings())?.hasToken));
    if (value === null) setToken('');
  };
  return (
    <form
      className="token-form"
      aria-label="Hugging Face token"
      onSubmit={(e) => {
        e.preventDefault();
        if (token.trim()) void save(token.trim());
      }}
    >
      <div className="field">
        <label htmlFor="hf-token">
          Hugging Face token (for gated repositories){saved === null ? '' : saved ? ' · a token is saved' : ' · none saved'}
        </label>
        <div className="inline">
          <input
            id="hf-token"
            aria-describedby="hf-token-hint"
            type="password"
            name="hf-token"
            value={token}
            autoComplete="off"
            spellCheck={false}
            placeholder="hf_…"
            onChange={(e) => setToken(e.target.value)}
          />
          <button type="submit" disabled={!token.trim()}>
            Save token
          </button>
          <button type="button" onClick={() => void save(null)}>
            Remove token
          </button>
        </div>
        <small id="hf-token-hint">
          Only needed for models whose licence you accepted on huggingface.co. Kept in Onbrand&apos;s settings on this computer and sent
          only to the Hub. A read-only token is enough.
        </small>
      </div>
      {status && (
        <p className={status.ok ? 'muted' : 'form-error'} role={status.ok ? 'status' : 'alert'}>
          {status.text}
        </p>
      )}
    </form>
  );
}

/**
 * The model library (Shift+M): downloads and imports under way, the installed models, the curated
 * list, a repository or link to download, import, and the Hugging Face token.
 */
export function ModelLibraryDialog() {
  const models = useStore((s) => s.models);
  const catalog = useStore((s) => s.catalog);
  const allTasks = useStore((s) => s.modelTasks);
  const cleared = useStore((s) => s.clearedTasks);
  const selected = useStore((s) => s.draft.model);
  const tasks = useMemo(() => shownTasks(allTasks, cleared), [allTasks, cleared]);
  const dialog = useRef<HTMLDivElement>(null);
  const close = (): void => openLibrary(false);
  useModal(dialog, close);

  const installed = models?.models ?? [];
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && close()}>
      <div
        ref={dialog}
        className="modal models"
        role="dialog"
        aria-modal="true"
        aria-labelledby="model-library-title"
        data-testid="model-library"
        tabIndex={-1}
      >
        <div className="panel-head">
          <h2 id="model-library-title">Models</h2>
          <span className="muted small">{models ? `${installed.length} installed` : 'Loading…'}</span>
          <span className="spacer" />
          <button type="button" className="link" onClick={close} aria-label="Close the model library" title="Close (Esc)">
            ✕
          </button>
        </div>
        <div className="models-body">
          {tasks.length > 0 && (
            <section aria-labelledby="model-tasks-title">
              <h3 id="model-tasks-title">Downloads and imports</h3>
              <ModelTaskList tasks={tasks} />
            </section>
          )}

          <section aria-labelledby="installed-title">
            <h3 id="installed-title">Installed</h3>
            {models && installed.length === 0 ? (
              <p className="muted" data-testid="no-installed-models">
                No model installed yet: download one below, import a checkpoint or folder, or use a model folder.
              </p>
            ) : (
              <table className="installed-table" aria-labelledby="installed-title">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Family</th>
                    <th scope="col">Size</th>
                    <th scope="col">Source</th>
                    <th scope="col">Licence</th>
                    <th scope="col">Hash</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {installed.map((model) => (
                    <InstalledRow key={model.name} model={model} selected={model.name === selected} />
                  ))}
                </tbody>
              </table>
            )}
            {models && (
              <p className="muted small">
                Models folder: <code data-testid="models-dir">{models.modelsDir}</code>
              </p>
            )}
          </section>

          <section aria-labelledby="catalog-title">
            <h3 id="catalog-title">Download</h3>
            {catalog ? (
              <ul className="catalog">
                {catalog.map((entry) => (
                  <CatalogCard key={entry.id} entry={entry} tasks={tasks} />
                ))}
              </ul>
            ) : (
              <p className="muted">Loading the list of models…</p>
            )}
            <HubForm />
          </section>

          <section aria-labelledby="import-title">
            <h3 id="import-title">Import</h3>
            <div className="inline">
              <button type="button" onClick={() => openModelDialog('import')}>
                Import a checkpoint or folder…
              </button>
              <button type="button" onClick={() => openModelDialog('folder')}>
                Use a model folder…
              </button>
            </div>
          </section>

          <section aria-labelledby="token-title">
            <h3 id="token-title" className="visually-hidden">
              Hugging Face token
            </h3>
            <TokenForm />
          </section>
        </div>
        <div className="modal-actions">
          <button type="button" className="primary" onClick={close}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
