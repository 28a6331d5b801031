/**
 * The mood board in Debian's Chromium through the browser host: links dropped on the board (an
 * image and an Open Graph page imitating an Unsplash photo page, served from 127.0.0.1 by this
 * test), a folder added with Add…, each with its palette and credit; the board's palette becomes
 * the brand palette; a reference is reordered and removed. Screenshot: e2e/artifacts/moodboard.png.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project, Reference } from '../src-main/core/api/index.js';
import { deltaE } from '../src-main/core/common/index.js';
import { callApi, createProjectByKeyboard, openHost, screenshot, tempDir, type RunningApp } from './support/app.js';
import { makeImageFolder, type ImageFolder } from './support/images.js';

const FOLDER_COUNT = 3;
/** A new project's palette (the contract's DEFAULT_PALETTE). */
const DEFAULT_BRAND = [
  { name: 'magenta', hex: '#FE2C54' },
  { name: 'teal', hex: '#00E0FF' },
  { name: 'yellow', hex: '#FFD500' },
];

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let folder: ImageFolder;
let server: http.Server;
let base: string;

beforeAll(async () => {
  const magenta = await sharp({ create: { width: 120, height: 80, channels: 3, background: '#FE2C54' } })
    .jpeg()
    .toBuffer();
  const teal = await sharp({ create: { width: 90, height: 160, channels: 3, background: '#00E0FF' } })
    .png()
    .toBuffer();
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (type: string, body: Buffer | string, status = 200): void => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (url.pathname === '/img/magenta.jpg') return send('image/jpeg', magenta);
    if (url.pathname === '/img/teal.png') return send('image/png', teal);
    if (url.pathname === '/photos/neon-portrait-AbC123') {
      return send(
        'text/html; charset=utf-8',
        `<!doctype html><html><head><title>Neon portrait photo by Jane Doe on Unsplash</title>
         <meta property="og:title" content="Photo by Jane Doe on Unsplash">
         <meta property="og:image" content="${base}/img/teal.png?w=1080&amp;q=80">
         </head><body><a href="/@janedoe">Jane Doe</a></body></html>`,
      );
    }
    return send('text/plain', 'not found', 404);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const data = tempDir('moodboard');
  folder = await makeImageFolder(path.join(data, 'unsplash-cache'), FOLDER_COUNT);
  ({ app, browser, page, errors } = await openHost(path.join(data, 'app')));
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

const api = <T>(method: string, input: object): Promise<T> => callApi<T>(app, method, input);

let project: Project;
const refs = (): Promise<Reference[]> => api<Reference[]>('refs.list', { projectId: project.id });
const cardIds = (): Promise<number[]> =>
  page.getByTestId('ref-card').evaluateAll((cards) => cards.map((c) => Number((c as HTMLElement).dataset.refId)));

describe('mood board', () => {
  it('opens the board of a new project with B', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await createProjectByKeyboard(page, 'Mood');
    project = (await api<Project[]>('projects.list', {})).find((p) => p.name === 'Mood')!;
    await page.keyboard.press('b');
    await page.getByTestId('board-empty').waitFor();
    await expect.poll(() => page.getByRole('button', { name: 'Mood board' }).getAttribute('aria-pressed')).toBe('true');
  });

  it('takes links dropped on the board: an image and an Unsplash-like photo page, credited', async () => {
    const uris = [`${base}/img/magenta.jpg`, `${base}/photos/neon-portrait-AbC123`];
    await page.getByTestId('moodboard').evaluate((board, list) => {
      const data = new DataTransfer();
      data.setData('text/uri-list', `# dropped from a browser\r\n${list.join('\r\n')}`);
      board.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      board.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, uris);
    await expect.poll(() => page.getByTestId('ref-report').textContent()).toContain('Added 2 references');
    await expect.poll(() => page.getByTestId('ref-card').count()).toBe(2);
    await expect.poll(() => page.getByTestId('ref-credit').allTextContents()).toContain('Photo by Jane Doe');
    const stored = await refs();
    expect(stored.map((r) => r.author)).toContain('Jane Doe');
    expect(stored.find((r) => r.author === 'Jane Doe')!.palette[0]!.hex).toBe('#00E0FF');
    // Every thumbnail loads from the app's media route.
    await expect
      .poll(() =>
        page
          .locator('.ref-thumb')
          .evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0)),
      )
      .toBe(true);
  });

  it('adds a local folder with Add…, and reports what it skipped', async () => {
    await page.getByRole('button', { name: 'Add…' }).click();
    await page.getByLabel('Files, folders or links').fill(folder.dir);
    await page.getByRole('button', { name: 'Add to board' }).click();
    await expect.poll(() => page.getByTestId('ref-report').textContent()).toContain(`Added ${FOLDER_COUNT} references`);
    await expect.poll(() => page.getByTestId('ref-report').textContent()).toContain('skipped');
    await expect.poll(() => page.getByTestId('ref-card').count()).toBe(2 + FOLDER_COUNT);
    // Each card shows its dominant colours.
    await expect.poll(() => page.getByTestId('ref-palette').evaluateAll((p) => p.every((e) => e.children.length > 0))).toBe(true);
    await expect.poll(() => page.getByTestId('board-palette').locator('li[data-hex]').count()).toBeGreaterThan(1);
  });

  it('saves the mood and makes the board palette the brand palette', async () => {
    await page.getByRole('textbox', { name: 'Mood', exact: true }).fill('hopeful / rebellious finance');
    await page.getByRole('button', { name: 'Save mood' }).click();
    await expect
      .poll(async () => (await api<Project>('projects.get', { projectId: project.id })).mood)
      .toBe('hopeful / rebellious finance');

    const board = await api<{ hex: string }[]>('refs.palette', { projectId: project.id });
    await page.getByRole('button', { name: 'Use as brand palette' }).click();
    // The board's colours, in order; a shade of a brand colour (the JPEG's #FE2B54 of the default
    // palette's #FE2C54 "magenta") stays the brand's own colour, with its name.
    const brand = new Map(DEFAULT_BRAND.map((c) => [c.hex, c.name]));
    const expected = board.slice(0, 16).map((c) => DEFAULT_BRAND.find((b) => deltaE(b.hex, c.hex) <= 10)?.hex ?? c.hex.toUpperCase());
    await expect
      .poll(async () => (await api<Project>('projects.get', { projectId: project.id })).palette.map((c) => c.hex))
      .toEqual(expected);
    const palette = (await api<Project>('projects.get', { projectId: project.id })).palette;
    expect(palette.find((c) => c.hex === '#FE2C54')?.name).toBe('magenta');
    for (const c of palette) if (brand.has(c.hex)) expect(c.name).toBe(brand.get(c.hex));
    await expect.poll(() => page.getByTestId('brand-palette').locator('li').count()).toBe(palette.length);
    await screenshot(page, 'moodboard');
  });

  it('reorders with the buttons and removes with Delete', async () => {
    const before = await cardIds();
    await page
      .getByTestId('ref-card')
      .nth(1)
      .getByRole('button', { name: /earlier$/ })
      .click();
    await expect.poll(cardIds).toEqual([before[1], before[0], ...before.slice(2)]);
    expect((await refs()).map((r) => r.id)).toEqual([before[1], before[0], ...before.slice(2)]);
    await page.locator(`[data-testid="ref-card"][data-ref-id="${before[4]}"] .ref-credit`).click();
    await page.keyboard.press('Delete');
    await expect.poll(cardIds).toHaveLength(4);
    expect((await refs()).map((r) => r.id)).not.toContain(before[4]);
  });

  it('had no console errors', () => {
    expect(errors).toEqual([]);
  });
});
