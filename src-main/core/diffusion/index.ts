// The diffusion engine's face: what the queue, the model library, the upscaler and the shells
// use. The samplers, tokenizer, conditioning and LoRA merging stay inside.
export {
  cudaInstalled,
  OnnxSession,
  PROVIDERS,
  providerOrder,
  providerUnavailable,
  webgpuUnavailable,
  type ProviderAttempt,
  type ProviderChoice,
} from './backend.js';
export { checkSettings, DiffusionEngine, GenerationError, MAX_PROMPT, type GeneratedImage, type GenerateSettings } from './engine.js';
export {
  buildPart,
  CheckpointError,
  CheckpointWeights,
  checkCoverage,
  describeUnexpected,
  DiffusersWeights,
  inferTextEncoder,
  inferUnet,
  inferVae,
  mergeConfig,
  modelFamily,
  SD_PARTS,
  SECOND_ENCODER,
  settleConfig,
  textEncoderConfigFile,
  WeightMappingError,
  type CheckpointReport,
  type SdConfig,
  type SdPart,
  type TextEncoderConfig,
  type UnetConfig,
  type VaeConfig,
  type WeightSource,
} from './graph/index.js';
export { loraHints, loraNames, loraShortHash, matchLoraName } from './lora.js';
export {
  folderLayout,
  MANIFEST_FILE,
  modelHash,
  readModelFolder,
  type ModelLayout,
  type ModelManifest,
  type PredictionType,
} from './model-folder.js';
export { formatParameters, formatParameterText, parseParameters, readSampler } from './parameters.js';
export { addPngText, readPngText } from './png-text.js';
export { extractLoraTags, isBreak, parsePromptAttention, PromptSyntaxError, type PromptPiece } from './prompt-syntax.js';
export { encodeSafetensors, SafetensorsFile, writeSafetensorsFile, type TensorToWrite } from './safetensors.js';
export { parseSamplerName, parseScheduleType } from './samplers.js';
export { sizeForAspect } from './sizes.js';
