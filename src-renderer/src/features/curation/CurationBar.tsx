import { useMemo } from 'react';
import { getClient } from '../../api/client';
import { zoomAtPointer } from '../../shared/zoom';
import { useStore } from '../../store';
import { type FlagFilter, type SortOrder } from '../grid/view';
import { downloadSelection, mark, redo, toggleCompare, toggleFullscreen, undo } from './actions';

const FLAG_FILTERS: { value: FlagFilter; label: string }[] = [
  { value: 'all', label: 'All but Maybe Later' },
  { value: 'picks', label: 'Picks' },
  { value: 'unflagged', label: 'Unflagged' },
  { value: 'rejected', label: 'Maybe Later (rejected)' },
];

const SORTS: { value: SortOrder; label: string }[] = [
  { value: 'capture', label: 'Capture order' },
  { value: 'rating', label: 'Rating' },
  { value: 'sharpness', label: 'Sharpness (crisp first)' },
  { value: 'brand', label: 'Brand coverage (most first)' },
];

/** Culling's visible controls: every key of the cheat sheet has a button or field here. */
export function CurationBar({ onCheatSheet }: { onCheatSheet(): void }) {
  const filter = useStore((s) => s.filter);
  const setFilter = useStore((s) => s.setFilter);
  const sort = useStore((s) => s.sort);
  const setSort = useStore((s) => s.setSort);
  const allImages = useStore((s) => s.allImages);
  const shown = useStore((s) => s.images.length);
  const count = useStore((s) => (s.selection.length > 1 ? s.selection.length : s.selected >= 0 ? 1 : 0));
  const canUndo = useStore((s) => s.past.length > 0);
  const canRedo = useStore((s) => s.future.length > 0);
  const autoAdvance = useStore((s) => s.autoAdvance);
  const setAutoAdvance = useStore((s) => s.setAutoAdvance);
  const showSharpness = useStore((s) => s.showSharpness);
  const setShowSharpness = useStore((s) => s.setShowSharpness);
  const lightsOut = useStore((s) => s.lightsOut);
  const setLightsOut = useStore((s) => s.setLightsOut);
  const mode = useStore((s) => s.mode);
  const zoomed = useStore((s) => s.zoom.on);
  const jobIds = useMemo(() => [...new Set(allImages.map((i) => i.jobId).filter((j) => j !== null))].sort((a, b) => a - b), [allImages]);
  const client = getClient();
  const none = count === 0;

  return (
    <div className="curation-bar" data-testid="curation-bar">
      <div className="curation-row" role="toolbar" aria-label="Rate and flag">
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
        <button type="button" disabled={none} onClick={() => void mark({ flag: 'none' })} title="Unflag; restores a rejected image (U)">
          Unflag
        </button>
        <button type="button" disabled={!canUndo} onClick={() => void undo()} title="Undo (Ctrl+Z)">
          ↶ Undo
        </button>
        <button type="button" disabled={!canRedo} onClick={() => void redo()} title="Redo (Ctrl+Shift+Z)">
          ↷ Redo
        </button>
        <label className="check" title="Move to the next image after rating or flagging (Caps Lock)">
          <input type="checkbox" checked={autoAdvance} onChange={(e) => setAutoAdvance(e.target.checked)} /> Auto-advance
        </label>
        <span className="spacer" />
        <span className="muted small" data-testid="selection-count">
          {count > 1 ? `${count} selected` : ''}
        </span>
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
      <div className="curation-row" role="search" aria-label="Filter and sort">
        <label>
          Rating
          <select aria-label="Minimum rating" value={filter.minRating} onChange={(e) => setFilter({ minRating: Number(e.target.value) })}>
            <option value={0}>Any</option>
            {[1, 2, 3, 4, 5].map((n) => (
              <option key={n} value={n}>
                {'★'.repeat(n)}
                {n < 5 ? ' and up' : ''}
              </option>
            ))}
          </select>
        </label>
        <label>
          Flag
          <select aria-label="Flag filter" value={filter.flag} onChange={(e) => setFilter({ flag: e.target.value as FlagFilter })}>
            {FLAG_FILTERS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </label>
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
          aria-label="Prompt contains"
          placeholder="Prompt contains…"
          value={filter.text}
          onChange={(e) => setFilter({ text: e.target.value })}
        />
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
        <label className="check" title="Show sharpness scores on the cells (S)">
          <input type="checkbox" checked={showSharpness} onChange={(e) => setShowSharpness(e.target.checked)} /> Sharpness
        </label>
        <span className="spacer" />
        <span className="muted small" data-testid="shown-count">
          {shown === allImages.length ? '' : `${shown} of ${allImages.length} shown`}
        </span>
      </div>
    </div>
  );
}
