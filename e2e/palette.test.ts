/**
 * The brand palette is the brand's, in Debian's Chromium through the browser host: a board of
 * eight flat colours (yellow #FFD500 and white among them) taken as the brand palette keeps yellow
 * and white apart, each its own exact hex and name, so the yellow image keeps its badge; then the
 * palette is edited as a designer would: a name changed, a hex typed (a wrong one first), a colour
 * picked, one removed, one moved up from the keyboard, a list of hexes pasted (the wrong entries
 * named), saved; the badges follow. Screenshot: e2e/artifacts/palette-editor.png.
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageSummary, Project } from '../src-main/core/api/index.js';
import { callApi, createProjectByKeyboard, importByKeyboard, openHost, screenshot, tempDir, type RunningApp } from './support/app.js';
import { colourShots } from './support/images.js';

const COLOURS = {
  yellow: '#FFD500',
  white: '#FFFFFF',
  magenta: '#FE2C54',
  teal: '#00E0FF',
  purple: '#7A3CFF',
  green: '#18C964',
  orange: '#FF8A00',
  ink: '#2B2D42',
} as const;
type Name = keyof typeof COLOURS;

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let dir: string;

beforeAll(async () => {
  const data = tempDir('palette');
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
/** The palette's colours in order as edited. */
let expected: string[] = [];
const palette = async (): Promise<{ name: string; hex: string }[]> =>
  (await api<Project>('projects.get', { projectId: project.id })).palette;
const editor = () => page.getByTestId('palette-editor');
const rowHexes = (): Promise<string[]> =>
  page
    .getByTestId('brand-palette')
    .locator('li[data-hex]')
    .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.hex!));
const badgeOf = (name: Name) => page.locator(`.cell[data-image-id="${idOf[name]}"] [data-testid="brand-badge"]`);

