/**
 * `prompt.queue` through the rpc, on a real catalogue: every prompt's own `--ar` is read and its
 * size checked before the first job is queued, so one bad prompt is a clear invalid_input that
 * names it and the flag, and nothing is queued (it was an HTTP 500 after the prompts before it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-prompt-queue-'));
  const modelsDir = path.join(root, 'models');
  // The queue only checks that the model is installed; nothing runs (no shell started the queue).
  fs.mkdirSync(path.join(modelsDir, 'tiny-sd'), { recursive: true });
  fs.writeFileSync(path.join(modelsDir, 'tiny-sd', 'model_index.json'), '{}');
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data'), projectsDir: path.join(root, 'projects'), modelsDir }));
  rpc = createRpc(services, 'browser');
  projectId = services.projects.create({ name: 'Teal drop' }).id;
});

afterEach(async () => {
  try {
    await services.close();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

async function failure(input: object): Promise<ApiError> {
  const caught = await rpc.invoke('prompt.queue', input).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(caught, 'prompt.queue should have failed').toBeInstanceOf(ApiError);
  return caught as ApiError;
}

const queued = (): Job[] => services.queue.list(projectId);

describe('prompt.queue', () => {
  it('queues each prompt with its own --ar size', async () => {
    const jobs = (await rpc.invoke('prompt.queue', {
      projectId,
      prompts: ['teal shapes --ar 16:9', 'amber rim light'],
      negativePrompt: '',
      settings,
      batches: 1,
      seed: 7,
    })) as Job[];
    expect(jobs.map((j) => [j.prompt, j.settings.width, j.settings.height, j.settings.aspect])).toEqual([
      ['teal shapes', 1024, 576, '16:9'],
      ['amber rim light', 512, 512, '1:1'],
    ]);
  });

  it("gives --ar the selected model's family size (SDXL's buckets) and marks drafts (issue 19)", async () => {
    const xl = path.join(services.config.modelsDir, 'tiny-xl');
    fs.mkdirSync(path.join(xl, 'unet'), { recursive: true });
    fs.writeFileSync(path.join(xl, 'model_index.json'), '{}');
    fs.writeFileSync(path.join(xl, 'unet', 'config.json'), JSON.stringify({ cross_attention_dim: 2048 }));
    fs.writeFileSync(path.join(xl, 'onbrand-model.json'), JSON.stringify({ format: 'onbrand-model', family: 'sdxl', files: {} }));
    const jobs = (await rpc.invoke('prompt.queue', {
      projectId,
      prompts: ['teal shapes --ar 9:16', 'amber rim light --ar 4:5'],
      negativePrompt: '',
      settings: { ...settings, model: 'tiny-xl' },
      batches: 1,
      draft: true,
    })) as Job[];
    expect(jobs.map((j) => [j.settings.width, j.settings.height, j.draft])).toEqual([
      [768, 1344, true],
      [896, 1152, true],
    ]);
  });

  it.each([
    ['--ar 0:0', '"0:0"'],
    ['--ar 9:0', '"9:0"'],
    ['--ar wide', '"wide"'],
    ['--ar', '""'],
    ['--ar 9:16 at dusk', 'must come last'],
  ])('a prompt with %s is invalid_input naming the prompt and the flag, and nothing is queued', async (flag, said) => {
    const error = await failure({
      projectId,
      prompts: ['teal shapes --ar 16:9', 'amber rim light', `glass tower ${flag}`],
      negativePrompt: '',
      settings,
      batches: 2,
    });
    expect(error.code).toBe('invalid_input');
    expect(error.field).toBe('prompts.2');
    expect(error.message).toContain('Prompt 3 ("glass tower');
    expect(error.message).toContain('--ar');
    expect(error.message).toContain(said);
    expect(queued()).toEqual([]);
  });

  it('an --ar whose size is past the limits is refused by its size, before any prompt is queued', async () => {
    const error = await failure({
      projectId,
      prompts: ['teal shapes', 'a long banner --ar 20:1'],
      negativePrompt: '',
      settings,
      batches: 1,
    });
    expect(error.code).toBe('invalid_input');
    expect(error.field).toBe('prompts.1');
    expect(error.message).toBe(
      'Prompt 2 ("a long banner --ar 20:1"): --ar 20:1 makes 2304×128 px; the width must be at most 2048 px — use --ar 16:1?',
    );
    expect(queued()).toEqual([]);
  });
});
