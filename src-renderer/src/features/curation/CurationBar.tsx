import { useEffect, useMemo, useRef, useState } from 'react';
import { getClient } from '../../api/client';
import { zoomAtPointer } from '../../shared/zoom';
import { useStore } from '../../store';
import { type FlagFilter, type LabelFilter, type SortOrder } from '../grid/view';
import { downloadSelection, mark, redo, toggleCompare, toggleFullscreen, toggleLabel, undo } from './actions';
import { LABELS } from './ColourLabel';

const FLAG_FILTERS: { value: FlagFilter; label: string }[] = [
  { value: 'all', label: 'All but rejected' },
  { value: 'picks', label: 'Picks' },
  { value: 'unflagged', label: 'Unflagged' },
  { value: 'rejected', label: 'Maybe Later' },
];

const LABEL_FILTERS: { value: LabelFilter; label: string }[] = [
  { value: 'any', label: 'Any label' },
  ...LABELS.map((l) => ({ value: l.label, label: l.name })),
  { value: 'none', label: 'No label' },
];

const SORTS: { value: SortOrder; label: string }[] = [
  { value: 'capture', label: 'Capture order' },
  { value: 'rating', label: 'Rating' },
  { value: 'sharpness', label: 'Sharpness (crisp first)' },
  { value: 'brand', label: 'Brand coverage (most first)' },
];

/**
 * Culling's visible controls: every key of the cheat sheet has a button or field here. One row of
 * the essential ones (rate, pick, reject, undo, the rating, flag and label filters, the prompt
 * search); the rest under More ▾.
 */
export function CurationBar({ onCheatSheet }: { onCheatSheet(): void }) {
  const filter = useStore((s) => s.filter);
  const setFilter = useStore((s) => s.setFilter);
  const allImages = useStore((s) => s.allImages);
  const shown = useStore((s) => s.images.length);
  const count = useStore((s) => (s.selection.length > 1 ? s.selection.length : s.selected >= 0 ? 1 : 0));
  const canUndo = useStore((s) => s.past.length > 0);
  const none = count === 0;

  return (
    <div className="curation-bar" data-testid="curation-bar">
      <div className="curation-row one-row" role="toolbar" aria-label="Rate, flag and filter">
        <div className="segmented" role="group" aria-label="Rating">
          {[1, 2, 3, 4, 5].map((n) => (
            <button
              key={n}
              type="button"
              disabled={none}
              onClick={() => void mark({ rating: n })}
              title={`${n} star${n === 1 ? '' : 's'} (${n})`}
            >
              {'★'.repeat(n)}
            </button>
          ))}
          <button type="button" disabled={none} onClick={() => void mark({ rating: 0 })} title="Clear the rating (0)">
            ☆ 0
          </button>
        </div>
        <button type="button" disabled={none} onClick={() => void mark({ flag: 'pick' })} title="Pick (P)">
          ⚑ Pick
        </button>
        <button
          type="button"
          disabled={none}
          onClick={() => void mark({ flag: 'reject' })}
          title="Reject: moves the file to _Rejected/Maybe Later (X)"
        >
          ✕ Reject
        </button>
        <button type="button" disabled={!canUndo} onClick={() => void undo()} title="Undo (Ctrl+Z)">
          ↶ Undo
        </button>
        <select
          aria-label="Minimum rating"
          title="Rating filter: N stars and up (Ctrl+0…Ctrl+5)"
          value={filter.minRating}
          onChange={(e) => setFilter({ minRating: Number(e.target.value) })}
        >
          <option value={0}>Any rating</option>
          {[1, 2, 3, 4, 5].map((n) => (
            <option key={n} value={n}>
              {'★'.repeat(n)}
              {n < 5 ? '+' : ''}
            </option>
          ))}
        </select>
        <select
          aria-label="Flag filter"
          title="Flag filter; Maybe Later holds the rejected images (M)"
          value={filter.flag}
          onChange={(e) => setFilter({ flag: e.target.value as FlagFilter })}
        >
          {FLAG_FILTERS.map((f) => (
            <option key={f.value} value={f.value}>
              {f.label}
            </option>
          ))}
        </select>
        <select
          aria-label="Label filter"
          title="Colour label filter (labels: 6 red, 7 yellow, 8 green, 9 blue)"
          value={filter.label}
          onChange={(e) => setFilter({ label: e.target.value as LabelFilter })}
        >
          {LABEL_FILTERS.map((f) => (
            <option key={f.value} value={f.value}>
              {f.label}
            </option>
          ))}
        </select>
        <input
          aria-label="Prompt contains"
          className="filter-text"
          placeholder="Prompt contains…"
          title="Esc gives the keys back to the grid"
          value={filter.text}
          onChange={(e) => setFilter({ text: e.target.value })}
        />
        <span className="spacer" />
        <span className="muted small counts">
          <span data-testid="selection-count">{count > 1 ? `${count} selected` : ''}</span>
          {count > 1 && shown !== allImages.length ? ' · ' : ''}
          <span data-testid="shown-count">{shown === allImages.length ? '' : `${shown} of ${allImages.length} shown`}</span>
        </span>
        <MoreMenu onCheatSheet={onCheatSheet} />
      </div>
    </div>
  );
}

