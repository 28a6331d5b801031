/**
 * Export in Debian's Chromium through the browser host: two generated-looking images (magenta and
 * teal, 540×960) picked from the keyboard, sections hero (#FE2C54) and features (#00E0FF) at
 * 1080×1920 paired with them, then Export (Ctrl+E) to Framer: the report lists two files named
 * `YYYYMMDD_<section>_<colour>_<seed>.jpg` with sizes in KB, thumbnails, and the files are on disk
 * at the size of their section. Screenshot: e2e/artifacts/export-report.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportTarget, ImageSummary, Project, Section } from '../src-main/core/api/index.js';
import { callApi, createProjectByKeyboard, importByKeyboard, openHost, screenshot, tempDir, type RunningApp } from './support/app.js';
import { colourShots } from './support/images.js';

const COLOURS = { magenta: '#FE2C54', teal: '#00E0FF' } as const;
type Name = keyof typeof COLOURS;

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let dir: string;

beforeAll(async () => {
  const data = tempDir('export');
  dir = path.join(data, 'shots');
  await colourShots(dir, COLOURS, 540, 960);
  ({ app, browser, page, errors } = await openHost(path.join(data, 'app')));
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const api = <T>(method: string, input: object): Promise<T> => callApi<T>(app, method, input);

let project: Project;
const idOf: Partial<Record<Name, number>> = {};
const cell = (name: Name) => page.locator(`.cell[data-image-id="${idOf[name]}"]`);

describe('export', () => {
  it('imports two images and picks them with the keyboard', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await createProjectByKeyboard(page, 'Export');
    await importByKeyboard(page, dir, 'Imported 2 images');
    project = (await api<Project[]>('projects.list', {})).find((p) => p.name === 'Export')!;
    for (const image of await api<ImageSummary[]>('images.list', { projectId: project.id }))
      idOf[image.fileName.replace(/\.png$/, '') as Name] = image.id;
    expect(Object.keys(idOf).sort()).toEqual(['magenta', 'teal']);

    for (const name of ['magenta', 'teal'] as const) {
      await cell(name).click();
      await page.keyboard.press('p');
    }
    await expect
      .poll(async () => (await api<ImageSummary[]>('images.list', { projectId: project.id })).filter((i) => i.flag === 'pick').length)
      .toBe(2);
  });

  it('pairs two sections through the API', async () => {
    for (const [name, hex, image] of [
      ['hero', '#FE2C54', 'magenta'],
      ['features', '#00E0FF', 'teal'],
    ] as const) {
      const section = await api<Section>('sections.save', {
        projectId: project.id,
        name,
        backgroundHex: hex,
        slotWidth: 1080,
        slotHeight: 1920,
      });
      await api<Section>('sections.pair', { sectionId: section.id, imageId: idOf[image]! });
    }
    const sections = await api<Section[]>('sections.list', { projectId: project.id });
    expect(sections.map((s) => [s.name, s.imageId])).toEqual([
      ['hero', idOf.magenta],
      ['features', idOf.teal],
    ]);
  });

  it('exports the sections to Framer and reports the files', async () => {
    const targets = await api<Record<ExportTarget, string>>('export.targets', { projectId: project.id });
    await page.keyboard.press('Control+e');
    const dialog = page.getByRole('dialog', { name: 'Export' });
    await dialog.waitFor();
    await expect.poll(() => dialog.getByLabel('Folder', { exact: true }).inputValue()).toBe(targets.framer);
    await dialog.getByLabel('Target').selectOption('framer');
    await expect.poll(() => dialog.getByLabel('Name template').inputValue()).toBe('{yyyymmdd}_{section}_{colour}_{seed}.jpg');
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();

    const report = dialog.getByTestId('export-report');
    await report.waitFor({ timeout: 60_000 });
    const files = report.getByTestId('export-file');
    await expect.poll(() => files.count()).toBe(2);
    const rows = await files.evaluateAll((els) =>
      els.map((e) => {
        const el = e as HTMLElement;
        return {
          name: el.dataset.fileName!,
          path: el.dataset.path!,
          bytes: Number(el.dataset.bytes),
          size: el.querySelector('[data-testid="export-file-size"]')!.textContent,
        };
      }),
    );
    const names = rows.map((r) => r.name).sort();
    expect(names[0]).toMatch(/^\d{8}_features_teal_[A-Za-z0-9-]+\.jpg$/);
    expect(names[1]).toMatch(/^\d{8}_hero_magenta_[A-Za-z0-9-]+\.jpg$/);
    for (const row of rows) {
      expect(row.size).toMatch(/^\d+ KB$/);
      expect(Number(row.size!.replace(' KB', ''))).toBe(Math.max(1, Math.round(row.bytes / 1024)));
      expect(path.dirname(row.path)).toBe(targets.framer);
      expect(fs.existsSync(row.path)).toBe(true);
      expect(fs.statSync(row.path).size).toBe(row.bytes);
      const meta = await sharp(row.path).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1080, 1920]);
    }
    // The thumbnails come from the project's exports/ through the media route.
    await expect
      .poll(() =>
        files
          .locator('img')
          .evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0)),
      )
      .toEqual([true, true]);
    await expect.poll(() => report.getByTestId('export-summary').textContent()).toMatch(/Exported 2 files .* in [\d.]+ m?s/);
    await screenshot(page, 'export-report');
  });

  it('had no console errors', () => {
    expect(errors).toEqual([]);
  });
});
