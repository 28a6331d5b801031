/**
 * The one file that imports onnxruntime-node: sessions, execution providers with explicit
 * fallback, and tensors in and out (float16 converted at the boundary, integer inputs in the
 * width the graph asks for). Everything above it works with Float32Array and plain numbers.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { OnbrandError } from '../api/index.js';
import type { ProviderChoice } from '../common/index.js';
import { FLOAT, modelBytes, node, valueInfo } from '../util/index.js';
import { float16ToFloat32, float32ToFloat16 } from './float16.js';

// onnxruntime's own logger would print every failed provider probe to stderr; failures reach the
// user through the errors this module returns instead.
ort.env.logLevel = 'fatal';

export type { ProviderChoice };
export type ProviderName = Exclude<ProviderChoice, 'auto'>;
export const PROVIDERS: readonly ProviderName[] = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'];

/** A provider that was tried and failed, with onnxruntime's reason. */
export interface ProviderAttempt {
  provider: ProviderName;
  error: string;
}

/**
 * The order to try providers in: the platform's GPU provider first, then the CPU. On Linux WebGPU
 * (onnxruntime-node's own build, Dawn on Vulkan) comes between: it reaches the GPU when the CUDA
 * binaries are not installed, with nothing to download. Elsewhere it is there on request
 * (`--provider webgpu`), not tried by itself: only its Linux build has been run here.
 */
export function providerOrder(choice: ProviderChoice, platform: NodeJS.Platform = process.platform): ProviderName[] {
  if (choice !== 'auto') return [choice];
  switch (platform) {
    case 'linux':
      return ['cuda', 'webgpu', 'cpu'];
    case 'win32':
      return ['dml', 'cpu'];
    case 'darwin':
      return ['coreml', 'cpu'];
    default:
      return ['cpu'];
  }
}

export interface TensorSpec {
  name: string;
  /** onnxruntime's type name: float32, float16, int64, int32, … */
  type: string;
  /** Numbers for fixed dimensions, names for dynamic ones. */
  shape: readonly (number | string)[];
}

export interface Feed {
  /**
   * Float data for float inputs (converted to float16 when the graph wants it; a Uint16Array is
   * float16 already, as LoRA factors are kept); integers for int inputs.
   */
  data: Float32Array | Uint16Array | readonly number[];
  dims: readonly number[];
}

export interface Output {
  data: Float32Array;
  dims: number[];
}

/** A part of a model failed to load or run; the message names the file. */
export class ModelPartError extends OnbrandError {
  constructor(
    message: string,
    readonly file: string,
    readonly kind: 'missing' | 'invalid' | 'provider' | 'out_of_memory' | 'run',
  ) {
    super('internal', message);
    this.name = 'ModelPartError';
  }
}

const OOM = /out of memory|failed to allocate|bad_alloc|CUDNN_STATUS_ALLOC_FAILED|CUBLAS_STATUS_ALLOC_FAILED|E_OUTOFMEMORY|0x8007000E/i;

/** True when an onnxruntime error is an allocation failure (the GPU or RAM ran out). */
export function isOutOfMemory(error: unknown): boolean {
  return OOM.test(error instanceof Error ? error.message : String(error));
}

const require = createRequire(import.meta.url);

/**
 * Whether onnxruntime-node's CUDA provider library is installed (`npm run setup:cuda`); without
 * it the CUDA attempt is reported as such instead of as a failed library load.
 */
