/**
 * A ComfyUI server for tests: the routes, JSON shapes and WebSocket message order of ComfyUI's
 * server.py / execution.py / main.py, rendering real images with Onbrand's own engine on a tiny model.
 *
 * It validates API graphs as ComfyUI does (unknown class_type, missing inputs, combo values not in
 * the list → 400 with `error` / `node_errors`), queues prompts and runs one at a time, follows
 * SaveImage → VAEDecode → KSampler → (EmptyLatentImage | VAEEncode ← LoadImage), CLIPTextEncode,
 * LoraLoader chains and CheckpointLoaderSimple, and writes `<prefix>_00001_.png` files with a
 * `prompt` text chunk (no A1111 `parameters`). `kill()` drops every socket at once: a server that
 * went away mid-job; a new imitation on the same port knows nothing of the old prompts.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { WebSocketServer, type WebSocket } from 'ws';
import { SAMPLER_NAMES, SCHEDULE_TYPES, type SamplerLabel, type ScheduleType } from '../../common/index.js';
import { addPngText, DiffusionEngine, encodeSafetensors, type GenerateSettings } from '../../diffusion/index.js';
import { comfySampler, engineImg2img } from '../comfy-graph.js';

export interface ComfyImitationOptions {
  /** ckpt_name → an Onbrand model folder (e.g. `{ 'tiny-sd.safetensors': dir }`). */
  checkpoints: Record<string, string>;
  /** lora_name → a LoRA .safetensors file. */
  loras?: Record<string, string>;
  /** 127.0.0.1 port; 0 (default) = any free port. */
  port?: number;
  /** Reported by /system_stats (bytes); default 8 GiB. */
  vramFree?: number;
  /** comfyui_version in /system_stats; default 0.3.66. */
  version?: string;
  /** Each sampling step reports this much later (so a test can kill or interrupt mid-job). */
  stepDelayMs?: number;
  /** Headers every request must carry (a reverse proxy's Authorization): 401 otherwise. */
  headers?: Record<string, string>;
  /** Root of its input/, output/ and temp/ folders (default: a new temporary folder). */
  dir?: string;
}

export interface ReceivedPrompt {
  promptId: string;
  clientId: string | null;
  graph: ApiGraph;
}

export interface ComfyImitation {
  url: string;
  port: number;
  dir: string;
  /** Every graph accepted by POST /prompt, in order. */
  prompts: ReceivedPrompt[];
  stats: { executed: number; interrupted: number; failed: number; interrupts: number; deleted: number; rendered: number };
  /** Stop gracefully. */
  close(): Promise<void>;
  /** Go away at once: every socket destroyed, the running prompt abandoned. */
  kill(): Promise<void>;
  /** Drop every connection (HTTP and WebSocket) but keep running and listening: a proxy's idle limit. */
  dropConnections(): void;
}

type Link = [string, number];
type InputValue = string | number | boolean | Link | null;
export type ApiGraph = Record<string, { class_type: string; inputs: Record<string, InputValue>; _meta?: unknown }>;

// ComfyUI's own lists, copied from Comfy-Org/ComfyUI comfy/samplers.py (commit e0d4ea77):
// `SAMPLER_NAMES = KSAMPLER_NAMES + ["ddim", "uni_pc", "uni_pc_bh2"]`, `SCHEDULER_NAMES = list(SCHEDULER_HANDLERS)`,
// which KSampler offers as `SAMPLERS` / `SCHEDULERS` (and refuses anything else in a prompt).
const KSAMPLER_NAMES = [
  'euler',
  'euler_cfg_pp',
  'euler_ancestral',
  'euler_ancestral_cfg_pp',
  'heun',
  'heunpp2',
  'exp_heun_2_x0',
  'exp_heun_2_x0_sde',
  'dpm_2',
  'dpm_2_ancestral',
  'lms',
  'dpm_fast',
  'dpm_adaptive',
  'dpmpp_2s_ancestral',
  'dpmpp_2s_ancestral_cfg_pp',
  'dpmpp_sde',
  'dpmpp_sde_gpu',
  'dpmpp_2m',
  'dpmpp_2m_cfg_pp',
  'dpmpp_2m_sde',
  'dpmpp_2m_sde_gpu',
  'dpmpp_2m_sde_heun',
  'dpmpp_2m_sde_heun_gpu',
  'dpmpp_3m_sde',
  'dpmpp_3m_sde_gpu',
  'ddpm',
  'lcm',
  'ipndm',
  'ipndm_v',
  'deis',
  'cfgpp_ud10_ab',
  'res_multistep',
  'res_multistep_cfg_pp',
  'res_multistep_ancestral',
  'res_multistep_ancestral_cfg_pp',
  'gradient_estimation',
  'gradient_estimation_cfg_pp',
  'er_sde',
  'seeds_2',
  'seeds_3',
  'sa_solver',
  'sa_solver_pece',
];
export const COMFY_SAMPLERS = [...KSAMPLER_NAMES, 'ddim', 'uni_pc', 'uni_pc_bh2'];
export const COMFY_SCHEDULERS = [
  'simple',
  'sgm_uniform',
  'karras',
  'exponential',
  'ddim_uniform',
  'beta',
  'normal',
  'linear_quadratic',
  'kl_optimal',
];

/**
 * sampler_name + scheduler → Onbrand's sampler label and schedule type, as the inverse of the
 * translation the queue sends (`comfySampler`); null when Onbrand has no such pair.
 */
