/**
 * Draft and Refine in the queue (issue 19), with the real engine in its worker thread (the built
 * dist/ worker) and a tiny model: a draft job marked as such, a refine from the draft's seed at full
 * settings, an img2img refine from the draft image itself (its file found by the core inside the
 * project folder), and the refusals: an image of another project, a missing file, a link out of
 * the project folder, a strength out of range.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BRAND_LOOP_PRESET, requests, type GenerationSettings, type Job } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { parseParameters } from '../diffusion/index.js';
import { writeTinySd } from '../diffusion/testing/tiny-sd.js';
import { createServices, type Services } from '../services.js';
import { appPackage } from '../util/index.js';

const ROOT = appPackage().root;
let models: string;
const open: Services[] = [];

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'main', 'core', 'jobs', 'worker.js')))
    throw new Error('Build first (npm run build): the queue runs the built worker.');
  models = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-refine-models-'));
  writeTinySd(path.join(models, 'tiny-sd'));
});

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

function workspace(): Services {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-refine-'));
  const services = createServices(resolveConfig({ dataDir, modelsDir: models }), { provider: 'cpu' });
  open.push(services);
  return services;
}

const full: GenerationSettings = { ...BRAND_LOOP_PRESET.settings, model: 'tiny-sd', width: 64, height: 64, steps: 4, batchSize: 1 };
const fast: GenerationSettings = { ...full, sampler: 'LCM', scheduleType: 'SGM Uniform', steps: 2, cfg: 1.5, batchSize: 2 };

/** The A1111 pairs of an image's parameters. */
function values(services: Services, imageId: number): Record<string, string> {
  return parseParameters(services.images.parameters(imageId)!).values;
}

/** A project with one finished draft job of two images (seeds 50 and 51). */
async function withDrafts(services: Services, name = 'Drafts'): Promise<{ projectId: number; folder: string; draft: Job }> {
  const project = services.projects.create({ name });
  services.queue.start();
  const [draft] = services.queue.add(project.id, 'portrait, teal light', 'text', fast, 1, 50, { draft: true });
  await services.queue.whenIdle();
  return { projectId: project.id, folder: project.folder, draft: draft! };
}

describe('Draft and Refine in the queue', () => {
  it('marks a draft job; Refine makes the draft again from its seed at full settings, batch 1, recording the draft', async () => {
    const services = workspace();
    const { projectId, draft } = await withDrafts(services);
    expect(services.queue.list(projectId)[0]).toMatchObject({ id: draft.id, draft: true, state: 'done', imagesDone: 2 });
    const second = services.images.list(projectId).find((i) => i.seed === 51)!;
    expect(values(services, second.id)).toMatchObject({ Sampler: 'LCM', Steps: '2', 'CFG scale': '1.5', Seed: '51' });

    const [refine] = services.queue.add(projectId, 'portrait, teal light', 'text', full, 1, 51, { refines: second.id });
    await services.queue.whenIdle();
    expect(services.queue.list(projectId).find((j) => j.id === refine!.id)).toMatchObject({
      state: 'done',
      draft: false,
      refines: second.id,
      init: null,
      imagesDone: 1,
    });
    const refined = services.images.list(projectId).find((i) => i.jobId === refine!.id)!;
    const params = values(services, refined.id);
    expect(params).toMatchObject({ Sampler: 'DPM++ 2M Karras', Steps: '4', 'CFG scale': '7', Seed: '51', Size: '64x64' });
    expect(params['Denoising strength']).toBeUndefined();
  });

  it('refines as img2img from the draft image at the strength given (the image it starts from changes the result)', async () => {
    const services = workspace();
    const { projectId } = await withDrafts(services);
    const [a, b] = services.images.list(projectId).sort((x, y) => x.seed! - y.seed!);
    // The same seed and settings from two different start images: only the start image differs.
    const jobs = [a!, b!].map(
      (start) =>
        services.queue.add(projectId, 'portrait, teal light', 'text', full, 1, 7, {
          refines: start.id,
          init: { imageId: start.id, strength: 0.5 },
        })[0]!,
    );
    await services.queue.whenIdle();
    const made = jobs.map((job) => {
      expect(services.queue.list(projectId).find((j) => j.id === job.id)).toMatchObject({ state: 'done', init: { strength: 0.5 } });
      return services.images.list(projectId).find((i) => i.jobId === job.id)!;
    });
    for (const image of made) expect(values(services, image.id)).toMatchObject({ 'Denoising strength': '0.5', Seed: '7', Steps: '4' });
    expect(fs.readFileSync(made[0]!.path).equals(fs.readFileSync(made[1]!.path))).toBe(false);
  });

  it('refuses a start image of another project, one whose file is gone or a link out of the project, and a strength out of 0.05–1', async () => {
    const services = workspace();
    const { projectId, folder } = await withDrafts(services);
    const other = services.projects.create({ name: 'Other' });
    const [image, second] = services.images.list(projectId);
    expect(() => services.queue.add(other.id, 'p', '', full, 1, 1, { init: { imageId: image!.id, strength: 0.5 } })).toThrow(
      `The image to start from (image ${image!.id}) is not in this project's catalogue any more.`,
    );
    expect(() => services.queue.add(other.id, 'p', '', full, 1, 1, { refines: image!.id })).toThrow(/The draft to refine/);

    // A link that leads out of the project folder is refused, when queued and when run.
    const outside = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-outside-')), 'secret.png');
    fs.copyFileSync(second!.path, outside);
    fs.rmSync(second!.path);
    fs.symlinkSync(outside, second!.path);
    expect(() => services.queue.add(projectId, 'p', '', full, 1, 1, { init: { imageId: second!.id, strength: 0.5 } })).toThrow(
      `The image to start from, ${second!.fileName}, is outside the project folder.`,
    );

    // Queued while the file was there, gone when the job runs: the job fails and says why.
    services.queue.pause();
    const [job] = services.queue.add(projectId, 'p', '', full, 1, 1, { init: { imageId: image!.id, strength: 0.5 } });
    fs.rmSync(image!.path);
    services.queue.resume();
    await services.queue.whenIdle();
    expect(services.queue.list(projectId).find((j) => j.id === job!.id)).toMatchObject({
      state: 'failed',
      error: `The image to start from, ${image!.fileName}, is missing from the project folder.`,
    });
    expect(fs.existsSync(folder)).toBe(true);

    const input = { projectId, prompt: 'p', negativePrompt: '', settings: full, batches: 1 };
    const strength = requests['queue.add'].input.safeParse({ ...input, init: { imageId: 1, strength: 0.01 } });
    expect(strength.success).toBe(false);
    expect(strength.error!.issues[0]).toMatchObject({ path: ['init', 'strength'], message: 'must be from 0.05 to 1' });
    expect(requests['queue.add'].input.safeParse({ ...input, draft: true, refines: 3, init: { imageId: 3, strength: 1 } }).success).toBe(
      true,
    );
  });
});
