import { useEffect, useState, type DragEvent } from 'react';
import type { Reference } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
import { Swatch } from '../../shared/BrandBadge';
import { ChooseButton } from '../../shared/ChooseButton';
import { useStore } from '../../store';
import { uploadDropped } from '../projects/upload';
import { UploadButtons } from '../projects/UploadButtons';
import { PaletteEditor } from './PaletteEditor';
import { UnsplashSearch } from './UnsplashSearch';
import { addRefs, loadRefs, moveRef, removeRefs, saveMood, takeBoardPalette } from './actions';

/** A reference dragged within the board (to reorder it), told apart from things dropped from outside. */
const REF_TYPE = 'application/x-onbrand-ref';

/** True when a key press or paste belongs to a text field. */
function typingTarget(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

/** The http(s) URLs and absolute paths in a piece of text (a uri-list, a paste), one per line; `#` lines are uri-list comments. */
export function itemsOfText(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .filter((line) => /^https?:\/\//i.test(line) || /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(line));
}

/** What a drop carries: dropped files' paths (where the shell can tell them), then URLs. */
function itemsOfDrop(data: DataTransfer): { items: string[]; unknownFiles: number } {
  const client = getClient();
  const files = Array.from(data.files);
  const paths = files.map((f) => client.pathForFile(f)).filter((p): p is string => !!p);
  const urls = itemsOfText(data.getData('text/uri-list'));
  const plain = urls.length === 0 ? itemsOfText(data.getData('text/plain')) : [];
  return { items: [...new Set([...paths, ...urls, ...plain])], unknownFiles: files.length - paths.length };
}

/** The mood board: references with their colours and credits, the mood, and the palettes. */
export function MoodBoard() {
  const projectId = useStore((s) => s.currentProjectId);
  const project = useStore((s) => s.projects.find((p) => p.id === s.currentProjectId));
  const refs = useStore((s) => s.refs);
  const boardPalette = useStore((s) => s.boardPalette);
  const refReport = useStore((s) => s.refReport);
  const setRefReport = useStore((s) => s.setRefReport);
  const notify = useStore((s) => s.notify);
  const [chosen, setChosen] = useState<number[]>([]);
  const [adding, setAdding] = useState(false);
  const [unsplashOpen, setUnsplashOpen] = useState(false);
  const [addText, setAddText] = useState('');
  const [busy, setBusy] = useState(false);
  const [mood, setMood] = useState(project?.mood ?? '');
  const [dropping, setDropping] = useState(false);
  const browser = getClient().shell === 'browser';

  useEffect(() => {
    void loadRefs(projectId);
  }, [projectId]);
  // The saved mood replaces the field when the project (or its saved mood) changes.
  useEffect(() => setMood(project?.mood ?? ''), [project?.id, project?.mood]);

  const add = async (items: string[]): Promise<void> => {
    if (items.length === 0) return;
    setBusy(true);
    await addRefs(items);
    setBusy(false);
  };

  useEffect(() => {
    const onPaste = (event: ClipboardEvent): void => {
      if (typingTarget(event.target) || !event.clipboardData) return;
      const items = itemsOfText(event.clipboardData.getData('text/plain'));
      if (items.length === 0) return;
      event.preventDefault();
      void add(items);
    };
    const onKey = (event: KeyboardEvent): void => {
      if (typingTarget(event.target) || (event.key !== 'Delete' && event.key !== 'Backspace') || chosen.length === 0) return;
      event.preventDefault();
      void removeRefs(chosen);
      setChosen([]);
    };
    window.addEventListener('paste', onPaste);
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('paste', onPaste);
      window.removeEventListener('keydown', onKey);
    };
  }, [chosen]);

  const onDrop = (event: DragEvent): void => {
    // The app's own drop (import into the grid) must not see a drop meant for the board.
    event.preventDefault();
    event.stopPropagation();
    setDropping(false);
    if (event.dataTransfer.types.includes(REF_TYPE)) return;
    const { items, unknownFiles } = itemsOfDrop(event.dataTransfer);
    if (unknownFiles > 0 && !uploadDropped(event.dataTransfer, 'references'))
      notify('info', 'This browser cannot tell Onbrand where dropped files are: use Add… and give their paths or folder.');
    void add(items);
  };

  const choose = (ref: Reference, extend: boolean): void => {
    if (extend) setChosen((c) => (c.includes(ref.id) ? c.filter((id) => id !== ref.id) : [...c, ref.id]));
    else setChosen([ref.id]);
  };

  const client = getClient();
  return (
    <div
      className={dropping ? 'moodboard dropping' : 'moodboard'}
      data-testid="moodboard"
      onDragOver={(e) => {
        e.preventDefault();
        e.stopPropagation();
        setDropping(!e.dataTransfer.types.includes(REF_TYPE));
      }}
      onDragLeave={(e) => e.currentTarget === e.target && setDropping(false)}
      onDrop={onDrop}
    >
      <section className="board-main" aria-label="References">
        <div className="board-bar">
          <strong>Mood board</strong>
          <span className="muted small">
            {refs.length} reference{refs.length === 1 ? '' : 's'} · drop images, folders or links here, or paste a link (Ctrl+V)
          </span>
          <span className="spacer" />
          <button
            type="button"
            disabled={chosen.length === 0}
            onClick={() => void removeRefs(chosen).then(() => setChosen([]))}
            title="Remove the selected references (Delete)"
          >
            Remove
          </button>
          <button
            type="button"
            aria-expanded={unsplashOpen}
            onClick={() => setUnsplashOpen(!unsplashOpen)}
            title="Search Unsplash and pin photos"
          >
            Unsplash…
          </button>
          <button type="button" className="primary" aria-expanded={adding} onClick={() => setAdding(!adding)}>
            Add…
          </button>
        </div>
        {unsplashOpen && <UnsplashSearch />}
        {adding && (
          <form
            className="board-add"
            onSubmit={(e) => {
              e.preventDefault();
              const items = addText
                .split('\n')
                .map((l) => l.trim())
                .filter(Boolean);
              if (items.length === 0) return;
              void add(items).then(() => setAddText(''));
            }}
          >
            <label>
              Files, folders or links
              <textarea
                rows={3}
                value={addText}
                onChange={(e) => setAddText(e.target.value)}
                placeholder={'/Users/me/Pictures/Unsplash cache\nhttps://unsplash.com/photos/…'}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                    e.preventDefault();
                    e.currentTarget.form?.requestSubmit();
                  }
                }}
              />
            </label>
            <span className="hint">
              One per line: absolute paths of images or folders, or http(s) links to images or photo pages (Unsplash and others).
              {browser && ' In a browser, drop files on the board or upload them.'} Ctrl+Enter adds.
            </span>
            <div className="inline">
              <ChooseButton
                label="Choose files…"
                request={{ select: 'files', multiple: true, filter: 'images', title: 'Add references' }}
                disabled={busy}
                onChoose={(paths) => setAddText([addText.trim(), ...paths].filter(Boolean).join('\n'))}
              />
              <ChooseButton
                label="Choose folders…"
                request={{ select: 'folder', multiple: true, title: 'Add reference folders' }}
                disabled={busy}
                onChoose={(paths) => setAddText([addText.trim(), ...paths].filter(Boolean).join('\n'))}
              />
              <UploadButtons kind="references" disabled={busy} />
              <button type="submit" className="primary" disabled={busy}>
                {busy ? 'Adding…' : 'Add to board'}
              </button>
            </div>
          </form>
        )}
        {refReport && (
          <div className={refReport.skipped.length ? 'board-report warn' : 'board-report'} data-testid="ref-report" role="status">
            <div className="report-head">
              <strong>
                Added {refReport.added.length} reference{refReport.added.length === 1 ? '' : 's'}
              </strong>
              {refReport.skipped.length > 0 && <span> · {refReport.skipped.length} skipped</span>}
              <button type="button" className="link" onClick={() => setRefReport(null)} aria-label="Dismiss the board report">
                ✕
              </button>
            </div>
            <ul className="report-skips">
              {refReport.added.map((r) => (
                <li key={`a${r.id}`} data-outcome="added">
                  Added {r.fileName}
                  {r.author ? ` (photo by ${r.author})` : ''}
                </li>
              ))}
              {refReport.skipped.map((s) => (
                <li key={`s${s.item}`} data-outcome="skipped" data-reason={s.reason}>
                  {s.message}
                </li>
              ))}
            </ul>
          </div>
        )}
        {busy && (
          <div className="muted small" role="status">
            Fetching and reading references…
          </div>
        )}
        {refs.length === 0 ? (
          <div className="board-empty" data-testid="board-empty">
            Pin the mood first: drop 20–30 reference shots here (files, folders, image links, Unsplash photo pages), or use Add….
          </div>
        ) : (
          <ul className="board-grid">
            {refs.map((ref, index) => (
              <li
                key={ref.id}
                className={chosen.includes(ref.id) ? 'ref-card chosen' : 'ref-card'}
                data-testid="ref-card"
                data-ref-id={ref.id}
                aria-selected={chosen.includes(ref.id)}
                draggable
                onDragStart={(e) => {
                  e.dataTransfer.setData(REF_TYPE, String(ref.id));
                  e.dataTransfer.effectAllowed = 'move';
                }}
                onDrop={(e) => {
                  const dragged = Number(e.dataTransfer.getData(REF_TYPE));
                  if (!dragged) return;
                  e.preventDefault();
                  e.stopPropagation();
                  setDropping(false);
                  if (dragged !== ref.id) void moveRef(dragged, index);
                }}
                onClick={(e) => choose(ref, e.ctrlKey || e.metaKey || e.shiftKey)}
              >
                <img className="ref-thumb" src={client.mediaUrl(ref.path)} alt={ref.fileName} draggable={false} decoding="async" />
                <div className="ref-swatches" data-testid="ref-palette">
                  {ref.palette.slice(0, 5).map((p) => (
                    <Swatch key={p.hex} hex={p.hex} title={`${p.hex} · ${Math.round(p.share * 100)} %`} />
                  ))}
                </div>
                <div className="ref-credit" data-testid="ref-credit" title={ref.sourceUrl ?? ref.fileName}>
                  {ref.author ? `Photo by ${ref.author}` : ref.fileName}
                  {ref.licence ? ` · ${ref.licence}` : ''}
                </div>
                <div className="ref-actions">
                  <button
                    type="button"
                    disabled={index === 0}
                    onClick={(e) => (e.stopPropagation(), void moveRef(ref.id, index - 1))}
                    aria-label={`Move ${ref.fileName} earlier`}
                  >
                    ‹
                  </button>
                  <button
                    type="button"
                    disabled={index === refs.length - 1}
                    onClick={(e) => (e.stopPropagation(), void moveRef(ref.id, index + 1))}
                    aria-label={`Move ${ref.fileName} later`}
                  >
                    ›
                  </button>
                  <button
                    type="button"
                    onClick={(e) => (e.stopPropagation(), void removeRefs([ref.id]))}
                    aria-label={`Remove ${ref.fileName}`}
                  >
                    ✕
                  </button>
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>
      <aside className="board-side" aria-label="Mood and palette">
        <label className="board-mood">
          Mood
          <textarea
            rows={3}
            maxLength={500}
            value={mood}
            onChange={(e) => setMood(e.target.value)}
            onBlur={() => mood !== (project?.mood ?? '') && void saveMood(mood)}
            placeholder="hopeful / rebellious finance"
          />
        </label>
        <button type="button" disabled={mood === (project?.mood ?? '')} onClick={() => void saveMood(mood)}>
          Save mood
        </button>
        <h3>Board palette</h3>
        <ul className="palette-list" data-testid="board-palette">
          {boardPalette.map((p) => (
            <li key={p.hex} data-hex={p.hex}>
              <Swatch hex={p.hex} size="large" /> {p.hex} <span className="muted">{Math.round(p.share * 100)} %</span>
            </li>
          ))}
          {boardPalette.length === 0 && <li className="muted">Add references to see their colours.</li>}
        </ul>
        <div className="inline">
          <button
            type="button"
            disabled={boardPalette.length === 0}
            onClick={() => void takeBoardPalette('replace')}
            title="Replace the brand palette with the board's colours"
          >
            Use as brand palette
          </button>
          <button
            type="button"
            disabled={boardPalette.length === 0}
            onClick={() => void takeBoardPalette('append')}
            title="Add the board's colours the brand palette lacks"
          >
            Add to brand palette
          </button>
        </div>
        <h3 id="brand-palette-title">Brand palette</h3>
        {project && <PaletteEditor project={project} />}
      </aside>
    </div>
  );
}