export function onbrandSampler(samplerName: string, scheduler: string): { sampler: SamplerLabel; scheduleType?: ScheduleType } | null {
  // A sampler's own schedule first: dpmpp_2m + karras is "DPM++ 2M Karras", not "DPM++ 2M" on Karras (the same sigmas).
  for (const scheduleType of [undefined, ...SCHEDULE_TYPES.filter((t) => t !== 'Automatic')])
    for (const sampler of SAMPLER_NAMES) {
      let pair;
      try {
        pair = comfySampler(sampler, scheduleType);
      } catch {
        continue;
      }
      if (pair.sampler_name === samplerName && pair.scheduler === scheduler) return scheduleType ? { sampler, scheduleType } : { sampler };
    }
  return null;
}

// ── node definitions (what validation and /object_info need) ─────────────────────────────────────

type InputSpec = [string | string[], Record<string, unknown>?];
interface NodeDef {
  required: Record<string, InputSpec>;
  output: string[];
  outputNode?: boolean;
  category: string;
  /** ComfyUI's VALIDATE_INPUTS: replaces the list check of the inputs it names; true or the reason. */
  validate?: { inputs: string[]; check(values: Record<string, InputValue>): true | string };
}

/** ComfyUI's seed maximum, 0xffffffffffffffff (as a float, the way JSON carries it). */
const INT_MAX = 2 ** 64 - 1;

function nodeDefs(ckpts: string[], loras: string[], inputs: string[], inputExists: (image: string) => boolean): Record<string, NodeDef> {
  return {
    CheckpointLoaderSimple: { required: { ckpt_name: [ckpts, {}] }, output: ['MODEL', 'CLIP', 'VAE'], category: 'loaders' },
    LoraLoader: {
      required: {
        model: ['MODEL'],
        clip: ['CLIP'],
        lora_name: [loras, {}],
        strength_model: ['FLOAT', { default: 1, min: -100, max: 100, step: 0.01 }],
        strength_clip: ['FLOAT', { default: 1, min: -100, max: 100, step: 0.01 }],
      },
      output: ['MODEL', 'CLIP'],
      category: 'loaders',
    },
    CLIPTextEncode: {
      required: { text: ['STRING', { multiline: true }], clip: ['CLIP'] },
      output: ['CONDITIONING'],
      category: 'conditioning',
    },
    EmptyLatentImage: {
      required: {
        width: ['INT', { default: 512, min: 16, max: 16384, step: 8 }],
        height: ['INT', { default: 512, min: 16, max: 16384, step: 8 }],
        batch_size: ['INT', { default: 1, min: 1, max: 4096 }],
      },
      output: ['LATENT'],
      category: 'latent',
    },
    LoadImage: {
      required: { image: [inputs, { image_upload: true }] },
      output: ['IMAGE', 'MASK'],
      category: 'image',
      // nodes.py: any file under input/ (subfolders too), not only the listed top-level ones.
      validate: { inputs: ['image'], check: (v) => inputExists(String(v.image)) || `Invalid image file: ${String(v.image)}` },
    },
    VAEEncode: { required: { pixels: ['IMAGE'], vae: ['VAE'] }, output: ['LATENT'], category: 'latent' },
    KSampler: {
      required: {
        model: ['MODEL'],
        seed: ['INT', { default: 0, min: 0, max: INT_MAX, control_after_generate: true }],
        steps: ['INT', { default: 20, min: 1, max: 10000 }],
        cfg: ['FLOAT', { default: 8, min: 0, max: 100, step: 0.1, round: 0.01 }],
        sampler_name: [COMFY_SAMPLERS, {}],
        scheduler: [COMFY_SCHEDULERS, {}],
        positive: ['CONDITIONING'],
        negative: ['CONDITIONING'],
        latent_image: ['LATENT'],
        denoise: ['FLOAT', { default: 1, min: 0, max: 1, step: 0.01 }],
      },
      output: ['LATENT'],
      category: 'sampling',
    },
    VAEDecode: { required: { samples: ['LATENT'], vae: ['VAE'] }, output: ['IMAGE'], category: 'latent' },
    SaveImage: {
      required: { images: ['IMAGE'], filename_prefix: ['STRING', { default: 'ComfyUI' }] },
      output: [],
      outputNode: true,
      category: 'image',
    },
  };
}

function objectInfo(name: string, def: NodeDef): unknown {
  return {
    input: { required: def.required, optional: {} },
    input_order: { required: Object.keys(def.required) },
    output: def.output,
    output_is_list: def.output.map(() => false),
    output_name: def.output,
    name,
    display_name: name,
    description: '',
    python_module: 'nodes',
    category: def.category,
    output_node: def.outputNode === true,
  };
}

const isLink = (v: unknown): v is Link => Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'number';