/**
 * The curation controls that do not fit the one row, in a popover under More ▾. Opened with the
 * keyboard, the focus goes into it; Esc or a click outside closes it, and the keys go back to the
 * grid or the loupe.
 */
function MoreMenu({ onCheatSheet }: { onCheatSheet(): void }) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const focusInside = useRef(false);

  useEffect(() => {
    if (!open) return;
    if (focusInside.current) panel.current?.querySelector<HTMLElement>('button:not([disabled]), input, select')?.focus();
    const onPointer = (event: PointerEvent): void => {
      if (!(event.target instanceof Node) || !box.current?.contains(event.target)) setOpen(false);
    };
    // Before the app's keys: Esc closes the menu only (it does not also leave the loupe).
    const onKey = (event: KeyboardEvent): void => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      event.stopPropagation();
      setOpen(false);
      if (document.activeElement instanceof HTMLElement && box.current?.contains(document.activeElement)) document.activeElement.blur();
    };
    window.addEventListener('pointerdown', onPointer, true);
    window.addEventListener('keydown', onKey, true);
    return () => {
      window.removeEventListener('pointerdown', onPointer, true);
      window.removeEventListener('keydown', onKey, true);
    };
  }, [open]);

  return (
    <div className="curation-more" ref={box}>
      <button
        type="button"
        aria-haspopup="true"
        aria-expanded={open}
        aria-controls="curation-more-panel"
        title="More culling controls: labels, redo, compare, zoom, stacks, job, seed, sort"
        onClick={(event) => {
          // Opened with Enter or Space (no pointer): the focus goes into the menu.
          focusInside.current = event.detail === 0;
          setOpen(!open);
        }}
      >
        More ▾
      </button>
      {open && (
        <div className="curation-more-panel" id="curation-more-panel" role="group" aria-label="More culling controls" ref={panel}>
          <MoreControls onCheatSheet={onCheatSheet} />
        </div>
      )}
    </div>
  );
}

