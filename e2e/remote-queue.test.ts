/**
 * A job made on a ComfyUI server, as the designer sees it in Debian's Chromium through the browser
 * host: the queue card shows the server's progress ("step n/N · ETA … · on gpu-box") and its
 * latent preview, and the images land in the grid like local ones, with A1111 parameters that name
 * the server. The server is an imitation on 127.0.0.1 rendering with the tiny model, slowed per step.
 * Screenshot: e2e/artifacts/remote-queue.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageSummary, Job, Project } from '../src-main/core/api/index.js';
import { startComfyImitation } from '../src-main/core/backends/testing/comfy-imitation.js';
import { parseParameters, readPngText } from '../src-main/core/diffusion/index.js';
import { writeTinySd } from '../src-main/core/diffusion/testing/tiny-sd.js';
import { callApi, createProjectByKeyboard, openHost, screenshot, tempDir, type RunningApp } from './support/app.js';

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let comfy: Awaited<ReturnType<typeof startComfyImitation>>;
let project: Project;

const api = <T>(method: string, input: object): Promise<T> => callApi<T>(app, method, input);

beforeAll(async () => {
  const dir = tempDir('remote-queue');
  const models = path.join(dir, 'models');
  writeTinySd(path.join(models, 'tiny-sd'));
  comfy = await startComfyImitation({ checkpoints: { 'tiny-sd.safetensors': path.join(models, 'tiny-sd') }, stepDelayMs: 120 });
  ({ app, browser, page, errors } = await openHost(path.join(dir, 'app'), { ONBRAND_MODELS_DIR: models }));
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await comfy?.close();
});

describe('a job on a ComfyUI server in the queue panel', () => {
  it('shows the server’s progress and preview on the card, and its images land in the grid', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await createProjectByKeyboard(page, 'Remote');
    project = (await api<Project[]>('projects.list', {})).find((p) => p.name === 'Remote')!;
    await api('backends.local', { enabled: false });
    await api('backends.save', { name: 'gpu-box', url: comfy.url });
    await page.keyboard.press('Control+g');
    await page.getByTestId('queue-panel').waitFor();
    const [job] = await api<Job[]>('queue.add', {
      projectId: project.id,
      prompt: 'portrait, magenta rim light',
      negativePrompt: 'text',
      settings: {
        model: 'tiny-sd',
        sampler: 'DPM++ 2M Karras',
        steps: 8,
        cfg: 7,
        width: 64,
        height: 64,
        batchSize: 2,
        loraWeight: 0.8,
        aspect: '1:1',
      },
      batches: 1,
      seed: 1234,
    });
    const card = page.locator(`[data-testid="job"][data-job-id="${job!.id}"]`);
    await expect
      .poll(() => card.locator('.job-progress-line').textContent(), { timeout: 30_000 })
      .toMatch(/step \d\/8 · ETA .* · on gpu-box/);
    await expect
      .poll(() => card.getByTestId('job-preview').getAttribute('src'), { timeout: 30_000 })
      .toMatch(/^data:image\/(jpeg|png);base64,/);
    await screenshot(page, 'remote-queue');
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    await expect.poll(() => page.getByTestId('image-count').textContent(), { timeout: 10_000 }).toBe('2 images');
    await expect.poll(() => page.locator('.cell').count()).toBe(2);
    const images = await api<ImageSummary[]>('images.list', { projectId: project.id });
    expect(images.map((i) => i.seed).sort()).toEqual([1234, 1235]);
    for (const image of images) {
      const { values } = parseParameters(readPngText(fs.readFileSync(image.path)).parameters!);
      expect(values).toMatchObject({ Seed: String(image.seed), Backend: 'ComfyUI gpu-box', Steps: '8' });
    }
    expect(comfy.prompts).toHaveLength(2);
  });

  it('had no console errors', () => {
    expect(errors).toEqual([]);
  });
});
