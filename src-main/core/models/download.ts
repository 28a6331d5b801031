/**
 * Downloads from the Hugging Face Hub that survive what real downloads meet: a killed app, a
 * dropped connection, a full disk, a file that changed on the server, a corrupted body.
 *
 * Each file is written to `<dest>.part`, with a sidecar `<dest>.part.json` (url, size, hash,
 * ETag) so that any later process resumes it with `Range` + `If-Range`. Every file is checked
 * against the revision's hash (LFS: sha256 of the content; others: the git blob id) before it is
 * renamed to `<dest>`; a mismatch deletes the part. Transient failures (connection reset,
 * timeouts, 5xx, 429) are retried with backoff; 401/403/404 are not.
 *
 * `downloadFiles` fetches a set of files of one revision into a staging folder and writes a
 * marker when all of them are verified; `installAtomically` then renames the folder into place.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { formatBytes } from '../common/index.js';
import { writeAtomically } from '../util/index.js';
import {
  DownloadError,
  backoffDelay,
  describeRef,
  errorForStatus,
  fetchRevision,
  hubEndpoint,
  hubRequest,
  hubToken,
  isSafeRepoPath,
  readText,
  resolveUrl,
  sleep,
  toDownloadError,
  type HubFile,
  type HubOptions,
  type HubPlace,
  type HubResponse,
} from './hub.js';

/** How far a download is: the whole set, bytes and time. */
export interface DownloadProgress {
  /** `progress` while bytes flow; `done` once, when everything is verified. */
  status: 'progress' | 'done';
  /** The repo path of the file being fetched (the last one, for `done`). */
  file: string;
  bytesDone: number;
  bytesTotal: number;
  /** bytesDone / bytesTotal, 0..1. */
  fraction: number;
  /** Smoothed speed over the last few seconds; 0 until measured. */
  bytesPerSecond: number;
  /** Seconds left at that speed; null while unknown. */
  etaSeconds: number | null;
}

