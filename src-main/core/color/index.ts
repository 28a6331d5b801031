export {
  analyseColour,
  DEFAULT_PRESENT_FROM,
  DEFAULT_THRESHOLD,
  plainColourName,
  type BrandCoverage,
  type BrandMatchOptions,
  type ColourAnalysis,
} from './brand.js';
export { ciede2000, rgbToLab } from './ciede2000.js';
export { applyLut, applyLutToImage, buildLut, CubeError, formatCube, paletteSnap, parseCube, type Lut3d, type SnapOptions } from './lut.js';
export { hexToRgb, oklabToRgb, rgbToHex, rgbToOklab, type Lab } from './oklab.js';
export { aggregatePalettes, extractPalette, kmeansPalette, type PaletteColour } from './palette.js';
export { checkSections, DEFAULT_SECTION_TOLERANCE } from './sections.js';
