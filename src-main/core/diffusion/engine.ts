/**
 * The Stable Diffusion engine: a model folder's sessions kept warm, and txt2img / img2img with
 * k-diffusion samplers, classifier-free guidance in one UNet batch, PyTorch-compatible CPU noise
 * per image (image i = seed + i, alone or in a batch), progress with latent previews, cancel
 * between steps, and PNGs that carry A1111's `parameters`.
 */
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { appPackage } from '../util/index.js';
import { OnbrandError, type ApiErrorCode } from '../api/index.js';
import type { ScheduleType } from '../common/index.js';
import {
  providerUnavailable,
  ModelPartError,
  OnnxSession,
  providerOrder,
  type Feed,
  type ProviderAttempt,
  type ProviderChoice,
  type ProviderName,
} from './backend.js';
import { modelFamily, type BuiltModel } from './graph/index.js';
import { branchFeeds, type BranchPart, type ModelBranches } from './lora-branches.js';
import { LoraLibrary, mergeLoras } from './lora.js';
import { defaultMemoryBudget, imagesPerCall, unetBytesPerImage, vaeDecodeBytes } from './memory.js';
import { buildOptionsFor, graphsForFolder } from './model-graphs.js';
import { OnnxGraph, type WeightTarget } from './onnx-graph.js';
import { modelHash, readModelFolder, type ModelFolder } from './model-folder.js';
import { formatParameters } from './parameters.js';
import { addPngText } from './png-text.js';
import { extractLoraTags } from './prompt-syntax.js';
import { imageSeed, TorchGenerator } from './rng.js';
import { sample, samplerSigmas, type SamplerName } from './samplers.js';
import { DiscreteSchedule } from './schedule.js';
import { checkDimension, type ModelFamily } from './sizes.js';
import { encodePrompt, sdxlTimeIds, zeroed, type Conditioning, type TextEncoderPart } from './text-conditioning.js';
import { ClipTokenizer } from './tokenizer.js';

export interface GenerateSettings {
  prompt: string;
  negativePrompt: string;
  /** Unsigned 32-bit; image i uses seed + i. */
  seed: number;
  steps: number;
  cfg: number;
  sampler: SamplerName;
  /** A1111's schedule type: which sigmas the sampler walks (default `Automatic`, the sampler's own). */
  scheduleType?: ScheduleType;
  width: number;
  height: number;
  batchSize: number;
  /** img2img: the starting image (file path or encoded bytes) and how much of it to repaint (0..1]. */
  init?: { image: string | Buffer; strength: number };
  /**
   * SDXL: encode an empty negative prompt like any prompt (ComfyUI's way) instead of zeroing its
   * states and pooled text (the default: A1111's `force_zero_negative_prompt` and diffusers'
   * `force_zeros_for_empty_prompt`).
   */
  encodeEmptyNegative?: boolean;
}

export interface GeneratedImage {
  index: number;
  seed: number;
  width: number;
  height: number;
  /** PNG bytes with the `parameters` text chunk. */
  png: Buffer;
  /** The same pixels, 8-bit RGB (width × height × 3): for thumbnails without decoding the PNG again. */
  rgb: Buffer;
  parameters: string;
}

export interface GenerateProgress {
  /** 1-based sampling step. */
  step: number;
  steps: number;
  /** Estimated milliseconds left for sampling and decoding. */
  etaMs: number;
  /** A cheap RGB preview of image 0 at latent resolution (width/8 × height/8). */
  preview: { width: number; height: number; rgb: Uint8Array } | null;
}

export interface GenerateOptions {
  signal?: AbortSignal;
  onProgress?(progress: GenerateProgress): void;
  /** Each image as soon as it is decoded, before the next one: a crash later loses nothing finished. */
  onImage?(image: GeneratedImage): void | Promise<void>;
  /** Build a preview every this many steps (0 = never). */
  previewEvery?: number;
  /** Something the user should know that does not stop generation (LoRA keys not understood, …). */
  onWarning?(message: string): void;
}

export interface EngineOptions {
  /** Where `<lora:name:weight>` files are looked up (default native-models/loras). */
  loraDir?: string;
  /** Where Onbrand's graphs built for a model are cached (default: onbrand-graphs in the OS temp folder). */
  graphCacheDir?: string;
  /** Run a model folder's own graphs even when Onbrand's can be built (to compare the two). */
  exportedGraphs?: boolean;
  /** Bytes of UNet activations one call may use (default: `defaultMemoryBudget` of the provider). */
  memoryBudgetBytes?: number;
  /** At most this many bytes of LoRA factors stay in memory (least recently used out first). */
  loraCacheBytes?: number;
  /** Things worth a line in the log: graphs being built, a folder that runs as exported. */
  onLog?(message: string): void;
}

/** The merged state of the text encoder and UNet: which LoRAs at which weights. */
interface LoraState {
  key: string;
  hashes: { name: string; hash: string }[];
  warnings: string[];
}

export type GenerationFailure = 'invalid_settings' | 'out_of_memory' | 'unsupported' | 'model';

