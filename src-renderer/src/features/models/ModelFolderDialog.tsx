import { useRef, useState } from 'react';
import { useModal } from '../../shared/use-modal';
import { useStore } from '../../store';
import { loadModels, openModelDialog } from './actions';

/**
 * "Use a model folder": where to put a diffusers or ONNX folder so that Onbrand finds it, a
 * button to look again once it is there, and the import dialog for a folder kept elsewhere.
 */
export function ModelFolderDialog() {
  const models = useStore((s) => s.models);
  const [status, setStatus] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const dialog = useRef<HTMLDivElement>(null);
  const close = (): void => openModelDialog(null);
  useModal(dialog, close);

  const before = models?.models.length ?? 0;
  const lookAgain = async (): Promise<void> => {
    setStatus('Looking…');
    const list = await loadModels();
    if (!list) return setStatus(null);
    const found = list.models.length - before;
    setStatus(
      found > 0
        ? `Found ${found} new model${found === 1 ? '' : 's'}: ${list.models.map((m) => m.name).join(', ')}.`
        : list.models.length > 0
          ? `No new model; installed: ${list.models.map((m) => m.name).join(', ')}.`
          : 'No model found yet. Each model must be a folder of its own, directly inside the models folder, with its model_index.json and unet/ folder.',
    );
  };
  const copy = async (): Promise<void> => {
    if (!models) return;
    try {
      await navigator.clipboard.writeText(models.modelsDir);
      setCopied(true);
    } catch {
      setStatus('The browser did not allow copying: select the path and copy it.');
    }
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && close()}>
      <div
        ref={dialog}
        className="modal model-folder"
        role="dialog"
        aria-modal="true"
        aria-labelledby="model-folder-title"
        data-testid="model-folder"
      >
        <h2 id="model-folder-title">Use a model folder</h2>
        <p>
          Onbrand lists every model folder inside its models folder. Copy or move a <strong>diffusers</strong> folder (with{' '}
          <code>model_index.json</code> and safetensors weights) or a <strong>diffusers ONNX</strong> export (<code>unet/model.onnx</code>…)
          into:
        </p>
        <div className="inline models-dir-line">
          <code className="models-dir" data-testid="folder-models-dir">
            {models?.modelsDir ?? 'Loading…'}
          </code>
          <button type="button" onClick={() => void copy()} disabled={!models}>
            {copied ? 'Copied' : 'Copy path'}
          </button>
        </div>
        <p className="muted small">
          The folder&apos;s name becomes the model&apos;s name. Weights as pickled .bin or .ckpt files are not opened. To keep a folder
          where it is and let Onbrand make its own copy, import it instead.
        </p>
        {status && (
          <p className="muted" role="status">
            {status}
          </p>
        )}
        <div className="modal-actions">
          <button type="button" onClick={() => openModelDialog('import')}>
            Import a folder…
          </button>
          <span className="spacer" />
          <button type="button" onClick={close}>
            Close
          </button>
          <button type="button" className="primary" onClick={() => void lookAgain()}>
            Look again
          </button>
        </div>
      </div>
    </div>
  );
}
