import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { TimeSnapshot } from '../../../../src-main/core/api/index';
import { useStore } from '../../store';
import { copyMarkdown, correctMinutes, downloadCsv, loadTime, setGpuCost } from './actions';

/** Minutes as the designers' table writes them: whole minutes from 10 up, one decimal below. */
export function formatMinutes(minutes: number): string {
  if (minutes >= 10) return String(Math.round(minutes));
  return String(Math.round(minutes * 10) / 10);
}

/** Money as the table writes it: "—" for none, "<$0.01" for a sliver, else two decimals. */
export function formatCost(cost: number): string {
  if (cost <= 0) return '—';
  if (cost < 0.01) return '<$0.01';
  return `$${cost.toFixed(2)}`;
}

/** A stretch of real time: "17.4 min", "2 h 5 min", "3 d 4 h". */
export function formatDuration(minutes: number): string {
  if (minutes < 60) return `${formatMinutes(minutes)} min`;
  const whole = Math.round(minutes);
  if (whole < 24 * 60) return `${Math.floor(whole / 60)} h ${whole % 60} min`;
  return `${Math.floor(whole / (24 * 60))} d ${Math.floor((whole % (24 * 60)) / 60)} h`;
}

/** When the log starts and ends, as a person reads it: "09:02 → 09:19", with the dates when they differ. */
function formatSpan(firstAt: string | null, lastAt: string | null): string {
  if (!firstAt || !lastAt) return '';
  const first = new Date(firstAt);
  const last = new Date(lastAt);
  const time = (d: Date): string => d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const date = (d: Date): string => d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
  return first.toDateString() === last.toDateString()
    ? `${time(first)} → ${time(last)}`
    : `${date(first)} ${time(first)} → ${date(last)} ${time(last)}`;
}

function formatGpuSeconds(seconds: number): string {
  return seconds >= 100 ? `${Math.round(seconds)} GPU s` : `${Math.round(seconds * 10) / 10} GPU s`;
}

/** GPU time as a person reads it: "45 s" below a minute, else as a stretch of time ("30 min", "1 h 5 min"). */
export function formatGpuTime(seconds: number): string {
  return seconds < 60 ? `${Math.round(seconds * 10) / 10} s` : formatDuration(seconds / 60);
}

/** Whether the GPU time is split by backend (as the CSV does): more than one did work, or the one that did is not this computer. */
const splitsByBackend = (backends: TimeSnapshot['backends']): boolean => backends.length > 1 || backends.some((b) => b.name !== 'local');

