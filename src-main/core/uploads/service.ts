/**
 * Files sent by a browser (dropped or chosen) become grid images or mood-board references through
 * the very import a path goes through: the body is streamed to a private staging folder in the
 * data folder (`uploads/<pid>-<uuid>/<n>/<name>`), then imported from there (hash, decode, checks,
 * temporary name then rename into `imports/` or `references/`, never over an existing file), and
 * the staging folder is removed. The report names files as the user sent them.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApiError, type ImportReport, type ReferenceReport, type UploadQuery, type UploadResult } from '../api/index.js';
import { UPLOAD_LIMITS, type UploadLimits } from '../common/index.js';
import type { ImageImporter } from '../images/index.js';
import type { ReferenceImporter } from '../references/index.js';
import type { TimeLog } from '../timelog/index.js';
import { sweepDeadFolders } from '../util/index.js';
import { stageUpload, type StagedFile } from './stage.js';

export const UPLOADS_FOLDER = 'uploads';

export interface UploadDeps {
  projectExists(projectId: number): boolean;
  importer: Pick<ImageImporter, 'import'>;
  references: Pick<ReferenceImporter, 'add'>;
  timelog: Pick<TimeLog, 'activity'>;
  dataDir: string;
}

export class UploadService {
  readonly limits: UploadLimits;
  private readonly root: string;

  constructor(
    private readonly deps: UploadDeps,
    limits: Partial<UploadLimits> = {},
  ) {
    this.limits = { ...UPLOAD_LIMITS, ...limits };
    this.root = path.join(deps.dataDir, UPLOADS_FOLDER);
    // What killed processes left half-received (none of this process's uploads has started yet).
    sweepDeadFolders(this.root, /^(\d+)-/, { ownToo: true });
  }

  /** Receives one upload body and imports its files into the project; see the module comment. */
  async receive(query: UploadQuery, body: AsyncIterable<Uint8Array | string>, declaredLength: number | undefined): Promise<UploadResult> {
    const { projectId, kind } = query;
    if (!this.deps.projectExists(projectId)) throw new ApiError('not_found', `No project with id ${projectId}.`, 'projectId');
    await fs.mkdir(this.root, { recursive: true, mode: 0o700 });
    const dir = path.join(this.root, `${process.pid}-${crypto.randomUUID()}`);
    await fs.mkdir(dir, { mode: 0o700 });
    try {
      const staged = await stageUpload(body, declaredLength, dir, this.limits);
      this.deps.timelog.activity(projectId, 'mood');
      const result: UploadResult =
        kind === 'images'
          ? { kind, report: await this.importImages(projectId, staged) }
          : { kind, report: await this.importReferences(projectId, staged) };
      this.deps.timelog.activity(projectId, 'mood');
      return result;
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  private async importImages(projectId: number, staged: StagedFile[]): Promise<ImportReport> {
    const names = new Map(staged.map((s) => [s.file, s.name]));
    const report = await this.deps.importer.import(
      projectId,
      staged.map((s) => s.file),
      { sourcePath: (file) => `upload:${names.get(file) ?? path.basename(file)}` },
    );
    const rename = <T extends { path: string; message: string }>(skip: T): T => {
      const name = names.get(skip.path);
      return name === undefined ? skip : { ...skip, path: name, message: skip.message.split(skip.path).join(name) };
    };
    return { ...report, duplicates: report.duplicates.map(rename), skipped: report.skipped.map(rename) };
  }

  private async importReferences(projectId: number, staged: StagedFile[]): Promise<ReferenceReport> {
    const names = new Map(staged.map((s) => [s.file, s.name]));
    const report = await this.deps.references.add(
      projectId,
      staged.map((s) => s.file),
    );
    return {
      ...report,
      skipped: report.skipped.map((skip) => {
        const name = names.get(skip.item);
        return name === undefined ? skip : { ...skip, item: name, message: skip.message.split(skip.item).join(name) };
      }),
    };
  }
}
