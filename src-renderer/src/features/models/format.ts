/** How the model library writes sizes, speeds, times and a task's progress: pure functions. */
import type { InstalledModel, ModelTask } from '../../../../src-main/core/api/index';
import { formatBytes } from '../../../../src-main/core/common/index';

export function formatSpeed(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/** "12 s", "4 min 5 s", "1 h 12 min": a time left a glance can read. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    return s % 60 === 0 || m >= 10 ? `${m} min` : `${m} min ${s % 60} s`;
  }
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

export function familyLabel(family: InstalledModel['family']): string {
  return family === 'sd1' ? 'SD 1.x' : family === 'sd2' ? 'SD 2.x' : family === 'sdxl' ? 'SDXL' : 'Unknown family';
}

/** True while a task still works (or waits to). */
export function isActive(task: Pick<ModelTask, 'state'>): boolean {
  return task.state === 'queued' || task.state === 'running';
}

/** What a task is called in lists: its model's name once known, else what it fetches. */
export function taskTitle(task: Pick<ModelTask, 'name' | 'source'>): string {
  return task.name || task.source;
}

/** The fraction done (0..1), or null when the total is not known yet. */
export function taskFraction(task: Pick<ModelTask, 'bytesDone' | 'bytesTotal'>): number | null {
  return task.bytesTotal > 0 ? Math.min(1, task.bytesDone / task.bytesTotal) : null;
}

/**
 * One line under a task's title: bytes, speed and time left while it downloads; the percentage
 * while it converts; the reason when it failed; where it stopped when paused.
 */
export function taskDetail(task: ModelTask): string {
  const fraction = taskFraction(task);
  switch (task.state) {
    case 'queued':
      return 'Waiting for the task before it';
    case 'running': {
      if (fraction === null) return task.phase || 'Starting…';
      const parts = [`${formatBytes(task.bytesDone)} of ${formatBytes(task.bytesTotal)}`];
      if (task.bytesPerSecond > 0) parts.push(formatSpeed(task.bytesPerSecond));
      if (task.etaSeconds !== null && task.bytesPerSecond > 0) parts.push(`${formatDuration(task.etaSeconds)} left`);
      else parts.push(`${Math.floor(fraction * 100)} %`);
      return parts.join(' · ');
    }
    case 'cancelled':
      if (!task.resumable) return task.kind === 'download' ? 'Cancelled; the partial download was discarded.' : 'Cancelled.';
      return task.bytesDone > 0 && task.bytesTotal > 0
        ? `Paused at ${formatBytes(task.bytesDone)} of ${formatBytes(task.bytesTotal)}; Resume goes on from there.`
        : 'Paused; Resume goes on from where it stopped.';
    case 'failed':
      return task.error ?? 'Failed.';
    case 'done':
      return task.name ? `Installed as “${task.name}”.` : 'Installed.';
  }
}

/** Pickled PyTorch files, which Onbrand never opens (loading one can run code). */
export function isPickle(path: string): boolean {
  return /\.(ckpt|pt|pth|bin|pkl|pickle)$/i.test(path.trim());
}

export function isAbsolutePath(path: string): boolean {
  return /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(path.trim());
}
