import { useEffect, useRef, useState } from 'react';
import type { ExportedFile, ExportReport, ExportTarget } from '../../../../src-main/core/api/index';
import { DEFAULT_NAME_TEMPLATE, NAME_TOKENS, nameTemplateProblem } from '../../../../src-main/core/common/index';
import { getClient } from '../../api/client';
import { ChooseButton } from '../../shared/ChooseButton';
import { describedBy, FieldMessage } from '../../shared/FieldMessage';
import { useStore } from '../../store';
import {
  TARGET_LABELS,
  firstFileName,
  formatElapsed,
  formatKb,
  isInside,
  loadTargets,
  rememberTarget,
  runExport,
  type ExportRequest,
} from './actions';

type Which = 'picks' | 'min-rating' | 'selection';
const TARGETS = Object.keys(TARGET_LABELS) as ExportTarget[];
const SORA_SIZE = { width: '1080', height: '1920' };

interface Progress {
  done: number;
  total: number;
  current: string;
}

/** One exported file: its thumbnail where the media route can serve it (inside the project), else the name only. */
function FileRow({ file, projectFolder }: { file: ExportedFile; projectFolder: string }) {
  const [broken, setBroken] = useState(false);
  const showThumb = !broken && isInside(file.path, projectFolder);
  return (
    <li className="export-file" data-testid="export-file" data-file-name={file.fileName} data-path={file.path} data-bytes={file.bytes}>
      {showThumb ? (
        <img className="export-thumb" src={getClient().mediaUrl(file.path)} alt="" loading="lazy" onError={() => setBroken(true)} />
      ) : (
        <span className="export-thumb none" aria-hidden="true" title="Written outside the project: no preview" />
      )}
      <span className="export-file-name" data-testid="export-file-name" title={file.path}>
        {file.fileName}
      </span>
      <span className="export-file-meta muted">
        <span data-testid="export-file-size">{formatKb(file.bytes)}</span> · {file.width}×{file.height}
        {file.section && <> · {file.section}</>}
        {file.upscaled && (
          <>
            {' '}
            · <span className="upscaled">upscaled ×4</span>
          </>
        )}
      </span>
    </li>
  );
}

