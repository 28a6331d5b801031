export { ImageImporter, IMPORTS_FOLDER, MAX_IMPORT_BYTES, type ImportOptions } from './import.js';
export { MediaAccess, isInside, mediaCacheControl, mediaEtag, type MediaFile } from './media.js';
export { scanPaths } from './scan.js';
export {
  PREVIEW_SIZE,
  THUMBNAIL_SIZE,
  decodeForRenditions,
  encodeRenditions,
  previewRelativePath,
  renditionPaths,
  saveRenditions,
  thumbnailRelativePath,
  writeRenditions,
  writeThumbnail,
  type EncodedRenditions,
  type RawImage,
  type RenditionPaths,
} from './thumbnails.js';
export { ThumbnailRepair } from './thumbnail-repair.js';
export { generationFromText, imageHistogram } from './info.js';