/** The contract's code for each kind of generation failure. */
const GENERATION_CODES: Record<GenerationFailure, ApiErrorCode> = {
  invalid_settings: 'invalid_input',
  unsupported: 'invalid_input',
  out_of_memory: 'io', // the device ran out, not the input's fault
  model: 'io', // the model's files cannot be used (or none is loaded)
};

/** A clear, user-facing failure: bad settings, a model that does not fit, out of memory. */
export class GenerationError extends OnbrandError {
  constructor(
    message: string,
    readonly reason: GenerationFailure,
  ) {
    super(GENERATION_CODES[reason], message);
    this.name = 'GenerationError';
  }
}

export interface LoadedModel {
  folder: ModelFolder;
  provider: ProviderName;
  /** Providers that were tried first and failed, with the reason (shown to the user). */
  attempts: ProviderAttempt[];
  family: ModelFamily;
  hash: string;
  /** `onbrand`: Onbrand's graphs built from the folder's weights; `exported`: the folder's own graphs. */
  graphs: 'onbrand' | 'exported';
  /** Why the folder's own graphs run, when they do. */
  graphsReason: string | null;
}

interface Sessions {
  textEncoder: OnnxSession;
  /** SDXL's second text encoder. */
  textEncoder2: OnnxSession | null;
  unet: OnnxSession;
  vaeDecoder: OnnxSession;
  vaeEncoder: OnnxSession | null;
}

const VERSION = appPackage().version;

/** SD 1.x latent → RGB approximation (A1111's "cheap approximation"), for previews. */
const PREVIEW_COEFFICIENTS = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
] as const;

/** SDXL's latent space has its own approximation (A1111 and ComfyUI's `latent_rgb_factors` for SDXL, with a bias). */
const SDXL_PREVIEW = {
  coefficients: [
    [0.3651, 0.4232, 0.4341],
    [-0.2533, -0.0042, 0.1068],
    [0.1076, 0.1111, -0.0362],
    [-0.3165, -0.2492, -0.2188],
  ],
  bias: [0.1084, -0.0175, -0.0011],
} as const;

interface Loaded {
  key: string;
  model: LoadedModel;
  sessions: Sessions;
  tokenizer: ClipTokenizer;
  /** SDXL's second tokenizer (pads with "!"). */
  tokenizer2: ClipTokenizer | null;
  schedule: DiscreteSchedule;
  /** Exported graphs only: text encoder and UNet weights in memory, sessions built from these with LoRAs merged in. */
  graphs: { textEncoder: OnnxGraph; unet: OnnxGraph } | null;
  targets: Map<string, { part: 'textEncoder' | 'unet'; target: WeightTarget }>;
  /** Onbrand's graphs: LoRAs are feeds of their side branches. */
  built: BuiltModel | null;
  loraFeeds: Record<BranchPart, Record<string, Feed>>;
  providers: ProviderName[];
  lora: LoraState;
  /** Bytes of UNet activations one call may use. */
  memoryBudget: number;
  /** Images per UNet call after an out-of-memory error halved it. */
  callLimit: number;
  /** The VAE decoder with a CPU arena, open during a job whose size the budget allows. */
  fastDecoder: OnnxSession | null;
}

export class DiffusionEngine {
  private loaded: Loaded | undefined;
  private loading: Promise<LoadedModel> | undefined;
  readonly loras: LoraLibrary;

  private readonly graphCacheDir: string;
  private readonly log: (message: string) => void;

  constructor(private readonly options: EngineOptions = {}) {
    this.loras = new LoraLibrary(options.loraDir ?? path.join(appPackage().root, 'native-models', 'loras'), options.loraCacheBytes);
    this.graphCacheDir = options.graphCacheDir ?? path.join(os.tmpdir(), 'onbrand-graphs');
    this.log = options.onLog ?? (() => undefined);
  }

  /** Memory the engine holds outside onnxruntime: LoRA factors (bounded) and what the loaded model keeps. */
  memory(): { loraBytes: number; loraMaxBytes: number; loras: number; graphs: 'onbrand' | 'exported' | null } {
    const lora = this.loras.memory();
    return { loraBytes: lora.bytes, loraMaxBytes: lora.maxBytes, loras: lora.loras, graphs: this.loaded?.model.graphs ?? null };
  }

  /** Loads a model folder (once; the sessions stay warm). A different model or provider disposes the old sessions first. */
  async load(modelDir: string, provider: ProviderChoice = 'auto'): Promise<LoadedModel> {
    const folder = readModelFolder(modelDir);
    const key = `${folder.dir}|${provider}`;
    if (this.loaded?.key === key) return this.loaded.model;
    if (this.loading) await this.loading.catch(() => undefined);
    if (this.loaded?.key === key) return this.loaded.model;
    await this.dispose();
    this.loading = this.open(folder, key, provider);
    try {
      return await this.loading;
    } finally {
      this.loading = undefined;
    }
  }

  get model(): LoadedModel | undefined {
    return this.loaded?.model;
  }

