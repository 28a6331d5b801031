/** The Export dialog's calls: the target folders, remembering one, and running an export. */
import type { ExportReport, ExportTarget, RequestInput } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';

export type ExportRequest = RequestInput<'export.run'>;

export const TARGET_LABELS: Record<ExportTarget, string> = {
  framer: 'Framer sections',
  sora: 'Sora storyboard',
  folder: 'Folder',
  'maybe-later': 'Maybe Later',
};

export async function loadTargets(projectId: number): Promise<Record<ExportTarget, string>> {
  return getClient().call('export.targets', { projectId });
}

export async function rememberTarget(projectId: number, target: ExportTarget, dir: string): Promise<Record<ExportTarget, string>> {
  return getClient().call('export.setTarget', { projectId, target, dir });
}

export async function runExport(request: ExportRequest): Promise<ExportReport> {
  return getClient().call('export.run', request);
}

/** Bytes as the report shows them: whole kilobytes (at least 1). */
export function formatKb(bytes: number): string {
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** Milliseconds as seconds with one decimal, or ms below a second. */
export function formatElapsed(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** True when `path` lies inside one of `folders` (so the media route serves it). */
export function isInside(path: string, folder: string): boolean {
  const norm = (p: string): string => p.replace(/\\/g, '/').replace(/\/+$/, '');
  const f = norm(folder);
  return f !== '' && norm(path).startsWith(`${f}/`);
}
