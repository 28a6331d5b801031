import fs from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { writeAtomically } from '../util/index.js';

/** Long side of a grid thumbnail, in pixels: sharp on a 2x display at the largest grid size. */
export const THUMBNAIL_SIZE = 512;

/** Where the thumbnail of a file with this content hash lives, relative to the data folder. */
export function thumbnailRelativePath(contentHash: string): string {
  return path.join('thumbnails', contentHash.slice(0, 2), `${contentHash}.webp`);
}

/** Long side of a loupe rendition, in pixels: a 1080p or 1440p screen's height at 2x, without zooming in. */
export const PREVIEW_SIZE = 2048;

/** Where the loupe rendition of a file with this content hash lives, relative to the data folder. */
export function previewRelativePath(contentHash: string): string {
  return path.join('previews', contentHash.slice(0, 2), `${contentHash}.jpg`);
}

export interface ThumbnailResult {
  width: number;
  height: number;
}

/**
 * Decodes the whole image (so a damaged file fails here, not later in the grid) and writes a
 * thumbnail atomically: WebP, or JPEG when the target is a `.jpg` (a small generated image's
 * thumbnail is its loupe rendition). EXIF orientation is applied.
 */
export async function writeThumbnail(input: Buffer | string, target: string, size = THUMBNAIL_SIZE): Promise<ThumbnailResult> {
  let result: ThumbnailResult = { width: 0, height: 0 };
  await writeAtomically(target, async (temp) => {
    const resized = sharp(input, { failOn: 'warning' }).autoOrient().resize(size, size, { fit: 'inside', withoutEnlargement: true });
    const info = await (path.extname(target).toLowerCase() === '.jpg' ? asJpeg(resized) : resized.webp({ quality: 80, effort: 2 })).toFile(
      temp,
    );
    result = { width: info.width, height: info.height };
  });
  return result;
}

/** Pixels as sharp reads and writes them raw: 8 bits per channel, rows top to bottom, no padding. */
export interface RawImage {
  data: Buffer | Uint8Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/**
 * Decodes an image once for both of its cached renditions: the whole file (so a damaged one fails
 * here, not later in the grid), EXIF orientation applied, in sRGB, shrunk to fit `PREVIEW_SIZE`
 * (never enlarged). JPEGs are shrunk while they are decoded, so a large photo costs little.
 */
export async function decodeForRenditions(input: Buffer | string): Promise<RawImage> {
  const { data, info } = await sharp(input, { failOn: 'warning' })
    .autoOrient()
    .resize(PREVIEW_SIZE, PREVIEW_SIZE, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** The loupe rendition's encoding: baseline JPEG, quality 85, the encoder's fast settings; transparency on white. */
function asJpeg(image: Sharp): Sharp {
  return image.flatten({ background: '#ffffff' }).jpeg({ quality: 85, mozjpeg: false, optimiseCoding: false });
}

function fromRaw(raw: RawImage): Sharp {
  const data = Buffer.isBuffer(raw.data) ? raw.data : Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
  return sharp(data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } });
}

/** Where an image's two cached renditions go, relative to the data folder. */
export interface RenditionPaths {
  thumbRelative: string;
  previewRelative: string;
}

/**
 * Where the renditions of an image with this content hash and size go. With `shareSmall`, an
 * opaque image no larger than a thumbnail gets one file for both (the loupe rendition serves the
 * grid too: the same pixels, encoded once); the queue uses it to stay out of the way of fast modes.
 */
export function renditionPaths(
  contentHash: string,
  size: { width: number; height: number; channels: number },
  shareSmall = false,
): RenditionPaths {
  const previewRelative = previewRelativePath(contentHash);
  const shared = shareSmall && Math.max(size.width, size.height) <= THUMBNAIL_SIZE && size.channels % 2 === 1;
  return { thumbRelative: shared ? previewRelative : thumbnailRelativePath(contentHash), previewRelative };
}

/** An image's renditions, encoded, and where they go; `thumb` is null when the preview serves as the thumbnail. */
export interface EncodedRenditions extends RenditionPaths {
  preview: Buffer;
  thumb: Buffer | null;
}

/**
 * Encodes the loupe rendition (a baseline JPEG, long side at most `PREVIEW_SIZE`, never enlarged)
 * and the grid thumbnail (WebP, long side at most `THUMBNAIL_SIZE`) of decoded pixels. Only the
 * CPU part: `saveRenditions` writes them, so a caller can leave the disk to wait in the background.
 */
export async function encodeRenditions(raw: RawImage, contentHash: string, shareSmall = false): Promise<EncodedRenditions> {
  const paths = renditionPaths(contentHash, raw, shareSmall);
  const [previewBytes, thumbBytes] = await Promise.all([
    encodePreview(raw),
    paths.thumbRelative === paths.previewRelative
      ? null
      : fromRaw(raw)
          .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
          .webp({ quality: 80, effort: 2 })
          .toBuffer(),
  ]);
  return { ...paths, preview: previewBytes, thumb: thumbBytes };
}

/** The loupe rendition of decoded pixels: a baseline JPEG, long side at most `PREVIEW_SIZE`, never enlarged. */
export function encodePreview(raw: RawImage): Promise<Buffer> {
  let preview = fromRaw(raw);
  if (Math.max(raw.width, raw.height) > PREVIEW_SIZE)
    preview = preview.resize(PREVIEW_SIZE, PREVIEW_SIZE, { fit: 'inside', withoutEnlargement: true });
  return asJpeg(preview).toBuffer();
}

/**
 * Writes encoded renditions into the data folder, each atomically (a temporary name, then renamed:
 * nobody sees half a file). Not synced to disk: they are a cache, and one a power cut loses or
 * leaves empty is made again by `ThumbnailRepair`; the queue's disk waits stay for the images.
 */
export async function saveRenditions(encoded: EncodedRenditions, dataDir: string): Promise<RenditionPaths> {
  const save = (relative: string, bytes: Buffer): Promise<void> => saveCached(path.join(dataDir, relative), bytes);
  await Promise.all([save(encoded.previewRelative, encoded.preview), encoded.thumb && save(encoded.thumbRelative, encoded.thumb)]);
  return { thumbRelative: encoded.thumbRelative, previewRelative: encoded.previewRelative };
}

/** A cache file written atomically but not synced (see `saveRenditions`). */
export function saveCached(target: string, bytes: Buffer): Promise<void> {
  return writeAtomically(target, (temp) => fs.writeFile(temp, bytes), { durable: false });
}

/**
 * Writes both renditions of an image file (see `renditionPaths`; `size` is the file's, from its
 * header) into the data folder, unless the cache already holds them (the same content seen
 * before, which decoded cleanly then): only then is the file decoded, once for both. Returns their paths.
 */
export async function writeRenditions(
  input: Buffer | string,
  size: { width: number; height: number; channels: number },
  dataDir: string,
  contentHash: string,
  shareSmall = false,
): Promise<RenditionPaths> {
  const paths = renditionPaths(contentHash, size, shareSmall);
  const cached = await Promise.all([paths.previewRelative, paths.thumbRelative].map((p) => thumbnailExists(path.join(dataDir, p))));
  if (cached.every(Boolean)) return paths;
  return saveRenditions(await encodeRenditions(await decodeForRenditions(input), contentHash, shareSmall), dataDir);
}

/** True when a cached thumbnail file is present. */
export async function thumbnailExists(absolutePath: string): Promise<boolean> {
  try {
    const stat = await fs.stat(absolutePath);
    // A folder where the file should be is no cached file (and cannot be served as one).
    return stat.isFile() && stat.size > 0;
  } catch {
    return false;
  }
}
