/**
 * The image analysis worker thread: focus scores and colour analyses (a decode and a few hundred
 * thousand colour-difference sums per image) run here, so the main process's event loop answers
 * the UI (a rating, a thumbnail, the first page of a project) while a project is analysed.
 */
import { parentPort } from 'node:worker_threads';
import { analyseImage, type AnalysisRequest } from './analysis.js';

if (!parentPort) throw new Error('analysis-worker.js must run as a worker thread');
const port = parentPort;

port.on('message', (message: { id: number; request: AnalysisRequest }) => {
  analyseImage(message.request).then(
    (result) => port.postMessage({ id: message.id, result }),
    (error: unknown) => port.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