export function cudaInstalled(): boolean {
  try {
    const dir = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const binDir = path.join(dir, 'bin', `napi-v6`, process.platform, process.arch);
    return fs.existsSync(
      path.join(binDir, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'),
    );
  } catch {
    return true; // unknown layout: let onnxruntime try and report
  }
}

let webgpu: Promise<string | null> | undefined;

/**
 * Why WebGPU cannot be used on this machine (onnxruntime's reason, e.g. "No supported adapters"),
 * or null when it can. Asked once a process, with a one-node graph, so that a machine without a
 * GPU (or without Vulkan) never builds float16 graphs for a provider that cannot open them.
 */
export function webgpuUnavailable(): Promise<string | null> {
  webgpu ??= (async () => {
    const probe = modelBytes(
      {
        name: 'webgpu-probe',
        nodes: [node('Relu', ['x'], ['y'])],
        initializers: [],
        inputs: [valueInfo('x', FLOAT, [1])],
        outputs: [valueInfo('y', FLOAT, [1])],
      },
      'onbrand-probe',
    );
    try {
      const session = await ort.InferenceSession.create(probe, sessionOptions('webgpu'));
      await session.release();
      return null;
    } catch (error) {
      const reason = firstLine(error).replace(/^.*?(Failed to get a WebGPU adapter)/, '$1');
      return `WebGPU cannot be used here (${reason})`;
    }
  })();
  return webgpu;
}

/** Why `provider` cannot even be tried on this machine, or null when it can. */
export async function providerUnavailable(provider: ProviderName): Promise<string | null> {
  if (provider === 'cuda' && !cudaInstalled()) return 'CUDA binaries are not installed (npm run setup:cuda)';
  if (provider === 'webgpu') return webgpuUnavailable();
  return null;
}

function sessionOptions(provider: ProviderName, arena = true): ort.InferenceSession.SessionOptions {
  const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] =
    provider === 'cuda'
      ? [{ name: 'cuda', deviceId: 0 }]
      : provider === 'dml'
        ? [{ name: 'dml', deviceId: 0 }]
        : provider === 'webgpu'
          ? [{ name: 'webgpu' }]
          : [provider];
  // Fatal only: a provider that fails to load is reported through the error we return, not on stderr.
  // Threads: one per core. onnxruntime's own default counts physical cores and, on virtual
  // machines, may settle on one (measured: SD 1.5's UNet at 512×512 took 19.5 s a call instead of
  // 14.6 s here). The CPU arena stays on: without it every run's activations are fresh pages from
  // the kernel (a third of the time went to page faults; the VAE decoder at 576×1024 took 98 s
  // instead of 18.5 s). What the arena keeps is bounded instead: UNet calls by the memory budget,
  // and the VAE's sessions are released after each job (`DiffusionEngine.generate`). No memory
  // patterns: with dynamic shapes they only add a second plan (6.2 GB instead of 4.0 GB for the VAE).
  return {
    executionProviders,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 4,
    intraOpNumThreads: os.availableParallelism(),
    enableMemPattern: false,
    enableCpuMemArena: arena,
  };
}

