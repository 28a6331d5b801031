/**
 * Dropped and chosen files in the browser host: a browser cannot tell the page where a file lives,
 * so the files themselves are sent (`client.upload`) and the host imports them as it imports a
 * path — into the grid (`images`) or onto the mood board (`references`). The Electron app keeps
 * its path-based drop; there `client.upload` is null and nothing here runs.
 */
import type { ImportReport, ImportSkip, ReferenceReport, ReferenceSkip, UploadKind } from '../../../../src-main/core/api/index';
import { UPLOAD_LIMITS, fileTooLargeMessage, hiddenInFolder, planUpload } from '../../../../src-main/core/common/index';
import { getClient } from '../../api/client';
import { reportError } from '../../shared/report';
import { useStore } from '../../store';
import { loadRefs } from '../moodboard/actions';
import { loadProjects } from './actions';

/** A file to send, with the name the report uses: its path inside a dropped or chosen folder. */
export interface NamedFile {
  file: File;
  name: string;
}

/** Whether this shell takes uploads (the browser host) rather than paths (Electron). */
export function canUpload(): boolean {
  return getClient().upload !== null;
}

/** The files of an `<input type=file>` (with `webkitdirectory`, each with its path in the folder; hidden files left out as an import does). */
export function filesOfInput(list: FileList | null): NamedFile[] {
  return Array.from(list ?? [])
    .map((file) => ({ file, name: file.webkitRelativePath || file.name }))
    .filter((f) => !(f.file.webkitRelativePath && hiddenInFolder(f.file.webkitRelativePath)));
}

/**
 * The files of a drop, folders walked (hidden entries passed over). The entries are taken while
 * the drop event runs (the browser empties the DataTransfer after it); the folders are read after.
 */
export function filesOfDrop(data: DataTransfer): Promise<NamedFile[]> {
  const items = Array.from(data.items ?? []).filter((item) => item.kind === 'file');
  const taken = items.map((item) => ({ entry: item.webkitGetAsEntry?.() ?? null, file: item.getAsFile() }));
  if (taken.length === 0) return Promise.resolve(Array.from(data.files).map((file) => ({ file, name: file.name })));
  return (async () => {
    const out: NamedFile[] = [];
    for (const { entry, file } of taken) {
      if (entry?.isDirectory) await walk(entry as FileSystemDirectoryEntry, `${entry.name}/`, out);
      else if (file) out.push({ file, name: file.name });
    }
    return out;
  })();
}

async function walk(dir: FileSystemDirectoryEntry, prefix: string, out: NamedFile[]): Promise<void> {
  const reader = dir.createReader();
  const entries: FileSystemEntry[] = [];
  // readEntries hands out a folder in pieces (100 at a time in Chromium) until it returns none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    entries.push(...batch);
  }
  entries.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: 'base' }));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory) await walk(entry as FileSystemDirectoryEntry, `${prefix}${entry.name}/`, out);
    else if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push({ file, name: `${prefix}${entry.name}` });
    }
  }
}

/**
 * Starts uploading what a drop carries when this shell takes uploads; false (nothing done) in
 * Electron, where the caller uses the files' paths. Call it from the drop handler itself.
 */
export function uploadDropped(data: DataTransfer, kind: UploadKind): boolean {
  if (!canUpload() || data.files.length === 0) return false;
  void filesOfDrop(data).then((files) => uploadFiles(kind, files));
  return true;
}

/**
 * Sends files to the open project in requests within the limits, shows the progress, and lands
 * one report: the import's (grid) or the board's (references). A file over the per-file limit is
 * not sent and is named in the report; a request the host refuses is named on the notice line.
 */
export async function uploadFiles(kind: UploadKind, files: NamedFile[]): Promise<void> {
  const client = getClient();
  const store = useStore.getState();
  const projectId = store.currentProjectId;
  if (!client.upload || projectId === null || files.length === 0) return;
  if (store.upload || (kind === 'images' && store.importing)) {
    store.notify('info', 'An import is still running: drop or choose the files again when it is done.');
    return;
  }
  const plan = planUpload(files.map((f) => f.file.size));
  const tooLarge = plan.tooLarge.map((i) => files[i]!);
  const total = plan.batches.flat().reduce((sum, i) => sum + files[i]!.file.size, 0);
  const sentFiles = plan.batches.flat().length;
  const images: ImportReport[] = [];
  const refs: ReferenceReport[] = [];
  if (kind === 'images') store.startImport();
  store.setUpload({ kind, files: sentFiles, sent: 0, total, importing: false });
  let before = 0;
  let failed = false;
  try {
    for (const batch of plan.batches) {
      const request = batch.map((i) => files[i]!);
      const size = request.reduce((sum, f) => sum + f.file.size, 0);
      const result = await client.upload({ projectId, kind, files: request }, (sent, all) => {
        const state = useStore.getState();
        // The request's own bytes include its list of files: counted in proportion.
        const done = before + Math.min(size, Math.round((sent / Math.max(1, all)) * size));
        state.setUpload({ kind, files: sentFiles, sent: done, total, importing: sent >= all && before + size >= total });
      });
      before += size;
      if (result.kind === 'images') images.push(result.report);
      else refs.push(result.report);
    }
  } catch (error) {
    failed = true;
    reportError(error);
  } finally {
    useStore.getState().setUpload(null);
  }
  const nothing = failed && images.length + refs.length + tooLarge.length === 0;
  if (useStore.getState().currentProjectId !== projectId || nothing) {
    if (kind === 'images') useStore.getState().finishImport(null);
    return;
  }
  if (kind === 'images') {
    const report = mergeImports(projectId, images, tooLarge);
    useStore.getState().finishImport(report);
    useStore.getState().addImages(report.imported);
    void loadProjects();
  } else {
    useStore.getState().setRefReport(mergeReferences(refs, tooLarge));
    await loadRefs(projectId);
  }
}

function tooLargeSkip(f: NamedFile): { name: string; message: string } {
  return { name: f.name, message: fileTooLargeMessage(f.name, f.file.size, UPLOAD_LIMITS) };
}

/** One import report from the requests' reports, with the files too large to send among the skipped. */
export function mergeImports(projectId: number, reports: ImportReport[], tooLarge: NamedFile[]): ImportReport {
  const skipped: ImportSkip[] = tooLarge.map(tooLargeSkip).map(({ name, message }) => ({ path: name, reason: 'too_large', message }));
  return {
    importId: reports[0]?.importId ?? `upload-${Date.now()}`,
    projectId,
    imported: reports.flatMap((r) => r.imported),
    duplicates: reports.flatMap((r) => r.duplicates),
    skipped: [...reports.flatMap((r) => r.skipped), ...skipped],
    elapsedMs: reports.reduce((sum, r) => sum + r.elapsedMs, 0),
  };
}

/** One board report from the requests' reports, with the files too large to send among the skipped. */
export function mergeReferences(reports: ReferenceReport[], tooLarge: NamedFile[]): ReferenceReport {
  const skipped: ReferenceSkip[] = tooLarge.map(tooLargeSkip).map(({ name, message }) => ({ item: name, reason: 'too_large', message }));
  return { added: reports.flatMap((r) => r.added), skipped: [...reports.flatMap((r) => r.skipped), ...skipped] };
}