  private async open(folder: ModelFolder, key: string, choice: ProviderChoice): Promise<LoadedModel> {
    const tokenizer = await ClipTokenizer.fromFiles(folder.tokenizerDir);
    // SDXL's second tokenizer pads with "!" (id 0) unless its files say otherwise, as A1111's `id_pad = 0`.
    const tokenizer2 = folder.tokenizer2Dir ? await ClipTokenizer.fromFiles(folder.tokenizer2Dir, '!') : null;
    let reason: string | null = "Onbrand's graphs were turned off for this engine";
    if (!this.options.exportedGraphs) {
      const opened = await this.openBuilt(folder, key, choice, tokenizer, tokenizer2);
      if ('model' in opened) return opened.model;
      reason = opened.reason;
    }
    if (folder.layout === 'diffusers') {
      throw new GenerationError(`${folder.name} is a diffusers folder of weights: it runs only with Onbrand's graphs (${reason})`, 'model');
    }
    // The text encoder's and UNet's weights stay in memory (read once) so LoRAs merge without
    // re-reading the model; their sessions are built from memory. Not SDXL's: its UNet (5–10 GB)
    // would not fit one buffer, nor twice in memory; its parts open from their files, without LoRAs.
    const sdxlExport = folder.parts.text_encoder_2 !== null;
    let graphs: Loaded['graphs'] = null;
    if (!sdxlExport) {
      try {
        graphs = { unet: await OnnxGraph.load(folder.parts.unet), textEncoder: await OnnxGraph.load(folder.parts.text_encoder) };
      } catch (error) {
        throw new ModelPartError((error as Error).message, folder.parts.unet, 'invalid');
      }
    }
    // The UNet decides the provider (it does nearly all the work); the other parts follow it.
    const unet = graphs
      ? await OnnxSession.fromMemory(graphs.unet.build(), folder.parts.unet, providerOrder(choice))
      : await OnnxSession.load(folder.parts.unet, providerOrder(choice));
    const provider = unet.session.provider;
    const follow: ProviderName[] = provider === 'cpu' ? ['cpu'] : [provider, 'cpu'];
    const opened: OnnxSession[] = [unet.session];
    try {
      const textEncoder = graphs
        ? (await OnnxSession.fromMemory(graphs.textEncoder.build(), folder.parts.text_encoder, follow)).session
        : (await OnnxSession.load(folder.parts.text_encoder, follow)).session;
      opened.push(textEncoder);
      // SDXL's second encoder (no LoRA merging into it on this path).
      const textEncoder2 = folder.parts.text_encoder_2 ? (await OnnxSession.load(folder.parts.text_encoder_2, follow)).session : null;
      if (textEncoder2) opened.push(textEncoder2);
      const vaeDecoder = (await OnnxSession.load(folder.parts.vae_decoder, follow)).session;
      opened.push(vaeDecoder);
      const vaeEncoder = folder.parts.vae_encoder ? (await OnnxSession.load(folder.parts.vae_encoder, follow)).session : null;
      if (vaeEncoder) opened.push(vaeEncoder);
      checkInputs(folder, unet.session, textEncoder, vaeDecoder);
      const hiddenDim = Number(unet.session.input('encoder_hidden_states')?.shape[2]);
      const model: LoadedModel = {
        folder,
        provider,
        attempts: unet.attempts,
        family: unet.session.input('text_embeds') ? 'sdxl' : hiddenDim === 1024 ? 'sd2' : 'sd1',
        hash: await modelHash(folder),
        graphs: 'exported',
        graphsReason: reason,
      };
      const targets: Loaded['targets'] = new Map();
      for (const [k, target] of graphs?.unet.targets('lora_unet_') ?? []) targets.set(k, { part: 'unet', target });
      for (const [k, target] of graphs?.textEncoder.targets('lora_te_') ?? []) targets.set(k, { part: 'textEncoder', target });
      this.loaded = {
        key,
        model,
        sessions: { textEncoder, textEncoder2, unet: unet.session, vaeDecoder, vaeEncoder },
        tokenizer,
        tokenizer2,
        schedule: new DiscreteSchedule(folder.schedule),
        graphs,
        targets,
        built: null,
        loraFeeds: { textEncoder: {}, textEncoder2: {}, unet: {} },
        providers: follow,
        lora: { key: '[]', hashes: [], warnings: [] },
        memoryBudget: this.options.memoryBudgetBytes ?? defaultMemoryBudget(provider),
        callLimit: Number.POSITIVE_INFINITY,
        fastDecoder: null,
      };
      return model;
    } catch (error) {
      await Promise.all(opened.map((s) => s.dispose()));
      throw error;
    }
  }