/** Where the bytes of a part file go; a seam for tests (a disk that fills up). */
export interface PartWriter {
  write(chunk: Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface DownloadOptions extends HubOptions {
  onProgress?: ((progress: DownloadProgress) => void) | undefined;
  /** At most one `progress` call per this many ms. Default 100; 0 calls on every chunk. */
  progressIntervalMs?: number | undefined;
  /** On cancel, delete the partial files instead of keeping them to resume. */
  discardOnCancel?: boolean | undefined;
  /** Free space to leave beyond the bytes still to fetch. Default 64 MiB. */
  diskMarginBytes?: number | undefined;
  /** Free bytes in a folder; default `fs.statfsSync`. A seam for tests. */
  freeSpace?: ((dir: string) => number) | undefined;
  /** Opens a part file for appending (or from scratch when `truncate`). A seam for tests. */
  openPart?: ((file: string, truncate: boolean) => Promise<PartWriter>) | undefined;
}

/** One file to fetch: where from, and what it must hash to. */
export interface FileToDownload extends HubFile {
  /** The `/resolve/` URL (best pinned to a commit, so that every file comes from the same one). */
  url: string;
  /** For messages: the repo and revision the file belongs to. */
  repo: string;
  revision: string;
}

/** The sidecar beside a part file: enough for another process to resume it. */
interface PartInfo {
  version: 1;
  url: string;
  size: number;
  sha256?: string;
  blobId: string;
  /** The ETag of the answer that sent the bytes, for If-Range. */
  etag?: string;
}

const DEFAULT_MARGIN = 64 * 1024 * 1024;

/**
 * Downloads one file to `dest` (creating its folder), resuming a part left by an earlier run.
 * Resolves once the file is verified and in place; rejects with a DownloadError.
 */
export async function downloadFile(file: FileToDownload, dest: string, options: DownloadOptions = {}): Promise<void> {
  const meter = new ProgressMeter(file.size, options);
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  const { offset } = await resumePoint(file, dest);
  checkFreeSpace(path.dirname(dest), file.size - offset, options);
  await fetchOne(file, dest, options, meter);
  meter.finish(file.path);
}

/** A set of files of one revision to fetch into a staging folder. */
export interface SetRequest {
  repo: string;
  /** Branch, tag or commit; default `main`. Files are fetched by the commit it resolves to. */
  revision?: string | undefined;
  /** Repo paths to fetch (all must exist), or a filter over the listing; default every file. */
  files?: readonly string[] | ((path: string) => boolean) | undefined;
  /** The folder to fill; created if needed. Files keep their repo paths inside it. */
  staging: string;
}

/** What a finished set download holds; also written to the marker file. */
export interface DownloadedSet {
  endpoint: string;
  repo: string;
  revision: string;
  commit: string;
  files: HubFile[];
  bytes: number;
}

/** The file that says a staging folder is complete (and where its files came from). */
export const DOWNLOAD_MARKER = '.onbrand-download.json';

/**
 * Fetches files of one revision into `request.staging`: asks the Hub for the revision first (sizes,
 * hashes, the commit), checks the free space for what is still missing, then fetches and verifies
 * each file and writes DOWNLOAD_MARKER. Running it again after a crash, a cancel or an error
 * picks up where it stopped: finished files stay (each was verified before it got its name) and
 * part files resume.
 */
export async function downloadFiles(request: SetRequest, options: DownloadOptions = {}): Promise<DownloadedSet> {
  const info = await fetchRevision(request.repo, request.revision ?? 'main', options);
  const files = selectFiles(info.files, request, info.commit);
  const staging = request.staging;
  await fsp.mkdir(staging, { recursive: true });
  await fsp.rm(path.join(staging, DOWNLOAD_MARKER), { force: true });

  const total = files.reduce((sum, f) => sum + f.size, 0);
  const meter = new ProgressMeter(total, options);
  const todo: { file: HubFile; dest: string }[] = [];
  let missing = 0;
  for (const file of files) {
    const dest = path.join(staging, ...file.path.split('/'));
    const done = await sizeOf(dest);
    if (done === file.size) {
      meter.complete(file.size);
      continue;
    }
    if (done !== undefined) await fsp.rm(dest, { force: true });
    const { offset } = await resumePoint(file, dest);
    missing += file.size - offset;
    todo.push({ file, dest });
  }
  checkFreeSpace(staging, missing, options);

  const endpoint = hubEndpoint(options);
  for (const { file, dest } of todo) {
    await fsp.mkdir(path.dirname(dest), { recursive: true });
    const url = resolveUrl(endpoint, info.repo, info.commit, file.path);
    await fetchOne({ ...file, url, repo: info.repo, revision: info.revision }, dest, options, meter);
    meter.complete(file.size);
  }

  const result: DownloadedSet = { endpoint, repo: info.repo, revision: info.revision, commit: info.commit, files, bytes: total };
  await writeAtomically(path.join(staging, DOWNLOAD_MARKER), (temp) =>
    fsp.writeFile(temp, JSON.stringify({ ...result, completedAt: new Date().toISOString() }, null, 2)),
  );
  meter.finish(files.at(-1)?.path ?? '');
  return result;
}

/** The marker of a complete staging (or installed) folder, or undefined when there is none. */
export async function readDownloadMarker(folder: string): Promise<DownloadedSet | undefined> {
  try {
    return JSON.parse(await fsp.readFile(path.join(folder, DOWNLOAD_MARKER), 'utf8')) as DownloadedSet;
  } catch {
    return undefined;
  }
}

/**
 * Renames a complete staging folder (one with DOWNLOAD_MARKER) to `finalDir`, which must not
 * exist: an installed model is never overwritten. Both must be on the same disk (a rename).
 * The marker stays inside as a record of where the files came from.
 */
export async function installAtomically(staging: string, finalDir: string): Promise<void> {
  if (!(await readDownloadMarker(staging))) {
    throw new DownloadError(
      'bad_request',
      `${staging} is not a complete download (it has no ${DOWNLOAD_MARKER}); finish or resume the download first.`,
    );
  }
  const taken = new DownloadError(
    'exists',
    `${finalDir} already exists; Onbrand does not overwrite an installed model. Remove it or choose another name.`,
  );
  if (await exists(finalDir)) throw taken;
  await fsp.mkdir(path.dirname(finalDir), { recursive: true });
  try {
    await fsp.rename(staging, finalDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTEMPTY') throw taken;
    if (code === 'EXDEV')
      throw new DownloadError(
        'bad_request',
        `Cannot move ${staging} to ${finalDir}: they are on different disks. Download into a folder on the same disk.`,
      );
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------

function selectFiles(listing: HubFile[], request: SetRequest, commit: string): HubFile[] {
  const wanted = request.files;
  let files: HubFile[];
  if (wanted === undefined) files = listing;
  else if (typeof wanted === 'function') files = listing.filter((f) => wanted(f.path));
  else {
    const byPath = new Map(listing.map((f) => [f.path, f]));
    files = wanted.map((p) => {
      const file = byPath.get(p);
      if (!file)
        throw new DownloadError(
          'not_found',
          `File "${p}" does not exist in ${request.repo} at revision ${request.revision ?? 'main'} (commit ${commit.slice(0, 7)}).`,
        );
      return file;
    });
  }
  if (files.length === 0)
    throw new DownloadError('bad_request', `No files to download from ${describeRef(request.repo, request.revision ?? 'main')}.`);
  for (const f of files) {
    if (!isSafeRepoPath(f.path))
      throw new DownloadError('bad_request', `${request.repo} lists a file with an unsafe path ("${f.path}"); refusing to write it.`);
  }
  return files;
}

/** Where a part left off: its size when its sidecar describes the same file, else 0 (and the stale part is gone). */
async function resumePoint(file: HubFile, dest: string): Promise<{ offset: number; etag: string | undefined }> {
  const part = `${dest}.part`;
  const sidecar = `${part}.json`;
  const size = await sizeOf(part);
  let info: PartInfo | undefined;
  try {
    info = JSON.parse(await fsp.readFile(sidecar, 'utf8')) as PartInfo;
  } catch {
    info = undefined;
  }
  const same = info !== undefined && info.size === file.size && info.blobId === file.blobId && info.sha256 === file.sha256;
  if (size === undefined || !same || size > file.size) {
    await fsp.rm(part, { force: true });
    await fsp.rm(sidecar, { force: true });
    return { offset: 0, etag: undefined };
  }
  return { offset: size, etag: info?.etag };
}

/** Fetches, verifies and renames one file; retries transient failures, resuming each time. */
async function fetchOne(file: FileToDownload, dest: string, options: DownloadOptions, meter: ProgressMeter): Promise<void> {
  const part = `${dest}.part`;
  const sidecar = `${part}.json`;
  const where: HubPlace = { endpoint: originOf(file.url), repo: file.repo, revision: file.revision, path: file.path };
  const token = hubToken(options);
  const openPart = options.openPart ?? openPartFile;
  const tries = options.retry?.tries ?? 5;

  let { offset, etag } = await resumePoint(file, dest);
  let hash = await hashOfPrefix(file, part, offset);
  meter.jump(file.path, offset);

  const restart = async (): Promise<void> => {
    offset = 0;
    etag = undefined;
    hash = newHash(file);
    await fsp.rm(part, { force: true });
    meter.jump(file.path, 0);
  };

  /** One request: appends what arrives to the part; says whether bytes came or the part was restarted. */
  const attempt = async (): Promise<'body' | 'restarted'> => {
    const headers: Record<string, string> = {};
    if (offset > 0) {
      headers['range'] = `bytes=${offset}-`;
      // If the file changed since the part was started, the server sends all of it (200).
      if (etag && !etag.startsWith('W/')) headers['if-range'] = etag;
    }
    const res: HubResponse = await hubRequest(file.url, { token, headers, signal: options.signal, timeoutMs: options.timeoutMs });
    if (res.status === 416) {
      res.body.resume();
      if (offset === 0)
        throw new DownloadError(
          'bad_request',
          `${originOf(file.url)} refused to send ${describeRef(file.repo, file.revision, file.path)} (HTTP 416).`,
          { status: 416 },
        );
      await restart(); // the part does not fit the file the server has: start again
      return 'restarted';
    }
    if (res.status === 200 && offset > 0) await restart();
    else if (res.status === 206) {
      const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!range || Number(range[1]) !== offset) {
        res.body.resume();
        await restart();
        throw new DownloadError('network', `${originOf(file.url)} sent the wrong part of ${file.path}; starting it again.`, {
          retryable: true,
        });
      }
    } else if (res.status !== 200) {
      const text = await readText(res.body, 64 * 1024);
      if ((res.status === 401 || res.status === 403) && originOf(res.url) !== originOf(file.url)) {
        // The CDN refusing its own signed link (it expired): the Hub gives a fresh one on the next try.
        throw new DownloadError(
          'network',
          `The download server refused ${describeRef(file.repo, file.revision, file.path)} (HTTP ${res.status}).`,
          {
            status: res.status,
            retryable: true,
          },
        );
      }
      throw errorForStatus(res.status, res.headers, text, where, token !== undefined);
    }

    const announced =
      res.status === 206
        ? Number(/\/(\d+)$/.exec(String(res.headers['content-range']))?.[1] ?? file.size)
        : Number(res.headers['content-length'] ?? file.size);
    if (announced !== file.size) {
      res.body.resume();
      await forget(part, sidecar);
      throw new DownloadError(
        'hash_mismatch',
        `${describeRef(file.repo, file.revision, file.path)} is ${formatBytes(announced)} on the server but the revision lists ${formatBytes(file.size)}; nothing was installed. Try again (the repo may have just changed).`,
      );
    }
    etag = headerText(res.headers['etag']);
    const info: PartInfo = { version: 1, url: file.url, size: file.size, blobId: file.blobId };
    if (file.sha256 !== undefined) info.sha256 = file.sha256;
    if (etag !== undefined) info.etag = etag;
    await writeAtomically(sidecar, (temp) => fsp.writeFile(temp, JSON.stringify(info)));

    const writer = await openPart(part, offset === 0);
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        await writer.write(chunk);
        hash.update(chunk);
        offset += chunk.length;
        meter.current(file.path, offset);
      }
    } finally {
      await writer.close();
    }
    return 'body';
  };

  let failures = 0;
  let offsetAtFailure = offset;
  while (offset < file.size) {
    try {
      const outcome = await attempt();
      if (outcome === 'body' && offset < file.size)
        throw new DownloadError('network', `The connection closed before the end of ${file.path}.`, { retryable: true });
    } catch (thrown) {
      const error = asDownloadError(thrown, where, path.dirname(dest), options, file.size - offset);
      if (error.reason === 'cancelled') {
        if (options.discardOnCancel) await forget(part, sidecar);
        const kept =
          options.discardOnCancel || offset === 0 ? '' : ` ${formatBytes(offset)} of ${formatBytes(file.size)} are kept to resume.`;
        throw new DownloadError('cancelled', `Download of ${describeRef(file.repo, file.revision, file.path)} cancelled.${kept}`);
      }
      if (!error.retryable) throw error;
      if (offset > offsetAtFailure) failures = 0; // bytes arrived since the last failure: a new streak
      offsetAtFailure = offset;
      failures++;
      if (failures >= tries) {
        throw new DownloadError(
          'network',
          `${error.message} (gave up after ${failures} tries; ${formatBytes(offset)} are kept to resume)`,
          {
            status: error.status,
            detail: error.detail,
            cause: error,
          },
        );
      }
      // A failed write may have left more (or fewer) bytes on disk than were hashed.
      if ((await sizeOf(part)) !== offset) {
        ({ offset, etag } = await resumePoint(file, dest));
        hash = await hashOfPrefix(file, part, offset);
        meter.jump(file.path, offset);
      }
      try {
        await sleep(backoffDelay(failures, error, options.retry), options.signal);
      } catch {
        throw new DownloadError('cancelled', `Download of ${describeRef(file.repo, file.revision, file.path)} cancelled.`);
      }
    }
  }

  const actual = hash.digest('hex');
  const expected = file.sha256 ?? file.blobId;
  if (actual !== expected) {
    await forget(part, sidecar);
    const kind = file.sha256 !== undefined ? 'sha256' : 'git blob id';
    throw new DownloadError(
      'hash_mismatch',
      `${describeRef(file.repo, file.revision, file.path)} failed verification: expected ${kind} ${expected}, got ${actual}. The download was deleted and nothing was installed; try again.`,
    );
  }
  const handle = await fsp.open(part, 'a'); // 'a' also creates the part of an empty file

  await handle.datasync().finally(() => handle.close());
  await fsp.rename(part, dest);
  await fsp.rm(sidecar, { force: true });
}

function asDownloadError(thrown: unknown, where: HubPlace, dir: string, options: DownloadOptions, remaining: number): DownloadError {
  const code = (thrown as NodeJS.ErrnoException | undefined)?.code;
  if ((code === 'ENOSPC' || code === 'EDQUOT') && !options.signal?.aborted) {
    let free = '';
    try {
      free = `, ${formatBytes((options.freeSpace ?? freeBytes)(dir))} free`;
    } catch {
      // the probe failing too changes nothing for the user
    }
    return new DownloadError(
      'disk_full',
      `The disk is full in ${dir}: ${describeRef(where.repo, where.revision, where.path)} needs ${formatBytes(remaining)} more${free}. Free some space and try again; the partial download is kept.`,
      { detail: `${code} while writing ${where.path ?? ''}`, cause: thrown },
    );
  }
  return toDownloadError(thrown, where, options.signal);
}

function checkFreeSpace(dir: string, bytes: number, options: DownloadOptions): void {
  if (bytes <= 0) return;
  const margin = options.diskMarginBytes ?? DEFAULT_MARGIN;
  const free = (options.freeSpace ?? freeBytes)(dir);
  if (free < bytes + margin) {
    throw new DownloadError(
      'disk_full',
      `Not enough disk space in ${dir}: the download needs ${formatBytes(bytes)} (plus ${formatBytes(margin)} to spare) but only ${formatBytes(free)} is free. Free some space and try again.`,
    );
  }
}

function freeBytes(dir: string): number {
  const stats = fs.statfsSync(dir);
  return stats.bavail * stats.bsize;
}

function newHash(file: HubFile): crypto.Hash {
  if (file.sha256 !== undefined) return crypto.createHash('sha256');
  return crypto.createHash('sha1').update(`blob ${file.size}\0`);
}

/** The hash state after the first `bytes` of the part (a resume in a new process starts here). */
async function hashOfPrefix(file: HubFile, part: string, bytes: number): Promise<crypto.Hash> {
  const hash = newHash(file);
  if (bytes === 0) return hash;
  for await (const chunk of fs.createReadStream(part, { start: 0, end: bytes - 1 }) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash;
}

async function openPartFile(file: string, truncate: boolean): Promise<PartWriter> {
  const handle = await fsp.open(file, truncate ? 'w' : 'a');
  return {
    async write(chunk) {
      let done = 0;
      while (done < chunk.length) done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten;
    },
    close: () => handle.close(),
  };
}

async function forget(part: string, sidecar: string): Promise<void> {
  await fsp.rm(part, { force: true });
  await fsp.rm(sidecar, { force: true });
}

/** The size of a regular file, or undefined when there is none. */
async function sizeOf(file: string): Promise<number | undefined> {
  try {
    const stats = await fsp.stat(file);
    return stats.isFile() ? stats.size : undefined;
  } catch {
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.lstat(file);
    return true;
  } catch {
    return false;
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function originOf(url: string): string {
  return new URL(url).origin;
}

/**
 * Bytes done over the whole set, a smoothed speed and an ETA, reported at most every
 * `progressIntervalMs`. Speed is an exponential moving average (time constant 3 s) of the rate
 * between samples at least 200 ms apart, so one fast or slow chunk does not make it jump.
 */
class ProgressMeter {
  private completed = 0;
  private inFile = 0;
  private lastEmit = 0;
  private speed = 0;
  private sampleAt = Date.now();
  private sampleBytes = 0;
  private measured = false;
  private readonly interval: number;

  constructor(
    private readonly total: number,
    private readonly options: DownloadOptions,
  ) {
    this.interval = options.progressIntervalMs ?? 100;
  }

  /** A file counted as done without fetching (already there). */
  complete(size: number): void {
    this.completed += size;
    this.inFile = 0;
    this.sampleBytes = this.done;
  }

  /** The current file has `bytes` on disk after a jump (a resume, a restart): no speed from that. */
  jump(file: string, bytes: number): void {
    this.inFile = bytes;
    this.sampleBytes = this.done;
    this.sampleAt = Date.now();
    this.current(file, bytes);
  }

  /** The current file has grown to `bytes` on disk. */
  current(file: string, bytes: number): void {
    this.inFile = bytes;
    const now = Date.now();
    const dt = (now - this.sampleAt) / 1000;
    if (dt >= 0.2) {
      const rate = (this.done - this.sampleBytes) / dt;
      const alpha = this.measured ? 1 - Math.exp(-dt / 3) : 1;
      this.speed += alpha * (rate - this.speed);
      this.measured = true;
      this.sampleAt = now;
      this.sampleBytes = this.done;
    }
    if (now - this.lastEmit >= this.interval) {
      this.lastEmit = now;
      this.emit('progress', file);
    }
  }

  finish(file: string): void {
    this.emit('done', file);
  }

  private get done(): number {
    return this.completed + this.inFile;
  }

  private emit(status: DownloadProgress['status'], file: string): void {
    if (!this.options.onProgress) return;
    const done = Math.min(this.done, this.total);
    const left = this.total - done;
    this.options.onProgress({
      status,
      file,
      bytesDone: done,
      bytesTotal: this.total,
      fraction: this.total === 0 ? 1 : done / this.total,
      bytesPerSecond: Math.round(this.speed),
      etaSeconds: status === 'done' ? 0 : this.speed > 0 ? Math.round(left / this.speed) : null,
    });
  }
}