interface ValidationError {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

type Validation = { ok: true } | { ok: false; error: ValidationError; node_errors: Record<string, unknown> };

/** ComfyUI's validate_prompt: every node reachable from an output node, recursively. */
function validatePrompt(graph: ApiGraph, defs: Record<string, NodeDef>): Validation {
  for (const [id, node] of Object.entries(graph)) {
    if (!node || typeof node !== 'object' || typeof node.class_type !== 'string') {
      const error = {
        type: 'invalid_prompt',
        message: 'Cannot execute because a node is missing the class_type property.',
        details: `Node ID '#${id}'`,
        extra_info: {},
      };
      return { ok: false, error, node_errors: {} };
    }
    if (!defs[node.class_type]) {
      const error = {
        type: 'invalid_prompt',
        message: `Cannot execute because node ${node.class_type} does not exist.`,
        details: `Node ID '#${id}'`,
        extra_info: {},
      };
      return { ok: false, error, node_errors: {} };
    }
  }
  const outputs = Object.keys(graph).filter((id) => defs[graph[id]!.class_type]!.outputNode);
  if (outputs.length === 0) {
    return {
      ok: false,
      error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} },
      node_errors: {},
    };
  }
  const validated = new Map<string, ValidationError[] | true>();
  const visit = (id: string): boolean => {
    const seen = validated.get(id);
    if (seen !== undefined) return seen === true;
    validated.set(id, true); // cycles are ComfyUI's execution error, not validation's
    const node = graph[id]!;
    const def = defs[node.class_type]!;
    const errors: ValidationError[] = [];
    let upstreamOk = true;
    for (const [name, [type, config = {}]] of Object.entries(def.required)) {
      const raw = node.inputs?.[name];
      if (raw === undefined) {
        errors.push({
          type: 'required_input_missing',
          message: 'Required input is missing',
          details: name,
          extra_info: { input_name: name },
        });
        continue;
      }
      if (isLink(raw)) {
        const target = graph[raw[0]];
        if (!target) {
          errors.push({
            type: 'exception_during_inner_validation',
            message: 'Exception when validating inner node',
            details: `'${raw[0]}'`,
            extra_info: { input_name: name, linked_node: raw },
          });
          continue;
        }
        const received = defs[target.class_type]!.output[raw[1]];
        if (received !== type) {
          errors.push({
            type: 'return_type_mismatch',
            message: 'Return type mismatch between linked nodes',
            details: `${name}, received_type(${received ?? 'nothing'}) mismatch input_type(${String(type)})`,
            extra_info: { input_name: name, received_type: received, linked_node: raw },
          });
          continue;
        }
        if (!visit(raw[0])) upstreamOk = false;
        continue;
      }
      if (def.validate?.inputs.includes(name)) {
        const verdict = def.validate.check(node.inputs);
        if (verdict !== true) {
          errors.push({
            type: 'custom_validation_failed',
            message: 'Custom validation failed for node',
            details: `${name} - ${verdict}`,
            extra_info: { input_name: name, input_config: [type, config], received_value: raw },
          });
        }
        continue;
      }
      if (Array.isArray(type)) {
        if (!type.includes(String(raw))) {
          const list = type.length > 20 ? `(list of length ${type.length})` : `[${type.map((t) => `'${t}'`).join(', ')}]`;
          errors.push({
            type: 'value_not_in_list',
            message: 'Value not in list',
            details: `${name}: '${String(raw)}' not in ${list}`,
            extra_info: { input_name: name, input_config: type.length > 20 ? null : [type, config], received_value: raw },
          });
        }
        continue;
      }
      if (type === 'INT' || type === 'FLOAT') {
        const value = Number(raw);
        if (typeof raw === 'boolean' || raw === null || !Number.isFinite(value) || (type === 'INT' && !Number.isInteger(value))) {
          errors.push({
            type: 'invalid_input_type',
            message: `Failed to convert an input value to a ${type} value`,
            details: `${name}, ${String(raw)}, invalid literal`,
            extra_info: { input_name: name, received_value: raw },
          });
          continue;
        }
        const min = config.min as number | undefined;
        const max = config.max as number | undefined;
        if (min !== undefined && value < min) {
          errors.push({
            type: 'value_smaller_than_min',
            message: `Value ${value} smaller than min of ${min}`,
            details: name,
            extra_info: { input_name: name, received_value: raw },
          });
        } else if (max !== undefined && value > max) {
          errors.push({
            type: 'value_bigger_than_max',
            message: `Value ${value} bigger than max of ${max}`,
            details: name,
            extra_info: { input_name: name, received_value: raw },
          });
        }
      }
    }
    const result = errors.length === 0 ? true : errors;
    validated.set(id, result);
    return result === true && upstreamOk;
  };
  const failures: [string, ValidationError[]][] = [];
  const nodeErrors: Record<string, { errors: ValidationError[]; dependent_outputs: string[]; class_type: string }> = {};
  let good = 0;
  for (const out of outputs) {
    if (visit(out)) {
      good++;
      continue;
    }
    for (const [id, result] of validated) {
      if (result === true) continue;
      failures.push([id, result]);
      nodeErrors[id] ??= { errors: result, dependent_outputs: [], class_type: graph[id]!.class_type };
      nodeErrors[id].dependent_outputs.push(out);
    }
  }
  if (good === outputs.length) return { ok: true };
  const details = failures.flatMap(([, errors]) => errors.map((e) => `${e.message}: ${e.details}`)).join('\n');
  return {
    ok: false,
    error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details, extra_info: {} },
    node_errors: nodeErrors,
  };
}

// ── execution ────────────────────────────────────────────────────────────────────────────────────

/** An error a node raises while executing (ComfyUI's execution_error). */
/** A node that failed as ComfyUI reports it (execution_error), not an error of Onbrand's own. */
class NodeError extends Error {
  constructor(
    readonly nodeId: string,
    message: string,
    readonly exceptionType = 'RuntimeError',
  ) {
    super(message);
  }
}
class Interrupted extends Error {
  constructor(readonly nodeId: string) {
    super('interrupted');
  }
}

