/** The ComfyUI imitation speaks ComfyUI's HTTP and WebSocket protocol and renders with Onbrand's engine. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DiffusionEngine, readPngText } from '../../diffusion/index.js';
import { writeTinySd } from '../../diffusion/testing/tiny-sd.js';
import { comfyImg2img } from '../comfy-graph.js';
import { exampleGraph, onbrandSampler, startComfyImitation, writeTinySdLora, type ComfyImitation } from './comfy-imitation.js';

let root: string;
let model: string;
let server: ComfyImitation;
let engine: DiffusionEngine;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-comfy-imitation-'));
  model = writeTinySd(path.join(root, 'tiny-sd'));
  const lora = writeTinySdLora(path.join(root, 'Brand.safetensors'), 3);
  server = await startComfyImitation({
    checkpoints: { 'tiny-sd.safetensors': model },
    loras: { 'Brand.safetensors': lora },
    dir: path.join(root, 'comfy'),
  });
  engine = new DiffusionEngine({ loraDir: path.join(root, 'no-loras'), graphCacheDir: path.join(root, 'graphs') });
  await engine.load(model, 'cpu');
});

afterAll(async () => {
  await server?.close();
  await engine?.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

interface ImageRef {
  filename: string;
  subfolder: string;
  type: string;
}
interface Queued {
  prompt_id: string;
}
interface HistoryEntry {
  outputs: Record<string, { images: ImageRef[] }>;
  status: { status_str: string; completed: boolean; messages: [string, unknown][] };
}
interface NodeError {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}
interface Rejection {
  error: NodeError;
  node_errors: Record<string, { class_type: string; dependent_outputs: string[]; errors: NodeError[] }>;
}
interface Queue {
  queue_running: unknown[][];
  queue_pending: unknown[][];
}

/** A response's JSON, typed as the test expects it (the assertions check it). */
async function json<T>(response: Response | Promise<Response>): Promise<T> {
  return (await (await response).json()) as T;
}

const post = (url: string, body: unknown): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

interface Received {
  text: { type: string; data: Record<string, unknown> }[];
  binary: Buffer[];
  ws: WebSocket;
}

