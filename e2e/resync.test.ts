/**
 * The browser host's window after its event stream breaks, in Debian's Chromium: a job that
 * finishes while the stream is cut (the host restarted, the network dropped) or while the socket
 * looks open but carries nothing (a laptop that slept) shows done once the stream is back, with its
 * images in the grid, instead of "queued" or "running" forever. The page's WebSocket goes through
 * Playwright's WebSocket routing, which lets the test cut it, or silence it, as those breaks do;
 * the job itself runs in the real host with a tiny Stable Diffusion model.
 */
import path from 'node:path';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, Project } from '../src-main/core/api/index.js';
import { writeTinySd } from '../src-main/core/diffusion/testing/tiny-sd.js';
import { callApi, createProjectByKeyboard, launchBrowser, startApp, tempDir, watchErrors, type RunningApp } from './support/app.js';

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let project: Project;

/**
 * What the routed sockets do now: `forward` both ways; `refuse` opens in the page but has no host
 * behind it (no hello, no events) until the test closes it. A socket that has been silenced
 * (`silence()`) stays silent: it looks open to the page and carries nothing, like one that slept.
 */
let mode: 'forward' | 'refuse' = 'forward';
const sockets: { route: WebSocketRoute; silent: boolean; live: boolean }[] = [];

beforeAll(async () => {
  const data = tempDir('resync');
  const modelsDir = path.join(data, 'models');
  writeTinySd(path.join(modelsDir, 'tiny-sd'));
  app = await startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', path.join(data, 'app')], { ONBRAND_MODELS_DIR: modelsDir });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  errors = watchErrors(page);
  // Time flows as usual; `fastForward` jumps it, as a closed laptop lid does.
  await page.clock.install();
  await page.routeWebSocket(/\/api\/events/, (route) => {
    const socket = { route, silent: false, live: mode === 'forward' };
    sockets.push(socket);
    if (!socket.live) return;
    const server = route.connectToServer();
    server.onMessage((message) => {
      if (!socket.silent) route.send(message);
    });
    route.onMessage((message) => server.send(message));
  });
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const api = <T>(method: string, input: object): Promise<T> => callApi<T>(app, method, input);
const jobRow = (id: number) => page.locator(`[data-testid="job"][data-job-id="${id}"]`);
const eventsState = (): Promise<string | null> => page.evaluate(() => document.documentElement.dataset.events ?? null);

/** Queues one small job on a paused queue; returns it once the queue panel shows it queued. */
async function queuePausedJob(seed: number): Promise<Job> {
  await api('queue.pause', {});
  const settings = {
    model: 'tiny-sd',
    sampler: 'Euler',
    steps: 4,
    cfg: 7,
    width: 64,
    height: 64,
    batchSize: 2,
    loraWeight: 0.8,
    aspect: '1:1',
  };
  const [job] = await api<Job[]>('queue.add', {
    projectId: project.id,
    prompt: `teal shape ${seed}`,
    negativePrompt: '',
    settings,
    batches: 1,
    seed,
  });
  await expect.poll(() => jobRow(job!.id).getAttribute('data-state')).toBe('queued');
  return job!;
}

/** Resumes the queue and waits, through the API, until the job is done in the host. */
async function runInHost(job: Job): Promise<void> {
  await api('queue.resume', {});
  await expect
    .poll(async () => (await api<Job[]>('queue.list', { projectId: project.id })).find((j) => j.id === job.id)?.state, { timeout: 60_000 })
    .toBe('done');
}

describe('after the event stream breaks', () => {
  it('opens a project with the queue panel showing', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await createProjectByKeyboard(page, 'Night shift');
    project = (await api<Project[]>('projects.list', {})).find((p) => p.name === 'Night shift')!;
    await page.keyboard.press('Control+g');
    await page.getByTestId('queue-panel').waitFor();
    await expect.poll(eventsState).toBe('connected');
  });

  it('a job that finished while the socket was cut shows done once it is back, with its images', async () => {
    const job = await queuePausedJob(11);
    // The host goes away (restart, network): the socket closes and the page's retries find nothing.
    mode = 'refuse';
    for (const socket of sockets) if (socket.live) await socket.route.close();
    await expect.poll(eventsState).toBe('disconnected');
    await expect.poll(() => sockets.some((s) => !s.live)).toBe(true);

    await runInHost(job);
    // Every event of the run was lost: the window still shows it queued.
    expect(await jobRow(job.id).getAttribute('data-state')).toBe('queued');
    expect(await page.getByTestId('image-count').textContent()).toBe('0 images');

    // The host is back: the page's next try reaches it.
    mode = 'forward';
    for (const socket of sockets.filter((s) => !s.live)) await socket.route.close();
    await expect.poll(eventsState, { timeout: 20_000 }).toBe('connected');
    await expect.poll(() => jobRow(job.id).getAttribute('data-state'), { timeout: 10_000 }).toBe('done');
    await expect.poll(() => jobRow(job.id).getByTestId('job-count').textContent()).toBe('2 of 2 images');
    await expect.poll(() => page.getByTestId('image-count').textContent(), { timeout: 10_000 }).toBe('2 images');
    // The queue was resumed while away: the status bar says so too.
    await expect.poll(() => page.getByTestId('engine-status').getAttribute('data-state')).not.toBe('paused');
  });

  it('a job that finished while the machine slept (the socket open, carrying nothing) shows done on waking', async () => {
    const job = await queuePausedJob(23);
    // Asleep: the socket is neither closed nor carrying anything, and the page cannot tell.
    for (const socket of sockets) socket.silent = true;
    await runInHost(job);
    expect(await jobRow(job.id).getAttribute('data-state')).toBe('queued');
    expect(await eventsState()).toBe('connected');

    // The lid opens a minute later: the page's timers find the gap and it connects again.
    await page.clock.fastForward('01:00');
    await expect.poll(() => jobRow(job.id).getAttribute('data-state'), { timeout: 20_000 }).toBe('done');
    await expect.poll(() => page.getByTestId('image-count').textContent(), { timeout: 10_000 }).toBe('4 images');
    expect(sockets.filter((s) => s.live && !s.silent)).toHaveLength(1);
    expect(errors).toEqual([]);
  });
});
