/**
 * EXIF for exported JPEGs, written by hand because libvips writes UserComment as ASCII only: a
 * minimal big-endian TIFF block with IFD0 (Software) and the Exif IFD (UserComment in "UNICODE"
 * = UTF-16, as A1111 writes its parameters), inserted right after the JPEG's SOI marker.
 */

interface Entry {
  tag: number;
  type: number;
  count: number;
  data: Buffer;
}

const ASCII = 2;
const LONG = 4;
const UNDEFINED = 7;

function ifd(entries: Entry[], _start: number, dataStart: number): { table: Buffer; data: Buffer } {
  const table = Buffer.alloc(2 + entries.length * 12 + 4);
  table.writeUInt16BE(entries.length, 0);
  const chunks: Buffer[] = [];
  let offset = dataStart;
  entries
    .sort((a, b) => a.tag - b.tag)
    .forEach((e, i) => {
      const at = 2 + i * 12;
      table.writeUInt16BE(e.tag, at);
      table.writeUInt16BE(e.type, at + 2);
      table.writeUInt32BE(e.count, at + 4);
      if (e.data.length <= 4) e.data.copy(table, at + 8);
      else {
        table.writeUInt32BE(offset, at + 8);
        const padded = e.data.length % 2 ? Buffer.concat([e.data, Buffer.alloc(1)]) : e.data;
        chunks.push(padded);
        offset += padded.length;
      }
    });
  return { table, data: Buffer.concat(chunks) };
}

/** The Exif APP1 segment with Software and (when given) the UserComment in UTF-16. */
export function exifSegment(software: string, userComment: string | null): Buffer {
  const ifd0Start = 8;
  const ifd0Entries = 2;
  const ifd0Size = 2 + ifd0Entries * 12 + 4;
  const softwareBytes = Buffer.from(`${software}\u0000`, 'latin1');
  const ifd0DataStart = ifd0Start + ifd0Size;
  const exifStart = ifd0DataStart + softwareBytes.length + (softwareBytes.length % 2);
  const pointer = Buffer.alloc(4);
  pointer.writeUInt32BE(exifStart);
  const zero = ifd(
    [
      { tag: 0x0131, type: ASCII, count: softwareBytes.length, data: softwareBytes },
      { tag: 0x8769, type: LONG, count: 1, data: pointer },
    ],
    ifd0Start,
    ifd0DataStart,
  );
  const exifEntries: Entry[] = [];
  if (userComment !== null) {
    const text = Buffer.from(userComment, 'utf16le').swap16();
    const data = Buffer.concat([Buffer.from('UNICODE\u0000', 'latin1'), text]);
    exifEntries.push({ tag: 0x9286, type: UNDEFINED, count: data.length, data });
  }
  const exifSize = 2 + exifEntries.length * 12 + 4;
  const exif = ifd(exifEntries, exifStart, exifStart + exifSize);
  const tiff = Buffer.concat([Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]), zero.table, zero.data, exif.table, exif.data]);
  const body = Buffer.concat([Buffer.from('Exif\u0000\u0000', 'latin1'), tiff]);
  if (body.length + 2 > 0xffff) throw new Error('EXIF block too large (parameters over ~32,000 characters)');
  const header = Buffer.alloc(4);
  header.writeUInt16BE(0xffe1, 0);
  header.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([header, body]);
}

/** Inserts an Exif APP1 segment after SOI, dropping any existing Exif APP1. */
export function withExifSegment(jpeg: Buffer, segment: Buffer): Buffer {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG');
  const kept: Buffer[] = [];
  let offset = 2;
  while (offset + 4 <= jpeg.length && jpeg[offset] === 0xff) {
    const marker = jpeg[offset + 1]!;
    if (marker === 0xda) break; // start of scan: the rest is image data
    const length = jpeg.readUInt16BE(offset + 2);
    const chunk = jpeg.subarray(offset, offset + 2 + length);
    const isExif = marker === 0xe1 && chunk.subarray(4, 10).toString('latin1') === 'Exif\u0000\u0000';
    if (!isExif) kept.push(chunk);
    offset += 2 + length;
  }
  return Buffer.concat([jpeg.subarray(0, 2), segment, ...kept, jpeg.subarray(offset)]);
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The XMP packet: description (prompt), rating (reject = −1) and Onbrand's own fields. */
export function xmpPacket(fields: {
  description: string | null;
  rating: number;
  /** A colour label as Lightroom writes it (`Red`, `Yellow`, `Green`, `Blue`); null for none. */
  label?: string | null;
  onbrand: Record<string, string | number | null>;
}): string {
  const own = Object.entries(fields.onbrand)
    .filter(([, v]) => v !== null && v !== '')
    .map(([k, v]) => `<onbrand:${k}>${escape(String(v))}</onbrand:${k}>`)
    .join('');
  const description = fields.description
    ? `<dc:description><rdf:Alt><rdf:li xml:lang="x-default">${escape(fields.description)}</rdf:li></rdf:Alt></dc:description>`
    : '';
  return (
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
    '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:onbrand="https://onbrand.app/ns/1.0/">' +
    `<xmp:Rating>${fields.rating}</xmp:Rating>${fields.label ? `<xmp:Label>${escape(fields.label)}</xmp:Label>` : ''}` +
    `${description}${own}</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`
  );
}
