export { Exporter, fileName, UPSCALE_ABOVE, UPSCALER_MODEL, type ExportRequest, type ExportSelection } from './exporter.js';
export { exifSegment, withExifSegment, xmpPacket } from './jpeg-metadata.js';
