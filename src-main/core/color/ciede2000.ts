/** CIELAB and CIEDE2000 live in core/common (the renderer's palette merge uses them too). */
export { ciede2000, deltaE, DISTINCT_COLOURS, hexToLab, rgbToLab } from '../common/index.js';
