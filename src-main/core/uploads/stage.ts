/**
 * Reads an upload's body (see core/common/uploads.ts for the format) straight to disk: the list of
 * files first, checked against the limits before a byte of a file is written, then each file
 * streamed into its own folder under `dir`, chunk by chunk (never a whole file in memory).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApiError, invalidInput, uploadManifest, type UploadManifest } from '../api/index.js';
import { fileTooLargeMessage, uploadFileName, uploadSize, type UploadLimits } from '../common/index.js';

export interface StagedFile {
  /** The file as the user sent it ("shoot/a.png" for a file of a chosen folder). */
  name: string;
  /** Where it was written: `<dir>/<n>/<safe name>`, so the import keeps its name. */
  file: string;
  size: number;
}

/** Hands out a stream's bytes: whole chunks, or what is left of one after a split. */
class ChunkReader {
  private pending: Buffer | null = null;
  /** Bytes handed out so far. */
  consumed = 0;

  constructor(private readonly source: AsyncIterator<Uint8Array | string>) {}

  async next(): Promise<Buffer | null> {
    if (this.pending) {
      const chunk = this.pending;
      this.pending = null;
      return chunk;
    }
    const { value, done } = await this.source.next();
    if (done) return null;
    return typeof value === 'string' ? Buffer.from(value) : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }

  /** Puts the unused tail of a chunk back. */
  unread(chunk: Buffer): void {
    if (chunk.length > 0) this.pending = chunk;
  }

  /** The text up to the first newline (not included), reading at most `limit` bytes; null when there is none within it. */
  async line(limit: number): Promise<string | null> {
    const parts: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = await this.next();
      if (!chunk) return null;
      const newline = chunk.indexOf(0x0a);
      if (newline >= 0) {
        if (length + newline > limit) return null;
        parts.push(chunk.subarray(0, newline));
        this.unread(chunk.subarray(newline + 1));
        this.consumed += length + newline + 1;
        return Buffer.concat(parts).toString('utf8');
      }
      length += chunk.length;
      if (length > limit) return null;
      parts.push(chunk);
    }
  }
}

/**
 * Writes the files of an upload body into `dir` (which must exist) and returns them in body order.
 * Throws an ApiError (invalid_input) naming the problem: a list of files that is missing or wrong,
 * a file over the per-file limit, a request over the per-request limit, a body shorter or longer
 * than its list says. The caller removes `dir` in every case.
 */
export async function stageUpload(
  body: AsyncIterable<Uint8Array | string>,
  declaredLength: number | undefined,
  dir: string,
  limits: UploadLimits,
): Promise<StagedFile[]> {
  const reader = new ChunkReader(body[Symbol.asyncIterator]());
  const manifest = await readManifest(reader, limits);
  const total = manifest.files.reduce((sum, f) => sum + f.size, 0);
  for (const entry of manifest.files)
    if (entry.size > limits.fileBytes)
      throw new ApiError('invalid_input', `${fileTooLargeMessage(entry.name, entry.size, limits)}.`, 'files');
  if (manifest.files.length > limits.files)
    throw new ApiError(
      'invalid_input',
      `This upload has ${manifest.files.length} files, over the limit of ${limits.files} at once; upload them in smaller groups.`,
      'files',
    );
  if (total > limits.requestBytes)
    throw new ApiError(
      'invalid_input',
      `These ${manifest.files.length} files are ${uploadSize(total)} together, over the ${uploadSize(limits.requestBytes)} limit for one upload; upload them in smaller groups.`,
      'files',
    );
  if (declaredLength !== undefined && declaredLength !== reader.consumed + total)
    throw new ApiError(
      'invalid_input',
      `The upload is ${declaredLength} bytes long but its list of files adds up to ${reader.consumed + total}; nothing was imported.`,
    );

  const staged: StagedFile[] = [];
  for (const [index, entry] of manifest.files.entries()) {
    const folder = path.join(dir, String(index));
    await fs.mkdir(folder);
    const file = path.join(folder, uploadFileName(entry.name));
    const handle = await fs.open(file, 'wx', 0o600);
    try {
      let remaining = entry.size;
      while (remaining > 0) {
        const chunk = await nextOrStop(reader, entry.name, entry.size - remaining, entry.size);
        const take = Math.min(remaining, chunk.length);
        await handle.write(chunk.subarray(0, take));
        reader.unread(chunk.subarray(take));
        remaining -= take;
      }
    } finally {
      await handle.close();
    }
    staged.push({ name: entry.name, file, size: entry.size });
  }
  for (let extra = await reader.next(); extra; extra = await reader.next())
    if (extra.length > 0)
      throw new ApiError('invalid_input', 'The upload has more bytes than its list of files says; nothing was imported.');
  return staged;
}

async function readManifest(reader: ChunkReader, limits: UploadLimits): Promise<UploadManifest> {
  const line = await reader.line(limits.manifestBytes);
  if (line === null)
    throw new ApiError(
      'invalid_input',
      `The upload does not start with its list of files (one line of JSON, at most ${uploadSize(limits.manifestBytes)}).`,
    );
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new ApiError('invalid_input', 'The list of files at the start of the upload is not JSON.');
  }
  const parsed = uploadManifest.safeParse(json);
  if (!parsed.success) throw invalidInput('upload', parsed.error);
  return parsed.data;
}

async function nextOrStop(reader: ChunkReader, name: string, got: number, size: number): Promise<Buffer> {
  let chunk: Buffer | null;
  try {
    chunk = await reader.next();
  } catch {
    chunk = null;
  }
  if (!chunk)
    throw new ApiError(
      'invalid_input',
      `The upload stopped before ${name} was complete (${got} of ${size} bytes arrived); nothing from this upload was imported.`,
      'files',
    );
  return chunk;
}