  /**
   * Opens Onbrand's graphs for the folder, built for each provider's precision in turn until one
   * loads. Returns the reason instead when the folder's graphs cannot be mapped onto them.
   */
  private async openBuilt(
    folder: ModelFolder,
    key: string,
    choice: ProviderChoice,
    tokenizer: ClipTokenizer,
    tokenizer2: ClipTokenizer | null,
  ): Promise<{ model: LoadedModel } | { reason: string }> {
    const attempts: ProviderAttempt[] = [];
    for (const provider of providerOrder(choice)) {
      const unavailable = await providerUnavailable(provider);
      if (unavailable) {
        attempts.push({ provider, error: unavailable });
        continue;
      }
      const options = buildOptionsFor(provider);
      const { built, reason } = await graphsForFolder(folder, this.graphCacheDir, options, this.log);
      if (!built) return { reason: reason ?? 'unknown' };
      const opened: OnnxSession[] = [];
      try {
        // Every part on the one provider: a float16 graph does not run on the CPU.
        const load = async (file: string, arena = true): Promise<OnnxSession> => {
          const session = (await OnnxSession.load(file, [provider], { arena })).session;
          opened.push(session);
          return session;
        };
        const unet = await load(built.files.unet!);
        const textEncoder = await load(built.files.text_encoder!);
        const textEncoder2 = built.files.text_encoder_2 ? await load(built.files.text_encoder_2) : null;
        if (textEncoder2 && !tokenizer2) throw new GenerationError(`${folder.name} has a second text encoder but no tokenizer_2/`, 'model');
        // The VAE's sessions keep no arena: each runs once per image, and its largest activations
        // (3.5 GB at 576×1024) would otherwise stay held. A faster one with an arena is opened for
        // sizes the memory budget allows, for one job at a time (`decoderFor`).
        const vaeDecoder = await load(built.files.vae_decoder!, false);
        const vaeEncoder = built.files.vae_encoder ? await load(built.files.vae_encoder, false) : null;
        const model: LoadedModel = {
          folder,
          provider,
          attempts,
          family: modelFamily(built.config.unet) ?? 'sd1',
          hash: await modelHash(folder),
          graphs: 'onbrand',
          graphsReason: null,
        };
        this.loaded = {
          key,
          model,
          sessions: { textEncoder, textEncoder2, unet, vaeDecoder, vaeEncoder },
          tokenizer,
          tokenizer2,
          schedule: new DiscreteSchedule(folder.schedule),
          graphs: null,
          targets: new Map(),
          built,
          loraFeeds: branchFeeds(branchesOf(built), [], options.precision === 'float16', folder.name, model.family).feeds,
          providers: [provider],
          lora: { key: '[]', hashes: [], warnings: [] },
          memoryBudget: this.options.memoryBudgetBytes ?? defaultMemoryBudget(provider),
          callLimit: Number.POSITIVE_INFINITY,
          fastDecoder: null,
        };
        return { model };
      } catch (error) {
        await Promise.all(opened.map((s) => s.dispose()));
        if (error instanceof ModelPartError && error.kind === 'provider') {
          attempts.push({ provider, error: error.message });
          continue;
        }
        throw error;
      }
    }
    const tried = attempts.map((a) => `${a.provider}: ${a.error}`).join('; ');
    throw new ModelPartError(`No execution provider could load ${folder.parts.unet} (${tried})`, folder.parts.unet, 'provider');
  }

  /**
   * Applies `loras` to the text encoder and UNet, W' = W + Σ weight · scale · ΔW (ΔW of the module's
   * format: LoRA/LoCon up·down, LoHa, LoKr, full diff; scale alpha/dim as A1111 applies it): as side-branch
   * feeds of Onbrand's graphs, or merged into the weights of a folder that runs as exported. The same set at the same weights costs nothing; a changed weight re-merges from the LoRA
   * factors already in memory (files are read once); weight 0 leaves the model exactly as it is.
   */
  async applyLoras(loras: readonly { name: string; weight: number }[]): Promise<LoraState> {
    const loaded = this.loaded;
    if (!loaded) throw new GenerationError('No model is loaded', 'model');
    const active = loras.filter((l) => l.weight !== 0);
    const resolved = await Promise.all(active.map(async (l) => ({ ...l, lora: await this.loras.get(l.name) })));
    const key = JSON.stringify(resolved.map((r) => [r.lora.file, r.lora.hash, r.weight]));
    if (key === loaded.lora.key) return loaded.lora;
    const hashes = resolved.map((r) => ({ name: r.lora.name, hash: r.lora.hash }));

    if (loaded.built) {
      // Onbrand's graphs: new feeds for the side branches, the sessions stay.
      const { feeds, warnings } = branchFeeds(
        branchesOf(loaded.built),
        resolved,
        loaded.built.options.precision === 'float16',
        loaded.model.folder.name,
        loaded.model.family,
      );
      loaded.loraFeeds = feeds;
      loaded.lora = { key, hashes, warnings };
      return loaded.lora;
    }
    const graphs = loaded.graphs;
    if (!graphs) {
      if (active.length === 0) return loaded.lora;
      throw new GenerationError(
        `LoRAs need Onbrand's graphs, and ${loaded.model.folder.name} runs its own exported SDXL graphs (${loaded.model.graphsReason ?? 'as asked'}): import it as a diffusers folder or checkpoint to use LoRAs with it`,
        'unsupported',
      );
    }

    const { overrides, warnings } = await mergeLoras(
      this.loras,
      resolved,
      loaded.targets,
      (part, name) => graphs[part].readFloat32(name),
      loaded.model.folder.name,
      loaded.model.family,
    );

    // Rebuild only the parts whose weights change: the new session first, then the swap, then the
    // old one released, so a failed build leaves the model as it was (and usable).
    for (const part of ['textEncoder', 'unet'] as const) {
      const before = loaded.lora.key !== '[]' || overrides[part].size > 0;
      if (!before) continue;
      const file = part === 'unet' ? loaded.model.folder.parts.unet : loaded.model.folder.parts.text_encoder;
      const fresh = (await OnnxSession.fromMemory(graphs[part].build(overrides[part]), file, loaded.providers)).session;
      const old = loaded.sessions[part];
      loaded.sessions[part] = fresh;
      await old.dispose();
    }
    loaded.lora = { key, hashes, warnings };
    return loaded.lora;
  }