interface QueueItem {
  number: number;
  promptId: string;
  graph: ApiGraph;
  clientId: string | null;
  outputs: string[];
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export async function startComfyImitation(options: ComfyImitationOptions): Promise<ComfyImitation> {
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-comfy-'));
  const inputDir = path.join(dir, 'input');
  const outputDir = path.join(dir, 'output');
  const loraDir = path.join(dir, 'loras');
  for (const d of [inputDir, outputDir, loraDir]) fs.mkdirSync(d, { recursive: true });
  const loraStems = new Map<string, string>();
  for (const [name, file] of Object.entries(options.loras ?? {})) {
    const stem = path.basename(name).replace(/\.safetensors$/i, '');
    fs.copyFileSync(file, path.join(loraDir, `${stem}.safetensors`));
    loraStems.set(name, stem);
  }
  const engine = new DiffusionEngine({ loraDir, graphCacheDir: path.join(dir, 'graphs') });
  const life = new AbortController();
  const stepDelayMs = options.stepDelayMs ?? 0;

  /** LoadImage's list: the files at the top of input/ (nodes.py lists no subfolders). */
  const inputFiles = (): string[] =>
    fs
      .readdirSync(inputDir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
  /** folder_paths.get_annotated_filepath: `name`, `sub/name` or `name [input]` under input/. */
  const inputPath = (image: string): string | null => {
    const name = image.replace(/ \[input\]$/, '');
    const file = path.resolve(inputDir, name);
    return !image.startsWith('/') && !name.includes('..') && file.startsWith(inputDir + path.sep) ? file : null;
  };
  const inputExists = (image: string): boolean => {
    const file = inputPath(image);
    return file !== null && fs.existsSync(file) && fs.statSync(file).isFile();
  };
  const defs = (): Record<string, NodeDef> =>
    nodeDefs(Object.keys(options.checkpoints), Object.keys(options.loras ?? {}), inputFiles(), inputExists);

  const prompts: ReceivedPrompt[] = [];
  const stats = { executed: 0, interrupted: 0, failed: 0, interrupts: 0, deleted: 0, rendered: 0 };
  const pending: QueueItem[] = [];
  let running: QueueItem | null = null;
  let interruptFlag = false;
  let counter = 0;
  const history = new Map<string, unknown>();
  let lastSignatures = new Set<string>();
  /** The last prompt's sampled and decoded images by node signature (ComfyUI's cache of outputs). */
  let lastRendered = new Map<string, Rendered>();

  // ── sockets ──
  const clients = new Map<string, Set<WebSocket>>();
  const send = (clientId: string | null, type: string, data: unknown): void => {
    const text = JSON.stringify({ type, data });
    const targets = clientId === null ? [...clients.values()].flatMap((s) => [...s]) : [...(clients.get(clientId) ?? [])];
    for (const ws of targets) if (ws.readyState === ws.OPEN) ws.send(text);
  };
  const sendBinary = (clientId: string | null, bytes: Buffer): void => {
    if (clientId === null) return;
    for (const ws of clients.get(clientId) ?? []) if (ws.readyState === ws.OPEN) ws.send(bytes);
  };
  const queueStatus = (): unknown => ({ status: { exec_info: { queue_remaining: pending.length + (running ? 1 : 0) } } });
  const queueUpdated = (): void => send(null, 'status', queueStatus());

  const app: FastifyInstance = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 64 * 1024 * 1024 });
  const sockets = new Set<Socket>();
  let dead = false;
  app.server.on('connection', (socket: Socket) => {
    if (dead) return void socket.destroy(); // going away: no new connections while it closes
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const headersOk = (headers: IncomingMessage['headers']): boolean =>
    Object.entries(options.headers ?? {}).every(([name, value]) => headers[name.toLowerCase()] === value);
  app.addHook('onRequest', async (req, reply) => {
    if (!headersOk(req.headers)) await reply.code(401).type('text/plain').send('401 Unauthorized');
  });
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const wss = new WebSocketServer({ noServer: true });
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    if (!headersOk(req.headers)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const sid = url.searchParams.get('clientId') || crypto.randomUUID().replace(/-/g, '');
      const set = clients.get(sid) ?? new Set<WebSocket>();
      set.add(ws);
      clients.set(sid, set);
      ws.on('close', () => {
        set.delete(ws);
        if (set.size === 0) clients.delete(sid);
      });
      ws.send(JSON.stringify({ type: 'status', data: { ...(queueStatus() as object), sid } }));
    });
  });

  // ── routes ──
  app.get('/system_stats', async () => ({
    system: {
      os: process.platform,
      ram_total: os.totalmem(),
      ram_free: os.freemem(),
      comfyui_version: options.version ?? '0.3.66',
      required_frontend_version: '1.28.7',
      python_version: '3.12.3 (main) [GCC 13.2.0]',
      pytorch_version: '2.8.0+cu128',
      embedded_python: false,
      argv: ['main.py', '--listen'],
    },
    devices: [
      {
        name: 'cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync',
        type: 'cuda',
        index: 0,
        vram_total: 25_757_220_864,
        vram_free: options.vramFree ?? 8 * 1024 ** 3,
        torch_vram_total: 0,
        torch_vram_free: 0,
      },
    ],
  }));
  app.get('/object_info', async () => Object.fromEntries(Object.entries(defs()).map(([name, def]) => [name, objectInfo(name, def)])));
  app.get<{ Params: { node: string } }>('/object_info/:node', async (req) => {
    const def = defs()[req.params.node];
    return def ? { [req.params.node]: objectInfo(req.params.node, def) } : {};
  });
  app.get('/queue', async () => ({
    queue_running: running ? [queueTuple(running)] : [],
    queue_pending: pending.map(queueTuple),
  }));
  app.post<{ Body: { delete?: string[]; clear?: boolean } | undefined }>('/queue', async (req, reply) => {
    const body = req.body ?? {};
    if (body.clear) pending.length = 0;
    for (const id of body.delete ?? []) {
      const at = pending.findIndex((p) => p.promptId === id);
      if (at >= 0) {
        pending.splice(at, 1);
        stats.deleted++;
      }
    }
    queueUpdated();
    return reply.code(200).send();
  });
  app.post<{ Body: { prompt_id?: string } | undefined }>('/interrupt', async (req, reply) => {
    const id = req.body?.prompt_id;
    // Newer servers interrupt only the named prompt, and only while it runs.
    if (running && (id === undefined || id === running.promptId)) {
      interruptFlag = true;
      stats.interrupts++;
    }
    return reply.code(200).send();
  });
  app.get<{ Params: { id: string } }>('/history/:id', async (req) => {
    const entry = history.get(req.params.id);
    return entry ? { [req.params.id]: entry } : {};
  });
  app.get('/history', async () => Object.fromEntries(history));
  app.get<{ Querystring: { filename?: string; subfolder?: string; type?: string } }>('/view', async (req, reply) => {
    const { filename = '', subfolder = '', type = 'output' } = req.query;
    const base = type === 'input' ? inputDir : type === 'output' ? outputDir : type === 'temp' ? path.join(dir, 'temp') : null;
    if (!base || !filename || filename.startsWith('/') || filename.includes('..')) return reply.code(400).send();
    const file = path.resolve(base, subfolder, filename);
    if (!file.startsWith(base + path.sep) || !fs.existsSync(file)) return reply.code(404).send();
    return reply.type(file.endsWith('.png') ? 'image/png' : 'application/octet-stream').send(fs.readFileSync(file));
  });
  app.post('/upload/image', async (req, reply) => {
    const type = String(req.headers['content-type'] ?? '');
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
    if (!boundary || !Buffer.isBuffer(req.body)) return reply.code(400).send();
    const parts = parseMultipart(req.body, boundary[1] ?? boundary[2]!);
    const image = parts.find((p) => p.name === 'image' && p.filename !== undefined);
    if (!image) return reply.code(400).send();
    const field = (name: string): string => parts.find((p) => p.name === name)?.data.toString('utf8') ?? '';
    const subfolder = field('subfolder');
    const overwrite = field('overwrite') === 'true' || field('overwrite') === '1';
    const folder = path.resolve(inputDir, subfolder);
    if ((folder !== inputDir && !folder.startsWith(inputDir + path.sep)) || path.basename(image.filename!).includes('..'))
      return reply.code(400).send();
    fs.mkdirSync(folder, { recursive: true });
    let name = path.basename(image.filename!);
    if (!overwrite) {
      const ext = path.extname(name);
      const stem = name.slice(0, name.length - ext.length);
      for (let i = 1; fs.existsSync(path.join(folder, name)); i++) name = `${stem} (${i})${ext}`;
    }
    fs.writeFileSync(path.join(folder, name), image.data);
    return { name, subfolder, type: 'input' };
  });
  app.post<{ Body: { prompt?: ApiGraph; client_id?: string; prompt_id?: string; number?: number; front?: boolean } }>(
    '/prompt',
    async (req, reply) => {
      const body = req.body ?? {};
      if (!body.prompt || typeof body.prompt !== 'object') {
        return reply.code(400).send({
          error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} },
          node_errors: {},
        });
      }
      const checked = validatePrompt(body.prompt, defs());
      if (!checked.ok) return reply.code(400).send({ error: checked.error, node_errors: checked.node_errors });
      const promptId = typeof body.prompt_id === 'string' && body.prompt_id ? body.prompt_id : crypto.randomUUID();
      const number = typeof body.number === 'number' ? body.number : counter;
      counter++;
      const defsNow = defs();
      const item: QueueItem = {
        number,
        promptId,
        graph: body.prompt,
        clientId: body.client_id ?? null,
        outputs: Object.keys(body.prompt).filter((id) => defsNow[body.prompt![id]!.class_type]!.outputNode),
      };
      prompts.push({ promptId, clientId: item.clientId, graph: body.prompt });
      pending.push(item);
      pending.sort((a, b) => a.number - b.number);
      queueUpdated();
      wake();
      return { prompt_id: promptId, number, node_errors: {} };
    },
  );

  function queueTuple(item: QueueItem): unknown[] {
    return [item.number, item.promptId, item.graph, { client_id: item.clientId }, item.outputs, {}];
  }

  // ── the prompt worker: one at a time ──
  let working = false;
  function wake(): void {
    if (working || life.signal.aborted) return;
    working = true;
    void (async () => {
      try {
        while (!life.signal.aborted && pending.length > 0) {
          const item = pending.shift()!;
          running = item;
          interruptFlag = false;
          queueUpdated();
          await execute(item);
          running = null;
          if (life.signal.aborted) return;
          queueUpdated();
        }
      } finally {
        working = false;
      }
    })();
  }

  async function execute(item: QueueItem): Promise<void> {
    const { promptId, clientId, graph } = item;
    const messages: [string, unknown][] = [];
    const message = (type: string, data: Record<string, unknown>, toHistory = true): void => {
      if (life.signal.aborted) return;
      const full = { ...data, prompt_id: promptId };
      if (toHistory) messages.push([type, { ...full, timestamp: Date.now() }]);
      send(clientId, type, toHistory ? { ...full, timestamp: Date.now() } : full);
    };
    const outputs: Record<string, unknown> = {};
    const executed: string[] = [];
    message('execution_start', {});
    // Nodes whose inputs (all the way up) match the last prompt's are cached, as ComfyUI's cache keeps them.
    const signatures = new Map<string, string>();
    const signature = (id: string): string => {
      const known = signatures.get(id);
      if (known) return known;
      const node = graph[id]!;
      const inputs = Object.fromEntries(Object.entries(node.inputs).map(([k, v]) => [k, isLink(v) ? [signature(v[0]), v[1]] : v]));
      const sig = JSON.stringify([node.class_type, inputs]);
      signatures.set(id, sig);
      return sig;
    };
    const order: string[] = [];
    const visit = (id: string, stack: Set<string>): void => {
      if (order.includes(id)) return;
      if (stack.has(id)) throw new NodeError(id, `Cycle in the graph at node ${id}`, 'comfy_execution.graph.DependencyCycleError');
      stack.add(id);
      for (const v of Object.values(graph[id]!.inputs)) if (isLink(v)) visit(v[0], stack);
      stack.delete(id);
      order.push(id);
    };
    let status: 'success' | 'error' = 'success';
    try {
      for (const out of item.outputs) visit(out, new Set());
      const cached = order.filter(
        (id) => !item.outputs.includes(id) && graph[id]!.class_type !== 'LoadImage' && lastSignatures.has(signature(id)),
      );
      message('execution_cached', { nodes: cached });
      const state = new Map<string, Rendered>();
      for (const id of order) {
        if (cached.includes(id)) {
          const rendered = lastRendered.get(signature(id));
          if (rendered) state.set(id, rendered);
          continue;
        }
        if (interruptFlag) throw new Interrupted(id);
        message('executing', { node: id, display_node: id }, false);
        const node = graph[id]!;
        if (node.class_type === 'KSampler') {
          state.set(id, await sample(id, graph, clientId, message, () => interruptFlag));
        } else if (node.class_type === 'VAEDecode') {
          const from = node.inputs.samples as Link;
          const rendered =
            state.get(from[0]) ??
            lastRendered.get(signature(from[0])) ??
            (await sample(from[0], graph, clientId, message, () => interruptFlag));
          state.set(id, rendered);
        } else if (node.class_type === 'SaveImage') {
          const from = node.inputs.images as Link;
          const rendered = state.get(from[0]) ?? lastRendered.get(signature(from[0]));
          if (!rendered) throw new NodeError(id, 'The imitation saves only images decoded from a KSampler', 'TypeError');
          const images = await save(rendered, String(node.inputs.filename_prefix ?? 'ComfyUI'), graph);
          outputs[id] = { images };
          message('executed', { node: id, display_node: id, output: { images } }, false);
        }
        executed.push(id);
      }
      lastSignatures = new Set(order.map(signature));
      lastRendered = new Map([...state].map(([id, rendered]) => [signature(id), rendered]));
      stats.executed++;
      message('execution_success', {});
    } catch (error) {
      if (life.signal.aborted) return;
      status = 'error';
      if (error instanceof Interrupted) {
        stats.interrupted++;
        message('execution_interrupted', { node_id: error.nodeId, node_type: graph[error.nodeId]?.class_type, executed });
      } else {
        stats.failed++;
        const nodeId = error instanceof NodeError ? error.nodeId : (order.find((id) => !executed.includes(id)) ?? '');
        message('execution_error', {
          node_id: nodeId,
          node_type: graph[nodeId]?.class_type ?? '',
          executed,
          exception_message: error instanceof Error ? error.message : String(error),
          exception_type: error instanceof NodeError ? error.exceptionType : 'Exception',
          traceback: [error instanceof Error ? (error.stack ?? error.message) : String(error)],
          current_inputs: {},
          current_outputs: {},
        });
      }
    }
    if (life.signal.aborted) return;
    history.set(promptId, {
      prompt: queueTuple(item),
      outputs,
      status: { status_str: status, completed: status === 'success', messages },
      meta: Object.fromEntries(Object.keys(outputs).map((id) => [id, { node_id: id, display_node: id }])),
    });
    send(clientId, 'executing', { node: null, prompt_id: promptId });
  }

  interface Rendered {
    images: { rgb: Buffer; width: number; height: number }[];
  }

  /** The KSampler node and everything upstream of it, rendered by Onbrand's engine. */
  async function sample(
    id: string,
    graph: ApiGraph,
    clientId: string | null,
    message: (type: string, data: Record<string, unknown>, toHistory?: boolean) => void,
    interrupted: () => boolean,
  ): Promise<Rendered> {
    const k = graph[id]!;
    if (k.class_type !== 'KSampler')
      throw new NodeError(id, `The imitation decodes only KSampler latents, not ${k.class_type}`, 'TypeError');
    const input = (node: string, name: string): unknown => graph[node]!.inputs[name];
    const link = (node: string, name: string): string => (input(node, name) as Link)[0];
    // model: LoraLoader chain → checkpoint
    const loras: string[] = [];
    let model = link(id, 'model');
    while (graph[model]!.class_type === 'LoraLoader') {
      const name = String(input(model, 'lora_name'));
      const weight = Number(input(model, 'strength_model'));
      loras.unshift(`<lora:${loraStems.get(name)}:${weight}>`);
      model = link(model, 'model');
    }
    if (graph[model]!.class_type !== 'CheckpointLoaderSimple')
      throw new NodeError(id, `The imitation's model comes from CheckpointLoaderSimple, not ${graph[model]!.class_type}`);
    const modelDir = options.checkpoints[String(input(model, 'ckpt_name'))]!;
    const text = (name: string): string => {
      const node = link(id, name);
      if (graph[node]!.class_type !== 'CLIPTextEncode') throw new NodeError(id, `${name} must come from CLIPTextEncode`);
      return String(input(node, 'text'));
    };
    const mapped = onbrandSampler(String(input(id, 'sampler_name')), String(input(id, 'scheduler')));
    if (!mapped) {
      throw new NodeError(
        id,
        `This server cannot sample with ${String(input(id, 'sampler_name'))} + ${String(input(id, 'scheduler'))}`,
        'NotImplementedError',
      );
    }
    const denoise = Number(input(id, 'denoise') ?? 1);
    const latent = link(id, 'latent_image');
    const seed = Number(BigInt(Math.trunc(Number(input(id, 'seed')))) & 0xffffffffn);
    const base: Omit<GenerateSettings, 'width' | 'height' | 'batchSize' | 'seed'> = {
      prompt: [text('positive'), ...loras].filter(Boolean).join(' '),
      negativePrompt: text('negative'),
      steps: Number(input(id, 'steps')),
      cfg: Number(input(id, 'cfg')),
      ...mapped,
    };
    let width: number;
    let height: number;
    let batch = 1;
    let init: GenerateSettings['init'];
    const latentNode = graph[latent]!;
    if (latentNode.class_type === 'EmptyLatentImage') {
      width = Number(input(latent, 'width'));
      height = Number(input(latent, 'height'));
      batch = Number(input(latent, 'batch_size'));
      if (denoise !== 1) throw new NodeError(id, 'The imitation denoises an empty latent only fully (denoise 1)', 'NotImplementedError');
    } else if (latentNode.class_type === 'VAEEncode') {
      const pixels = link(latent, 'pixels');
      if (graph[pixels]!.class_type !== 'LoadImage') throw new NodeError(latent, 'The imitation encodes only LoadImage pixels');
      const file = inputPath(String(input(pixels, 'image')))!;
      const meta = await sharp(file).metadata();
      width = Math.floor((meta.width ?? 0) / 8) * 8;
      height = Math.floor((meta.height ?? 0) / 8) * 8;
      // ComfyUI's KSampler walks the last `steps` steps of a ⌊steps / denoise⌋-step schedule: the
      // engine's img2img over that schedule at the strength that starts there.
      const walked = engineImg2img(base.steps, denoise);
      base.steps = walked.steps;
      init = { image: file, strength: walked.strength };
    } else {
      throw new NodeError(id, `The imitation samples EmptyLatentImage or VAEEncode latents, not ${latentNode.class_type}`);
    }
    await engine.load(modelDir, 'cpu');
    const images: Rendered['images'] = [];
    const steps = base.steps;
    for (let i = 0; i < batch; i++) {
      // ComfyUI draws one noise tensor for the whole batch: image 0 is the seed's own image, the
      // others are not "seed + i" (a stand-in mix of the seed and the index).
      const imageSeed = i === 0 ? seed : (Math.imul(seed ^ 0x9e3779b9, i + 1) ^ (i * 0x85ebca6b)) >>> 0;
      const previews: { rgb: Uint8Array; width: number; height: number }[] = [];
      let total = steps;
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      life.signal.addEventListener('abort', stop, { once: true });
      let result;
      try {
        result = await engine.generate(
          { ...base, seed: imageSeed, width, height, batchSize: 1, ...(init ? { init } : {}) },
          {
            signal: controller.signal,
            previewEvery: Math.max(1, Math.ceil(steps / 3)),
            onProgress: (p) => {
              total = p.steps;
              if (p.preview) previews[p.step] = p.preview;
              if (interrupted()) controller.abort();
            },
          },
        );
      } catch (error) {
        if (life.signal.aborted) throw error;
        if (interrupted()) throw new Interrupted(id);
        throw new NodeError(id, error instanceof Error ? error.message : String(error));
      } finally {
        life.signal.removeEventListener('abort', stop);
      }
      // The engine runs a tiny model in milliseconds; the steps are reported at the pace asked for.
      for (let step = 1; step <= total; step++) {
        if (stepDelayMs > 0) await sleep(stepDelayMs, life.signal);
        if (life.signal.aborted) throw new Error('killed');
        if (interrupted()) throw new Interrupted(id);
        message('progress', { value: step, max: total, node: id }, false);
        const preview = previews[step];
        if (preview) {
          const jpeg = await sharp(Buffer.from(preview.rgb), { raw: { width: preview.width, height: preview.height, channels: 3 } })
            .jpeg()
            .toBuffer();
          const head = Buffer.alloc(8);
          head.writeUInt32BE(1, 0); // PREVIEW_IMAGE
          head.writeUInt32BE(1, 4); // JPEG
          sendBinary(clientId, Buffer.concat([head, jpeg]));
        }
      }
      const image = result[0]!;
      images.push({ rgb: image.rgb, width: image.width, height: image.height });
      stats.rendered++;
    }
    return { images };
  }

  /** SaveImage: `<prefix>_00001_.png` after the highest counter in the folder, with the graph in a `prompt` chunk. */
  async function save(
    rendered: Rendered,
    prefix: string,
    graph: ApiGraph,
  ): Promise<{ filename: string; subfolder: string; type: 'output' }[]> {
    const slash = prefix.lastIndexOf('/');
    const subfolder = slash >= 0 ? prefix.slice(0, slash) : '';
    const stem = slash >= 0 ? prefix.slice(slash + 1) : prefix;
    const folder = path.resolve(outputDir, subfolder);
    if (folder !== outputDir && !folder.startsWith(outputDir + path.sep))
      throw new NodeError('', '**** ERROR: Saving image outside the output folder is not allowed.');
    fs.mkdirSync(folder, { recursive: true });
    const pattern = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_(\\d{5})_\\.png$`);
    let counter = 1 + Math.max(0, ...fs.readdirSync(folder).map((f) => Number(pattern.exec(f)?.[1] ?? 0)));
    const out: { filename: string; subfolder: string; type: 'output' }[] = [];
    for (const image of rendered.images) {
      const png = await sharp(image.rgb, { raw: { width: image.width, height: image.height, channels: 3 } })
        .png({ compressionLevel: 4 })
        .toBuffer();
      const filename = `${stem}_${String(counter).padStart(5, '0')}_.png`;
      fs.writeFileSync(path.join(folder, filename), addPngText(png, 'prompt', JSON.stringify(graph)));
      out.push({ filename, subfolder, type: 'output' });
      counter++;
    }
    return out;
  }

  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  let closed = false;
  const shutdown = async (hard: boolean): Promise<void> => {
    if (closed) return;
    closed = true;
    life.abort();
    pending.length = 0;
    for (const set of clients.values())
      for (const ws of set) {
        if (hard) ws.terminate();
        else ws.close();
      }
    if (hard) {
      dead = true;
      for (const socket of sockets) socket.destroy();
    }
    wss.close();
    await app.close();
    await engine.dispose();
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    prompts,
    stats,
    close: () => shutdown(false),
    kill: () => shutdown(true),
    dropConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

interface Part {
  name: string;
  filename?: string;
  data: Buffer;
}

/** A small multipart/form-data parser (the fields of /upload/image). */
function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const chunk = body.subarray(start + 2, next - 2); // skip CRLF after the delimiter and before the next
    const split = chunk.indexOf('\r\n\r\n');
    if (split >= 0) {
      const head = chunk.subarray(0, split).toString('utf8');
      const disposition = /content-disposition:[^\r\n]*/i.exec(head)?.[0] ?? '';
      const name = /\bname="([^"]*)"/.exec(disposition)?.[1];
      const filename = /\bfilename="([^"]*)"/.exec(disposition)?.[1];
      if (name !== undefined) parts.push({ name, ...(filename !== undefined ? { filename } : {}), data: chunk.subarray(split + 4) });
    }
    at = next;
  }
  return parts;
}

// ── test helpers ─────────────────────────────────────────────────────────────────────────────────

export interface ExampleGraph {
  ckpt: string;
  positive: string;
  negative?: string;
  seed: number;
  steps: number;
  cfg?: number;
  sampler?: string;
  scheduler?: string;
  width?: number;
  height?: number;
  batch?: number;
  /** [lora_name, strength] in chain order. */
  loras?: [string, number][];
  /** img2img: LoadImage.image and the denoise strength. */
  image?: string;
  denoise?: number;
  prefix?: string;
}

/** A hand-built API graph in ComfyUI's default txt2img (or img2img) layout; its SaveImage node is "9". */
export function exampleGraph(g: ExampleGraph): ApiGraph {
  const graph: ApiGraph = {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: g.ckpt } },
  };
  let model: Link = ['4', 0];
  let clip: Link = ['4', 1];
  (g.loras ?? []).forEach(([name, strength], i) => {
    const id = `${20 + i}`;
    graph[id] = { class_type: 'LoraLoader', inputs: { model, clip, lora_name: name, strength_model: strength, strength_clip: strength } };
    model = [id, 0];
    clip = [id, 1];
  });
  graph['6'] = { class_type: 'CLIPTextEncode', inputs: { text: g.positive, clip } };
  graph['7'] = { class_type: 'CLIPTextEncode', inputs: { text: g.negative ?? '', clip } };
  if (g.image !== undefined) {
    graph['10'] = { class_type: 'LoadImage', inputs: { image: g.image } };
    graph['11'] = { class_type: 'VAEEncode', inputs: { pixels: ['10', 0], vae: ['4', 2] } };
  } else {
    graph['5'] = { class_type: 'EmptyLatentImage', inputs: { width: g.width ?? 64, height: g.height ?? 64, batch_size: g.batch ?? 1 } };
  }
  graph['3'] = {
    class_type: 'KSampler',
    inputs: {
      model,
      seed: g.seed,
      steps: g.steps,
      cfg: g.cfg ?? 7,
      sampler_name: g.sampler ?? 'euler',
      scheduler: g.scheduler ?? 'normal',
      positive: ['6', 0],
      negative: ['7', 0],
      latent_image: g.image !== undefined ? ['11', 0] : ['5', 0],
      denoise: g.denoise ?? 1,
    },
  };
  graph['8'] = { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } };
  graph['9'] = { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: g.prefix ?? 'ComfyUI' } };
  return graph;
}

/** A kohya LoRA for `writeTinySd`'s model (attention to_k, conv_in, the time embedding and the text encoder's q_proj). */
export function writeTinySdLora(file: string, seed: number, rank = 2): string {
  const values = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + s) * 0.3);
  const tensors: Parameters<typeof encodeSafetensors>[0] = {};
  const add = (key: string, down: number[], up: number[]): void => {
    tensors[`${key}.lora_down.weight`] = {
      dtype: 'F32',
      shape: down,
      data: values(
        down.reduce((a, b) => a * b, 1),
        seed,
      ),
    };
    tensors[`${key}.lora_up.weight`] = {
      dtype: 'F32',
      shape: up,
      data: values(
        up.reduce((a, b) => a * b, 1),
        seed + 1,
      ),
    };
    tensors[`${key}.alpha`] = { dtype: 'F32', shape: [], data: Float32Array.of(rank) };
  };
  add('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k', [rank, 16], [4, rank]);
  add('lora_unet_conv_in', [rank, 4, 3, 3], [4, rank, 1, 1]);
  add('lora_unet_time_embedding_linear_1', [rank, 1], [4, rank]);
  add('lora_te_text_model_encoder_layers_0_self_attn_q_proj', [rank, 16], [16, rank]);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, encodeSafetensors(tensors, { ss_network_module: 'networks.lora' }));
  return file;
}
