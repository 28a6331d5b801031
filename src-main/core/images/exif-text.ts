/**
 * The two EXIF text fields that carry generation parameters: UserComment (A1111 writes its
 * `parameters` text there in JPEG and WebP) and ImageDescription. A small TIFF walk of our own,
 * because sharp hands over the raw EXIF block and libvips decodes UserComment as ASCII only.
 * Every offset is checked: a damaged block gives nulls, never an exception.
 */

export interface ExifText {
  userComment: string | null;
  imageDescription: string | null;
}

const IMAGE_DESCRIPTION = 0x010e;
const EXIF_IFD = 0x8769;
const USER_COMMENT = 0x9286;
/** Bytes per value, by TIFF field type (BYTE, ASCII, SHORT, LONG, RATIONAL, …, UNDEFINED = 7). */
const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8 };
/** More entries than this in one IFD means the block is garbage (real IFDs hold a few dozen). */
const MAX_ENTRIES = 1000;

interface Field {
  type: number;
  value: Buffer;
}

/** UserComment and ImageDescription from an EXIF block (with or without the `Exif\0\0` header). */
export function readExifText(exif: Buffer | undefined): ExifText {
  const none: ExifText = { userComment: null, imageDescription: null };
  if (!exif) return none;
  try {
    const tiff = exif.subarray(0, 6).toString('latin1') === 'Exif\u0000\u0000' ? exif.subarray(6) : exif;
    if (tiff.length < 8) return none;
    const order = tiff.toString('latin1', 0, 2);
    if (order !== 'II' && order !== 'MM') return none;
    const little = order === 'II';
    const u16 = (at: number): number => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
    const u32 = (at: number): number => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
    if (u16(2) !== 42) return none;

    const fields = (ifdOffset: number): Map<number, Field> => {
      const out = new Map<number, Field>();
      if (ifdOffset < 8 || ifdOffset + 2 > tiff.length) return out;
      const count = u16(ifdOffset);
      if (count > MAX_ENTRIES || ifdOffset + 2 + count * 12 > tiff.length) return out;
      for (let i = 0; i < count; i++) {
        const at = ifdOffset + 2 + i * 12;
        const type = u16(at + 2);
        const size = (TYPE_SIZE[type] ?? 0) * u32(at + 4);
        if (size === 0) continue;
        const start = size <= 4 ? at + 8 : u32(at + 8);
        if (start + size > tiff.length) continue;
        out.set(u16(at), { type, value: tiff.subarray(start, start + size) });
      }
      return out;
    };

    const ifd0 = fields(u32(4));
    const description = ifd0.get(IMAGE_DESCRIPTION);
    const pointer = ifd0.get(EXIF_IFD);
    const exifIfd =
      pointer && pointer.value.length >= 4
        ? fields(little ? pointer.value.readUInt32LE(0) : pointer.value.readUInt32BE(0))
        : new Map<number, Field>();
    const comment = exifIfd.get(USER_COMMENT);
    return {
      userComment: comment ? clean(decodeUserComment(comment.value, little)) : null,
      imageDescription: description ? clean(description.value.toString('utf8')) : null,
    };
  } catch {
    return none;
  }
}

/**
 * UserComment: an 8-byte character code, then the text. "UNICODE" is UTF-16 in the block's byte
 * order by the standard, but writers disagree (piexif, which A1111 uses, always writes big-endian),
 * so a byte-order mark decides, else where the zero bytes of ASCII-range text fall.
 */
export function decodeUserComment(value: Buffer, littleEndian: boolean): string {
  const code = value.toString('latin1', 0, 8).replace(/\0+$/, '');
  const text = value.subarray(8);
  if (code === 'UNICODE') {
    let little = littleEndian;
    let body = text;
    if (body[0] === 0xfe && body[1] === 0xff) [little, body] = [false, body.subarray(2)];
    else if (body[0] === 0xff && body[1] === 0xfe) [little, body] = [true, body.subarray(2)];
    else {
      let evenZeros = 0;
      let oddZeros = 0;
      for (let i = 0; i + 1 < body.length && i < 2048; i += 2) {
        if (body[i] === 0) evenZeros++;
        if (body[i + 1] === 0) oddZeros++;
      }
      if (evenZeros !== oddZeros) little = oddZeros > evenZeros;
    }
    const even = body.subarray(0, body.length - (body.length % 2));
    return little ? even.toString('utf16le') : Buffer.from(even).swap16().toString('utf16le');
  }
  // ASCII by the standard, UTF-8 in practice (exiftool, sharp); an undefined code (8 zero bytes)
  // likewise. Some writers leave the code out altogether: then the whole value is the text.
  return (code === '' || code === 'ASCII' || code === 'JIS' ? text : value).toString('utf8');
}

/** Drops the NUL padding and surrounding blanks; empty becomes null. */
function clean(text: string): string | null {
  const trimmed = text.replace(/\0+$/g, '').trim();
  return trimmed === '' ? null : trimmed;
}
