export { convertLayersModel, MULTIPLY_BETA } from './convert.js';
export {
  BUILT_IN,
  detectScale,
  ensureBuiltIn,
  listUpscalers,
  packageModelJson,
  probeInput,
  REFERENCE_CHECKSUMS,
  SCALES,
  type BuiltIn,
  type UpscalerInfo,
} from './models.js';
export { readRgb, upscaleRgb, type RgbImage, type TileRunner, type TiledOptions } from './tiled.js';
export { Upscaler, type UpscaleResult } from './upscaler.js';
