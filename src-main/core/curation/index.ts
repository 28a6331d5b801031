export { Curation, MAYBE_LATER_FOLDER } from './curation.js';
export { laplacianVariance, sharpnessScore } from './sharpness.js';
export { ImageAnalyser, analyseImage, type AnalysisRequest, type AnalysisResult } from './analysis.js';
