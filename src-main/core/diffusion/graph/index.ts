/** Onbrand's own Stable Diffusion graphs: configs, the builder, weight sources and the on-disk cache. */
export {
  inferTextEncoder,
  inferUnet,
  inferVae,
  mergeConfig,
  modelFamily,
  SD15,
  SD21,
  SDXL,
  settleConfig,
  textEncoderConfigFile,
  type SdConfig,
  type TextEncoderConfig,
  type UnetConfig,
  type VaeConfig,
} from './configs.js';
export { GraphBuilder, type AttentionKind, type BuildOptions, type LoraBranch, type ParamSpec, type Precision } from './graph-builder.js';
export { buildTextEncoder, buildUnet, buildVaeDecoder, buildVaeEncoder, type SdPart } from './sd-graphs.js';
export {
  BUILDER_VERSION,
  buildPart,
  partOptions,
  cacheFolder,
  ensureBuilt,
  partsOf,
  SD_PARTS,
  type BuiltModel,
  type BuildRequest,
} from './built-model.js';
export {
  checkCoverage,
  ExportWeights,
  RandomWeights,
  randomTensor,
  transpose,
  WeightMappingError,
  writeGraph,
  type WeightSource,
} from './weights.js';
export {
  CheckpointError,
  CheckpointWeights,
  checkpointReport,
  decodeFloat32,
  describeUnexpected,
  detectCheckpoint,
  detectCheckpointKeys,
  planCheckpoint,
  SECOND_ENCODER,
  type CheckpointFamily,
  type CheckpointInfo,
  type CheckpointOptions,
  type CheckpointPlan,
  type CheckpointReport,
} from './checkpoint-weights.js';
export { DiffusersWeights } from './diffusers-weights.js';
