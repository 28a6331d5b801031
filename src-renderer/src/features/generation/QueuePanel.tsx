import { useMemo } from 'react';
import type { Job } from '../../../../src-main/core/api/index';
import { useStore } from '../../store';
import { cancelJob, moveJob, retryJob, setQueuePaused } from './actions';
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

function JobRow({ job, canUp, canDown }: { job: Job; canUp: boolean; canDown: boolean }) {
  const progress = useStore((s) => s.jobProgress[job.id]);
  const s = job.settings;
  const seeds = job.batchSize > 1 ? `seeds ${job.seed}–${job.seed + job.batchSize - 1}` : `seed ${job.seed}`;
  const name = `job ${job.id}`;
  return (
    <li
      className={`job ${job.state}`}
      data-testid="job"
      data-job-id={job.id}
      data-state={job.state}
      aria-label={`${STATE_LABELS[job.state]} ${name}`}
    >
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
          <span className="job-count" data-testid="job-count">
            {imageLine(job, progress)}
          </span>
        </div>
        <p className="job-prompt" title={job.prompt}>
          {job.prompt}
        </p>
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
              {progress ? `step ${progress.step}/${progress.steps} · ETA ${formatEta(progress.etaMs)}` : 'starting…'}
            </span>
          </div>
        )}
        {job.state === 'failed' && job.error && (
          <p className="job-error" role="status">
            {job.error}
          </p>
        )}
        <p className="job-meta muted" title={`Negative: ${job.negativePrompt || '(none)'}`}>
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

/** The current project's jobs: state, image k of n, step progress, ETA, latest preview, and the queue's controls. */
export function QueuePanel() {
  const allJobs = useStore((s) => s.jobs);
  const projectId = useStore((s) => s.currentProjectId);
  const engine = useStore((s) => s.engine);
  const jobs = useMemo(() => projectJobs(allJobs, projectId), [allJobs, projectId]);
  const paused = engine?.state === 'paused';
  const waiting = jobs.filter((j) => j.state === 'queued').length;
  const running = jobs.filter((j) => j.state === 'running').length;

  return (
    <section className="queue" aria-labelledby="queue-title" data-testid="queue-panel">
      <header className="panel-head">
        <h2 id="queue-title">Queue</h2>
        <span className="muted" data-testid="queue-counts">
          {running > 0 ? `${running} running · ` : ''}
          {waiting} waiting{paused ? ' · paused' : ''}
        </span>
        <span className="spacer" />
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
      {jobs.length === 0 ? (
        <p className="muted queue-empty">No jobs in this project yet. Write a prompt above and press Queue (Ctrl+Enter).</p>
      ) : (
        <ol className="jobs">
          {jobs.map((job) => (
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