function ReportView({ report, projectFolder }: { report: ExportReport; projectFolder: string }) {
  return (
    <section className="export-report" data-testid="export-report" aria-label="Export report">
      <p data-testid="export-summary">
        <strong>
          Exported {report.files.length} {report.files.length === 1 ? 'file' : 'files'}
        </strong>{' '}
        to <code>{report.dir}</code> in {formatElapsed(report.elapsedMs)}
        {report.skipped.length > 0 && `; skipped ${report.skipped.length}`}.
      </p>
      {report.files.length > 0 && (
        <ul className="export-files">
          {report.files.map((file) => (
            <FileRow key={`${file.imageId}:${file.path}`} file={file} projectFolder={projectFolder} />
          ))}
        </ul>
      )}
      {report.skipped.length > 0 && (
        <ul className="export-skipped" aria-label="Skipped">
          {report.skipped.map((skip, i) => (
            <li key={`${skip.imageId ?? 'none'}:${i}`} data-testid="export-skip" data-reason={skip.reason}>
              {skip.message}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/**
 * Export: the Framer sections, a Sora storyboard, a folder or Maybe Later; which images, where,
 * the size, palette snap and the name template; progress while it runs, then the report.
 */
export function ExportDialog({ onClose }: { onClose(): void }) {
  const projectId = useStore((s) => s.currentProjectId);
  const project = useStore((s) => s.projects.find((p) => p.id === s.currentProjectId));
  const selection = useStore((s) => s.selection);
  const images = useStore((s) => s.allImages);
  const sections = useStore((s) => s.sections);
  const [target, setTarget] = useState<ExportTarget>('framer');
  const [which, setWhich] = useState<Which>('picks');
  const [rating, setRating] = useState(3);
  const [targets, setTargets] = useState<Record<ExportTarget, string> | null>(null);
  const [dirs, setDirs] = useState<Partial<Record<ExportTarget, string>>>({});
  const [remember, setRemember] = useState(false);
  const [size, setSize] = useState<{ width: string; height: string }>({ width: '', height: '' });
  const [paletteSnap, setPaletteSnap] = useState(false);
  const [nameTemplate, setNameTemplate] = useState(DEFAULT_NAME_TEMPLATE);
  const [again, setAgain] = useState(false);
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [report, setReport] = useState<ExportReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const first = useRef<HTMLSelectElement>(null);

  useEffect(() => {
    first.current?.focus();
    if (projectId === null) return;
    let live = true;
    loadTargets(projectId)
      .then((t) => live && setTargets(t))
      .catch((e: unknown) => live && setError((e as Error).message));
    return () => {
      live = false;
    };
  }, [projectId]);

  useEffect(
    () =>
      getClient().subscribe((event) => {
        if (event.type === 'export.progress' && event.payload.projectId === projectId) {
          const { done, total, current } = event.payload;
          setProgress({ done, total, current });
        }
      }),
    [projectId],
  );

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === 'Escape' && !busy) {
        event.preventDefault();
        onClose();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose, busy]);

  if (projectId === null) return null;

  const dir = dirs[target] ?? targets?.[target] ?? '';
  const sized = target === 'folder' || target === 'sora';
  const framer = target === 'framer';
  // The name template is checked as the exporter checks it (blank: the default), with the first file's name beside it.
  const template = nameTemplate.trim() || DEFAULT_NAME_TEMPLATE;
  const nameProblem = nameTemplateProblem(template);
  const preview = nameProblem
    ? null
    : firstFileName(template, {
        projectName: project?.name ?? '',
        target,
        which:
          which === 'picks'
            ? { kind: 'picks' }
            : which === 'min-rating'
              ? { kind: 'min-rating', rating }
              : { kind: 'images', imageIds: selection },
        images,
        sections,
      });
  const sizeError = sized ? exportSizeError(size) : undefined;
  const chooseTarget = (next: ExportTarget): void => {
    setTarget(next);
    setSize(next === 'sora' ? SORA_SIZE : { width: '', height: '' });
  };

  const submit = async (): Promise<void> => {
    if (busy) return;
    setError(null);
    setReport(null);
    const request: ExportRequest = {
      projectId,
      target,
      selection:
        which === 'picks'
          ? { kind: 'picks' }
          : which === 'min-rating'
            ? { kind: 'min-rating', rating }
            : { kind: 'images', imageIds: selection },
      paletteSnap,
      again,
    };
    // Framer exports each section's paired image; the selection is ignored there.
    if (framer) request.selection = { kind: 'picks' };
    else if (which === 'selection' && selection.length === 0) {
      setError('Select one or more images in the grid first.');
      return;
    }
    const trimmedDir = dir.trim();
    if (trimmedDir && trimmedDir !== targets?.[target]) request.dir = trimmedDir;
    if (sized && (size.width.trim() || size.height.trim())) {
      if (sizeError) {
        setError(sizeError);
        return;
      }
      request.width = Number(size.width);
      request.height = Number(size.height);
    }
    // Named beside the field already (and Export is off meanwhile).
    if (nameProblem) return;
    if (nameTemplate.trim() && nameTemplate.trim() !== DEFAULT_NAME_TEMPLATE) request.nameTemplate = nameTemplate.trim();
    setBusy(true);
    setProgress(null);
    try {
      if (remember && trimmedDir && trimmedDir !== targets?.[target]) setTargets(await rememberTarget(projectId, target, trimmedDir));
      setReport(await runExport(request));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const percent = progress && progress.total > 0 ? Math.round((progress.done / progress.total) * 100) : 0;

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && !busy && onClose()}>
      <form
        className="modal export"
        role="dialog"
        aria-modal="true"
        aria-label="Export"
        data-testid="export-dialog"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="panel-head">
          <h2>Export{project ? ` — ${project.name}` : ''}</h2>
          <span className="spacer" />
          <button type="button" className="link" onClick={onClose} disabled={busy} aria-label="Close Export" title="Close (Esc)">
            ✕
          </button>
        </div>
        <div className="export-grid">
          <label className="field">
            <span>Target</span>
            <select
              ref={first}
              aria-label="Target"
              value={target}
              onChange={(e) => chooseTarget(e.target.value as ExportTarget)}
              disabled={busy}
            >
              {TARGETS.map((t) => (
                <option key={t} value={t}>
                  {TARGET_LABELS[t]}
                </option>
              ))}
            </select>
            {framer && <small>Each section&apos;s paired image, at the section&apos;s size.</small>}
          </label>
          <fieldset className="field export-which" disabled={busy || framer}>
            <legend>Images</legend>
            <label className="inline">
              <input type="radio" name="which" checked={which === 'picks'} onChange={() => setWhich('picks')} /> Picks
            </label>
            <label className="inline">
              <input type="radio" name="which" checked={which === 'min-rating'} onChange={() => setWhich('min-rating')} /> Rated
              <select
                aria-label="Minimum rating"
                value={rating}
                onChange={(e) => {
                  setRating(Number(e.target.value));
                  setWhich('min-rating');
                }}
              >
                {[1, 2, 3, 4, 5].map((n) => (
                  <option key={n} value={n}>
                    {'★'.repeat(n)}
                    {n < 5 ? ' and up' : ''}
                  </option>
                ))}
              </select>
            </label>
            <label className="inline">
              <input type="radio" name="which" checked={which === 'selection'} onChange={() => setWhich('selection')} /> The current
              selection ({selection.length})
            </label>
            {framer && <small>Framer exports the sections&apos; paired images.</small>}
          </fieldset>
        </div>
        <label className="field">
          <span>Folder</span>
          <input
            aria-label="Folder"
            value={dir}
            placeholder={targets ? '' : 'Loading…'}
            onChange={(e) => setDirs({ ...dirs, [target]: e.target.value })}
            disabled={busy}
            spellCheck={false}
          />
        </label>
        <ChooseButton
          request={{ select: 'folder', title: 'Export folder' }}
          disabled={busy}
          onChoose={([chosen]) => setDirs({ ...dirs, [target]: chosen! })}
        />
        <label className="inline">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} disabled={busy} /> Remember for this
          project
        </label>
        {sized && (
          <div className="inline export-size">
            <label className="inline">
              <span>Width</span>
              <input
                aria-label="Width"
                inputMode="numeric"
                value={size.width}
                placeholder="source"
                {...describedBy('export-size-error', sizeError)}
                onChange={(e) => setSize({ ...size, width: e.target.value })}
                disabled={busy}
              />
            </label>
            <span aria-hidden="true">×</span>
            <label className="inline">
              <span>Height</span>
              <input
                aria-label="Height"
                inputMode="numeric"
                value={size.height}
                placeholder="source"
                {...describedBy('export-size-error', sizeError)}
                onChange={(e) => setSize({ ...size, height: e.target.value })}
                disabled={busy}
              />
            </label>
            <small className="muted">{target === 'sora' ? 'Sora: 1080×1920 by default.' : 'Blank keeps the source size.'}</small>
            <FieldMessage id="export-size-error" message={sizeError} />
          </div>
        )}
        <label className="inline">
          <input type="checkbox" checked={paletteSnap} onChange={(e) => setPaletteSnap(e.target.checked)} disabled={busy} /> Palette snap
        </label>
        <label className="field">
          <span>Name template</span>
          <input
            aria-label="Name template"
            value={nameTemplate}
            onChange={(e) => setNameTemplate(e.target.value)}
            disabled={busy}
            spellCheck={false}
            {...describedBy('export-name-error', nameProblem?.message)}
          />
          <FieldMessage id="export-name-error" message={nameProblem?.message} fix={nameProblem?.fix} onFix={setNameTemplate} />
          {!nameProblem && (
            <small data-testid="export-name-preview" aria-live="polite">
              First file: {preview ? <code>{preview}</code> : <span className="muted">no image to export yet</span>}
            </small>
          )}
          <small>
            Tokens:{' '}
            {NAME_TOKENS.map((t, i) => (
              <span key={t}>
                {i > 0 && ', '}
                <code>{`{${t}}`}</code>
              </span>
            ))}
          </small>
        </label>
        <label className="inline">
          <input type="checkbox" checked={again} onChange={(e) => setAgain(e.target.checked)} disabled={busy} /> Export again images already
          exported
        </label>
        {busy && (
          <div className="export-progress" data-testid="export-progress">
            <progress max={progress?.total || 1} value={progress?.done ?? 0} aria-label="Export progress" />
            <small className="muted">
              {progress ? `${progress.done} of ${progress.total} (${percent} %) ${progress.current}` : 'Starting…'}
            </small>
          </div>
        )}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        {report && <ReportView report={report} projectFolder={project?.folder ?? ''} />}
        <div className="modal-actions">
          <button type="button" onClick={onClose} disabled={busy}>
            {report ? 'Done' : 'Cancel'}
          </button>
          <button
            type="submit"
            className="primary"
            aria-busy={busy}
            disabled={busy || nameProblem !== null}
            title={nameProblem ? 'Fix the name template first' : undefined}
          >
            Export
          </button>
        </div>
      </form>
    </div>
  );
}

/** Why the export size (both blank: the source size) will not do, in the dialog's words; undefined when it will. */
function exportSizeError(size: { width: string; height: string }): string | undefined {
  if (!size.width.trim() && !size.height.trim()) return undefined;
  const ok = (text: string): boolean => /^\d+$/.test(text.trim()) && Number(text) >= 64 && Number(text) <= 8192;
  if (!ok(size.width)) return 'Export width must be 64–8192 px (or both blank for the source size)';
  if (!ok(size.height)) return 'Export height must be 64–8192 px (or both blank for the source size)';
  return undefined;
}
