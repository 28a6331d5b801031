export { hexToRgb, oklabToRgb, rgbToHex, rgbToOklab, type Lab } from './oklab.js';
export { aggregatePalettes, extractPalette, kmeansPalette, type PaletteColour } from './palette.js';