function MoreControls({ onCheatSheet }: { onCheatSheet(): void }) {
  const filter = useStore((s) => s.filter);
  const setFilter = useStore((s) => s.setFilter);
  const sort = useStore((s) => s.sort);
  const setSort = useStore((s) => s.setSort);
  const allImages = useStore((s) => s.allImages);
  const count = useStore((s) => (s.selection.length > 1 ? s.selection.length : s.selected >= 0 ? 1 : 0));
  const canRedo = useStore((s) => s.future.length > 0);
  const autoAdvance = useStore((s) => s.autoAdvance);
  const setAutoAdvance = useStore((s) => s.setAutoAdvance);
  const showSharpness = useStore((s) => s.showSharpness);
  const setShowSharpness = useStore((s) => s.setShowSharpness);
  const lightsOut = useStore((s) => s.lightsOut);
  const setLightsOut = useStore((s) => s.setLightsOut);
  const stacking = useStore((s) => s.stacks.on);
  const setStacking = useStore((s) => s.setStacking);
  const mode = useStore((s) => s.mode);
  const zoomed = useStore((s) => s.zoom.on);
  const jobIds = useMemo(() => [...new Set(allImages.map((i) => i.jobId).filter((j) => j !== null))].sort((a, b) => a - b), [allImages]);
  const client = getClient();
  const none = count === 0;

  return (
    <>
      <h3>Mark</h3>
      <div className="more-group">
        <button type="button" disabled={none} onClick={() => void mark({ flag: 'none' })} title="Unflag; restores a rejected image (U)">
          Unflag
        </button>
        <button type="button" disabled={!canRedo} onClick={() => void redo()} title="Redo (Ctrl+Shift+Z)">
          ↷ Redo
        </button>
        <label className="check" title="Move to the next image after rating or flagging (Caps Lock)">
          <input type="checkbox" checked={autoAdvance} onChange={(e) => setAutoAdvance(e.target.checked)} /> Auto-advance
        </label>
      </div>
      <div className="more-group" role="group" aria-label="Colour label">
        {LABELS.map((l) => (
          <button
            key={l.label}
            type="button"
            disabled={none}
            onClick={() => void toggleLabel(l.label)}
            title={`${l.name} label; again to take it off (${l.key})`}
          >
            <span className={`colour-label inline ${l.label}`} /> {l.name}
          </button>
        ))}
      </div>
      <h3>View</h3>
      <div className="more-group">
        <button
          type="button"
          aria-pressed={mode === 'compare'}
          onClick={toggleCompare}
          title="Compare the selected images side by side (C)"
        >
          Compare
        </button>
        <button type="button" aria-pressed={zoomed} disabled={mode === 'grid'} onClick={zoomAtPointer} title="Zoom to 100 % (Z or Space)">
          100 %
        </button>
        <button type="button" onClick={toggleFullscreen} title="Full screen (F)">
          Full screen
        </button>
        <button
          type="button"
          aria-pressed={lightsOut}
          onClick={() => setLightsOut(!lightsOut)}
          title="Lights out: dim everything but the images"
        >
          Lights out
        </button>
        <label className="check" title="One cell per generation job; K opens or closes the selected stack (Shift+K)">
          <input type="checkbox" checked={stacking} onChange={(e) => setStacking(e.target.checked)} /> Stacks
        </label>
        <label className="check" title="Show sharpness scores on the cells (S)">
          <input type="checkbox" checked={showSharpness} onChange={(e) => setShowSharpness(e.target.checked)} /> Sharpness
        </label>
        {client.downloadUrl('/') !== null && (
          <button
            type="button"
            disabled={none}
            onClick={downloadSelection}
            title="Download the selected files (in the desktop app, drag them out instead)"
          >
            ⤓ Download
          </button>
        )}
        <button type="button" onClick={onCheatSheet} title="Keys (?)">
          ? Keys
        </button>
      </div>
      <h3>Filter and sort</h3>
      <div className="more-group">
        <label>
          Job
          <select
            aria-label="Job filter"
            value={filter.jobId ?? ''}
            onChange={(e) => setFilter({ jobId: e.target.value ? Number(e.target.value) : null })}
          >
            <option value="">Any</option>
            {jobIds.map((id) => (
              <option key={id} value={id}>
                #{id}
              </option>
            ))}
          </select>
        </label>
        <input
          aria-label="Seed"
          className="seed"
          placeholder="Seed"
          inputMode="numeric"
          value={filter.seed}
          onChange={(e) => setFilter({ seed: e.target.value })}
        />
        <label>
          Sort
          <select aria-label="Sort" value={sort} onChange={(e) => setSort(e.target.value as SortOrder)}>
            {SORTS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <label className="check" title="Only images where a colour of the brand palette is clearly present">
          <input type="checkbox" checked={filter.brandPresent} onChange={(e) => setFilter({ brandPresent: e.target.checked })} /> Brand
          colour present
        </label>
      </div>
    </>
  );
}
