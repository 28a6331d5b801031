export { JobRepository, type NewJob, type UnreadableJob } from './job-repository.js';
export { contiguousRuns, type FromWorker, type RunRequest, type ToWorker } from './protocol.js';
export {
  CRASH_LOOP_LIMIT,
  GenerationQueue,
  crashLoopMessage,
  generationFileName,
  pngComplete,
  resolveModelDir,
  saveFailedMessage,
  type QueueOptions,
  type QueueStart,
} from './queue.js';
export { OwnerLease, describeHolder, type LeaseHolder } from './owner-lease.js';
