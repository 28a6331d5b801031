/**
 * Settings → GPU backends in Debian's Chromium through the browser host, against an imitation
 * ComfyUI server on 127.0.0.1 started by this test: a server added from the keyboard through the
 * form answers with what it has (its checkpoint), Test shows its version and free VRAM, the
 * header's value is never shown back, a plain http:// address to another machine is refused with
 * the warning beside the address until "Allow plain http" is ticked, a wrong "images at once" is
 * named beside its field, a change made elsewhere shows at once (`backends.updated`), the server is
 * removed after a confirmation, this computer's engine is switched off and on, and a server that
 * fails three images in a row shows as paused with the reason until Resume.
 * Screenshots: e2e/artifacts/backends.png (the list, with a test's answer), e2e/artifacts/backends-form.png (the refused address), e2e/artifacts/backends-paused.png.
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendView } from '../src-main/core/api/index.js';
import { startComfyImitation, writeTinySdLora } from '../src-main/core/backends/testing/comfy-imitation.js';
import { writeTinySd } from '../src-main/core/diffusion/testing/tiny-sd.js';
import { callApi, openHost, screenshot, tempDir, type RunningApp } from './support/app.js';

const TOKEN = 'Bearer e2e-proxy-token-4f1c';

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let comfy: Awaited<ReturnType<typeof startComfyImitation>>;
let broken: Awaited<ReturnType<typeof startComfyImitation>>;

beforeAll(async () => {
  const dir = tempDir('backends');
  const models = path.join(dir, 'models');
  writeTinySd(path.join(models, 'tiny-sd'));
  // Behind a "reverse proxy": every request must carry the Authorization header (401 otherwise).
  comfy = await startComfyImitation({
    checkpoints: { 'tiny-sd.safetensors': path.join(models, 'tiny-sd') },
    loras: { 'Brand.safetensors': writeTinySdLora(path.join(dir, 'Brand.safetensors'), 3) },
    headers: { Authorization: TOKEN },
    dir: path.join(dir, 'comfy'),
  });
  // Lists the checkpoint but cannot load it: every image sent to it fails there.
  broken = await startComfyImitation({ checkpoints: { 'tiny-sd.safetensors': path.join(dir, 'missing-model') }, loras: {} });
  ({ app, browser, page, errors } = await openHost(path.join(dir, 'app'), { ONBRAND_MODELS_DIR: models }));
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await comfy?.close();
  await broken?.close();
});

const api = <T>(method: string, input: object): Promise<T> => callApi<T>(app, method, input);
const settings = () => page.getByRole('dialog', { name: 'Settings' });
const section = () => settings().getByTestId('backends');
const row = (name: string) => section().locator(`[data-testid="backend"][data-backend="${name}"]`);
const form = () => section().getByTestId('backend-form');
const listed = async (name: string): Promise<BackendView | undefined> =>
  (await api<BackendView[]>('backends.list', {})).find((b) => b.name === name);

describe('GPU backends in Settings', () => {
  it('lists this computer in Settings → GPU backends', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await page.keyboard.press('Control+,');
    await settings().waitFor();
    await expect.poll(() => row('local').getByTestId('backend-state').textContent()).toBe('idle');
    await expect.poll(() => row('local').textContent()).toContain('This computer');
    expect(await row('local').getByRole('switch', { name: 'Make images on this computer' }).isChecked()).toBe(true);
  });

  it('adds a ComfyUI server from the keyboard; it answers with what it has, and its header (which the server requires) shows only as "set"', async () => {
    const add = section().getByRole('button', { name: 'Add ComfyUI server…' });
    await add.focus();
    await page.keyboard.press('Enter');
    await form().waitFor();
    // The form opens on its first field, Name; Tab goes on to the address, the header's name and value, images at once, cost.
    await expect.poll(() => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.id ?? '')).toMatch(/name$/);
    await page.keyboard.type('studio-1');
    await page.keyboard.press('Tab');
    await page.keyboard.type(comfy.url);
    await page.keyboard.press('Tab');
    await page.keyboard.type('Authorization');
    await page.keyboard.press('Tab');
    await page.keyboard.type(TOKEN);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+a');
    await page.keyboard.type('2');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+a');
    await page.keyboard.type('1.5');
    await page.keyboard.press('Enter');

    await form().waitFor({ state: 'detached' });
    await expect
      .poll(() => section().getByTestId('backends-outcome').textContent())
      .toContain('Saved studio-1: it has 1 checkpoint and 1 LoRA');
    await expect.poll(() => row('studio-1').getByTestId('backend-state').textContent()).toBe('idle');
    await expect.poll(() => row('studio-1').getByTestId('backend-has').textContent()).toBe('has 1 checkpoint, 1 LoRA');
    expect(await row('studio-1').getByTestId('backend-has').getAttribute('title')).toBe(
      'Checkpoints: tiny-sd.safetensors\nLoRAs: Brand.safetensors',
    );
    await expect.poll(() => row('studio-1').getByTestId('backend-concurrency').textContent()).toBe('2 images at once');
    expect(await row('studio-1').textContent()).toContain('$1.50 per GPU hour');
    expect(await row('studio-1').textContent()).toContain('header Authorization: set');
    expect(await listed('studio-1')).toMatchObject({ url: comfy.url, concurrency: 2, ratePerHour: 1.5, headerNames: ['Authorization'] });
    // The header's value went to the key store: never into the page, never into an answer.
    expect(await page.content()).not.toContain(TOKEN);
    expect(JSON.stringify(await api('backends.list', {}))).not.toContain(TOKEN);
  });

  it('Test shows the server’s version, GPUs with free VRAM, and what it has', async () => {
    await row('studio-1').getByRole('button', { name: 'Test studio-1' }).click();
    const result = row('studio-1').getByTestId('backend-test');
    await expect.poll(() => result.textContent()).toMatch(/ComfyUI \S+, answered in \d+ ms/);
    expect(await result.textContent()).toMatch(/GiB free of \d+\.\d GiB/);
    expect(await result.textContent()).toContain('Checkpoints (1): tiny-sd.safetensors');
    expect(await result.textContent()).toContain('LoRAs (1): Brand.safetensors');
    await row('studio-1').scrollIntoViewIfNeeded();
    await screenshot(page, 'backends');
  });

  it('refuses plain http to another machine, with the warning beside the address, until "Allow plain http" is ticked', async () => {
    await section().getByRole('button', { name: 'Add ComfyUI server…' }).click();
    await form().getByLabel('Name', { exact: true }).fill('far-box');
    await form().getByLabel('Address', { exact: true }).fill('http://192.0.2.1:8188');
    await form().getByRole('button', { name: 'Add server' }).click();
    const address = form().getByLabel('Address', { exact: true });
    await expect.poll(() => address.getAttribute('aria-invalid')).toBe('true');
    const message = form().locator(`#${await address.getAttribute('aria-describedby')}`);
    await expect.poll(() => message.textContent()).toContain('ComfyUI has no login of its own');
    expect(await message.textContent()).toContain('HTTPS reverse proxy');
    expect(await form().getByTestId('plain-http-warning').textContent()).toContain('HTTPS reverse proxy');
    expect(await listed('far-box')).toBeUndefined();
    await address.scrollIntoViewIfNeeded();
    await screenshot(page, 'backends-form');

    await form().getByLabel('Allow plain http to another machine').check();
    await expect.poll(() => address.getAttribute('aria-invalid')).toBe(null);
    await form().getByRole('button', { name: 'Add server' }).click();
    // Saved; no server answers at that address (a documentation address), so it shows as not answering.
    await form().waitFor({ state: 'detached', timeout: 60_000 });
    expect(await listed('far-box')).toMatchObject({ url: 'http://192.0.2.1:8188', allowInsecure: true });
    await expect.poll(() => row('far-box').getByTestId('backend-state').textContent(), { timeout: 60_000 }).toBe('not answering');
    expect(await row('far-box').getByTestId('backend-reason').textContent()).toContain('192.0.2.1');

    // Removed after a confirmation (Keep first leaves it).
    await row('far-box').getByRole('button', { name: 'Remove far-box…' }).click();
    await row('far-box').getByRole('button', { name: 'Keep' }).click();
    expect(await listed('far-box')).toBeDefined();
    await row('far-box').getByRole('button', { name: 'Remove far-box…' }).click();
    await row('far-box').getByRole('button', { name: 'Remove far-box', exact: true }).click();
    await row('far-box').waitFor({ state: 'detached' });
    expect(await listed('far-box')).toBeUndefined();
  });

  it('edits how many images the server takes at once; a wrong number is named beside its field', async () => {
    await row('studio-1').getByRole('button', { name: 'Edit studio-1' }).click();
    const atOnce = form().getByLabel('Images at once');
    expect(await atOnce.inputValue()).toBe('2');
    expect(await form().getByTestId('backend-header-state').textContent()).toBe('set');
    await atOnce.fill('9');
    await form().getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => atOnce.getAttribute('aria-invalid')).toBe('true');
    const message = form().locator(`#${await atOnce.getAttribute('aria-describedby')}`);
    await expect.poll(() => message.textContent()).toContain('at most 8');
    expect((await listed('studio-1'))?.concurrency).toBe(2);

    await atOnce.fill('3');
    await form().getByRole('button', { name: 'Save', exact: true }).click();
    await form().waitFor({ state: 'detached' });
    await expect.poll(() => row('studio-1').getByTestId('backend-concurrency').textContent()).toBe('3 images at once');
    // The header was kept (its value was not typed again).
    expect(await listed('studio-1')).toMatchObject({ concurrency: 3, headerNames: ['Authorization'] });
  });

  it('shows a change made elsewhere at once (backends.updated)', async () => {
    await api('backends.save', { name: 'studio-1', url: comfy.url, concurrency: 5 });
    await expect.poll(() => row('studio-1').getByTestId('backend-concurrency').textContent()).toBe('5 images at once');
  });

  it('switches this computer’s engine off and on', async () => {
    const engine = row('local').getByRole('switch', { name: 'Make images on this computer' });
    await engine.focus();
    await page.keyboard.press('Space');
    await expect.poll(() => row('local').getByTestId('backend-state').textContent()).toBe('off');
    expect((await listed('local'))?.enabled).toBe(false);
    expect(await engine.isChecked()).toBe(false);
    await engine.click();
    await expect.poll(() => row('local').getByTestId('backend-state').textContent()).toBe('idle');
    expect((await listed('local'))?.enabled).toBe(true);
  });

  it('removes the server after a confirmation', async () => {
    await row('studio-1').getByRole('button', { name: 'Remove studio-1…' }).click();
    await row('studio-1').getByRole('button', { name: 'Remove studio-1', exact: true }).click();
    await row('studio-1').waitFor({ state: 'detached' });
    expect((await api<BackendView[]>('backends.list', {})).map((b) => b.name)).toEqual(['local']);
  });

  it('shows a server that failed three images in a row as paused with the reason; Resume sends it images again', async () => {
    await api('backends.save', { name: 'broken-box', url: broken.url });
    await expect.poll(() => row('broken-box').getByTestId('backend-state').textContent()).toBe('idle');
    const project = await api<{ id: number }>('projects.create', { name: 'Paused server' });
    await api('queue.add', {
      projectId: project.id,
      prompt: 'portrait, teal light',
      negativePrompt: '',
      settings: {
        model: 'tiny-sd',
        sampler: 'Euler a',
        steps: 2,
        cfg: 6.5,
        width: 64,
        height: 64,
        batchSize: 5,
        loraWeight: 0.8,
        aspect: '1:1',
      },
      batches: 1,
      seed: 40,
    });
    const state = row('broken-box').getByTestId('backend-state');
    await expect.poll(() => state.textContent(), { timeout: 90_000 }).toBe('paused');
    expect(await row('broken-box').getByTestId('backend-reason').textContent()).toMatch(/^Paused after 3 failed images in a row/);
    // This computer made the job's images meanwhile.
    await expect
      .poll(async () => (await api<{ state: string }[]>('queue.list', { projectId: project.id })).map((j) => j.state), { timeout: 90_000 })
      .toEqual(['done']);
    await row('broken-box').scrollIntoViewIfNeeded();
    await screenshot(page, 'backends-paused');
    await row('broken-box').getByRole('button', { name: 'Resume broken-box' }).click();
    await expect.poll(() => state.textContent()).toBe('idle');
    expect(await row('broken-box').getByRole('button', { name: 'Resume broken-box' }).count()).toBe(0);
    expect(await row('broken-box').getByTestId('backend-reason').count()).toBe(0);
    expect((await listed('broken-box'))?.state).toBe('idle');
  });

  it('had no console errors but the two refused saves', () => {
    const refused = errors.filter((e) => /^Failed to load resource: the server responded with a status of 400\b/.test(e));
    expect(refused).toHaveLength(2);
    expect(errors.filter((e) => !refused.includes(e))).toEqual([]);
  });
});
