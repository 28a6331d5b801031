import fs from 'node:fs';
import nodePath from 'node:path';
import { OnbrandError } from '../api/index.js';

/** The catalogue was written by a newer Onbrand; opening it here could damage it. */
export class CatalogFromFutureError extends OnbrandError {
  constructor(
    readonly path: string,
    readonly fileVersion: number,
    readonly appVersion: number,
  ) {
    super(
      'conflict',
      `The catalogue ${path} is at schema version ${fileVersion}, newer than this Onbrand understands (${appVersion}). ` +
        'Update Onbrand to open it; the file was left untouched.',
    );
    this.name = 'CatalogFromFutureError';
  }
}

/** The catalogue file exists but is not a readable SQLite database (or fails its integrity check). */
export class CatalogCorruptError extends OnbrandError {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(
      'io',
      `The catalogue ${path} cannot be read (${detail}). It was left untouched: move it aside (or restore a backup) and start Onbrand again.`,
    );
    this.name = 'CatalogCorruptError';
  }
}

/** Why a healthy catalogue could not be opened: each with advice that fits it (never "move it aside"). */
export type CatalogOpenReason = 'disk_full' | 'permission' | 'locked' | 'io';

/** The catalogue could not be opened or brought up to date for a reason other than damage. */
export class CatalogOpenError extends OnbrandError {
  constructor(
    readonly path: string,
    readonly reason: CatalogOpenReason,
    detail: string,
  ) {
    super('io', `${catalogOpenAdvice(path, reason)} (${detail})`);
    this.name = 'CatalogOpenError';
  }
}

function catalogOpenAdvice(path: string, reason: CatalogOpenReason): string {
  switch (reason) {
    case 'disk_full':
      return `The disk that holds the catalogue ${path} is full. Free some space there and start Onbrand again; the catalogue is fine and was not changed`;
    case 'permission':
      return `Onbrand may not read and write the catalogue ${path} or its folder (permissions, or a read-only disk). Make both writable for your user and start Onbrand again; the catalogue was not changed`;
    case 'locked':
      return `The catalogue ${path} is locked by another program. Close other copies of Onbrand and any tool that has it open (a database browser, a backup or sync tool), then start again; the catalogue was not changed`;
    case 'io':
      return `The catalogue ${path} could not be opened because of a disk or system error. Check the disk and start Onbrand again; the catalogue was not changed`;
  }
}

/**
 * Sorts a failure to open the catalogue by its real cause: damage (`CatalogCorruptError`, whose
 * advice is to move the file aside) only when SQLite says the file is damaged or not a database.
 */
export function classifyCatalogError(path: string, error: unknown): Error {
  if (error instanceof CatalogFromFutureError || error instanceof CatalogCorruptError || error instanceof CatalogOpenError) return error;
  const code = String((error as { code?: unknown }).code ?? '');
  const detail = (error as Error).message ?? String(error);
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) return new CatalogCorruptError(path, detail);
  if (/^SQLITE_FULL/.test(code) || code === 'ENOSPC' || code === 'EDQUOT' || /disk is full/i.test(detail))
    return new CatalogOpenError(path, 'disk_full', detail);
  if (/^SQLITE_(CANTOPEN|READONLY|PERM|AUTH)/.test(code) || code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new CatalogOpenError(path, 'permission', detail);
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) return new CatalogOpenError(path, 'locked', detail);
  // SQLite says "disk I/O error" when a full disk stops its shared-memory or WAL file growing:
  // the free space tells.
  const coded = `${code ? `${code}: ` : ''}${detail}`;
  return new CatalogOpenError(path, diskAlmostFull(path) ? 'disk_full' : 'io', coded);
}

/** Under 1 MiB free where the catalogue lives. */
function diskAlmostFull(file: string): boolean {
  try {
    const stats = fs.statfsSync(nodePath.dirname(file));
    return stats.bavail * stats.bsize < 1024 * 1024;
  } catch {
    return false;
  }
}
