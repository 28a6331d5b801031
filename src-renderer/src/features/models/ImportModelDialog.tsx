import { useRef, useState } from 'react';
import { ChooseButton } from '../../shared/ChooseButton';
import { useModal } from '../../shared/use-modal';
import { useStore } from '../../store';
import { ModelTaskList } from './ModelTaskList';
import { importModel, openModelDialog, selectModel } from './actions';
import { suggestModelName } from '../../../../src-main/core/common/index';
import { isAbsolutePath, isPickle } from './format';

type Prediction = '' | 'epsilon' | 'v_prediction';

/**
 * Import a checkpoint or a model folder already on this computer: its absolute path, the name it
 * gets (from the file's name until edited), and for a checkpoint whose architecture cannot be
 * told, a config folder and the prediction type. The import runs as a task: its progress, and
 * its error in words, show here; closing the dialog leaves it running.
 */
export function ImportModelDialog() {
  const [source, setSource] = useState('');
  const [name, setName] = useState('');
  const [nameEdited, setNameEdited] = useState(false);
  const [configDir, setConfigDir] = useState('');
  const [prediction, setPrediction] = useState<Prediction>('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [taskId, setTaskId] = useState<string | null>(null);
  const task = useStore((s) => (taskId && !s.clearedTasks.includes(taskId) ? s.modelTasks.find((t) => t.id === taskId) : undefined));
  const dialog = useRef<HTMLFormElement>(null);
  const close = (): void => openModelDialog(null);
  useModal(dialog, close);

  const running = task !== undefined && (task.state === 'queued' || task.state === 'running');
  const done = task?.state === 'done';

  const editSource = (value: string): void => {
    setSource(value);
    setError(null);
    if (!nameEdited) setName(suggestModelName(value, ''));
  };

  const submit = async (): Promise<void> => {
    if (busy || running) return;
    if (done) return close();
    const path = source.trim();
    const config = configDir.trim();
    if (!path) return setError('Give the absolute path of a .safetensors file or of a model folder.');
    if (!isAbsolutePath(path))
      return setError(`${path} is not an absolute path: it must start with / (or a drive letter such as C:\\ on Windows).`);
    if (isPickle(path)) {
      return setError(
        `${path.split(/[\\/]/).pop()} is a pickled PyTorch file, which Onbrand does not open: loading one can run any code it holds. Look for a .safetensors version of the model (most are published both ways).`,
      );
    }
    if (!name.trim()) return setError('Give the model a name.');
    if (config && !isAbsolutePath(config)) return setError('The config folder must be an absolute path too.');
    setBusy(true);
    const result = await importModel({
      path,
      name: name.trim(),
      ...(config ? { configDir: config } : {}),
      ...(prediction ? { predictionType: prediction } : {}),
    });
    setBusy(false);
    if (typeof result === 'string') setError(result);
    else {
      setError(null);
      setTaskId(result.id);
    }
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && close()}>
      <form
        ref={dialog}
        className="modal import-model"
        role="dialog"
        aria-modal="true"
        aria-labelledby="import-model-title"
        data-testid="import-model"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <h2 id="import-model-title">Import a model</h2>
        <div className="field">
          <label htmlFor="import-path">Checkpoint file or model folder</label>
          <input
            id="import-path"
            name="import-path"
            value={source}
            spellCheck={false}
            autoComplete="off"
            placeholder="/Users/me/Downloads/dreamshaper_8.safetensors"
            onChange={(e) => editSource(e.target.value)}
            disabled={running}
            aria-describedby="import-path-hint"
          />
          <ChooseButton
            label="Choose a checkpoint…"
            request={{ select: 'files', filter: 'checkpoints', title: 'Checkpoint' }}
            disabled={running}
            onChoose={([chosen]) => editSource(chosen!)}
          />
          <ChooseButton
            label="Choose a folder…"
            request={{ select: 'folder', title: 'Model folder' }}
            disabled={running}
            onChoose={([chosen]) => editSource(chosen!)}
          />
          <small id="import-path-hint">
            An absolute path: a Stable Diffusion 1.x or 2.x <strong>.safetensors</strong> checkpoint, a diffusers folder or a diffusers ONNX
            folder. The source is only read: Onbrand writes its own copy into the models folder. <strong>.ckpt</strong> (and .pt, .bin)
            files are refused: they are Python pickles, and opening one can run any code it holds.
          </small>
        </div>
        <div className="field">
          <label htmlFor="import-name">Name</label>
          <input
            id="import-name"
            name="import-name"
            aria-describedby="import-name-hint"
            value={name}
            spellCheck={false}
            autoComplete="off"
            placeholder="from the file's name"
            onChange={(e) => {
              setName(e.target.value);
              setNameEdited(true);
              setError(null);
            }}
            disabled={running}
          />
          <small id="import-name-hint">How the model is listed in the Generate panel. Letters, digits, spaces and _ . ( ) + -.</small>
        </div>
        <details className="import-advanced">
          <summary>For a checkpoint Onbrand cannot read the architecture of</summary>
          <div className="field">
            <label htmlFor="import-config">Config folder (optional)</label>
            <input
              id="import-config"
              name="import-config"
              aria-describedby="import-config-hint"
              value={configDir}
              spellCheck={false}
              autoComplete="off"
              placeholder="/Users/me/models/stable-diffusion-2-1"
              onChange={(e) => setConfigDir(e.target.value)}
              disabled={running}
            />
            <ChooseButton
              request={{ select: 'folder', title: 'Config folder' }}
              disabled={running}
              onChoose={([chosen]) => setConfigDir(chosen!)}
            />
            <small id="import-config-hint">
              A diffusers folder of config.json files (unet/, vae/, text_encoder/, scheduler/) describing the checkpoint, as diffusers&apos;
              from_single_file takes it.
            </small>
          </div>
          <label className="field">
            <span>Prediction type</span>
            <select
              name="import-prediction"
              value={prediction}
              onChange={(e) => setPrediction(e.target.value as Prediction)}
              disabled={running}
            >
              <option value="">Detect (from the checkpoint or its config)</option>
              <option value="epsilon">epsilon (SD 1.x, SD 2.x base 512)</option>
              <option value="v_prediction">v-prediction (SD 2.x 768)</option>
            </select>
          </label>
        </details>
        {task && <ModelTaskList tasks={[task]} label="This import" />}
        {done && task && (
          <p className="muted" role="status">
            {task.name} is installed and selected in the Generate panel.
          </p>
        )}
        {error && (
          <p className="form-error" role="alert" data-testid="import-error">
            {error}
          </p>
        )}
        <div className="modal-actions">
          <button type="button" onClick={close}>
            {running ? 'Close (the import goes on)' : done ? 'Close' : 'Cancel'}
          </button>
          {!done && (
            <button type="submit" className="primary" disabled={busy || running} aria-busy={busy || running}>
              {task?.state === 'failed' || task?.state === 'cancelled' ? 'Try again' : 'Import'}
            </button>
          )}
          {done && task && (
            <button
              type="button"
              className="primary"
              onClick={() => {
                selectModel(task.name);
                close();
              }}
            >
              Done
            </button>
          )}
        </div>
      </form>
    </div>
  );
}
