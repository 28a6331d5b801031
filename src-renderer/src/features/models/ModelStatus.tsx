import { useMemo } from 'react';
import { useStore } from '../../store';
import { openLibrary } from './actions';
import { formatDuration, formatSpeed, isActive, taskFraction, taskTitle } from './format';
import { shownTasks } from './slice';

/**
 * The status bar's word on models: a download or import under way (with its progress), or that no
 * model is installed yet; either opens the model library. Nothing when all is well.
 */
export function ModelStatus() {
  const models = useStore((s) => s.models);
  const allTasks = useStore((s) => s.modelTasks);
  const cleared = useStore((s) => s.clearedTasks);
  const tasks = useMemo(() => shownTasks(allTasks, cleared), [allTasks, cleared]);
  const active = tasks.filter(isActive);
  const running = active.find((t) => t.state === 'running') ?? active[0];
  const failed = tasks.filter((t) => t.state === 'failed');

  if (running) {
    const fraction = taskFraction(running);
    const parts = [running.kind === 'download' ? `Downloading ${taskTitle(running)}` : `Importing ${taskTitle(running)}`];
    if (fraction !== null) parts.push(`${Math.floor(fraction * 100)} %`);
    if (running.state === 'running' && running.bytesPerSecond > 0) parts.push(formatSpeed(running.bytesPerSecond));
    if (running.state === 'running' && running.etaSeconds !== null && running.bytesPerSecond > 0)
      parts.push(`${formatDuration(running.etaSeconds)} left`);
    if (running.state === 'running' && running.bytesPerSecond === 0 && running.phase && !running.phase.startsWith('Downloading'))
      parts.push(running.phase);
    const more = active.length - 1;
    return (
      <button
        type="button"
        className="model-status busy"
        data-testid="model-status"
        data-state="busy"
        onClick={() => openLibrary()}
        title="Downloads and imports: open the model library (Shift+M)"
      >
        <progress max={1} {...(fraction === null ? {} : { value: fraction })} aria-hidden="true" />
        <span>
          {parts.join(' · ')}
          {more > 0 && ` (+${more} more)`}
        </span>
      </button>
    );
  }
  if (models && models.models.length === 0) {
    return (
      <button
        type="button"
        className="model-status missing"
        data-testid="model-status"
        data-state="missing"
        onClick={() => openLibrary()}
        title="Download, import or add a model (Shift+M)"
      >
        Get a model…
      </button>
    );
  }
  if (failed.length > 0) {
    const what = failed.every((t) => t.kind === 'download') ? 'download' : failed.every((t) => t.kind === 'import') ? 'import' : 'task';
    return (
      <button
        type="button"
        className="model-status failed"
        data-testid="model-status"
        data-state="failed"
        onClick={() => openLibrary()}
        title="Open the model library (Shift+M)"
      >
        {failed.length === 1 ? `A model ${what} failed` : `${failed.length} model ${what}s failed`} · Details…
      </button>
    );
  }
  return null;
}
