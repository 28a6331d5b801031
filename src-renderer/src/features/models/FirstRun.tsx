import { useId, useMemo, useState } from 'react';
import { useStore } from '../../store';
import { ModelTaskList } from './ModelTaskList';
import { openModelDialog, pullModel } from './actions';
import { formatBytes } from '../../../../src-main/core/common/index';
import { isActive } from './format';
import { shownTasks } from './slice';

/** The curated model the first-run choice downloads. */
export const FIRST_MODEL_ID = 'sd15';

/**
 * The three ways to a first model, shown while none is installed (the Generate panel, the
 * library): download Stable Diffusion 1.5, import a checkpoint, or use a model folder; with the
 * downloads and imports under way below.
 */
export function FirstRun({ headingLevel = 3 }: { headingLevel?: 2 | 3 }) {
  const catalog = useStore((s) => s.catalog);
  const allTasks = useStore((s) => s.modelTasks);
  const cleared = useStore((s) => s.clearedTasks);
  const tasks = useMemo(() => shownTasks(allTasks, cleared), [allTasks, cleared]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const entry = catalog?.find((c) => c.id === FIRST_MODEL_ID);
  const downloading =
    entry !== undefined && tasks.some((t) => isActive(t) && t.kind === 'download' && (t.source === entry.title || t.source === entry.id));
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  // The card may show in the Generate panel and in the library at once: ids of its own.
  const id = useId();

  const download = async (): Promise<void> => {
    setBusy(true);
    setError(await pullModel(FIRST_MODEL_ID));
    setBusy(false);
  };

  return (
    <section className="first-run" aria-labelledby={`${id}-first-run-title`} data-testid="first-run">
      <Heading id={`${id}-first-run-title`}>No Stable Diffusion model yet</Heading>
      <p className="muted">Onbrand generates on this computer, with a model you install once. Choose one way:</p>
      <ol className="first-run-choices">
        <li>
          <button
            type="button"
            className="primary"
            onClick={() => void download()}
            disabled={busy || downloading || !entry}
            aria-describedby={`${id}-first-run-download-note`}
          >
            {downloading ? 'Downloading Stable Diffusion 1.5…' : `Download ${entry?.title ?? 'Stable Diffusion 1.5'}`}
          </button>
          <small id={`${id}-first-run-download-note`}>
            {entry ? (
              <>
                {formatBytes(entry.bytes)} from Hugging Face, under the{' '}
                <a href={entry.licenceUrl} target="_blank" rel="noreferrer">
                  {entry.licence} licence
                </a>{' '}
                (its use restrictions apply to what you make).
              </>
            ) : (
              'Loading the list of models…'
            )}
          </small>
        </li>
        <li>
          <button type="button" onClick={() => openModelDialog('import')} aria-describedby={`${id}-first-run-import-note`}>
            Import a checkpoint…
          </button>
          <small id={`${id}-first-run-import-note`}>
            A .safetensors file or a model folder you already have (from A1111, ComfyUI, InvokeAI…).
          </small>
        </li>
        <li>
          <button type="button" onClick={() => openModelDialog('folder')} aria-describedby={`${id}-first-run-folder-note`}>
            Use a model folder…
          </button>
          <small id={`${id}-first-run-folder-note`}>Put a diffusers or ONNX model folder into Onbrand&apos;s models folder.</small>
        </li>
      </ol>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <ModelTaskList tasks={tasks} />
    </section>
  );
}
