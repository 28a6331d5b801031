/**
 * Colour in Debian's Chromium through the browser host: images of known colours (magenta, teal,
 * yellow, grey) get the brand-match badge once analysed (none on the grey one); the "brand colour
 * present" filter; page sections hero (#FE2C54) and features (#00E0FF) paired with images, their
 * pass/warn messages, and the 9:16 preview. Screenshots: e2e/artifacts/colour-badges.png,
 * e2e/artifacts/sections-preview.png.
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageSummary, Project } from '../src-main/core/api/index.js';
import { callApi, createProjectByKeyboard, importByKeyboard, openHost, screenshot, tempDir, type RunningApp } from './support/app.js';
import { colourShots } from './support/images.js';

const COLOURS = { magenta: '#FE2C54', teal: '#00E0FF', yellow: '#FFD500', grey: '#808080' } as const;
type Name = keyof typeof COLOURS;

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let dir: string;

beforeAll(async () => {
  const data = tempDir('colour');
  dir = path.join(data, 'shots');
  await colourShots(dir, COLOURS);
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
const row = (name: string) => page.locator(`[data-testid="section-row"][data-name="${name}"]`);

describe('colour', () => {
  it('imports four images of known colours', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await createProjectByKeyboard(page, 'Colour');
    await importByKeyboard(page, dir, 'Imported 4 images');
    project = (await api<Project[]>('projects.list', {})).find((p) => p.name === 'Colour')!;
    for (const image of await api<ImageSummary[]>('images.list', { projectId: project.id }))
      idOf[image.fileName.replace(/\.png$/, '') as Name] = image.id;
    expect(Object.keys(idOf).sort()).toEqual(['grey', 'magenta', 'teal', 'yellow']);
  });

  it('badges the cells with the best present brand colour, and none on the grey one', async () => {
    await expect.poll(() => page.locator('.cell [data-testid="brand-badge"]').count(), { timeout: 30_000 }).toBe(3);
    const badge = cell('magenta').getByTestId('brand-badge');
    await expect.poll(() => badge.getAttribute('data-hex')).toBe('#FE2C54');
    await expect.poll(() => badge.textContent()).toMatch(/^\s*\d+ %$/);
    expect(Number(await badge.getAttribute('data-coverage'))).toBeGreaterThan(80);
    await expect(cell('grey').getByTestId('brand-badge').count()).resolves.toBe(0);
    await expect.poll(() => cell('teal').getByTestId('brand-badge').getAttribute('data-hex')).toBe('#00E0FF');
    await screenshot(page, 'colour-badges');

    // The brand filter and the sort are under More ▾ (issue 18: one row of curation controls).
    await page.getByRole('button', { name: 'More ▾' }).click();
    await page.getByLabel('Brand colour present').check();
    await expect.poll(() => page.locator('.cell').count()).toBe(3);
    await expect(cell('grey').count()).resolves.toBe(0);
    await page.getByLabel('Brand colour present').uncheck();
    await page.getByLabel('Sort', { exact: true }).selectOption('brand');
    await expect.poll(() => page.locator('.cell').last().getAttribute('data-image-id')).toBe(String(idOf.grey));
    await page.getByLabel('Sort', { exact: true }).selectOption('capture');
    await page.keyboard.press('Escape');

    // The loupe shows the badge too.
    await cell('magenta').dblclick();
    await expect.poll(() => page.locator('.loupe-marks [data-testid="brand-badge"]').getAttribute('data-hex')).toBe('#FE2C54');
    await page.keyboard.press('g');
    await page.getByTestId('grid').waitFor();
  });

  it('checks page sections against their paired images', async () => {
    await page.keyboard.press('Shift+S');
    await page.getByTestId('sections-view').waitFor();
    for (const [name, hex] of [
      ['hero', '#fe2c54'],
      ['features', '#00e0ff'],
    ] as const) {
      await page.getByLabel('New section name').fill(name);
      await page.getByLabel('New section background').fill(hex);
      await page.getByRole('button', { name: 'Add section' }).click();
      await row(name).waitFor();
    }
    await expect
      .poll(() => page.getByTestId('section-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.name)))
      .toEqual(['hero', 'features']);
    await expect.poll(() => row('hero').getAttribute('data-status')).toBe('unpaired');

    await row('hero').getByLabel('Image for hero').selectOption({ label: 'magenta.png' });
    await expect.poll(() => row('hero').getAttribute('data-status')).toBe('pass');
    await expect.poll(() => row('hero').getByTestId('section-message').textContent()).not.toBe('');

    // Pairing by the grid's selection: the yellow image, off for a teal section.
    await page.keyboard.press('Shift+S');
    await page.getByTestId('grid').waitFor();
    await cell('yellow').click();
    await page.getByRole('button', { name: 'Sections' }).click();
    await row('features').getByRole('button', { name: 'Pair selected image' }).click();
    await expect.poll(() => row('features').getAttribute('data-status')).toBe('warn');
    await expect.poll(() => row('features').getByTestId('section-message').textContent()).not.toBe('');

    const checks = await api<{ name: string; status: string }[]>('sections.check', { projectId: project.id });
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['hero', 'pass'],
      ['features', 'warn'],
    ]);
  });

  it('previews the sections in a 9:16 phone frame', async () => {
    await page.getByRole('button', { name: 'Preview' }).click();
    const frame = page.getByTestId('sections-preview');
    await frame.waitFor();
    const box = (await frame.evaluate((f) => ({ w: (f as HTMLElement).clientWidth, h: (f as HTMLElement).clientHeight })))!;
    expect(box).toEqual({ w: 390, h: 693 });
    const sections = page.getByTestId('preview-section');
    await expect(sections.evaluateAll((s) => s.map((e) => (e as HTMLElement).dataset.name))).resolves.toEqual(['hero', 'features']);
    const hero = await sections.first().evaluate((e) => ({
      image: getComputedStyle(e).backgroundImage,
      size: getComputedStyle(e).backgroundSize,
      colour: getComputedStyle(e).backgroundColor,
    }));
    expect(hero.image).toContain('/media?path=');
    expect(hero.size).toBe('cover');
    expect(hero.colour).toBe('rgb(254, 44, 84)');
    await screenshot(page, 'sections-preview');
  });

  it('had no console errors', () => {
    expect(errors).toEqual([]);
  });
});
