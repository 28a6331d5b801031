/**
 * Dropped and chosen files in the browser host (issue 18, item 7), in Debian's Chromium: a browser
 * cannot tell the page where a file lives, so the files themselves are uploaded and imported —
 * dropped on the grid (a synthetic drop carrying real PNG and JPEG bytes and a damaged file),
 * chosen with the Import dialog's file picker and folder picker, and dropped on or chosen for the
 * mood board. Each shows its progress and a report naming what was skipped; a user's file is never
 * overwritten. Screenshot: e2e/artifacts/upload-report.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageSummary, Project, Reference } from '../src-main/core/api/index.js';
import { callApi, createProjectByKeyboard, openHost, screenshot, tempDir, type RunningApp } from './support/app.js';
import { posterSvg } from './support/images.js';

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let data: string;
let project: Project;

beforeAll(async () => {
  data = tempDir('upload');
  ({ app, browser, page, errors } = await openHost(path.join(data, 'app')));
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const api = <T>(method: string, input: object): Promise<T> => callApi<T>(app, method, input);
const images = (): Promise<ImageSummary[]> => api<ImageSummary[]>('images.list', { projectId: project.id });

async function poster(index: number, format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  const image = sharp(posterSvg(index, 270, 480));
  return (format === 'jpeg' ? image.jpeg({ quality: 85 }) : image.png()).toBuffer();
}

/** Drops files (name, type, bytes) on an element the way a browser does, with a DataTransfer of real File objects. */
async function dropFiles(selector: string, files: { name: string; type: string; bytes: Buffer }[]): Promise<void> {
  await page
    .locator(selector)
    .first()
    .evaluate(
      (target, list) => {
        const data = new DataTransfer();
        for (const f of list) {
          const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
          data.items.add(new File([bytes], f.name, { type: f.type }));
        }
        target.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
        target.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
      },
      files.map((f) => ({ name: f.name, type: f.type, base64: f.bytes.toString('base64') })),
    );
}

/** Records whether the upload's progress panel ever showed, however briefly. */
async function watchProgress(): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { sawUpload: string[] };
    w.sawUpload = [];
    new MutationObserver(() => {
      const panel = document.querySelector('[data-testid="upload-progress"]');
      if (panel) w.sawUpload.push(panel.textContent ?? '');
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
  });
}
const sawProgress = (): Promise<string[]> => page.evaluate(() => (window as unknown as { sawUpload: string[] }).sawUpload);

