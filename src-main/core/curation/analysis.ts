/**
 * Per-image analysis for curation: the focus score and the colour analysis against the brand
 * palette. `ImageAnalyser` runs it in a worker thread (analysis-worker.ts), one image at a time,
 * off the main process's event loop; where the built worker is missing (tests run from the
 * sources) it runs in this thread instead, with the same results.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BrandColour } from '../api/index.js';
import { analyseColour, type ColourAnalysis } from '../color/index.js';
import { appPackage } from '../util/index.js';
import { sharpnessScore } from './sharpness.js';

/** The nice value of the analysis thread on Linux (analysis-worker.ts): background work yields to the window. */
export const BACKGROUND_NICE = 10;

export interface AnalysisRequest {
  path: string;
  /** Make the focus score. */
  sharpness: boolean;
  /** Analyse the colours against this palette; null for none. */
  palette: BrandColour[] | null;
}

export interface AnalysisResult {
  sharpness?: number;
  colour?: Pick<ColourAnalysis, 'dominant' | 'brand' | 'colourName'>;
}

/** The analysis itself (in whichever thread runs it). */
export async function analyseImage(request: AnalysisRequest): Promise<AnalysisResult> {
  const result: AnalysisResult = {};
  if (request.sharpness) result.sharpness = await sharpnessScore(request.path);
  if (request.palette) {
    const analysis = await analyseColour(request.path, request.palette);
    result.colour = { dominant: analysis.dominant, brand: analysis.brand, colourName: analysis.colourName };
  }
  return result;
}

interface Pending {
  resolve(result: AnalysisResult): void;
  reject(error: Error): void;
}

export class ImageAnalyser {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private closed = false;

  constructor(
    /** The built worker script; defaults to dist's. Absent file: the analysis runs in this thread. */
    private readonly workerFile = path.join(appPackage().root, 'dist', 'main', 'core', 'curation', 'analysis-worker.js'),
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether analyses run in a worker thread (false where the built worker is missing). */
  get threaded(): boolean {
    return fs.existsSync(this.workerFile);
  }

  analyse(request: AnalysisRequest): Promise<AnalysisResult> {
    if (this.closed) return Promise.reject(new Error('The image analyser is closed.'));
    const worker = this.ensureWorker();
    if (!worker) return analyseImage(request);
    const id = ++this.next;
    return new Promise<AnalysisResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // The process stays up while an analysis is owed an answer, and no longer.
      worker.ref();
      worker.postMessage({ id, request });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new Error('The image analyser was closed.'));
    await worker?.terminate();
  }

  private ensureWorker(): Worker | undefined {
    if (this.worker) return this.worker;
    if (!fs.existsSync(this.workerFile)) return undefined;
    const worker = new Worker(this.workerFile);
    worker.unref();
    worker.on('message', (message: { id: number; result?: AnalysisResult; error?: string }) => {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) worker.unref();
      if (message.error !== undefined) pending.reject(new Error(message.error));
      else pending.resolve(message.result ?? {});
    });
    const lost = (reason: string): void => {
      if (this.worker === worker) this.worker = undefined;
      this.fail(new Error(reason));
    };
    worker.on('error', (error) => lost(`The image analysis worker failed: ${error.message}`));
    worker.on('exit', (code) => lost(`The image analysis worker stopped (exit code ${code}).`));
    this.worker = worker;
    return worker;
  }

  /** Every analysis owed an answer fails (the worker died or the analyser closed); the next one starts a fresh worker. */
  private fail(error: Error): void {
    const owed = [...this.pending.values()];
    this.pending.clear();
    for (const p of owed) p.reject(error);
  }
}
