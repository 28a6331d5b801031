/**
 * The queue with ComfyUI servers beside the local engine (issue 21), against imitation ComfyUI
 * servers on 127.0.0.1 that render with Onbrand's own engine and a tiny model: a job's images
 * shared out, each made once with seed + i and recorded like local ones (A1111 parameters naming
 * the backend); a server without the LoRA passed over; a server killed mid-job (its images made
 * elsewhere, nothing lost); a failing server paused with its reason; cancel reaching the server;
 * img2img's start image uploaded; a 270-image run on three servers and the local engine, one
 * server killed midway.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BRAND_LOOP_PRESET, type BackendView, type GenerationSettings, type ImageSummary } from '../api/index.js';
import { startComfyImitation, writeTinySdLora, type ComfyImitation } from '../backends/testing/comfy-imitation.js';
import { resolveConfig } from '../config.js';
import { parseParameters, readPngText } from '../diffusion/index.js';
import { writeTinySd } from '../diffusion/testing/tiny-sd.js';
import { createRpc, type Rpc } from '../rpc.js';
import { createServices, type Services } from '../services.js';
import { appPackage } from '../util/index.js';
import { generatedFiles, untilEvent } from './testing/cli-workspace.js';

const ROOT = appPackage().root;
let models: string;
let serverLoras: string;
const open: Services[] = [];
const servers: ComfyImitation[] = [];

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'main', 'core', 'jobs', 'worker.js')))
    throw new Error('Build first (npm run build): the queue runs the built worker.');
  models = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-remote-models-'));
  writeTinySd(path.join(models, 'tiny-sd'));
  fs.mkdirSync(path.join(models, 'loras'));
  writeTinySdLora(path.join(models, 'loras', 'Brand.safetensors'), 3);
  // The servers' copy of the LoRA, under the file name a ComfyUI install would give it.
  serverLoras = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-remote-loras-'));
  fs.copyFileSync(path.join(models, 'loras', 'Brand.safetensors'), path.join(serverLoras, 'Brand.safetensors'));
  // A LoRA only the servers have.
  writeTinySdLora(path.join(serverLoras, 'Studio.safetensors'), 7);
});

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const s of servers.splice(0)) await s.close();
});

async function server(options: { lora?: boolean; stepDelayMs?: number; port?: number; checkpoint?: string } = {}): Promise<ComfyImitation> {
  const started = await startComfyImitation({
    checkpoints: { [options.checkpoint ?? 'tiny-sd.safetensors']: path.join(models, 'tiny-sd') },
    loras:
      options.lora === false
        ? {}
        : {
            'Brand.safetensors': path.join(serverLoras, 'Brand.safetensors'),
            'loras/Studio.safetensors': path.join(serverLoras, 'Studio.safetensors'),
          },
    ...(options.stepDelayMs !== undefined ? { stepDelayMs: options.stepDelayMs } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  servers.push(started);
  return started;
}

function workspace(): { services: Services; rpc: Rpc } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-remote-'));
  const services = createServices(resolveConfig({ dataDir, modelsDir: models }), { provider: 'cpu' });
  open.push(services);
  return { services, rpc: createRpc(services, 'cli') };
}

async function addServer(rpc: Rpc, name: string, s: ComfyImitation, over: Record<string, unknown> = {}): Promise<BackendView> {
  const view = (await rpc.invoke('backends.save', { name, url: s.url, ...over })) as BackendView;
  expect(view.inventory, `${name} answered`).not.toBeNull();
  return view;
}

const settings = (over: Partial<GenerationSettings> = {}): GenerationSettings => ({
  ...BRAND_LOOP_PRESET.settings,
  model: 'tiny-sd',
  width: 64,
  height: 64,
  steps: 3,
  ...over,
});

/** Where each image was made, from its parameters: the server's name, or 'local'. */
function madeBy(image: ImageSummary): string {
  const { values } = parseParameters(readPngText(fs.readFileSync(image.path)).parameters ?? '');
  return values.Backend === undefined ? 'local' : /^ComfyUI ([A-Za-z0-9 ._-]+?)(?: \(|$)/.exec(values.Backend)![1]!;
}

async function raw(file: string): Promise<Buffer> {
  return sharp(file).removeAlpha().raw().toBuffer();
}

describe('the queue with ComfyUI servers', () => {
  it('shares a batch between two servers and the local engine: each image once, seed + i, A1111 parameters naming where; the pixels equal a local run', async () => {
    const s1 = await server({ stepDelayMs: 20 });
    const s2 = await server({ stepDelayMs: 20 });
    const { services, rpc } = workspace();
    await addServer(rpc, 'studio-1', s1);
    await addServer(rpc, 'studio-2', s2, { ratePerHour: 2.5 });
    const project = services.projects.create({ name: 'Shared' });
    services.queue.start();
    const [job] = services.queue.add(project.id, 'portrait, <lora:Brand:0.8> teal light', 'text', settings({ batchSize: 6 }), 1, 500);
    await services.queue.whenIdle();
    expect(services.queue.list(project.id).map((j) => [j.state, j.imagesDone, j.error])).toEqual([['done', 6, null]]);
    const images = services.images.list(project.id).sort((a, b) => a.seed! - b.seed!);
    expect(images.map((i) => i.seed)).toEqual([500, 501, 502, 503, 504, 505]);
    expect(generatedFiles(project.folder)).toHaveLength(6);
    const where = images.map(madeBy);
    expect(new Set(where).size, `made on ${where.join(', ')}`).toBeGreaterThanOrEqual(2);
    expect(where.some((w) => w !== 'local')).toBe(true);
    // Each server received one graph per image, one image each, seed + i.
    const seeds = [...s1.prompts, ...s2.prompts].map((p) => Object.values(p.graph).find((n) => n.class_type === 'KSampler')!.inputs.seed);
    expect(new Set(seeds).size).toBe(seeds.length);
    for (const image of images) {
      const parsed = parseParameters(readPngText(fs.readFileSync(image.path)).parameters!);
      expect(parsed.prompt).toBe('portrait, <lora:Brand:0.8> teal light');
      expect(parsed.values).toMatchObject({ Seed: String(image.seed), Steps: '3', Size: '64x64', Model: 'tiny-sd', 'CFG scale': '7' });
      expect(parsed.values['Lora hashes']).toMatch(/^Brand: [0-9a-f]{12}$/);
      expect(image.thumbPath && fs.existsSync(image.thumbPath)).toBe(true);
    }
    // The same job on the local engine alone: the same pixels, image for image.
    const alone = workspace();
    const p2 = alone.services.projects.create({ name: 'Alone' });
    alone.services.queue.start();
    alone.services.queue.add(p2.id, 'portrait, <lora:Brand:0.8> teal light', 'text', settings({ batchSize: 6 }), 1, 500);
    await alone.services.queue.whenIdle();
    const local = alone.services.images.list(p2.id).sort((a, b) => a.seed! - b.seed!);
    for (let i = 0; i < 6; i++) expect((await raw(images[i]!.path)).equals(await raw(local[i]!.path)), `seed ${500 + i}`).toBe(true);
    expect(job!.seed).toBe(500);
    // Time + Cost: GPU seconds per backend.
    const snapshot = services.timelog.snapshot(project.id);
    expect(snapshot.phases.find((p) => p.phase === 'generate')!.gpuSeconds).toBeGreaterThan(0);
    const byBackend = new Map(snapshot.backends.map((b) => [b.name, b]));
    for (const name of new Set(where)) expect(byBackend.get(name)?.gpuSeconds, name).toBeGreaterThan(0);
    // Each server that worked is priced at its own rate (studio-1 costs nothing, studio-2 $2.50/h).
    const rates: Record<string, number> = { 'studio-1': 0, 'studio-2': 2.5 };
    const remotes = [...new Set(where)].filter((w) => w !== 'local');
    expect(remotes.length).toBeGreaterThan(0);
    for (const name of remotes) expect(byBackend.get(name)!.ratePerHour, name).toBe(rates[name]);
  });

  it('passes over a server without the LoRA, and one whose graph is refused', async () => {
    const withLora = await server();
    const without = await server({ lora: false });
    const { services, rpc } = workspace();
    await rpc.invoke('backends.local', { enabled: false });
    await addServer(rpc, 'has-lora', withLora);
    await addServer(rpc, 'no-lora', without);
    const project = services.projects.create({ name: 'Lora' });
    services.queue.start();
    services.queue.add(project.id, 'device close-up <lora:Brand:0.8>', '', settings({ batchSize: 4 }), 1, 10);
    await services.queue.whenIdle();
    expect(services.queue.list(project.id).map((j) => [j.state, j.imagesDone])).toEqual([['done', 4]]);
    expect(without.prompts).toHaveLength(0);
    expect(services.images.list(project.id).map(madeBy)).toEqual(['has-lora', 'has-lora', 'has-lora', 'has-lora']);
    // A prompt without LoRAs goes to both.
    services.queue.add(project.id, 'abstract shape', '', settings({ batchSize: 4 }), 1, 20);
    await services.queue.whenIdle();
    expect(without.prompts.length).toBeGreaterThan(0);
  });

  it('takes a LoRA only a server has: refused with no server, made there with one (not on this computer)', async () => {
    const { services, rpc } = workspace();
    const project = services.projects.create({ name: 'Studio LoRA' });
    expect(() => services.queue.add(project.id, 'portrait <lora:Studio:0.8>', '', settings({ batchSize: 2 }), 1, 3)).toThrow(
      /no LoRA named "Studio" is installed/,
    );
    const s = await server();
    await addServer(rpc, 'studio', s);
    services.queue.start();
    services.queue.add(project.id, 'portrait <lora:Studio:0.8>', '', settings({ batchSize: 3 }), 1, 3);
    await services.queue.whenIdle();
    expect(services.queue.list(project.id).map((j) => [j.state, j.imagesDone])).toEqual([['done', 3]]);
    expect(services.images.list(project.id).map(madeBy)).toEqual(['studio', 'studio', 'studio']);
    const graph = s.prompts[0]!.graph;
    expect(Object.values(graph).find((n) => n.class_type === 'LoraLoader')!.inputs).toMatchObject({
      lora_name: 'loras/Studio.safetensors',
      strength_model: 0.8,
    });
    // With the server switched off, nothing here can make it: refused as before.
    await rpc.invoke('backends.save', { name: 'studio', url: s.url, enabled: false });
    expect(() => services.queue.add(project.id, 'portrait <lora:Studio:0.8>', '', settings({ batchSize: 1 }), 1, 9)).toThrow(
      /no LoRA named "Studio" is installed/,
    );
  });

  it('makes elsewhere the images of a server killed mid-job: nothing lost, nothing twice', async () => {
    const slow = await server({ stepDelayMs: 150 });
    const fast = await server();
    const { services, rpc } = workspace();
    await rpc.invoke('backends.local', { enabled: false });
    await addServer(rpc, 'slow', slow);
    await addServer(rpc, 'fast', fast);
    const project = services.projects.create({ name: 'Killed' });
    services.queue.start();
    services.queue.add(project.id, 'portrait', '', settings({ batchSize: 6 }), 1, 700);
    // Killed while it makes an image (its progress is in the queue panel).
    await untilEvent(services, 'job.progress', (p) => p.step >= 1 && slow.prompts.length > 0);
    await slow.kill();
    await services.queue.whenIdle();
    expect(services.queue.list(project.id).map((j) => [j.state, j.imagesDone])).toEqual([['done', 6]]);
    expect(
      services.images
        .list(project.id)
        .map((i) => i.seed)
        .sort(),
    ).toEqual([700, 701, 702, 703, 704, 705]);
    const views = services.queue.backendViews();
    expect(views.find((v) => v.name === 'slow')!.reason).toMatch(/slow/);
  });

  it('pauses a server that fails three images in a row, with the reason; the local engine makes them; resume clears it', async () => {
    // The server lists the checkpoint but cannot load it: every image fails there (execution_error).
    const broken = await startComfyImitation({ checkpoints: { 'tiny-sd.safetensors': path.join(models, 'missing-model') }, loras: {} });
    servers.push(broken);
    const { services, rpc } = workspace();
    await addServer(rpc, 'broken', broken);
    const project = services.projects.create({ name: 'Paused' });
    services.queue.start();
    services.queue.add(project.id, 'portrait', '', settings({ batchSize: 5 }), 1, 40);
    await services.queue.whenIdle();
    expect(services.queue.list(project.id).map((j) => [j.state, j.imagesDone])).toEqual([['done', 5]]);
    const view = services.queue.backendViews().find((v) => v.name === 'broken')!;
    expect(view.state).toBe('paused');
    expect(view.reason).toMatch(/Paused after 3 failed images in a row/);
    expect(broken.prompts).toHaveLength(3);
    expect(((await rpc.invoke('backends.resume', { name: 'broken' })) as BackendView).state).toBe('idle');
  });

  it('cancels on the server: /interrupt reaches it, finished images stay, nothing more is sent', async () => {
    const slow = await server({ stepDelayMs: 200 });
    const { services, rpc } = workspace();
    await rpc.invoke('backends.local', { enabled: false });
    await addServer(rpc, 'slow', slow);
    const project = services.projects.create({ name: 'Cancel' });
    services.queue.start();
    const [job] = services.queue.add(project.id, 'portrait', '', settings({ batchSize: 4, steps: 4 }), 1, 5);
    await untilEvent(services, 'job.progress', (p) => p.jobId === job!.id);
    services.queue.cancel(job!.id);
    await services.queue.whenIdle();
    expect(services.queue.list(project.id)[0]!.state).toBe('cancelled');
    await until(() => slow.stats.interrupts > 0 && slow.stats.interrupted > 0);
    const sent = slow.prompts.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(slow.prompts.length).toBe(sent);
    expect(sent).toBeLessThan(4);
  });

  it('uploads img2img’s start image to the server and records its strength', async () => {
    const s = await server();
    const { services, rpc } = workspace();
    await rpc.invoke('backends.local', { enabled: false });
    await addServer(rpc, 's', s);
    const project = services.projects.create({ name: 'Img2img' });
    const start = path.join(project.folder, 'start.png');
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#FE2C54' } })
      .png()
      .toFile(start);
    await services.importer.import(project.id, [start]);
    const imageId = services.images.list(project.id)[0]!.id;
    services.queue.start();
    services.queue.add(project.id, 'portrait', '', settings({ batchSize: 1 }), 1, 9, { init: { imageId, strength: 0.5 } });
    await services.queue.whenIdle();
    expect(services.queue.list(project.id).map((j) => j.state)).toEqual(['done']);
    expect(fs.readdirSync(path.join(s.dir, 'input', 'onbrand')).filter((f) => f.startsWith('onbrand-'))).toHaveLength(1);
    const made = services.images.list(project.id).find((i) => i.jobId !== null)!;
    expect(parseParameters(readPngText(fs.readFileSync(made.path)).parameters!).values['Denoising strength']).toBe('0.5');
    expect(Object.values(s.prompts[0]!.graph).some((n) => n.class_type === 'LoadImage')).toBe(true);
    // The same img2img on the local engine: the same pixels (ComfyUI is asked to walk the engine's steps).
    const alone = workspace();
    const p2 = alone.services.projects.create({ name: 'Img2img here' });
    const start2 = path.join(p2.folder, 'start.png');
    fs.copyFileSync(start, start2);
    await alone.services.importer.import(p2.id, [start2]);
    alone.services.queue.start();
    alone.services.queue.add(p2.id, 'portrait', '', settings({ batchSize: 1 }), 1, 9, {
      init: { imageId: alone.services.images.list(p2.id)[0]!.id, strength: 0.5 },
    });
    await alone.services.queue.whenIdle();
    const here = alone.services.images.list(p2.id).find((i) => i.jobId !== null)!;
    expect((await raw(made.path)).equals(await raw(here.path))).toBe(true);
  });

  it('makes a 270-image template run on three servers and the local engine, one server killed midway: every image once, seed + i', async () => {
    const three = [await server({ stepDelayMs: 5 }), await server({ stepDelayMs: 5 }), await server({ stepDelayMs: 5 })];
    const { services, rpc } = workspace();
    for (const [i, s] of three.entries()) await addServer(rpc, `gpu-${i + 1}`, s);
    const project = services.projects.create({ name: 'Template run' });
    services.queue.start();
    // 45 prompts of a template × batch 6.
    const subjects = ['portrait', 'device close-up', 'abstract shape'];
    const jobs = [];
    for (let p = 0; p < 45; p++)
      jobs.push(
        ...services.queue.add(project.id, `${subjects[p % 3]}, variation ${p}`, '', settings({ batchSize: 6, steps: 2 }), 1, 1000 + p * 6),
      );
    let images = 0;
    let killed = false;
    services.events.subscribe((e) => {
      if (e.type !== 'images.added') return;
      images += e.payload.images.length;
      if (!killed && images >= 90) {
        killed = true;
        void three[1]!.kill();
      }
    });
    await services.queue.whenIdle();
    expect(killed).toBe(true);
    const all = services.images.list(project.id);
    expect(all).toHaveLength(270);
    const keys = new Set(all.map((i) => `${i.jobId}:${i.seed}`));
    expect(keys.size).toBe(270);
    for (const job of services.queue.list(project.id)) {
      expect(job.state).toBe('done');
      const seeds = all
        .filter((i) => i.jobId === job.id)
        .map((i) => i.seed)
        .sort((a, b) => a! - b!);
      expect(seeds).toEqual([0, 1, 2, 3, 4, 5].map((i) => job.seed + i));
    }
    expect(generatedFiles(project.folder)).toHaveLength(270);
    const where = new Map<string, number>();
    for (const image of all) where.set(madeBy(image), (where.get(madeBy(image)) ?? 0) + 1);
    expect(where.get('gpu-1')).toBeGreaterThan(0);
    expect(where.get('gpu-3')).toBeGreaterThan(0);
  }, 240_000);
});

async function until(test: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
