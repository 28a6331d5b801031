/** The Export dialog's calls: the target folders, remembering one, and running an export. */
import type { ExportReport, ExportTarget, ImageSummary, RequestInput, Section } from '../../../../src-main/core/api/index';
import { fillNameTemplate } from '../../../../src-main/core/common/index';
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

/** Which images the dialog exports (Framer: each section's paired image). */
export type ExportWhich = { kind: 'picks' } | { kind: 'min-rating'; rating: number } | { kind: 'images'; imageIds: readonly number[] };

/**
 * The name the export's first file gets, as the exporter names it (core/common's fillNameTemplate,
 * the same image first): null when the export has no image. The colour is the image's analysed
 * one when known (the exporter analyses it otherwise).
 */
export function firstFileName(
  template: string,
  v: { projectName: string; target: ExportTarget; which: ExportWhich; images: readonly ImageSummary[]; sections: readonly Section[] },
  now = new Date(),
): string | null {
  let image: ImageSummary | undefined;
  let section: string = v.target;
  if (v.target === 'framer') {
    const paired = v.sections.find((s) => s.imageId !== null && v.images.some((i) => i.id === s.imageId));
    if (!paired) return null;
    image = v.images.find((i) => i.id === paired.imageId);
    section = paired.name;
  } else {
    const which = v.which;
    if (v.target === 'maybe-later' && which.kind !== 'images') image = v.images.find((i) => i.flag === 'reject');
    else if (which.kind === 'picks') image = v.images.find((i) => i.flag === 'pick');
    else if (which.kind === 'min-rating') image = v.images.find((i) => i.rating >= which.rating && i.flag !== 'reject');
    else image = which.imageIds.map((id) => v.images.find((i) => i.id === id)).find((i) => i !== undefined);
    if (v.target === 'sora') section = 'storyboard-01';
  }
  if (!image) return null;
  return fillNameTemplate(
    template,
    { projectName: v.projectName, section, colour: image.colour?.colourName ?? 'colour', seed: image.seed, rating: image.rating, index: 1 },
    now,
  );
}
