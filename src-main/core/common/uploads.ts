/**
 * Uploads from the browser host (a browser cannot tell the app where a dropped or chosen file
 * lives, so its bytes are sent): the limits both sides check, the wire format's names, and how a
 * list of files is split into requests. Pure values and functions; the renderer imports them.
 *
 * Wire format: `POST /api/upload?projectId=N&kind=images|references`, content type
 * `UPLOAD_CONTENT_TYPE`, the token in the `x-onbrand-token` header, and a body of one line of JSON
 * (`{"files":[{"name":"shoot/a.png","size":1234},…]}`) followed by a newline and then each file's
 * bytes, one after another, exactly `size` bytes each.
 */

export const UPLOAD_KINDS = ['images', 'references'] as const;
export type UploadKind = (typeof UPLOAD_KINDS)[number];

export const UPLOAD_CONTENT_TYPE = 'application/x-onbrand-upload';

export interface UploadLimits {
  /** The largest file: the same as an import from a path. */
  fileBytes: number;
  /** The most bytes in one request (the UI splits a larger choice into several requests). */
  requestBytes: number;
  /** The most files in one request. */
  files: number;
  /** The longest list of files (the JSON line at the start of the body). */
  manifestBytes: number;
}

const MiB = 2 ** 20;

export const UPLOAD_LIMITS: UploadLimits = {
  fileBytes: 256 * MiB,
  requestBytes: 1024 * MiB,
  files: 500,
  manifestBytes: MiB,
};

/** Sizes in the limits' own unit (1 MB = 2^20 bytes, as the import's messages write them). */
export function uploadSize(bytes: number): string {
  if (bytes >= MiB) return `${Math.round(bytes / MiB)} MB`;
  if (bytes >= 1024) return `${Math.ceil(bytes / 1024)} KB`;
  return `${bytes} byte${bytes === 1 ? '' : 's'}`;
}

/** "a.png is 300 MB, over the 256 MB limit for one file": the file named, in a designer's words. */
export function fileTooLargeMessage(name: string, size: number, limits: UploadLimits = UPLOAD_LIMITS): string {
  return `${name} is ${uploadSize(size)}, over the ${uploadSize(limits.fileBytes)} limit for one file`;
}

/** The most UTF-8 bytes an uploaded file's name keeps (file systems allow 255; the import may add `_2`, an extension). */
const NAME_BYTES = 200;
/** Names Windows keeps for devices, with or without an extension. */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;

/**
 * The name an uploaded file is stored under: its last path segment (a folder upload sends
 * "shoot/a.png"), without characters that no file system takes, leading dots (it would be hidden)
 * or trailing dots and spaces, at most 200 bytes in UTF-8 (cut between characters, its extension
 * kept), never a Windows device name; "upload" when nothing is left.
 */
export function uploadFileName(name: string): string {
  const last = name.split(/[\\/]/).pop() ?? '';
  let clean = last
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '-')
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '');
  if (utf8Bytes(clean) > NAME_BYTES) {
    const dot = clean.lastIndexOf('.');
    const ext = dot > 0 && clean.length - dot <= 10 ? clean.slice(dot) : '';
    const stem = Array.from(ext ? clean.slice(0, dot) : clean);
    while (stem.length > 0 && utf8Bytes(stem.join('')) + utf8Bytes(ext) > NAME_BYTES) stem.pop();
    clean = stem.join('').replace(/[.\s]+$/, '') + ext;
  }
  if (WINDOWS_DEVICE.test(clean)) clean = `_${clean}`;
  return clean || 'upload';
}

function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** Whether a file of a chosen or dropped folder is one the import passes over (hidden: ".DS_Store", ".git/…"). */
export function hiddenInFolder(relativePath: string): boolean {
  return relativePath.split(/[\\/]/).some((part) => part.startsWith('.'));
}

export interface UploadPlan {
  /** Indices into the list, one array per request, in order. */
  batches: number[][];
  /** Indices of the files over the per-file limit: not sent, reported by name. */
  tooLarge: number[];
}

/** Splits files into requests within the limits, keeping their order; a file over the per-file limit is left out. */
export function planUpload(sizes: readonly number[], limits: UploadLimits = UPLOAD_LIMITS): UploadPlan {
  const batches: number[][] = [];
  const tooLarge: number[] = [];
  let current: number[] = [];
  let bytes = 0;
  sizes.forEach((size, index) => {
    if (size > limits.fileBytes) {
      tooLarge.push(index);
      return;
    }
    if (current.length > 0 && (current.length >= limits.files || bytes + size > limits.requestBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += size;
  });
  if (current.length > 0) batches.push(current);
  return { batches, tooLarge };
}