  async dispose(): Promise<void> {
    const current = this.loaded;
    this.loaded = undefined;
    if (current) {
      const { textEncoder, textEncoder2, unet, vaeDecoder, vaeEncoder } = current.sessions;
      await Promise.all(
        [textEncoder, unet, vaeDecoder, ...(textEncoder2 ? [textEncoder2] : []), ...(vaeEncoder ? [vaeEncoder] : [])].map((s) =>
          s.dispose(),
        ),
      );
    }
  }

  /** Generates `batchSize` images; resolves to them in order. */
  async generate(settings: GenerateSettings, options: GenerateOptions = {}): Promise<GeneratedImage[]> {
    const loaded = this.loaded;
    if (!loaded) throw new GenerationError('No model is loaded', 'model');
    checkSettings(settings);
    checkSizeFor(loaded.built, settings);
    const { sessions, tokenizer, schedule, model } = loaded;
    const { signal } = options;

    // <lora:name:weight> tags leave the text and set the merged weights (as A1111, from the prompt;
    // tags in the negative prompt are removed and ignored).
    const positive = extractLoraTags(settings.prompt);
    const negative = extractLoraTags(settings.negativePrompt);
    let loraState: LoraState;
    try {
      loraState = await this.applyLoras(positive.loras);
    } catch (error) {
      throw new GenerationError((error as Error).message, 'invalid_settings');
    }
    for (const warning of loraState.warnings) options.onWarning?.(warning);
    if (negative.loras.length > 0) options.onWarning?.('LoRA tags in the negative prompt are ignored.');

    // Conditioning: 75-token chunks with emphasis, through one text encoder or SDXL's two
    // (text-conditioning.ts). As A1111 by default, prompt and negative prompt of different lengths
    // are not padded: they go through the UNet in separate calls.
    const encoders: TextEncoderPart[] = [{ session: sessions.textEncoder, tokenizer, feeds: loaded.loraFeeds.textEncoder }];
    if (sessions.textEncoder2 && loaded.tokenizer2)
      encoders.push({ session: sessions.textEncoder2, tokenizer: loaded.tokenizer2, feeds: loaded.loraFeeds.textEncoder2 });
    const sdxl = model.family === 'sdxl';
    const cond = await encodePrompt(encoders, positive.text);
    // A CFG of 1 or less runs the prompt alone: the negative prompt is not even encoded.
    let uncond = settings.cfg > 1 ? await encodePrompt(encoders, negative.text) : cond;
    // (As A1111 tests it: the negative prompt, LoRA tags removed, is exactly empty.)
    if (sdxl && !settings.encodeEmptyNegative && negative.text === '') uncond = zeroed(uncond);
    if (sdxl && (!cond.pooled || !uncond.pooled))
      throw new GenerationError(`${model.folder.name}: the second text encoder gave no text_embeds`, 'model');
    const timeIds = sdxlTimeIds(settings.width, settings.height);
    // The latent scale of the graphs that run (their settled config), else the folder's.
    const vaeScale = loaded.built?.config.vae.scaling_factor ?? model.folder.vaeScale;

    const batch = settings.batchSize;
    const h = settings.height / 8;
    const w = settings.width / 8;
    const perImage = 4 * h * w;
    const generators = Array.from({ length: batch }, (_, i) => new TorchGenerator(imageSeed(settings.seed, i)));
    const drawNoise = (): Float32Array => {
      const out = new Float32Array(batch * perImage);
      generators.forEach((g, i) => out.set(g.randn([1, 4, h, w]), i * perImage));
      return out;
    };

    let sigmas = samplerSigmas(settings.sampler, schedule, settings.steps, settings.scheduleType);
    let x: Float32Array;
    const initialNoise = drawNoise();
    if (settings.init) {
      const x0 = await this.encodeImage(sessions, settings.init.image, settings.width, settings.height, vaeScale);
      const tEnc = Math.floor(Math.min(settings.init.strength, 0.999) * settings.steps);
      sigmas = sigmas.slice(settings.steps - tEnc - 1);
      x = new Float32Array(batch * perImage);
      for (let i = 0; i < x.length; i++) x[i] = x0[i % perImage]! + initialNoise[i]! * sigmas[0]!;
    } else {
      x = initialNoise.map((v) => v * sigmas[0]!);
    }

    const timestepIsInt = sessions.unet.input('timestep')?.type.startsWith('int') ?? false;
    const hidden: Conditioning[] = [uncond, cond];
    const stepTimes: number[] = [];
    let stepStarted = performance.now();

    const denoise = async (latents: Float32Array, sigma: number): Promise<Float32Array> => {
      const cIn = 1 / Math.sqrt(sigma * sigma + 1);
      const t = schedule.sigmaToT(sigma, timestepIsInt);
      // A CFG of 1 or less skips the unconditional pass (half the work), as diffusers does.
      const guided = settings.cfg > 1;
      const halves = guided ? hidden : [cond];
      const scaled = latents.map((v) => v * cIn);
      // One UNet batch for [uncond…, cond…] when their lengths match; otherwise one call each.
      const groups = guided && uncond.tokens !== cond.tokens ? halves.map((hs) => [hs]) : [halves];
      const parts: Float32Array[] = [];
      for (const group of groups) {
        const unetBatch = batch * group.length;
        const input = new Float32Array(unetBatch * perImage);
        group.forEach((_, g) => input.set(scaled, g * scaled.length));
        const { tokens: seq, dim } = group[0]!;
        const ehs = new Float32Array(unetBatch * seq * dim);
        group.forEach((hState, g) => {
          for (let i = 0; i < batch; i++) ehs.set(hState.data, (g * batch + i) * seq * dim);
        });
        let added: AddedConditioning | null = null;
        if (sdxl) {
          const width = group[0]!.pooled!.length;
          const textEmbeds = new Float32Array(unetBatch * width);
          group.forEach((hState, g) => {
            for (let i = 0; i < batch; i++) textEmbeds.set(hState.pooled!, (g * batch + i) * width);
          });
          added = { textEmbeds, width, timeIds };
        }
        parts.push(await this.runUnet(loaded, input, [unetBatch, 4, h, w], t, ehs, [unetBatch, seq, dim], batch, settings, added));
      }
      const out = parts.length === 1 ? parts[0]! : concat(parts);
      const predicted = (half: number, i: number): number => {
        const o = out[half * latents.length + i]!;
        const xi = latents[i]!;
        if (model.folder.predictionType === 'v_prediction') {
          const s2 = sigma * sigma + 1;
          return xi / s2 - (o * sigma) / Math.sqrt(s2);
        }
        return xi - sigma * o;
      };
      const denoised = new Float32Array(latents.length);
      for (let i = 0; i < latents.length; i++) {
        if (!guided) denoised[i] = predicted(0, i);
        else {
          const u = predicted(0, i);
          denoised[i] = u + settings.cfg * (predicted(1, i) - u);
        }
      }
      return denoised;
    };

    const previewEvery = options.previewEvery ?? 1;
    const final = await sample(settings.sampler, x, sigmas, {
      denoise,
      noise: drawNoise,
      ...(signal ? { signal } : {}),
      onStep: (step, total, _x, denoised) => {
        const now = performance.now();
        stepTimes.push(now - stepStarted);
        stepStarted = now;
        const perStep = stepTimes.reduce((a, b) => a + b, 0) / stepTimes.length;
        // Decoding an image costs about two steps' worth on the tiny and real models alike.
        const etaMs = Math.round(perStep * (total - step - 1 + 2 * batch));
        const preview =
          previewEvery > 0 && ((step + 1) % previewEvery === 0 || step + 1 === total) ? latentPreview(denoised, w, h, sdxl) : null;
        options.onProgress?.({ step: step + 1, steps: total, etaMs, preview });
      },
    });

    const hash = model.hash;
    const images: GeneratedImage[] = [];
    const decoder = await this.decoderFor(loaded, settings);
    try {
      for (let i = 0; i < batch; i++) {
        signal?.throwIfAborted();
        const latent = final.subarray(i * perImage, (i + 1) * perImage);
        const scaled = latent.map((v) => v / vaeScale);
        const decoded = await decoder.run({ [decoder.inputs[0]!.name]: { data: scaled, dims: [1, 4, h, w] } });
        const sampleOut = decoded.sample ?? Object.values(decoded)[0]!;
        const rgb = toRgb(sampleOut.data, settings.width, settings.height);
        const seed = imageSeed(settings.seed, i);
        const parameters = formatParameters({
          prompt: settings.prompt,
          negativePrompt: settings.negativePrompt,
          steps: settings.steps,
          sampler: settings.sampler,
          scheduleType: settings.scheduleType,
          cfg: settings.cfg,
          seed,
          width: settings.width,
          height: settings.height,
          modelHash: hash,
          ...(loraState.hashes.length ? { loraHashes: loraState.hashes.map((l) => `${l.name}: ${l.hash}`).join(', ') } : {}),
          modelName: model.folder.name,
          ...(settings.init ? { denoisingStrength: settings.init.strength } : {}),
          version: VERSION,
        });
        const png = addPngText(
          await sharp(rgb, { raw: { width: settings.width, height: settings.height, channels: 3 } })
            .png()
            .toBuffer(),
          'parameters',
          parameters,
        );
        const image: GeneratedImage = { index: i, seed, width: settings.width, height: settings.height, png, rgb, parameters };
        images.push(image);
        await options.onImage?.(image);
      }
    } finally {
      await this.releaseFastDecoder(loaded);
    }
    return images;
  }

