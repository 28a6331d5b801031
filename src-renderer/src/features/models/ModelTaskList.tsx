import type { ModelTask } from '../../../../src-main/core/api/index';
import { cancelModelTask, clearModelTask, resumeModelTask } from './actions';
import { isActive, taskDetail, taskFraction, taskTitle } from './format';

const STATE_LABELS: Record<ModelTask['state'], string> = {
  queued: 'Waiting',
  running: 'Running',
  done: 'Installed',
  failed: 'Failed',
  cancelled: 'Paused',
};

function stateLabel(task: ModelTask): string {
  if (task.state === 'cancelled' && !task.resumable) return 'Cancelled';
  return STATE_LABELS[task.state];
}

/** One download or import: what it does now, its progress, and what can be done with it. */
function TaskRow({ task }: { task: ModelTask }) {
  const title = taskTitle(task);
  const fraction = taskFraction(task);
  const what = task.kind === 'download' ? 'download' : 'import';
  const showPhase = task.state === 'running' || (task.state === 'queued' && task.phase !== 'Waiting');
  return (
    <li
      className={`model-task ${task.state}`}
      data-testid="model-task"
      data-task-id={task.id}
      data-state={task.state}
      data-kind={task.kind}
      data-bytes-done={task.bytesDone}
      data-bytes-total={task.bytesTotal}
      aria-label={`${stateLabel(task)} ${what}: ${title}`}
    >
      <div className="model-task-line">
        <span className={`badge ${task.state === 'done' ? 'done' : task.state}`}>{stateLabel(task)}</span>
        <span className="model-task-title" title={task.source}>
          {title}
        </span>
        {task.name && task.source !== task.name && <span className="muted model-task-source">{task.source}</span>}
      </div>
      {showPhase && (
        <p className="model-task-phase" data-testid="model-task-phase">
          {task.phase}
        </p>
      )}
      {isActive(task) && (
        <progress
          className="model-task-progress"
          data-testid="model-task-progress"
          max={1}
          {...(fraction === null ? {} : { value: fraction })}
          aria-label={`Progress of the ${what} of ${title}`}
        />
      )}
      <p
        className={task.state === 'failed' ? 'model-task-error' : 'model-task-detail muted'}
        data-testid="model-task-detail"
        role={task.state === 'failed' ? 'status' : undefined}
      >
        {taskDetail(task)}
      </p>
      {task.state === 'done' && task.notes.length > 0 && (
        <ul className="model-task-notes muted" aria-label={`Notes on ${title}`}>
          {task.notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      )}
      <div className="model-task-actions">
        {isActive(task) && (
          <button
            type="button"
            onClick={() => void cancelModelTask(task)}
            aria-label={`Cancel the ${what} of ${title}`}
            title={
              task.kind === 'download'
                ? 'Stop; what was fetched is kept, and Resume goes on from there'
                : 'Stop the import; nothing is installed'
            }
          >
            Cancel
          </button>
        )}
        {!isActive(task) && task.resumable && (
          <button
            type="button"
            className="primary"
            onClick={() => void resumeModelTask(task)}
            aria-label={`Resume the download of ${title}`}
            title="Go on from where it stopped"
          >
            Resume
          </button>
        )}
        {task.kind === 'download' && (isActive(task) || task.resumable || task.state === 'failed') ? (
          <button
            type="button"
            onClick={() => void cancelModelTask(task, true)}
            aria-label={`Discard the download of ${title}`}
            title="Stop and delete what was fetched"
          >
            Discard
          </button>
        ) : (
          !isActive(task) && (
            <button
              type="button"
              className="link"
              onClick={() => clearModelTask(task.id)}
              aria-label={`Clear ${title} from the list`}
              title="Take it off the list"
            >
              Clear
            </button>
          )
        )}
      </div>
    </li>
  );
}

/** Downloads and imports, oldest first, with their progress. */
export function ModelTaskList({ tasks, label = 'Downloads and imports' }: { tasks: readonly ModelTask[]; label?: string }) {
  if (tasks.length === 0) return null;
  return (
    <ol className="model-tasks" aria-label={label} data-testid="model-tasks">
      {tasks.map((task) => (
        <TaskRow key={task.id} task={task} />
      ))}
    </ol>
  );
}
