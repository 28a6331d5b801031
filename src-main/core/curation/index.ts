export { Curation, MAYBE_LATER_FOLDER } from './curation.js';
export { laplacianVariance, sharpnessScore } from './sharpness.js';