  /**
   * The VAE decoder for this job: on the CPU, one with an arena (5× faster at 576×1024: 18.5 s
   * against 98 s) when the size's decoding memory fits the budget, else the lean one.
   */
  private async decoderFor(loaded: Loaded, settings: GenerateSettings): Promise<OnnxSession> {
    if (!loaded.built || loaded.model.provider !== 'cpu') return loaded.sessions.vaeDecoder;
    // Decoding comes after sampling, so it may use the UNet's share of the budget too.
    if (vaeDecodeBytes(settings.width, settings.height) > 2 * loaded.memoryBudget) return loaded.sessions.vaeDecoder;
    loaded.fastDecoder ??= (await OnnxSession.load(loaded.built.files.vae_decoder!, ['cpu'])).session;
    return loaded.fastDecoder;
  }

  /** Lets the fast decoder's arena go after a job, so an idle app gives the memory back. */
  private async releaseFastDecoder(loaded: Loaded): Promise<void> {
    const fast = loaded.fastDecoder;
    loaded.fastDecoder = null;
    await fast?.dispose();
  }

  /**
   * Runs the UNet in calls of as many items as the graph's fixed batch size and the memory budget
   * allow. An out-of-memory error halves the call (remembered for the model) before it becomes a
   * clear error at one item.
   */
  private async runUnet(
    loaded: Loaded,
    sample: Float32Array,
    dims: number[],
    t: number,
    ehs: Float32Array,
    ehsDims: number[],
    imagesPerBatch: number,
    settings: GenerateSettings,
    added: AddedConditioning | null = null,
  ): Promise<Float32Array> {
    const unet = loaded.sessions.unet;
    const total = dims[0]!;
    const fixed = unet.input('sample')?.shape[0];
    const precision = loaded.built?.options.precision === 'float16' ? 2 : 4;
    const perItem = unetBytesPerImage(
      loaded.built?.config.unet ?? null,
      settings.width,
      settings.height,
      precision,
      loaded.built ? 'fused' : 'plain',
    );
    let group = Math.min(
      typeof fixed === 'number' && fixed > 0 ? fixed : total,
      imagesPerCall(loaded.memoryBudget, perItem, total),
      loaded.callLimit,
    );
    const per = sample.length / total;
    const perEhs = ehs.length / total;
    const timestepSpec = unet.input('timestep');
    const out = new Float32Array(sample.length);
    for (let start = 0; start < total;) {
      const n = Math.min(group, total - start);
      const tDims = timestepSpec && timestepSpec.shape.length === 0 ? [] : timestepSpec && timestepSpec.shape[0] === 1 ? [1] : [n];
      try {
        const result = await unet.run({
          sample: { data: sample.subarray(start * per, (start + n) * per), dims: [n, ...dims.slice(1)] },
          timestep: { data: new Array<number>(tDims.length === 0 ? 1 : tDims[0]!).fill(t), dims: tDims },
          encoder_hidden_states: { data: ehs.subarray(start * perEhs, (start + n) * perEhs), dims: [n, ...ehsDims.slice(1)] },
          ...(added
            ? {
                text_embeds: { data: added.textEmbeds.subarray(start * added.width, (start + n) * added.width), dims: [n, added.width] },
                time_ids: { data: Array.from({ length: n }, () => added.timeIds).flat(), dims: [n, 6] },
              }
            : {}),
          ...loaded.loraFeeds.unet,
        });
        out.set((result.out_sample ?? Object.values(result)[0]!).data, start * per);
        start += n;
      } catch (error) {
        if (!(error instanceof ModelPartError && error.kind === 'out_of_memory')) throw error;
        if (n > 1 && !(typeof fixed === 'number' && fixed > 0)) {
          group = Math.max(1, Math.floor(n / 2));
          loaded.callLimit = group;
          this.log(`Out of memory with ${n} UNet passes in one call at ${settings.width}×${settings.height}; now ${group} at a time.`);
          continue;
        }
        const smaller = Math.max(1, Math.floor(imagesPerBatch / 2));
        throw new GenerationError(
          `Out of memory generating ${imagesPerBatch} image${imagesPerBatch === 1 ? '' : 's'} at ${settings.width}×${settings.height}: try a batch of ${smaller}` +
            (imagesPerBatch === 1 ? ' or a smaller size' : '') +
            '.',
          'out_of_memory',
        );
      }
    }
    return out;
  }