/** One ONNX graph in a session that stays warm until disposed. */
export class OnnxSession {
  readonly inputs: TensorSpec[];
  readonly outputs: TensorSpec[];

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly file: string,
    readonly provider: ProviderName,
  ) {
    this.inputs = session.inputMetadata.map((m) =>
      m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'unknown', shape: [] },
    );
    this.outputs = session.outputMetadata.map((m) =>
      m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'unknown', shape: [] },
    );
  }

  /**
   * Loads `file`, trying each provider in order. A provider that fails is recorded and the next
   * one is tried; when none works the error lists every attempt.
   */
  /** `arena: false`: no CPU memory arena (each run's memory goes back at once, at the cost of page faults). */
  static async load(
    file: string,
    providers: readonly ProviderName[],
    options: { arena?: boolean } = {},
  ): Promise<{ session: OnnxSession; attempts: ProviderAttempt[] }> {
    if (!fs.existsSync(file)) throw new ModelPartError(`${file} is missing`, file, 'missing');
    // Loading by path lets onnxruntime find external weight files beside model.onnx.
    return OnnxSession.open(
      file,
      providers,
      (provider) => ort.InferenceSession.create(file, sessionOptions(provider, options.arena ?? true)),
      (message, provider) => {
        if (
          /protobuf|parse|invalid model|load model|ShapeInference|not a valid/i.test(message) &&
          provider === providers[providers.length - 1]
        ) {
          throw new ModelPartError(
            `${path.basename(path.dirname(file))}/${path.basename(file)} cannot be loaded: ${message}`,
            file,
            'invalid',
          );
        }
      },
    );
  }

  /**
   * Builds a session from a model held in memory (a graph plus its weight buffers), trying the
   * providers in order like `load`. `label` names the model in errors.
   */
  static async fromMemory(
    built: { model: Uint8Array; externalData: { path: string; data: Uint8Array }[] },
    label: string,
    providers: readonly ProviderName[],
  ): Promise<{ session: OnnxSession; attempts: ProviderAttempt[] }> {
    return OnnxSession.open(label, providers, (provider) =>
      ort.InferenceSession.create(built.model, { ...sessionOptions(provider), externalData: built.externalData }),
    );
  }

  /** Tries each provider in order; `onFailure` may turn a failure into a final error. */
  private static async open(
    label: string,
    providers: readonly ProviderName[],
    create: (provider: ProviderName) => Promise<ort.InferenceSession>,
    onFailure: (message: string, provider: ProviderName) => void = () => undefined,
  ): Promise<{ session: OnnxSession; attempts: ProviderAttempt[] }> {
    const attempts: ProviderAttempt[] = [];
    for (const provider of providers) {
      const unavailable = await providerUnavailable(provider);
      if (unavailable) {
        attempts.push({ provider, error: unavailable });
        continue;
      }
      try {
        return { session: new OnnxSession(await create(provider), label, provider), attempts };
      } catch (error) {
        if (isOutOfMemory(error)) throw new ModelPartError(`Out of memory loading ${label}: ${firstLine(error)}`, label, 'out_of_memory');
        onFailure(firstLine(error), provider);
        attempts.push({ provider, error: firstLine(error) });
      }
    }
    const tried = attempts.map((a) => `${a.provider}: ${a.error}`).join('; ');
    throw new ModelPartError(`No execution provider could load ${label} (${tried})`, label, 'provider');
  }

  input(name: string): TensorSpec | undefined {
    return this.inputs.find((i) => i.name === name);
  }

  /** Runs the graph; float outputs come back as float32 whatever the model's precision. */
  async run(feeds: Record<string, Feed>): Promise<Record<string, Output>> {
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) {
      const spec = this.input(name);
      if (!spec) throw new ModelPartError(`${this.file} has no input named ${name}`, this.file, 'run');
      tensors[name] = toTensor(spec, feed);
    }
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(tensors);
    } catch (error) {
      if (isOutOfMemory(error))
        throw new ModelPartError(`Out of memory running ${this.file}: ${firstLine(error)}`, this.file, 'out_of_memory');
      throw new ModelPartError(`Running ${this.file} failed: ${firstLine(error)}`, this.file, 'run');
    } finally {
      for (const t of Object.values(tensors)) t.dispose();
    }
    const out: Record<string, Output> = {};
    for (const [name, tensor] of Object.entries(results)) {
      const data =
        tensor.type === 'float16'
          ? float16ToFloat32(tensor.data as Uint16Array)
          : tensor.type === 'float32'
            ? new Float32Array(tensor.data as Float32Array)
            : Float32Array.from(tensor.data as ArrayLike<number | bigint>, Number);
      out[name] = { data, dims: tensor.dims.map(Number) };
      tensor.dispose();
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

function toTensor(spec: TensorSpec, feed: Feed): ort.Tensor {
  const dims = [...feed.dims];
  switch (spec.type) {
    case 'float32':
      if (feed.data instanceof Uint16Array) throw new Error(`input ${spec.name} is float32 but was given float16 data`);
      return new ort.Tensor('float32', feed.data instanceof Float32Array ? feed.data : Float32Array.from(feed.data), dims);
    case 'float16':
      return new ort.Tensor('float16', feed.data instanceof Uint16Array ? feed.data : float32ToFloat16(feed.data), dims);
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(Array.from(feed.data, (v) => BigInt(Math.round(v)))), dims);
    case 'int32':
      return new ort.Tensor(
        'int32',
        Int32Array.from(feed.data, (v) => Math.round(v)),
        dims,
      );
    default:
      throw new Error(`input ${spec.name} has type ${spec.type}, which Onbrand does not feed`);
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
}
