import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { localFlag } from '../../shared/local-flag';
import type { Job } from '../../../../src-main/core/api/index';
import { loraTags } from '../../../../src-main/core/common/index';
import { useStore } from '../../store';
import { cancelJob, moveJob, retryJob, setQueuePaused } from './actions';
import { JobOriginMark } from './DraftMark';
import { movePosition, projectJobs, type JobProgress } from './slice';

const STATE_LABELS: Record<Job['state'], string> = {
  queued: 'Queued',
  running: 'Running',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** "12 s", "1 min 5 s": an ETA a glance can read. */
export function formatEta(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return seconds % 60 === 0 ? `${minutes} min` : `${minutes} min ${seconds % 60} s`;
}

/** The image of the batch a job is at, 1-based, as "image k of n". */
function imageLine(job: Job, progress: JobProgress | undefined): string {
  const n = job.batchSize;
  if (job.state === 'running') {
    const k = Math.min(n, progress ? Math.max(progress.index + 1, job.imagesDone + 1) : job.imagesDone + 1);
    return `image ${k} of ${n}`;
  }
  if (job.state === 'queued') return `${n} image${n === 1 ? '' : 's'}`;
  return `${job.imagesDone} of ${n} image${n === 1 ? '' : 's'}`;
}

/** The settings a job runs with, every one, as the hover card lists them. */
export function jobDetails(job: Job): { label: string; field: string; value: string }[] {
  const s = job.settings;
  const loras = loraTags(job.prompt);
  const rows = [
    { label: 'Prompt', field: 'prompt', value: job.prompt || '—' },
    { label: 'Negative prompt', field: 'negative', value: job.negativePrompt || '—' },
    { label: 'Size', field: 'size', value: `${s.width} × ${s.height} (${s.aspect})` },
    {
      label: 'Batch',
      field: 'batch',
      value: `${job.batchSize} image${job.batchSize === 1 ? '' : 's'}, ${job.batchSize > 1 ? `seeds ${job.seed}–${job.seed + job.batchSize - 1}` : `seed ${job.seed}`}`,
    },
    { label: 'Sampler', field: 'sampler', value: s.sampler },
    { label: 'Steps', field: 'steps', value: String(s.steps) },
    { label: 'CFG', field: 'cfg', value: String(s.cfg) },
    { label: 'Seed', field: 'seed', value: String(job.seed) },
    { label: 'Model', field: 'model', value: s.model },
    {
      label: 'LoRAs',
      field: 'loras',
      value: loras.length === 0 ? 'none' : loras.map((l) => (l.weight === null ? l.name : `${l.name} × ${l.weight}`)).join(', '),
    },
  ];
  if (job.gpuSeconds > 0) rows.push({ label: 'GPU time', field: 'gpu', value: formatEta(job.gpuSeconds * 1000) });
  return rows;
}

/** Where a card's details go: level with the card, left of the panel that holds it. */
interface Anchor {
  top: number;
  left: number;
}

function anchorOf(card: HTMLElement): Anchor {
  const rect = card.getBoundingClientRect();
  const panel = card.closest('aside')?.getBoundingClientRect();
  return { top: rect.top, left: panel?.left ?? rect.left };
}

/**
 * A job's settings in full, beside the queue (over the images), while the pointer is on its card
 * or the keyboard is in it. Fixed to the window so the panel's scrolling does not clip it.
 */
function JobDetailsCard({ job, anchor, id }: { job: Job; anchor: Anchor; id: string }) {
  const card = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(anchor.top);
  useLayoutEffect(() => {
    const height = card.current?.offsetHeight ?? 0;
    setTop(Math.max(8, Math.min(anchor.top, window.innerHeight - height - 8)));
  }, [anchor]);
  return (
    <div
      ref={card}
      id={id}
      className="job-details"
      role="tooltip"
      data-testid="job-details"
      style={{ top, right: Math.max(8, window.innerWidth - anchor.left + 8) }}
    >
      <dl>
        {jobDetails(job).map((row) => (
          <div key={row.field} className="info-row" data-field={row.field}>
            <dt>{row.label}</dt>
            <dd>{row.value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

function JobRow({ job, canUp, canDown }: { job: Job; canUp: boolean; canDown: boolean }) {
  const progress = useStore((s) => s.jobProgress[job.id]);
  const [anchor, setAnchor] = useState<Anchor | null>(null);
  const row = useRef<HTMLLIElement>(null);
  // The list re-orders as jobs finish: the card under the pointer can move away without a
  // mouseleave. Any later pointer move, click or key that is not on this card closes its details.
  useEffect(() => {
    if (!anchor) return;
    const check = (): void => {
      const li = row.current;
      if (!li || (!li.matches(':hover') && !li.contains(document.activeElement))) setAnchor(null);
    };
    const events = ['pointermove', 'pointerdown', 'keydown', 'wheel'] as const;
    for (const type of events) window.addEventListener(type, check, true);
    return () => {
      for (const type of events) window.removeEventListener(type, check, true);
    };
  }, [anchor]);
  const s = job.settings;
  const seeds = job.batchSize > 1 ? `seeds ${job.seed}–${job.seed + job.batchSize - 1}` : `seed ${job.seed}`;
  const name = `job ${job.id}`;
  const detailsId = `job-${job.id}-details`;
  return (
    <li
      ref={row}
      className={`job ${job.state}`}
      data-testid="job"
      data-job-id={job.id}
      data-state={job.state}
      aria-label={`${STATE_LABELS[job.state]} ${name}`}
      aria-describedby={anchor ? detailsId : undefined}
      onMouseEnter={(e) => setAnchor(anchorOf(e.currentTarget))}
      onMouseLeave={() => setAnchor(null)}
      onFocus={(e) => setAnchor(anchorOf(e.currentTarget))}
      onBlur={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setAnchor(null);
      }}
    >
      {anchor && <JobDetailsCard job={job} anchor={anchor} id={detailsId} />}
      <div className="job-preview-box">
        {progress?.preview ? (
          <img
            className="job-preview"
            data-testid="job-preview"
            src={progress.preview}
            alt={`${job.state === 'running' ? 'Latent preview' : 'Last latent preview'} of image ${progress.index + 1}`}
          />
        ) : (
          <div className="job-preview placeholder" aria-hidden="true" />
        )}
      </div>
      <div className="job-body">
        <div className="job-line">
          <span className={`badge ${job.state}`}>{STATE_LABELS[job.state]}</span>
          <JobOriginMark job={job} />
          <span className="job-count" data-testid="job-count">
            {imageLine(job, progress)}
          </span>
        </div>
        <p className="job-prompt">{job.prompt}</p>
        {job.state === 'running' && (
          <div className="job-progress-line">
            <progress
              className="job-progress"
              data-testid="job-progress"
              max={progress?.steps ?? 1}
              value={progress?.step ?? 0}
              aria-label={`Step progress of ${name}`}
            />
            <span className="muted">
              {progress
                ? `step ${progress.step}/${progress.steps} · ETA ${formatEta(progress.etaMs)}${progress.backend ? ` · on ${progress.backend}` : ''}`
                : 'starting…'}
            </span>
          </div>
        )}
        {job.state === 'failed' && job.error && (
          <p className="job-error" role="status">
            {job.error}
          </p>
        )}
        <p className="job-meta muted">
          {s.model} · {s.width}×{s.height} · {s.sampler} · {s.steps} steps · CFG {s.cfg} · {seeds}
        </p>
      </div>
      <div className="job-actions">
        {job.state === 'queued' && (
          <>
            <button
              type="button"
              onClick={() => void moveJob(job, -1)}
              disabled={!canUp}
              aria-label={`Move ${name} up`}
              title="Move up: run sooner"
            >
              ↑
            </button>
            <button
              type="button"
              onClick={() => void moveJob(job, 1)}
              disabled={!canDown}
              aria-label={`Move ${name} down`}
              title="Move down: run later"
            >
              ↓
            </button>
          </>
        )}
        {(job.state === 'queued' || job.state === 'running') && (
          <button type="button" onClick={() => void cancelJob(job)} aria-label={`Cancel ${name}`} title="Cancel: images already made stay">
            Cancel
          </button>
        )}
        {(job.state === 'failed' || job.state === 'cancelled') && (
          <button
            type="button"
            onClick={() => void retryJob(job)}
            aria-label={`Retry ${name}`}
            title="Retry: back into the queue, at the end"
          >
            Retry
          </button>
        )}
      </div>
    </li>
  );
}

/** Whether finished jobs are listed; folded, the queue keeps to what is still to come (remembered). */
const finishedShown = localFlag('onbrand.queue.finishedShown', true);

/** The current project's jobs: state, image k of n, step progress, ETA, latest preview, and the queue's controls. */
export function QueuePanel() {
  const allJobs = useStore((s) => s.jobs);
  const projectId = useStore((s) => s.currentProjectId);
  const engine = useStore((s) => s.engine);
  const jobs = useMemo(() => projectJobs(allJobs, projectId), [allJobs, projectId]);
  const paused = engine?.state === 'paused';
  const waiting = jobs.filter((j) => j.state === 'queued').length;
  const running = jobs.filter((j) => j.state === 'running').length;

  const showFinished = finishedShown.use();
  const finished = jobs.filter((j) => j.state === 'done').length;
  const listed = showFinished ? jobs : jobs.filter((j) => j.state !== 'done');
  // Empty, the queue is one line, so the form above (prompt, template errors) keeps the height.
  const empty = jobs.length === 0;
  return (
    <section
      className={empty ? 'queue collapsed' : 'queue'}
      aria-labelledby="queue-title"
      data-testid="queue-panel"
      data-collapsed={empty}
      title={empty ? 'No jobs in this project yet. Write a prompt above and press Queue (Ctrl+Enter).' : undefined}
    >
      <header className="panel-head">
        <h2 id="queue-title">Queue</h2>
        <span className="muted" data-testid="queue-counts">
          {empty ? (
            <>empty{paused ? ' · paused' : ''}</>
          ) : (
            <>
              {running > 0 ? `${running} running · ` : ''}
              {waiting} waiting{paused ? ' · paused' : ''}
            </>
          )}
        </span>
        <span className="spacer" />
        {finished > 0 && (
          <button
            type="button"
            className="link"
            data-testid="queue-finished-toggle"
            aria-pressed={!showFinished}
            onClick={() => finishedShown.toggle()}
            title={showFinished ? 'Fold the finished jobs away: the queue shows what is still to come' : 'List the finished jobs again'}
          >
            {showFinished ? `Hide ${finished} finished` : `Show ${finished} finished`}
          </button>
        )}
        <button
          type="button"
          onClick={() => void setQueuePaused(!paused)}
          disabled={!engine}
          aria-pressed={paused}
          title={paused ? 'Resume the queue' : 'Pause the queue: no new job starts until you resume'}
        >
          {paused ? '▶ Resume' : '❚❚ Pause'}
        </button>
      </header>
      {listed.length > 0 && (
        <ol className="jobs">
          {listed.map((job) => (
            <JobRow
              key={job.id}
              job={job}
              canUp={movePosition(allJobs, job, -1) !== null}
              canDown={movePosition(allJobs, job, 1) !== null}
            />
          ))}
        </ol>
      )}
    </section>
  );
}
