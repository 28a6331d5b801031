export { JobRepository, type NewJob, type UnreadableJob } from './job-repository.js';
export { contiguousRuns, type FromWorker, type RunRequest, type ToWorker } from './protocol.js';
export { GenerationQueue, generationFileName, resolveModelDir, type QueueOptions } from './queue.js';
