export { JobRepository, type NewJob, type UnreadableJob } from './job-repository.js';
export { contiguousRuns, type FromWorker, type RunRequest, type ToWorker } from './protocol.js';
export { CRASH_LOOP_LIMIT, GenerationQueue, crashLoopMessage, generationFileName, resolveModelDir, type QueueOptions } from './queue.js';