describe('the brand palette', () => {
  it('imports eight flat colours and pins them on the mood board', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await createProjectByKeyboard(page, 'Palette');
    await importByKeyboard(page, dir, 'Imported 8 images');
    project = (await api<Project[]>('projects.list', {})).find((p) => p.name === 'Palette')!;
    for (const image of await api<ImageSummary[]>('images.list', { projectId: project.id }))
      idOf[image.fileName.replace(/\.png$/, '') as Name] = image.id;
    // The default palette has yellow: the yellow image has its badge.
    await expect.poll(() => badgeOf('yellow').getAttribute('data-hex'), { timeout: 30_000 }).toBe('#FFD500');

    await page.keyboard.press('b');
    await page.getByRole('button', { name: 'Add…' }).click();
    await page.getByLabel('Files, folders or links').fill(dir);
    await page.getByRole('button', { name: 'Add to board' }).click();
    await expect.poll(() => page.getByTestId('ref-card').count(), { timeout: 30_000 }).toBe(8);
  });

  it('takes the board as the brand palette without blending yellow and white', async () => {
    await page.getByRole('button', { name: 'Use as brand palette' }).click();
    await expect.poll(async () => (await palette()).map((c) => c.hex).sort()).toEqual(Object.values(COLOURS).sort());
    const taken = await palette();
    // Each colour its own exact hex, named from that hex; the default palette's names stay.
    expect(taken.find((c) => c.hex === '#FFD500')?.name).toBe('yellow');
    expect(taken.find((c) => c.hex === '#FFFFFF')?.name).toBe('white');
    expect(taken.find((c) => c.hex === '#FE2C54')?.name).toBe('magenta');
    expect(taken.find((c) => c.hex === '#00E0FF')?.name).toBe('teal');
    expect(new Set(taken.map((c) => c.name)).size).toBe(taken.length);
    expect(taken.some((c) => /\d/.test(c.name))).toBe(false);
    await expect.poll(rowHexes).toEqual(taken.map((c) => c.hex));
  });

  it('edits the palette: a name, a typed hex (a wrong one first), a picked colour, a move and a removal', async () => {
    const taken = await palette();
    const at = (hex: string): number => taken.findIndex((c) => c.hex === hex) + 1;

    await editor()
      .getByLabel(`Name of colour ${at('#FFD500')}`, { exact: true })
      .fill('sun');

    // A hex that is not one: said beside the field, and the palette cannot be saved.
    const inkHex = editor().getByLabel(`Hex of colour ${at('#2B2D42')}`, { exact: true });
    await inkHex.fill('#2B2D4');
    await expect.poll(() => inkHex.getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => editor().getByRole('alert').textContent()).toContain('Type a colour like #FE2C54');
    await editor().getByRole('button', { name: 'Save palette' }).click();
    await expect.poll(() => page.getByTestId('palette-problem').textContent()).toContain('is not a colour');
    // Typed without # and in lower case, as designers paste them.
    await inkHex.fill('1d1e2c');
    await expect.poll(() => inkHex.getAttribute('aria-invalid')).toBeNull();
    // The refused save's problem goes once the colour is fixed, and nothing else still says it.
    await expect.poll(() => page.getByTestId('palette-problem').count()).toBe(0);
    await expect(editor().getByText('is not a colour').count()).resolves.toBe(0);

    // The picker sets the colour; the plain name follows it ("orange" becomes "red").
    await editor()
      .getByLabel(new RegExp(`^Pick colour ${at('#FF8A00')} `))
      .fill('#e53935');
    await expect(
      editor()
        .getByLabel(`Name of colour ${at('#FF8A00')}`, { exact: true })
        .inputValue(),
    ).resolves.toBe('red');

    // "sun" to the top from the keyboard (Alt+↑ on its name field, as often as needed), then one down with its button.
    await editor()
      .getByLabel(`Name of colour ${at('#FFD500')}`, { exact: true })
      .focus();
    for (let i = 0; i < taken.length; i++) await page.keyboard.press('Alt+ArrowUp');
    await expect.poll(async () => (await rowHexes())[0]).toBe('#FFD500');
    await expect(page.evaluate(() => (document.activeElement as HTMLInputElement).value)).resolves.toBe('sun');
    await editor().getByRole('button', { name: 'Move sun down' }).click();
    const others = taken.map((c) => c.hex).filter((h) => h !== '#FFD500');
    expected = [others[0]!, '#FFD500', ...others.slice(1)]
      .filter((h) => h !== '#FFFFFF')
      .map((h) => (h === '#2B2D42' ? '#1D1E2C' : h === '#FF8A00' ? '#E53935' : h));
    await expect.poll(async () => (await rowHexes())[1]).toBe('#FFD500');

    await editor().getByRole('button', { name: 'Remove white' }).click();
    await expect.poll(rowHexes).toEqual(expected);
  });

  it('pastes a list of hexes and names the entries that are not colours', async () => {
    await editor().getByRole('button', { name: 'Paste hexes…' }).click();
    await editor().getByLabel('Colours to add').fill('#FE2C54, #00E0FF #ffd500\nblue; #12345\n0a0');
    await editor().getByRole('button', { name: 'Add these colours' }).click();
    const message = await page.getByTestId('palette-message').textContent();
    expect(message).toContain('Added 1 colour.');
    expect(message).toContain('Already in the palette: #FE2C54, #00E0FF, #FFD500.');
    expect(message).toContain('Not colours: "blue", "#12345"');
    await expect.poll(rowHexes).toEqual([...expected, '#00AA00']);
  });

  it('saves the edited palette through the contract, and the badges follow it', async () => {
    await editor().getByRole('button', { name: 'Save palette' }).click();
    await expect.poll(async () => (await palette()).map((c) => c.hex)).toEqual([...expected, '#00AA00']);
    const saved = await palette();
    expect(saved.find((c) => c.hex === '#FFD500')!.name).toBe('sun');
    expect(saved.find((c) => c.hex === '#E53935')!.name).toBe('red');
    // The pasted green is named from its hex, apart from the board's green.
    expect(saved.at(-1)!.name).toMatch(/^\w+ green$/);
    // The message follows the contract's answer, a moment after the save lands.
    await expect.poll(() => page.getByTestId('palette-message').textContent()).toContain('Palette saved');
    await screenshot(page, 'palette-editor');

    await page.keyboard.press('g');
    await page.getByTestId('grid').waitFor();
    // The yellow image's badge is the brand's yellow, under its new name.
    await expect.poll(() => badgeOf('yellow').getAttribute('title'), { timeout: 30_000 }).toContain('sun #FFD500');
    await expect.poll(() => badgeOf('magenta').getAttribute('data-hex')).toBe('#FE2C54');
  });

  it('had no console errors', () => {
    expect(errors).toEqual([]);
  });
});
