/**
 * Reject then undo, pressed before the reject's answer comes back, in Debian's Chromium through
 * the browser host: the undo leaves only after the reject is answered, so the core stores them in
 * the order they were made and the image ends un-rejected, its file where it was. The reject's
 * request is held back (a slow answer); were the undo sent meanwhile, it is let through first, as
 * two separate connections may deliver them.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageSummary, Project } from '../src-main/core/api/index.js';
import { callApi, createProjectByKeyboard, importByKeyboard, openHost, tempDir, type RunningApp } from './support/app.js';
import { makeImageFolder, type ImageFolder } from './support/images.js';

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let folder: ImageFolder;

beforeAll(async () => {
  const data = tempDir('mark-order');
  folder = await makeImageFolder(path.join(data, 'incoming'), 3);
  ({ app, browser, page, errors } = await openHost(path.join(data, 'app')));
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const api = <T>(method: string, input: object): Promise<T> => callApi<T>(app, method, input);

/** How long the reject's request is held when nothing overtakes it: a slow answer. */
const SLOW_ANSWER_MS = 1_500;

describe('marks of one image', () => {
  it('reject then undo before the answer: the image ends not rejected, its file in place', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await createProjectByKeyboard(page, 'Quick hands');
    await importByKeyboard(page, folder.dir, 'Imported 3 images');
    const project = (await api<Project[]>('projects.list', {})).find((p) => p.name === 'Quick hands')!;
    const first = Number(await page.locator('.cell.selected').getAttribute('data-image-id'));
    const original = (await api<ImageSummary[]>('images.list', { projectId: project.id })).find((i) => i.id === first)!;

    const sent: string[] = [];
    let answered = 0;
    let held: Route | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await page.route('**/api/images.mark', async (route) => {
      const change = (route.request().postDataJSON() as { changes: { flag?: string }[] }).changes[0]!;
      sent.push(change.flag ?? 'rating');
      if (sent.length === 1) {
        held = route;
        timer = setTimeout(() => {
          const slow = held;
          held = undefined;
          void slow?.continue();
        }, SLOW_ANSWER_MS);
        return;
      }
      // Sent while the reject is still held: it reaches the core first, then the reject does.
      const overtaken = held;
      if (overtaken) {
        held = undefined;
        clearTimeout(timer);
        const response = await route.fetch();
        await route.fulfill({ response });
        await overtaken.continue();
        return;
      }
      await route.continue();
    });
    page.on('response', (response) => {
      if (response.url().endsWith('/api/images.mark')) answered++;
    });

    await page.keyboard.press('x');
    await page.keyboard.press('Control+z');
    await expect.poll(() => answered, { timeout: 10_000 }).toBe(2);
    expect(sent).toEqual(['reject', 'none']);

    const stored = (await api<ImageSummary[]>('images.list', { projectId: project.id })).find((i) => i.id === first)!;
    expect(stored.flag).toBe('none');
    expect(stored.path).toBe(original.path);
    expect(fs.existsSync(original.path)).toBe(true);
    expect(fs.readdirSync(path.join(project.folder, '_Rejected', 'Maybe Later'))).toEqual([]);
    // The grid agrees: the image is shown, not flagged.
    await expect.poll(() => page.locator(`.cell[data-image-id="${first}"]`).count()).toBe(1);
    await expect(page.locator(`.cell[data-image-id="${first}"] .flag.reject`).count()).resolves.toBe(0);
    expect(errors).toEqual([]);
  });
});