async function connect(base: string, clientId: string): Promise<Received> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?clientId=${clientId}`);
  const received: Received = { text: [], binary: [], ws };
  ws.on('message', (data, isBinary) => {
    if (isBinary) received.binary.push(data as Buffer);
    else received.text.push(JSON.parse(String(data)) as Received['text'][number]);
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return received;
}

async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const finished = (r: Received, id: string) => () =>
  r.text.some((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === id);

describe('ComfyUI imitation', () => {
  it('lists its checkpoints, LoRAs and samplers in /object_info and reports /system_stats', async () => {
    expect(await json(fetch(`${server.url}/object_info/CheckpointLoaderSimple`))).toMatchObject({
      CheckpointLoaderSimple: { input: { required: { ckpt_name: [['tiny-sd.safetensors'], {}] } }, output: ['MODEL', 'CLIP', 'VAE'] },
    });
    expect(await json(fetch(`${server.url}/object_info/LoraLoader`))).toMatchObject({
      LoraLoader: { input: { required: { lora_name: [['Brand.safetensors'], {}] } } },
    });
    expect(await json(fetch(`${server.url}/object_info`))).toMatchObject({
      KSampler: {
        input: {
          required: {
            sampler_name: [expect.arrayContaining(['dpmpp_2m', 'euler']), {}],
            scheduler: [expect.arrayContaining(['karras']), {}],
          },
        },
      },
    });
    expect(await json(fetch(`${server.url}/object_info/NoSuchNode`))).toEqual({});
    expect(await json(fetch(`${server.url}/system_stats`))).toMatchObject({
      system: { comfyui_version: '0.3.66' },
      devices: [expect.objectContaining({ type: 'cuda', index: 0, vram_free: 8 * 1024 ** 3 })],
    });
  });

  it('maps ComfyUI sampler + scheduler pairs to Onbrand samplers', () => {
    expect(onbrandSampler('dpmpp_2m', 'karras')).toEqual({ sampler: 'DPM++ 2M Karras' });
    expect(onbrandSampler('euler_ancestral', 'normal')).toEqual({ sampler: 'Euler a' });
    expect(onbrandSampler('euler', 'normal')).toEqual({ sampler: 'Euler' });
    expect(onbrandSampler('dpmpp_2m', 'normal')).toEqual({ sampler: 'DPM++ 2M' });
    expect(onbrandSampler('dpmpp_sde', 'karras')).toEqual({ sampler: 'DPM++ SDE Karras' });
    expect(onbrandSampler('ddim', 'ddim_uniform')).toEqual({ sampler: 'DDIM' });
    expect(onbrandSampler('lcm', 'normal')).toEqual({ sampler: 'LCM' });
    expect(onbrandSampler('lcm', 'sgm_uniform')).toEqual({ sampler: 'LCM', scheduleType: 'SGM Uniform' });
    expect(onbrandSampler('euler', 'sgm_uniform')).toEqual({ sampler: 'Euler', scheduleType: 'SGM Uniform' });
    expect(onbrandSampler('heun', 'normal')).toBeNull();
    expect(onbrandSampler('euler', 'beta')).toBeNull();
  });

  it("refuses invalid graphs with ComfyUI's error and node_errors", async () => {
    const unknown = await post(`${server.url}/prompt`, { prompt: { '1': { class_type: 'Upscaler9000', inputs: {} } } });
    expect(unknown.status).toBe(400);
    expect((await json<Rejection>(unknown)).error).toMatchObject({
      type: 'invalid_prompt',
      message: 'Cannot execute because node Upscaler9000 does not exist.',
    });

    const graph = exampleGraph({ ckpt: 'nope.safetensors', positive: 'a', seed: 1, steps: 2 });
    delete graph['3']!.inputs.cfg;
    const bad = await post(`${server.url}/prompt`, { prompt: graph });
    expect(bad.status).toBe(400);
    const body = await json<Rejection>(bad);
    expect(body.error.type).toBe('prompt_outputs_failed_validation');
    expect(body.node_errors['4']).toMatchObject({ class_type: 'CheckpointLoaderSimple', dependent_outputs: ['9'] });
    expect(body.node_errors['4']!.errors[0]).toMatchObject({
      type: 'value_not_in_list',
      message: 'Value not in list',
      details: "ckpt_name: 'nope.safetensors' not in ['tiny-sd.safetensors']",
    });
    expect(body.node_errors['3']!.errors[0]).toMatchObject({ type: 'required_input_missing', details: 'cfg' });
    expect(server.prompts.some((p) => p.graph === graph)).toBe(false);

    const none = await post(`${server.url}/prompt`, {
      prompt: { '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'tiny-sd.safetensors' } } },
    });
    expect((await json<Rejection>(none)).error.type).toBe('prompt_no_outputs');
  });

  it("runs a batch in ComfyUI's message order, saves numbered PNGs with the graph, and image 0 is the engine's image", async () => {
    const me = await connect(server.url, 'me');
    const other = await connect(server.url, 'other');
    const graph = exampleGraph({
      ckpt: 'tiny-sd.safetensors',
      positive: 'a red fox',
      negative: 'blurry',
      seed: 42,
      steps: 3,
      batch: 2,
      prefix: 'runs/fox',
    });
    const queued = await json<Queued>(post(`${server.url}/prompt`, { prompt: graph, client_id: 'me' }));
    expect(queued).toMatchObject({ prompt_id: expect.any(String), number: expect.any(Number), node_errors: {} });
    const id = queued.prompt_id as string;
    await until(finished(me, id), 'the prompt to finish');

    const mine = me.text.filter((m) => m.data.prompt_id === id);
    const sequence = mine.map((m) => (m.type === 'executing' ? `executing:${String(m.data.node)}` : m.type));
    expect(sequence).toEqual([
      'execution_start',
      'execution_cached',
      'executing:4',
      'executing:6',
      'executing:7',
      'executing:5',
      'executing:3',
      'progress',
      'progress',
      'progress',
      'progress',
      'progress',
      'progress',
      'executing:8',
      'executing:9',
      'executed',
      'execution_success',
      'executing:null',
    ]);
    expect(mine.find((m) => m.type === 'progress')!.data).toMatchObject({ value: 1, max: 3, node: '3' });
    expect(me.text[0]).toMatchObject({ type: 'status', data: { sid: 'me', status: { exec_info: { queue_remaining: 0 } } } });
    // Execution messages go to the client that queued the prompt only.
    expect(other.text.filter((m) => m.data.prompt_id === id)).toEqual([]);
    // Binary previews: event 1 (PREVIEW_IMAGE), image type 1 (JPEG), then the JPEG.
    expect(me.binary.length).toBeGreaterThan(0);
    expect(me.binary[0]!.readUInt32BE(0)).toBe(1);
    expect(me.binary[0]!.readUInt32BE(4)).toBe(1);
    expect(me.binary[0]!.subarray(8, 10)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(other.binary).toEqual([]);

    const executed = mine.find((m) => m.type === 'executed')!.data as { output: { images: ImageRef[] } };
    expect(executed.output.images).toEqual([
      { filename: 'fox_00001_.png', subfolder: 'runs', type: 'output' },
      { filename: 'fox_00002_.png', subfolder: 'runs', type: 'output' },
    ]);
    const history = await json<Record<string, HistoryEntry>>(fetch(`${server.url}/history/${id}`));
    expect(history[id]!.outputs['9'].images).toEqual(executed.output.images);
    expect(history[id]!.status).toMatchObject({ status_str: 'success', completed: true });
    expect(history[id]!.status.messages.map((m) => m[0])).toEqual(['execution_start', 'execution_cached', 'execution_success']);
    expect(await (await fetch(`${server.url}/history/unknown`)).json()).toEqual({});

    const png = Buffer.from(await (await fetch(`${server.url}/view?filename=fox_00001_.png&subfolder=runs&type=output`)).arrayBuffer());
    const text = readPngText(png);
    expect(JSON.parse(text.prompt!)).toEqual(graph);
    expect(text.parameters).toBeUndefined();
    const [reference] = await engine.generate({
      prompt: 'a red fox',
      negativePrompt: 'blurry',
      seed: 42,
      steps: 3,
      cfg: 7,
      sampler: 'Euler',
      width: 64,
      height: 64,
      batchSize: 1,
    });
    expect(await sharp(png).raw().toBuffer()).toEqual(reference!.rgb);
    // The batch's second image is not "seed + 1" (ComfyUI draws one noise tensor for the batch).
    const second = Buffer.from(await (await fetch(`${server.url}/view?filename=fox_00002_.png&subfolder=runs&type=output`)).arrayBuffer());
    const [plusOne] = await engine.generate({
      prompt: 'a red fox',
      negativePrompt: 'blurry',
      seed: 43,
      steps: 3,
      cfg: 7,
      sampler: 'Euler',
      width: 64,
      height: 64,
      batchSize: 1,
    });
    expect(await sharp(second).raw().toBuffer()).not.toEqual(plusOne!.rgb);
    expect((await fetch(`${server.url}/view?filename=../secret&type=output`)).status).toBe(400);

    // The same graph again: upstream nodes come from the cache, and the counter goes on.
    const again = await json<Queued>(post(`${server.url}/prompt`, { prompt: graph, client_id: 'me' }));
    await until(finished(me, again.prompt_id), 'the second prompt');
    const cached = me.text.find((m) => m.type === 'execution_cached' && m.data.prompt_id === again.prompt_id)!;
    expect(cached.data.nodes).toEqual(['4', '6', '7', '5', '3', '8']);
    const second2 = me.text.find((m) => m.type === 'executed' && m.data.prompt_id === again.prompt_id)!.data as {
      output: { images: ImageRef[] };
    };
    expect(second2.output.images[0].filename).toBe('fox_00003_.png');
    me.ws.close();
    other.ws.close();
  });

  it('reports a sampler it cannot render as execution_error and files the prompt as an error', async () => {
    const me = await connect(server.url, 'err');
    const graph = exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'x', seed: 1, steps: 2, sampler: 'heun' });
    const { prompt_id: id } = await json<Queued>(post(`${server.url}/prompt`, { prompt: graph, client_id: 'err' }));
    await until(finished(me, id), 'the failing prompt');
    const error = me.text.find((m) => m.type === 'execution_error')!;
    expect(error.data).toMatchObject({ prompt_id: id, node_id: '3', node_type: 'KSampler', exception_type: 'NotImplementedError' });
    expect(String(error.data.exception_message)).toContain('heun');
    expect(me.text.some((m) => m.type === 'execution_success' && m.data.prompt_id === id)).toBe(false);
    const history = await json<Record<string, HistoryEntry>>(fetch(`${server.url}/history/${id}`));
    expect(history[id]!.status).toMatchObject({ status_str: 'error', completed: false });
    me.ws.close();
  });

  it('uploads into input/, and LoadImage + VAEEncode with denoise is img2img', async () => {
    const source = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 40, b: 90 } } })
      .png()
      .toBuffer();
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(source)]), 'ref.png');
    form.append('subfolder', 'onbrand');
    form.append('overwrite', 'true');
    const uploaded = await json(fetch(`${server.url}/upload/image`, { method: 'POST', body: form }));
    expect(uploaded).toEqual({ name: 'ref.png', subfolder: 'onbrand', type: 'input' });
    expect(fs.readFileSync(path.join(server.dir, 'input', 'onbrand', 'ref.png'))).toEqual(source);
    // LoadImage lists the top of input/ only, yet takes `subfolder/name` (nodes.py's VALIDATE_INPUTS).
    expect(await json(fetch(`${server.url}/object_info/LoadImage`))).toMatchObject({
      LoadImage: { input: { required: { image: [[], {}] } } },
    });
    const escape = new FormData();
    escape.append('image', new Blob([new Uint8Array(source)]), 'x.png');
    escape.append('subfolder', '../output');
    expect((await fetch(`${server.url}/upload/image`, { method: 'POST', body: escape })).status).toBe(400);

    const me = await connect(server.url, 'i2i');
    const graph = exampleGraph({
      ckpt: 'tiny-sd.safetensors',
      positive: 'a red fox',
      seed: 5,
      image: 'onbrand/ref.png',
      // ComfyUI walks the last 3 steps of a ⌊3 / 0.667⌋ = 4-step schedule: the engine's strength 0.5 at 4 steps.
      ...comfyImg2img(4, 0.5),
    });
    const { prompt_id: id } = await json<Queued>(post(`${server.url}/prompt`, { prompt: graph, client_id: 'i2i' }));
    await until(finished(me, id), 'the img2img prompt');
    const history = await json<Record<string, HistoryEntry>>(fetch(`${server.url}/history/${id}`));
    const image = history[id]!.outputs['9'].images[0];
    const png = Buffer.from(await (await fetch(`${server.url}/view?filename=${image.filename}&type=output`)).arrayBuffer());
    const [reference] = await engine.generate({
      prompt: 'a red fox',
      negativePrompt: '',
      seed: 5,
      steps: 4,
      cfg: 7,
      sampler: 'Euler',
      width: 64,
      height: 64,
      batchSize: 1,
      init: { image: source, strength: 0.5 },
    });
    expect(await sharp(png).raw().toBuffer()).toEqual(reference!.rgb);

    const missing = await post(`${server.url}/prompt`, {
      prompt: exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'x', seed: 1, steps: 2, image: 'nope.png' }),
    });
    expect((await json<Rejection>(missing)).node_errors['10']!.errors[0]).toMatchObject({
      type: 'custom_validation_failed',
      details: 'image - Invalid image file: nope.png',
    });
    me.ws.close();
  });

  it('demands the headers it was given (a reverse proxy), on HTTP and on the WebSocket', async () => {
    const guarded = await startComfyImitation({ checkpoints: { 'tiny-sd.safetensors': model }, headers: { authorization: 'Bearer x' } });
    try {
      expect((await fetch(`${guarded.url}/system_stats`)).status).toBe(401);
      expect((await fetch(`${guarded.url}/system_stats`, { headers: { authorization: 'Bearer x' } })).status).toBe(200);
      await expect(connect(guarded.url, 'a')).rejects.toThrow(/401/);
    } finally {
      await guarded.close();
    }
  });

  it('kill() drops every socket at once, and a new imitation on the same port forgets the old prompts', async () => {
    const slow = await startComfyImitation({ checkpoints: { 'tiny-sd.safetensors': model }, stepDelayMs: 2000 });
    const me = await connect(slow.url, 'k');
    let closed = false;
    me.ws.on('close', () => (closed = true));
    const graph = exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'x', seed: 1, steps: 3 });
    const { prompt_id: id } = await json<Queued>(post(`${slow.url}/prompt`, { prompt: graph, client_id: 'k' }));
    await until(() => me.text.some((m) => m.type === 'executing' && m.data.node === '3'), 'the sampler to start');
    const queue = await json<Queue>(fetch(`${slow.url}/queue`));
    expect(queue.queue_running[0]![1]).toBe(id);
    const started = Date.now();
    await slow.kill();
    await until(() => closed, 'the socket to drop', 2000);
    expect(Date.now() - started).toBeLessThan(1500);
    await expect(fetch(`${slow.url}/queue`)).rejects.toThrow();

    const restarted = await startComfyImitation({ checkpoints: { 'tiny-sd.safetensors': model }, port: slow.port });
    try {
      expect(await (await fetch(`${restarted.url}/history/${id}`)).json()).toEqual({});
      expect(await (await fetch(`${restarted.url}/queue`)).json()).toEqual({ queue_running: [], queue_pending: [] });
    } finally {
      await restarted.close();
    }
  });
});
