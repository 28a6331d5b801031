/**
 * The model library against a local imitation of the Hugging Face Hub (127.0.0.1) serving real
 * tiny models: a single-file checkpoint (with CLIP's tokenizer fetched for it), a diffusers folder
 * and an ONNX folder install and generate; a download survives the app closing midway and resumes
 * with Range; a corrupted file is refused and nothing is installed; cancel keeps what was fetched.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelTask } from '../api/index.js';
import { DiffusionEngine } from '../diffusion/index.js';
import { tinyArchConfig, writeTinySdArch } from '../diffusion/testing/tiny-sd-arch.js';
import { writeTinyDiffusers } from '../diffusion/testing/tiny-diffusers.js';
import { writeLdmCheckpoint } from '../diffusion/testing/ldm-checkpoint.js';
import { startHubImitation, type HubImitation } from './testing/hub-imitation.js';
import { ModelStore } from './store.js';

let root: string;
let hub: HubImitation;
let onnxDir: string;
let checkpointBytes: Buffer;

/** Every file of a folder, by repo path. */
function filesOf(dir: string, base = dir, out: Record<string, Buffer> = {}): Record<string, Buffer> {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) filesOf(full, base, out);
    else out[path.relative(base, full).split(path.sep).join('/')] = fs.readFileSync(full);
  }
  return out;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-store-'));
  onnxDir = writeTinySdArch(path.join(root, 'src', 'onnx'), { seed: 3 });
  const vocab = Object.keys(JSON.parse(fs.readFileSync(path.join(onnxDir, 'tokenizer', 'vocab.json'), 'utf8')) as object).length;
  const config = tinyArchConfig(vocab);
  const ckpt = path.join(root, 'src', 'tiny.safetensors');
  writeLdmCheckpoint(ckpt, config, 'sd1');
  checkpointBytes = fs.readFileSync(ckpt);
  const diffusers = writeTinyDiffusers(path.join(root, 'src', 'diffusers'), config, { seed: 3, fp16: true, from: onnxDir });
  hub = await startHubImitation({
    repos: {
      'test/tiny-checkpoint': { revisions: { main: { 'tiny.safetensors': checkpointBytes, 'README.md': '# tiny' } } },
      'test/tiny-diffusers': {
        revisions: { main: { ...filesOf(diffusers), 'safety_checker/model.safetensors': Buffer.alloc(2048, 1) } },
        licence: 'creativeml-openrail-m',
      },
      'test/tiny-onnx': { revisions: { main: filesOf(onnxDir) } },
      'openai/clip-vit-large-patch14': {
        revisions: {
          main: {
            'vocab.json': fs.readFileSync(path.join(onnxDir, 'tokenizer', 'vocab.json')),
            'merges.txt': fs.readFileSync(path.join(onnxDir, 'tokenizer', 'merges.txt')),
          },
        },
      },
      'Comfy-Org/stable-diffusion-v1-5-archive': { revisions: { main: { 'v1-5-pruned-emaonly-fp16.safetensors': checkpointBytes } } },
      'test/gated': { revisions: { main: { 'tiny.safetensors': checkpointBytes } }, gated: true },
    },
    tokens: { hf_good: ['test/gated'] },
  });
});

