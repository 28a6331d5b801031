import zlib from 'node:zlib';

/**
 * PNG text chunks, as A1111 writes and reads generation parameters: a `parameters` chunk (tEXt
 * when the text is Latin-1, iTXt UTF-8 otherwise), inserted before IEND of a PNG that sharp made;
 * and every text chunk read back, as ComfyUI (`prompt`, `workflow`) and InvokeAI write theirs too.
 */

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, body: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

function isLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

/** Returns a copy of `png` with a text chunk `keyword` = `text` before IEND. */
export function addPngText(png: Buffer, keyword: string, text: string): Buffer {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file');
  const iend = png.lastIndexOf(Buffer.from('IEND', 'latin1')) - 4;
  if (iend < 8) throw new Error('PNG without an IEND chunk');
  const body = isLatin1(text)
    ? Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')])
    : // iTXt: keyword, 0, compression flag 0, method 0, empty language tag, 0, empty translated keyword, 0, UTF-8 text.
      Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, 'utf8')]);
  return Buffer.concat([png.subarray(0, iend), chunk(isLatin1(text) ? 'tEXt' : 'iTXt', body), png.subarray(iend)]);
}

/**
 * Compressed text is unpacked only for the keywords that carry generation parameters, and at most
 * this much in all per file: a crafted PNG of many small zTXt chunks must not unpack to gigabytes.
 */
const MAX_INFLATED_TEXT = 16 * 1024 * 1024;
const PARAMETER_KEYWORDS = new Set([
  'parameters',
  'prompt',
  'workflow',
  'invokeai_metadata',
  'sd-metadata',
  'Dream',
  'Description',
  'Comment',
]);

/**
 * Every tEXt chunk of a PNG, and the zTXt and iTXt chunks that may carry generation parameters,
 * keyword → text. Never throws on a damaged chunk (a missing separator, bad compressed data, a
 * length past the end): that chunk is left out; so is compressed text past the budget.
 */
export function readPngText(png: Buffer): Record<string, string> {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file');
  const out: Record<string, string> = {};
  let budget = MAX_INFLATED_TEXT;
  const unpack = (data: Buffer): Buffer | null => {
    if (budget <= 0) return null;
    const text = inflated(data, budget);
    if (text) budget -= text.length;
    return text;
  };
  let offset = 8;
  while (offset + 8 <= png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    if (offset + 12 + length > png.length) break;
    const body = png.subarray(offset + 8, offset + 8 + length);
    const zero = body.indexOf(0);
    if (zero > 0) {
      const keyword = body.toString('latin1', 0, zero);
      if (type === 'tEXt') out[keyword] = body.toString('latin1', zero + 1);
      else if (type === 'zTXt' && PARAMETER_KEYWORDS.has(keyword)) {
        const text = unpack(body.subarray(zero + 2));
        if (text !== null) out[keyword] = text.toString('latin1');
      } else if (type === 'iTXt') {
        const compressed = body[zero + 1] === 1;
        const language = body.indexOf(0, zero + 3);
        const translated = language < 0 ? -1 : body.indexOf(0, language + 1);
        if (translated >= 0 && (!compressed || PARAMETER_KEYWORDS.has(keyword))) {
          const data = body.subarray(translated + 1);
          const text = compressed ? unpack(data) : data;
          if (text !== null) out[keyword] = text.toString('utf8');
        }
      }
    }
    if (type === 'IEND') break;
    offset += 12 + length;
  }
  return out;
}

function inflated(data: Buffer, limit: number): Buffer | null {
  try {
    return zlib.inflateSync(data, { maxOutputLength: limit });
  } catch {
    return null;
  }
}