  /** img2img: the init image resized to cover the size, through the VAE encoder, scaled into latent space. */
  private async encodeImage(
    sessions: Sessions,
    image: string | Buffer,
    width: number,
    height: number,
    scale: number,
  ): Promise<Float32Array> {
    if (!sessions.vaeEncoder) throw new GenerationError('This model has no vae_encoder/model.onnx, which img2img needs', 'model');
    let raw: Buffer;
    try {
      raw = await sharp(image).removeAlpha().resize(width, height, { fit: 'cover' }).raw().toBuffer();
    } catch (error) {
      throw new GenerationError(`The init image cannot be read: ${(error as Error).message}`, 'invalid_settings');
    }
    const plane = width * height;
    const chw = new Float32Array(3 * plane);
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) chw[c * plane + p] = (raw[p * 3 + c]! / 255) * 2 - 1;
    const result = await sessions.vaeEncoder.run({ [sessions.vaeEncoder.inputs[0]!.name]: { data: chw, dims: [1, 3, height, width] } });
    const latent = result.latent_sample ?? Object.values(result)[0]!;
    // Exports that return the distribution's mean and log-variance (8 channels): take the mean.
    const perChannel = (height / 8) * (width / 8);
    return latent.data.subarray(0, 4 * perChannel).map((v) => v * scale);
  }
}

