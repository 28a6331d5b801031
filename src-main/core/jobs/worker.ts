/**
 * The engine's worker thread: the one GPU consumer. It owns the onnxruntime sessions so the main
 * process never waits on inference; the queue sends it jobs and it streams back progress and each
 * finished image (the PNG bytes; the main thread writes and records them). It also hashes each
 * image and writes its thumbnail and loupe rendition from the decoded pixels, while the engine
 * goes on with the next image, so the main thread does only the file and the catalogue.
 */
import crypto from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { DiffusionEngine } from '../diffusion/index.js';
import { encodeRenditions, saveRenditions } from '../images/index.js';
import { contiguousRuns, type FromWorker, type ImageExtras, type RunRequest, type ToWorker } from './protocol.js';

if (!parentPort) throw new Error('worker.js must run as a worker thread');
const port = parentPort;
const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

let engine: DiffusionEngine | undefined;
let engineKey = '';
/** The job being run, for messages the engine logs while loading. */
let currentJob = 0;
const running = new Map<number, AbortController>();
let chain: Promise<void> = Promise.resolve();
let lastProgress = 0;
/** Progress posts wait for their preview's encoding; `done` waits for them, so the last preview is never late. */
let progressPosts: Promise<void> = Promise.resolve();
let lastPreview = 0;
/** Finished images, posted in order once their renditions are on disk; `done` waits for them. */
let imagePosts: Promise<void> = Promise.resolve();
/** Progress messages at most this often (the last step always). */
const PROGRESS_INTERVAL_MS = 50;
/** Latent previews at most this often. */
const PREVIEW_INTERVAL_MS = 250;

port.on('message', (message: ToWorker) => {
  if (message.type === 'cancel') running.get(message.jobId)?.abort();
  else chain = chain.then(() => run(message));
});

async function run(request: RunRequest): Promise<void> {
  const controller = new AbortController();
  running.set(request.jobId, controller);
  let gpuSeconds = 0;
  try {
    currentJob = request.jobId;
    const key = `${request.loraDir}|${request.graphCacheDir}`;
    if (!engine || engineKey !== key) {
      await engine?.dispose();
      engine = new DiffusionEngine({
        loraDir: request.loraDir,
        graphCacheDir: request.graphCacheDir,
        // Building graphs and folders that run as exported: the user sees it with the job.
        onLog: (message) => post({ type: 'warning', jobId: currentJob, message }),
      });
      engineKey = key;
    }
    post({ type: 'status', state: 'loading', model: null, provider: null, fallbacks: [] });
    const model = await engine.load(request.modelDir, request.provider);
    const status = {
      model: model.folder.name,
      provider: model.provider,
      fallbacks: model.attempts.map((a) => `${a.provider}: ${a.error}`),
    };
    post({ type: 'status', state: 'running', ...status });
    for (const [start, length] of contiguousRuns(request.indices)) {
      controller.signal.throwIfAborted();
      let index = start;
      const started = performance.now();
      try {
        await engine.generate(
          {
            prompt: request.prompt,
            negativePrompt: request.negativePrompt,
            seed: (request.seed + start) >>> 0,
            steps: request.settings.steps,
            cfg: request.settings.cfg,
            sampler: request.settings.sampler,
            ...(request.settings.scheduleType ? { scheduleType: request.settings.scheduleType } : {}),
            width: request.settings.width,
            height: request.settings.height,
            batchSize: length,
            ...(request.init ? { init: { image: request.init.path, strength: request.init.strength } } : {}),
          },
          {
            signal: controller.signal,
            previewEvery: 1,
            onWarning: (warning) => post({ type: 'warning', jobId: request.jobId, message: warning }),
            onProgress: (p) => {
              // The UI cannot show more than a few updates a second; encoding previews faster only costs time.
              const now = performance.now();
              const last = p.step === p.steps;
              if (!last && now - lastProgress < PROGRESS_INTERVAL_MS) return;
              const withPreview = last || now - lastPreview >= PREVIEW_INTERVAL_MS;
              lastProgress = now;
              if (withPreview) lastPreview = now;
              const at = index;
              progressPosts = progressPosts
                .then(() => previewUrl(withPreview ? p.preview : null))
                .then((preview) =>
                  post({ type: 'progress', jobId: request.jobId, index: at, step: p.step, steps: p.steps, etaMs: p.etaMs, preview }),
                )
                .catch(() => undefined);
            },
            onImage: async (image) => {
              const at = start + image.index;
              const contentHash = crypto.createHash('sha256').update(image.png).digest('hex');
              // Encoded before the engine goes on: on the CPU, encoding beside the engine's threads
              // slows them more than it costs. The disk's part (writes, syncs) waits in the background.
              const encoded = await encodeRenditions(
                { data: image.rgb, width: image.width, height: image.height, channels: 3 },
                contentHash,
                true,
              ).catch(() => null);
              const renditions = encoded ? saveRenditions(encoded, request.dataDir).catch(() => null) : null;
              imagePosts = imagePosts
                .then(() => renditions)
                .then((made) => {
                  const png = new Uint8Array(image.png);
                  const extras: ImageExtras = { contentHash, renditions: made };
                  post(
                    {
                      type: 'image',
                      jobId: request.jobId,
                      index: at,
                      seed: image.seed,
                      png,
                      parameters: image.parameters,
                      width: image.width,
                      height: image.height,
                      extras,
                    },
                    [png.buffer as ArrayBuffer],
                  );
                })
                .catch(() => undefined);
              index = at + 1;
            },
          },
        );
      } finally {
        gpuSeconds += (performance.now() - started) / 1000;
      }
    }
    await progressPosts;
    await imagePosts;
    post({ type: 'done', jobId: request.jobId, gpuSeconds });
  } catch (error) {
    // Images finished before the failure or the cancel are still delivered, before the job's end.
    await imagePosts;
    if (controller.signal.aborted) post({ type: 'cancelled', jobId: request.jobId, gpuSeconds });
    else {
      const message = error instanceof Error ? error.message : String(error);
      post({ type: 'failed', jobId: request.jobId, gpuSeconds, message });
    }
  } finally {
    running.delete(request.jobId);
    post({
      type: 'status',
      state: 'idle',
      model: engine?.model?.folder.name ?? null,
      provider: engine?.model?.provider ?? null,
      fallbacks: engine?.model?.attempts.map((a) => `${a.provider}: ${a.error}`) ?? [],
    });
  }
}

/** A latent preview as a small PNG data URL (nearest-neighbour upscaled ×4 so it reads at a glance). */
async function previewUrl(preview: { width: number; height: number; rgb: Uint8Array } | null): Promise<string | null> {
  if (!preview) return null;
  const png = await sharp(Buffer.from(preview.rgb), { raw: { width: preview.width, height: preview.height, channels: 3 } })
    .resize(preview.width * 4, preview.height * 4, { kernel: 'nearest' })
    .png({ compressionLevel: 1 })
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}