describe('uploads in the browser host', () => {
  it('imports files dropped on the project: real images in, a damaged one named in the report', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await createProjectByKeyboard(page, 'Drops');
    project = (await api<Project[]>('projects.list', {})).find((p) => p.name === 'Drops')!;
    await watchProgress();

    const whole = await poster(1);
    await dropFiles('[data-testid="empty-project"]', [
      { name: 'teal-portrait.png', type: 'image/png', bytes: await poster(0) },
      { name: 'device close-up.jpg', type: 'image/jpeg', bytes: await poster(2, 'jpeg') },
      { name: 'cut-short.png', type: 'image/png', bytes: whole.subarray(0, whole.length / 3) },
    ]);
    const report = page.getByTestId('import-report');
    await expect.poll(() => report.textContent(), { timeout: 30_000 }).toContain('Imported 2 images');
    await expect(report.locator('li[data-reason]').allTextContents()).resolves.toEqual([
      expect.stringMatching(/^cut-short\.png is damaged or truncated/),
    ]);
    await expect.poll(() => page.locator('.cell').count()).toBe(2);
    expect((await images()).map((i) => i.fileName).sort()).toEqual(['device close-up.jpg', 'teal-portrait.png']);
    expect(fs.readdirSync(path.join(project.folder, 'imports')).sort()).toEqual(['device close-up.jpg', 'teal-portrait.png']);
    expect((await sawProgress()).some((text) => /(Uploading|Importing) 3 files into the project/.test(text))).toBe(true);
    // The old page said "This browser cannot tell Onbrand where dropped files are".
    expect(await page.getByTestId('notice').count()).toBe(0);
    await page.getByRole('button', { name: 'Dismiss' }).click();
  });

  it('uploads files chosen with the Import dialog, never over a file of the same name', async () => {
    await page.keyboard.press('Control+i');
    const dialog = page.getByRole('dialog', { name: 'Import into Drops' });
    await expect(dialog.getByRole('button', { name: 'Upload files…' }).isVisible()).resolves.toBe(true);
    await expect(dialog.getByRole('button', { name: 'Upload a folder…' }).isVisible()).resolves.toBe(true);
    await dialog.getByTestId('upload-files-images').setInputFiles([
      // Same name as an imported file, other content: it becomes teal-portrait_2.png.
      { name: 'teal-portrait.png', mimeType: 'image/png', buffer: await poster(3) },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('shot list') },
    ]);
    await dialog.waitFor({ state: 'detached' });
    const report = page.getByTestId('import-report');
    await expect.poll(() => report.textContent(), { timeout: 30_000 }).toContain('Imported 1 image');
    await expect
      .poll(() => report.locator('li[data-reason="not_an_image"]').textContent())
      .toBe('notes.txt is not an image (PNG, JPEG or WebP)');
    await expect
      .poll(async () => (await images()).map((i) => i.fileName).sort())
      .toEqual(['device close-up.jpg', 'teal-portrait.png', 'teal-portrait_2.png']);
    await expect.poll(() => page.locator('.cell').count()).toBe(3);
    await screenshot(page, 'upload-report');
    await page.getByRole('button', { name: 'Dismiss' }).click();
  });

  it('uploads a chosen folder, subfolders included, hidden files passed over', async () => {
    const folder = path.join(data, 'shoot');
    fs.mkdirSync(path.join(folder, 'day 2'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'a.png'), await poster(4));
    fs.writeFileSync(path.join(folder, 'day 2', 'b.jpg'), await poster(5, 'jpeg'));
    fs.writeFileSync(path.join(folder, 'a.png'), await poster(4));
    fs.writeFileSync(path.join(folder, '.DS_Store'), 'finder');
    await page.keyboard.press('Control+i');
    const dialog = page.getByRole('dialog', { name: 'Import into Drops' });
    await dialog.getByTestId('upload-folder-images').setInputFiles(folder);
    const report = page.getByTestId('import-report');
    await expect.poll(() => report.textContent(), { timeout: 30_000 }).toContain('Imported 2 images');
    expect(await report.locator('li').count()).toBe(0);
    await expect.poll(() => page.locator('.cell').count()).toBe(5);
    await page.getByRole('button', { name: 'Dismiss' }).click();
  });

  it('puts files dropped on the mood board, or chosen with Add…, on the board', async () => {
    await page.keyboard.press('b');
    await page.getByTestId('board-empty').waitFor();
    await dropFiles('[data-testid="moodboard"]', [
      {
        name: 'magenta-field.png',
        type: 'image/png',
        bytes: await sharp({ create: { width: 90, height: 160, channels: 3, background: '#FE2C54' } })
          .png()
          .toBuffer(),
      },
      { name: 'broken.jpg', type: 'image/jpeg', bytes: Buffer.from('no jpeg here') },
    ]);
    const board = page.getByTestId('ref-report');
    await expect.poll(() => board.textContent(), { timeout: 30_000 }).toContain('Added 1 reference');
    await expect.poll(() => board.locator('li[data-outcome="skipped"]').textContent()).toMatch(/^broken\.jpg is not an image/);
    await expect.poll(() => page.getByTestId('ref-card').count()).toBe(1);

    await page.getByRole('button', { name: 'Add…' }).click();
    await page.getByTestId('upload-files-references').setInputFiles([
      {
        name: 'teal-field.png',
        mimeType: 'image/png',
        buffer: await sharp({ create: { width: 90, height: 160, channels: 3, background: '#00E0FF' } })
          .png()
          .toBuffer(),
      },
    ]);
    await expect.poll(() => page.getByTestId('ref-card').count(), { timeout: 30_000 }).toBe(2);
    const refs = await api<Reference[]>('refs.list', { projectId: project.id });
    expect(refs.map((r) => r.fileName)).toEqual(['magenta-field.png', 'teal-field.png']);
    expect(refs.map((r) => r.palette[0]!.hex)).toEqual(['#FE2C54', '#00E0FF']);
    for (const r of refs) expect(fs.existsSync(r.path)).toBe(true);
    // Nothing is left in the host's staging folder once the upload has answered.
    const staging = path.join(data, 'app', 'uploads');
    await expect.poll(() => (fs.existsSync(staging) ? fs.readdirSync(staging) : [])).toEqual([]);
  });

  it('had no console errors', () => {
    expect(errors).toEqual([]);
  });
});
