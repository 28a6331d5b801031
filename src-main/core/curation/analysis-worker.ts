/**
 * The image analysis worker thread: focus scores and colour analyses (a decode and a few hundred
 * thousand colour-difference sums per image) run here, so the main process's event loop answers
 * the UI (a rating, a thumbnail, the first page of a project) while a project is analysed.
 */
import os from 'node:os';
import { parentPort } from 'node:worker_threads';
import { analyseImage, BACKGROUND_NICE, type AnalysisRequest } from './analysis.js';

if (!parentPort) throw new Error('analysis-worker.js must run as a worker thread');
const port = parentPort;

/**
 * Background work yields to the window: on Linux the nice value is a thread's own, so this thread
 * (not the app) runs at nice 10, and the UI, the browser and the engine get the cores first. On other
 * systems the call would lower the whole process, so it is not made there.
 */
if (process.platform === 'linux') {
  try {
    os.setPriority(0, Math.max(os.getPriority(0), BACKGROUND_NICE));
  } catch {
    // Not allowed here (a sandbox): the analysis runs at the app's priority.
  }
}

port.on('message', (message: { id: number; request: AnalysisRequest }) => {
  analyseImage(message.request).then(
    (result) => port.postMessage({ id: message.id, result }),
    (error: unknown) => port.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