/** The longest prompt (and negative prompt) accepted, as the queue's contract accepts. */
export const MAX_PROMPT = 4000;

/** Throws a GenerationError naming the first bad setting. */
export function checkSettings(s: GenerateSettings): void {
  const fail = (message: string): never => {
    throw new GenerationError(message, 'invalid_settings');
  };
  // The queue's limit, everywhere: a 30 KB prompt is thousands of 75-token chunks (and once overflowed onnxruntime's stack).
  if (s.prompt.length > MAX_PROMPT) fail(`the prompt is ${s.prompt.length} characters; at most ${MAX_PROMPT} are accepted`);
  if (s.negativePrompt.length > MAX_PROMPT)
    fail(`the negative prompt is ${s.negativePrompt.length} characters; at most ${MAX_PROMPT} are accepted`);
  checkDimensionOrFail('width', s.width, fail);
  checkDimensionOrFail('height', s.height, fail);
  if (!Number.isInteger(s.steps) || s.steps < 1 || s.steps > 150) fail(`steps must be a whole number from 1 to 150, not ${s.steps}`);
  if (!Number.isFinite(s.cfg) || s.cfg < 0 || s.cfg > 30) fail(`cfg must be from 0 to 30, not ${s.cfg}`);
  if (!Number.isInteger(s.batchSize) || s.batchSize < 1 || s.batchSize > 16)
    fail(`batch must be a whole number from 1 to 16, not ${s.batchSize}`);
  if (!Number.isInteger(s.seed) || s.seed < 0 || s.seed > 0xffffffff) fail(`seed must be an unsigned 32-bit integer, not ${s.seed}`);
  if (s.init && !(s.init.strength > 0 && s.init.strength <= 1)) fail(`strength must be above 0 and at most 1, not ${s.init.strength}`);
}

/**
 * A UNet that halves the latent n times needs sizes in multiples of 8 · 2ⁿ (64 for SD 1.x/2.x):
 * said before anything runs, with the nearest sizes, instead of an onnxruntime shape error.
 */
function checkSizeFor(built: BuiltModel | null, s: GenerateSettings): void {
  if (!built) return;
  const unit = 8 * 2 ** (built.config.unet.block_out_channels.length - 1);
  for (const [name, value] of [
    ['width', s.width],
    ['height', s.height],
  ] as const) {
    if (value % unit === 0) continue;
    const below = Math.max(unit, Math.floor(value / unit) * unit);
    throw new GenerationError(
      `${name} ${value} does not suit this model: its sizes must be multiples of ${unit} (nearest: ${below} or ${below + unit})`,
      'invalid_settings',
    );
  }
}

function checkDimensionOrFail(name: string, value: number, fail: (message: string) => never): void {
  try {
    checkDimension(name, value);
  } catch (error) {
    fail((error as Error).message);
  }
}

/** The graphs must have the inputs the pipeline feeds; say which one is missing. */
function checkInputs(folder: ModelFolder, unet: OnnxSession, textEncoder: OnnxSession, vaeDecoder: OnnxSession): void {
  for (const name of ['sample', 'timestep', 'encoder_hidden_states']) {
    if (!unet.input(name))
      throw new GenerationError(
        `${folder.parts.unet} has no "${name}" input (inputs: ${unet.inputs.map((i) => i.name).join(', ')})`,
        'model',
      );
  }
  if (textEncoder.inputs.length === 0) throw new GenerationError(`${folder.parts.text_encoder} has no inputs`, 'model');
  if (vaeDecoder.inputs.length === 0) throw new GenerationError(`${folder.parts.vae_decoder} has no inputs`, 'model');
}

/** A built model's LoRA branches by the engine's part names. */
function branchesOf(built: BuiltModel): ModelBranches {
  return { textEncoder: built.branches.text_encoder, textEncoder2: built.branches.text_encoder_2, unet: built.branches.unet };
}

/** SDXL's extra UNet inputs for one UNet batch: pooled text per item and the six size/crop ids. */
interface AddedConditioning {
  textEmbeds: Float32Array;
  width: number;
  timeIds: number[];
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** VAE output [1, 3, H, W] in -1..1 → interleaved RGB bytes. */
function toRgb(chw: Float32Array, width: number, height: number): Buffer {
  const plane = width * height;
  const rgb = Buffer.alloc(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round(Math.min(1, Math.max(0, (chw[c * plane + p]! + 1) / 2)) * 255);
  }
  return rgb;
}

/** Image 0's denoised latents → RGB at latent resolution, by a fixed 4×3 matrix (SDXL's own, with its bias). */
function latentPreview(latents: Float32Array, w: number, h: number, sdxl = false): { width: number; height: number; rgb: Uint8Array } {
  const plane = w * h;
  const rgb = new Uint8Array(plane * 3);
  const matrix = sdxl ? SDXL_PREVIEW.coefficients : PREVIEW_COEFFICIENTS;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      let v = sdxl ? SDXL_PREVIEW.bias[c]! : 0;
      for (let l = 0; l < 4; l++) v += latents[l * plane + p]! * matrix[l]![c]!;
      rgb[p * 3 + c] = Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);
    }
  }
  return { width: w, height: h, rgb };
}