afterAll(async () => {
  await hub?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function store(
  name: string,
  extra: Partial<ConstructorParameters<typeof ModelStore>[0]> = {},
): { store: ModelStore; tasks: ModelTask[]; modelsDir: string; dataDir: string } {
  const modelsDir = path.join(root, name, 'models');
  const dataDir = path.join(root, name, 'data');
  const tasks: ModelTask[] = [];
  const s = new ModelStore({
    modelsDir,
    dataDir,
    hub: { endpoint: hub.url, env: {} },
    retry: { tries: 3, baseDelayMs: 5, maxDelayMs: 20 },
    onTask: (t) => tasks.push(t),
    ...extra,
  });
  return { store: s, tasks, modelsDir, dataDir };
}

async function until(predicate: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const last = (tasks: ModelTask[], id: string): ModelTask | undefined => tasks.filter((t) => t.id === id).at(-1);

describe('ModelStore.pullNow: three kinds of repository', () => {
  it("a single-file checkpoint: downloaded, verified, converted, with CLIP's tokenizer fetched; it generates", async () => {
    const { store: s, modelsDir, dataDir } = store('ckpt');
    const lines: string[] = [];
    const result = await s.pullNow('test/tiny-checkpoint', 'tiny', (l) => lines.push(l));
    expect(result.import).toMatchObject({ name: 'tiny', layout: 'diffusers', sourceKind: 'checkpoint', architectureFrom: 'shapes' });
    expect(result.import.tokenizerFrom).toMatch(/Hugging Face Hub/);
    expect(fs.existsSync(path.join(dataDir, 'tokenizers', 'clip-vit-large-patch14', 'vocab.json'))).toBe(true);
    expect(lines.some((l) => /tiny\.safetensors/.test(l))).toBe(true);
    // The download folder is gone; the model is listed with where it came from.
    expect(fs.readdirSync(path.join(modelsDir, '.downloads'))).toEqual([]);
    const [model] = s.list().models;
    expect(model).toMatchObject({ name: 'tiny', source: expect.stringMatching(/^test\/tiny-checkpoint@[0-9a-f]{40}$/) });
    const engine = new DiffusionEngine({ graphCacheDir: path.join(root, 'ckpt', 'graphs') });
    await engine.load(model!.dir, 'cpu');
    const [image] = await engine.generate({
      prompt: 'a portrait',
      negativePrompt: '',
      seed: 1,
      steps: 2,
      cfg: 7,
      sampler: 'Euler a',
      width: 64,
      height: 64,
      batchSize: 1,
    });
    expect(image!.png.length).toBeGreaterThan(100);
    await engine.dispose();
    await s.close();
  });

  it("a diffusers folder: only the pipeline's files (fp16 weights, no safety checker), moved into place", async () => {
    const { store: s, modelsDir } = store('diffusers');
    const result = await s.pullNow('test/tiny-diffusers', undefined);
    expect(result.name).toBe('tiny-diffusers');
    expect(fs.existsSync(path.join(modelsDir, 'tiny-diffusers', 'unet', 'diffusion_pytorch_model.fp16.safetensors'))).toBe(true);
    expect(fs.existsSync(path.join(modelsDir, 'tiny-diffusers', 'safety_checker'))).toBe(false);
    // The licence comes from the model card.
    expect(s.list().models[0]).toMatchObject({ name: 'tiny-diffusers', licence: 'creativeml-openrail-m' });
    await s.close();
  });

  it('an ONNX folder', async () => {
    const { store: s } = store('onnx');
    const result = await s.pullNow('test/tiny-onnx', 'tiny onnx');
    expect(result.import).toMatchObject({ layout: 'onnx' });
    await s.close();
  });

  it('a catalogue checkpoint whose content is not the one Onbrand knows is refused, nothing installed', async () => {
    const { store: s, modelsDir } = store('catalog');
    await expect(s.pullNow('sd15', undefined)).rejects.toThrow(/not the e9476a13.*repository changed/);
    expect(s.list().models).toEqual([]);
    expect(fs.existsSync(path.join(modelsDir, 'Stable Diffusion 1.5'))).toBe(false);
    await s.close();
  });

  it('a gated repository asks for a token; the token from settings opens it', async () => {
    const { store: s } = store('gated');
    await expect(s.pullNow('test/gated', 'g')).rejects.toThrow(/token/i);
    await s.close();
    const { store: withToken } = store('gated', { token: () => 'hf_good' });
    expect((await withToken.pullNow('test/gated', 'g')).name).toBe('g');
    await withToken.close();
  });

  it("a pasted resolve link to another host gets the file, but never the token; CLIP's tokenizer comes from the configured Hub", async () => {
    const configured = await startHubImitation({
      repos: {
        'openai/clip-vit-large-patch14': {
          revisions: {
            main: {
              'vocab.json': fs.readFileSync(path.join(onnxDir, 'tokenizer', 'vocab.json')),
              'merges.txt': fs.readFileSync(path.join(onnxDir, 'tokenizer', 'merges.txt')),
            },
          },
        },
      },
      tokens: { hf_secret: [] },
    });
    try {
      const { store: s } = store('link', { hub: { endpoint: configured.url, env: {} }, token: () => 'hf_secret' });
      hub.requests.length = 0;
      const result = await s.pullNow(`${hub.url}/test/tiny-checkpoint/resolve/main/tiny.safetensors`, 'linked');
      expect(result.name).toBe('linked');
      expect(hub.requests.filter((r) => r.url.includes('tiny.safetensors')).length).toBeGreaterThan(0);
      expect(hub.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
      expect(hub.requests.some((r) => r.url.includes('clip-vit'))).toBe(false);
      expect(configured.requests.some((r) => r.url.includes('vocab.json') && r.headers.authorization === 'Bearer hf_secret')).toBe(true);
      await s.close();
    } finally {
      await configured.close();
    }
  });

  it('a reserved or malformed name is refused before anything is fetched', async () => {
    const { store: s } = store('names');
    hub.requests.length = 0;
    expect(() => s.startPull('test/tiny-checkpoint', 'loras')).toThrow(/name of the models folder's loras\/ folder/);
    await expect(s.pullNow('test/tiny-checkpoint', 'v1.5.')).rejects.toThrow(/cannot be a model name/);
    expect(hub.requests.filter((r) => r.url.includes('/resolve/'))).toEqual([]);
    await s.close();
  });
});

describe("ModelStore tasks: the app's downloads", () => {
  it('survive the app closing midway: the next start resumes with a Range request and installs', async () => {
    hub.setFault({ file: 'tiny.safetensors', bytesPerSecond: Math.ceil(checkpointBytes.length / 3) });
    const first = store('resume');
    const task = first.store.startPull('test/tiny-checkpoint', 'resumed');
    await until(() => (last(first.tasks, task.id)?.bytesDone ?? 0) > checkpointBytes.length / 10);
    const progress = last(first.tasks, task.id)!;
    expect(progress.state).toBe('running');
    expect(progress.phase).toMatch(/Downloading tiny\.safetensors/);
    await first.store.close(); // the app quits
    hub.setFault(undefined);
    const before = hub.requests.length;
    const second = store('resume');
    expect(second.store.listTasks().map((t) => t.id)).toContain(task.id);
    second.store.resumePending();
    await until(() => ['done', 'failed'].includes(last(second.tasks, task.id)?.state ?? ''));
    expect(last(second.tasks, task.id)).toMatchObject({ state: 'done', name: 'resumed' });
    const ranged = hub.requests.slice(before).filter((r) => r.url.includes('tiny.safetensors') && r.headers.range);
    expect(ranged.length).toBeGreaterThan(0);
    expect(second.store.list().models.map((m) => m.name)).toEqual(['resumed']);
    await second.store.close();
  });

  it("a pasted repository's task is named as soon as the Hub says what it holds; discarding a running download removes its files at once", async () => {
    hub.setFault({ file: 'tiny.safetensors', bytesPerSecond: Math.ceil(checkpointBytes.length / 4) });
    const { store: s, tasks, modelsDir } = store('discard');
    const task = s.startPull('test/tiny-checkpoint');
    expect(task.name).toBe('');
    await until(() => (last(tasks, task.id)?.bytesDone ?? 0) > 0);
    expect(last(tasks, task.id)!.name).toBe('tiny');
    s.cancel(task.id, true);
    await until(() => last(tasks, task.id)?.phase === 'Discarded');
    hub.setFault(undefined);
    expect(fs.readdirSync(path.join(modelsDir, '.downloads'))).toEqual([]);
    expect(s.hubSettings()).toEqual({ hasToken: false, endpoint: hub.url });
    await s.close();
  });

  it('cancel keeps the partial file; resume finishes', async () => {
    hub.setFault({ file: 'tiny.safetensors', bytesPerSecond: Math.ceil(checkpointBytes.length / 3) });
    const { store: s, tasks } = store('cancel');
    const task = s.startPull('test/tiny-checkpoint', 'later');
    await until(() => (last(tasks, task.id)?.bytesDone ?? 0) > 0);
    s.cancel(task.id);
    await until(() => last(tasks, task.id)?.state === 'cancelled');
    expect(last(tasks, task.id)).toMatchObject({ resumable: true, phase: 'Paused' });
    hub.setFault(undefined);
    s.resume(task.id);
    await until(() => last(tasks, task.id)?.state === 'done');
    await s.close();
  });

  it('a corrupted file fails the download with the hash named; nothing is installed', async () => {
    hub.setFault({ file: 'tiny.safetensors', corrupt: true });
    const { store: s, tasks, modelsDir } = store('corrupt');
    const task = s.startPull('test/tiny-checkpoint', 'bad');
    await until(() => ['done', 'failed'].includes(last(tasks, task.id)?.state ?? ''));
    hub.setFault(undefined);
    expect(last(tasks, task.id)!.state).toBe('failed');
    expect(last(tasks, task.id)!.error).toMatch(/sha-?256|hash/i);
    expect(fs.existsSync(path.join(modelsDir, 'bad'))).toBe(false);
    // Cleared: forgotten, on disk too.
    expect(s.clear(task.id)).toEqual({ cleared: task.id });
    expect(s.listTasks().map((t) => t.id)).not.toContain(task.id);
    expect(() => s.clear(task.id)).toThrow(/No model task/);
    await s.close();
  });

  it('cancelling while a downloaded folder is being installed keeps the verified files: resume installs without fetching again', async () => {
    const seen: ModelTask[] = [];
    let cancelled = false;
    const { store: s, modelsDir } = store('cancel-install', {
      onTask: (t) => {
        seen.push(t);
        // The moment the install starts hashing the verified download: the user presses Cancel.
        if (!cancelled && t.phase === 'Verifying') {
          cancelled = true;
          s.cancel(t.id);
        }
      },
    });
    const task = s.startPull('test/tiny-diffusers', 'kept');
    await until(() => ['cancelled', 'done', 'failed'].includes(last(seen, task.id)?.state ?? ''));
    expect(last(seen, task.id)).toMatchObject({ state: 'cancelled', resumable: true });
    // Everything fetched is still in the download folder; nothing half-installed, no staging left.
    expect(fs.existsSync(path.join(modelsDir, '.downloads', task.id, 'unet', 'diffusion_pytorch_model.fp16.safetensors'))).toBe(true);
    expect(fs.existsSync(path.join(modelsDir, 'kept'))).toBe(false);
    expect(fs.readdirSync(path.join(modelsDir, '.staging'))).toEqual([]);
    hub.requests.length = 0;
    s.resume(task.id);
    await until(() => ['done', 'failed'].includes(last(seen, task.id)?.state ?? ''));
    expect(last(seen, task.id)!.state).toBe('done');
    expect(hub.requests.filter((r) => r.url.includes('/resolve/'))).toEqual([]);
    expect(s.list().models.map((m) => m.name)).toEqual(['kept']);
    await s.close();
  });

  it('imports run as tasks too, with progress and notes', async () => {
    const { store: s, tasks } = store('import-task');
    const file = path.join(root, 'import-task.safetensors');
    fs.writeFileSync(file, checkpointBytes);
    const task = s.startImport({ source: file, name: 'imported', tokenizerDir: path.join(onnxDir, 'tokenizer') });
    await until(() => ['done', 'failed'].includes(last(tasks, task.id)?.state ?? ''));
    expect(last(tasks, task.id)).toMatchObject({ state: 'done', phase: 'Installed' });
    expect(tasks.some((t) => t.id === task.id && t.phase === 'Converting')).toBe(true);
    await s.close();
  });
});