/** The GPU time and cost of each backend that did work: this computer at the global rate, ComfyUI servers at theirs. */
function BackendTable({ backends }: { backends: TimeSnapshot['backends'] }) {
  return (
    <table className="time-table gpu-backends" data-testid="gpu-backends" aria-label="GPU by backend">
      <caption>GPU by backend</caption>
      <thead>
        <tr>
          <th scope="col">Backend</th>
          <th scope="col">GPU time</th>
          <th scope="col">Rate</th>
          <th scope="col" className="cost">
            Cost
          </th>
        </tr>
      </thead>
      <tbody>
        {backends.map((b) => (
          <tr
            key={b.name}
            data-testid="gpu-backend-row"
            data-backend={b.name}
            data-gpu-seconds={b.gpuSeconds}
            data-rate={b.ratePerHour}
            data-cost={b.cost}
          >
            <th scope="row">{b.name === 'local' ? 'This computer' : b.name}</th>
            <td>{formatGpuTime(b.gpuSeconds)}</td>
            <td>${b.ratePerHour.toFixed(2)}/h</td>
            <td className="cost">{formatCost(b.cost)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * A number field that commits on Enter or leaving it, and otherwise shows the latest figure: the
 * snapshot refreshes while jobs run, and must not overwrite what the user is typing.
 */
function CommitField({
  label,
  value,
  placeholder,
  testId,
  onCommit,
}: {
  label: string;
  value: string;
  placeholder?: string;
  testId?: string;
  onCommit(text: string): Promise<string | null>;
}) {
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const commit = async (): Promise<void> => {
    if (editing === null) return;
    const text = editing;
    if (text.trim() === value.trim()) {
      setEditing(null);
      return;
    }
    const message = await onCommit(text);
    setError(message);
    if (!message) setEditing(null);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>): void => {
    if (event.key === 'Enter') {
      event.preventDefault();
      void commit();
    } else if (event.key === 'Escape' && editing !== null) {
      // Esc drops the edit first; a second Esc closes the view.
      event.stopPropagation();
      event.nativeEvent.stopImmediatePropagation();
      setEditing(null);
      setError(null);
    }
  };
  return (
    <input
      type="text"
      inputMode="decimal"
      className="commit-field"
      aria-label={label}
      data-testid={testId}
      value={editing ?? value}
      placeholder={placeholder}
      aria-invalid={error ? true : undefined}
      title={error ?? undefined}
      onFocus={() => setEditing(value)}
      onChange={(e) => setEditing(e.target.value)}
      onBlur={() => void commit()}
      onKeyDown={onKeyDown}
    />
  );
}

function parseMinutes(text: string): number | null | string {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed.replace(',', '.'));
  if (!Number.isFinite(value) || value < 0 || value > 10_000) return 'Minutes must be a number from 0 to 10000, or blank for automatic.';
  return value;
}

function PhaseRow({
  row,
  projectId,
  longest,
  onError,
}: {
  row: TimeSnapshot['phases'][number];
  projectId: number;
  longest: number;
  onError(message: string | null): void;
}) {
  const share = longest > 0 ? Math.max(0, Math.min(100, (row.minutes / longest) * 100)) : 0;
  return (
    <tr
      data-testid="time-row"
      data-phase={row.phase}
      data-minutes={row.minutes}
      data-recorded-minutes={row.recordedMinutes}
      data-gpu-seconds={row.gpuSeconds}
      data-cost={row.cost}
    >
      <th scope="row">
        <span className="phase-label">{row.label}</span>
        {row.detail && (
          <small className="phase-detail" data-testid="phase-detail">
            {row.detail}
          </small>
        )}
      </th>
      <td className="minutes">
        <CommitField
          label={`${row.label} minutes`}
          value={row.corrected ? formatMinutes(row.minutes) : ''}
          placeholder={formatMinutes(row.minutes)}
          onCommit={async (text) => {
            const minutes = parseMinutes(text);
            if (typeof minutes === 'string') return minutes;
            const message = await correctMinutes(projectId, row.phase, minutes);
            onError(message);
            return message;
          }}
        />
        <span
          className={row.corrected ? 'source corrected' : 'source'}
          title={row.corrected ? 'Set by hand: clear the field to count automatically again' : 'Counted automatically'}
        >
          {row.corrected ? 'set' : 'auto'}
        </span>
      </td>
      <td className="bar-cell" aria-hidden="true">
        <div className="bar-track">
          <div className={`bar ${row.phase}`} style={{ width: `${share}%` }} />
        </div>
      </td>
      <td className="cost">
        {formatCost(row.cost)}
        {row.gpuSeconds > 0 && <small className="muted"> · {formatGpuSeconds(row.gpuSeconds)}</small>}
      </td>
    </tr>
  );
}

/**
 * The Time + Cost snapshot of the project (WORKFLOW §7): minutes and GPU cost per phase with
 * totals and bars, each phase's minutes correctable by hand, the GPU rate, Markdown and CSV.
 */
export function TimeCostDialog({ onClose }: { onClose(): void }) {
  const projectId = useStore((s) => s.currentProjectId);
  const project = useStore((s) => s.projects.find((p) => p.id === s.currentProjectId));
  const time = useStore((s) => s.time);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [manualCopy, setManualCopy] = useState<string | null>(null);
  const closeButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (projectId === null) return;
    void loadTime(projectId).then(setError);
    closeButton.current?.focus();
    return () => useStore.getState().setTime(null);
  }, [projectId]);

  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent): void => {
      if (event.key === 'Escape') {
        event.preventDefault();
        onClose();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  if (projectId === null) return null;
  const longest = Math.max(0, ...(time?.phases.map((p) => p.minutes) ?? []));

  const run = async (what: () => Promise<string | null>): Promise<void> => {
    setStatus(null);
    try {
      setError(await what());
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal time-cost" role="dialog" aria-modal="true" aria-label="Time + Cost" data-testid="time-cost">
        <div className="panel-head">
          <h2>Time + Cost{project ? ` — ${project.name}` : ''}</h2>
          <span className="spacer" />
          <button ref={closeButton} type="button" className="link" onClick={onClose} aria-label="Close Time + Cost" title="Close (Esc)">
            ✕
          </button>
        </div>
        {!time ? (
          <p className="muted">{error ?? 'Loading…'}</p>
        ) : (
          <>
            <table className="time-table" data-testid="time-table">
              <thead>
                <tr>
                  <th scope="col">Phase</th>
                  <th scope="col">Minutes</th>
                  <th scope="col">
                    <span className="visually-hidden">Share of the time</span>
                  </th>
                  <th scope="col">Cost (GPU)</th>
                </tr>
              </thead>
              <tbody>
                {time.phases.map((row) => (
                  <PhaseRow key={row.phase} row={row} projectId={projectId} longest={longest} onError={setError} />
                ))}
              </tbody>
              <tfoot>
                <tr data-testid="time-total" data-total-minutes={time.totalMinutes}>
                  <th scope="row">Total</th>
                  <td className="minutes">
                    <strong>{formatMinutes(time.totalMinutes)}</strong>
                  </td>
                  <td />
                  <td className="cost">
                    <strong>{formatCost(time.totalCost)}</strong>
                  </td>
                </tr>
                <tr
                  className="time-elapsed"
                  data-testid="time-elapsed"
                  data-elapsed-minutes={time.elapsedMinutes}
                  data-recorded-minutes={time.recordedMinutes}
                >
                  <th scope="row">Real time</th>
                  <td className="elapsed" colSpan={3}>
                    <strong>{formatDuration(time.elapsedMinutes)}</strong>
                    <span className="muted small">
                      {' '}
                      {formatSpan(time.firstAt, time.lastAt)}
                      {time.firstAt && ` · ${formatMinutes(time.recordedMinutes)} min of it recorded in the phases`}
                      {time.totalMinutes > time.elapsedMinutes && ' · the total includes minutes set by hand'}
                    </span>
                  </td>
                </tr>
              </tfoot>
            </table>
            {splitsByBackend(time.backends) && <BackendTable backends={time.backends} />}
            <p className="muted small">
              Phases never overlap: the time goes to what you are doing, and pauses of more than 3 minutes are not counted. A batch
              generating while you do something else counts as that (its GPU time is still costed); waiting for it counts as Batch
              generation. Type a figure to set a phase by hand, clear it to count automatically.
            </p>
            <div className="time-actions">
              <label className="inline">
                <span>GPU cost per hour ($)</span>
                <CommitField
                  label="GPU cost per hour"
                  testId="gpu-cost"
                  value={String(time.gpuCostPerHour)}
                  onCommit={async (text) => {
                    const rate = Number(text.trim().replace(',', '.'));
                    if (text.trim() === '' || !Number.isFinite(rate) || rate < 0 || rate > 1000)
                      return 'The rate must be a number from 0 to 1000.';
                    const message = await setGpuCost(projectId, rate);
                    setError(message);
                    return message;
                  }}
                />
              </label>
              <span className="spacer" />
              <button
                type="button"
                onClick={() =>
                  void run(async () => {
                    const result = await copyMarkdown(projectId);
                    if (result.copied) setStatus('Copied the table as Markdown.');
                    else setManualCopy(result.text);
                    return null;
                  })
                }
              >
                Copy Markdown
              </button>
              <button
                type="button"
                onClick={() =>
                  void run(async () => {
                    await downloadCsv(projectId);
                    setStatus('CSV downloaded.');
                    return null;
                  })
                }
              >
                Download CSV
              </button>
            </div>
            {manualCopy !== null && (
              <label className="field">
                <span>The clipboard is not available here: select the Markdown and copy it (Ctrl+C).</span>
                <textarea readOnly rows={8} value={manualCopy} onFocus={(e) => e.target.select()} data-testid="markdown-text" />
              </label>
            )}
          </>
        )}
        {status && (
          <p className="muted" role="status" data-testid="time-status">
            {status}
          </p>
        )}
        {error && time && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </div>
    </div>
  );
}
