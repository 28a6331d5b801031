// Small Node helpers every module shares: where the app is installed, atomic writes and temp
// files, process checks, a seeded random source, and ONNX protobuf building blocks.
export { appPackage } from './app-root.js';
export {
  beingWritten,
  freeFileName,
  stageFile,
  sweepTempFiles,
  tempPathFor,
  writeAtomically,
  type StagedFile,
  type SweepOptions,
} from './fs-atomic.js';
export { mulberry32 } from './mulberry32.js';
export {
  FLOAT,
  FLOAT16,
  floatTensor,
  INT32,
  INT64,
  int64Tensor,
  modelBytes,
  node,
  onnx,
  valueInfo,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './onnx-builder.js';
export { processAlive, sweepDeadFolders } from './process.js';
