/**
 * The core refuses what the forms refuse, before anything is queued or written: sizes, `--ar`
 * ratios, LoRA names (checked against the installed LoRAs) and export name tokens are a clear
 * invalid_input in the designer's words, never a 500, a silent clamp or jobs dropped halfway; the
 * technical form goes to the log. Real catalogue, real files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type GenerationSettings, type Job } from './api/index.js';
import { resolveConfig } from './config.js';
import { createRpc, type Rpc } from './rpc.js';
import { createServices, type Services } from './services.js';

let root: string;
let services: Services;
let rpc: Rpc;
let projectId: number;

const settings: GenerationSettings = {
  model: 'tiny-sd',
  sampler: 'Euler',
  steps: 4,
  cfg: 7,
  width: 512,
  height: 512,
  batchSize: 2,
  loraWeight: 0.8,
  aspect: '1:1',
};

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-field-checks-'));
  const modelsDir = path.join(root, 'models');
  // The queue checks that the model and the LoRAs are installed; nothing runs (no shell started the queue).
  fs.mkdirSync(path.join(modelsDir, 'tiny-sd'), { recursive: true });
  fs.writeFileSync(path.join(modelsDir, 'tiny-sd', 'model_index.json'), '{}');
  fs.mkdirSync(path.join(modelsDir, 'loras'));
  fs.writeFileSync(path.join(modelsDir, 'loras', 'FluxPortraitTrainer.safetensors'), '');
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data'), projectsDir: path.join(root, 'projects'), modelsDir }));
  rpc = createRpc(services, 'browser');
  projectId = services.projects.create({ name: 'Teal drop' }).id;
});

afterEach(async () => {
  vi.restoreAllMocks();
  try {
    await services.close();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

async function failure(method: string, input: object): Promise<ApiError> {
  const caught = await rpc.invoke(method, input).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(caught, `${method} should have failed`).toBeInstanceOf(ApiError);
  return caught as ApiError;
}

const queued = (): Job[] => services.queue.list(projectId);
const add = (patch: object) => ({ projectId, prompt: 'teal glass', negativePrompt: '', settings, batches: 3, ...patch });

describe('queue.add', () => {
  it.each([
    [99999, 'Width must be a multiple of 64 from 64 to 2048 px — use 2048?'],
    [0, 'Width must be a multiple of 64 from 64 to 2048 px — use 64?'],
    [-64, 'Width must be a multiple of 64 from 64 to 2048 px — use 64?'],
    [577, 'Width must be a multiple of 64 from 64 to 2048 px — use 576?'],
  ])('refuses width %d with the nearest size, and queues nothing (it was clamped, then failed)', async (width, message) => {
    const error = await failure('queue.add', add({ settings: { ...settings, width } }));
    expect(error.toJSON()).toEqual({ code: 'invalid_input', message, field: 'settings.width' });
    expect(queued()).toEqual([]);
  });

  it('refuses a LoRA that is not installed, offering the closest installed one (three jobs failed later)', async () => {
    const nope = await failure('queue.add', add({ prompt: '<lora:nope:1>, teal glass' }));
    expect(nope.toJSON()).toEqual({
      code: 'invalid_input',
      message: 'Prompt: no LoRA named "nope" is installed (installed: FluxPortraitTrainer)',
      field: 'prompt',
    });
    expect((await failure('queue.add', add({ prompt: '<lora:FluxPortrait:0.8>, teal glass' }))).message).toBe(
      'Prompt: no LoRA named "FluxPortrait" is installed — use FluxPortraitTrainer?',
    );
    expect((await failure('queue.add', add({ prompt: '<lora:FluxPortraitTrainer:abc>, teal' }))).message).toMatch(
      /^Prompt: LoRA tag <lora:FluxPortraitTrainer:abc> at character 1: the weight "abc" is not a number/,
    );
    expect(queued()).toEqual([]);
    // Installed names pass, in any case, as the engine resolves them.
    const jobs = (await rpc.invoke('queue.add', add({ prompt: '<lora:fluxportraittrainer:0.8>, teal glass' }))) as Job[];
    expect(jobs).toHaveLength(3);
  });

  it('logs the technical form of a refused input; the message is the app’s', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const error = await failure('projects.create', { name: '  ' });
    expect(error.message).toBe('Give the project a name');
    expect(warn).toHaveBeenCalledWith('onbrand: refused projects.create: name: must not be empty');
  });
});

describe('prompt.queue', () => {
  const prompts = (third: string) => ({
    projectId,
    prompts: ['teal shapes --ar 16:9', 'amber rim light', third],
    negativePrompt: '',
    settings,
    batches: 1,
  });

  it('refuses a prompt whose --ar makes a size the queue cannot take, and queues none (it was an HTTP 500 after dropping jobs)', async () => {
    const error = await failure('prompt.queue', prompts('glass tower --ar 1:99'));
    expect(error.toJSON()).toEqual({
      code: 'invalid_input',
      message: 'Prompt 3 ("glass tower --ar 1:99"): --ar 1:99 makes 64×5120 px; the height must be at most 2048 px — use --ar 1:16?',
      field: 'prompts.2',
    });
    expect(queued()).toEqual([]);
  });

  it('refuses a prompt with an unknown LoRA before queueing any of them', async () => {
    const error = await failure('prompt.queue', prompts('<lora:nope:1>, glass tower'));
    expect(error.toJSON()).toEqual({
      code: 'invalid_input',
      message: 'Prompt 3 ("<lora:nope:1>, glass tower"): no LoRA named "nope" is installed (installed: FluxPortraitTrainer)',
      field: 'prompts.2',
    });
    expect(queued()).toEqual([]);
  });
});

describe('prompt.expand', () => {
  it.each([
    ['{teal|magenta} glow --ar 9:0', 'Template, character 21: --ar must be W:H with both sides from 1 to 99 (like 9:16), not "9:0"'],
    [
      '{teal|magenta} glow --ar 1:99',
      'Template, character 21: --ar 1:99 makes 64×5120 px; the height must be at most 2048 px — use --ar 1:16?',
    ],
  ])('refuses %s at preview, as the queue would', async (template, message) => {
    const error = await failure('prompt.expand', { template, projectId });
    expect(error.toJSON()).toEqual({ code: 'invalid_input', message, field: 'template' });
  });
});

describe('export.run', () => {
  it('refuses an unknown name token, naming the known ones, before writing anything (it became "nope-")', async () => {
    const dir = path.join(root, 'out');
    const error = await failure('export.run', {
      projectId,
      target: 'folder',
      selection: { kind: 'picks' },
      dir,
      nameTemplate: '{nope}_{seed}.jpg',
    });
    expect(error.toJSON()).toEqual({
      code: 'invalid_input',
      message: 'Name template: {nope} is not a token; the tokens are {yyyymmdd}, {section}, {colour}, {seed}, {rating}, {index}, {project}',
      field: 'nameTemplate',
    });
    expect(
      (await failure('export.run', { projectId, target: 'folder', selection: { kind: 'picks' }, dir, nameTemplate: '{color}_{seed}' }))
        .message,
    ).toMatch(/— use \{colour\}\?$/);
    // The exporter itself refuses it too (callers inside the core skip the contract).
    await expect(
      services.exporter.run({ projectId, target: 'folder', selection: { kind: 'picks' }, dir, nameTemplate: '{seed' }),
    ).rejects.toMatchObject({ code: 'invalid_input', field: 'nameTemplate', message: 'Name template, character 1: "{" is never closed' });
    expect(fs.existsSync(dir)).toBe(false);
  });
});
