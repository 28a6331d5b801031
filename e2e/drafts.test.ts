/**
 * Offline drafts in the Composer read like a person wrote them, in Debian's Chromium through the
 * browser host: with a new project's palette (magenta, teal, yellow) and with a palette taken from
 * a board (black, two teals, white: "teal 2"), every draft shown meets the brief by its own
 * annotations (one camera verb, one light, a brand colour, about 25 words, no problems listed), its
 * camera verb is spelled and agrees ("the camera dollies"), and no colour is numbered ("teal 2") or
 * named twice ("black and black"). Screenshot: e2e/artifacts/drafts.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callApi,
  createProjectByKeyboard,
  launchBrowser,
  screenshot,
  startApp,
  tempDir,
  watchErrors,
  type RunningApp,
} from './support/app.js';

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let nightTeal: number;

/** As "Use as brand palette" names a board's colours: two teals become "teal" and "teal 2". */
const BOARD_PALETTE = [
  { name: 'black', hex: '#0A0A0A' },
  { name: 'teal', hex: '#00E0FF' },
  { name: 'teal 2', hex: '#00B3C7' },
  { name: 'white', hex: '#FFFFFF' },
];

beforeAll(async () => {
  app = await startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', tempDir('drafts')]);
  nightTeal = (await callApi<{ id: number }>(app, 'projects.create', { name: 'Night teal', palette: BOARD_PALETTE })).id;
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  errors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const composer = () => page.getByTestId('composer');

/** Camera verbs in the third person singular, spelled out by hand. */
const CAMERA_THIRD = [
  'dollies',
  'pans',
  'tilts',
  'tracks',
  'orbits',
  'cranes',
  'pushes',
  'pulls',
  'zooms',
  'glides',
  'sweeps',
  'racks',
  'frames',
  'drifts',
  'swoops',
];
const COLOUR_WORDS = ['black', 'white', 'grey', 'teal', 'magenta', 'yellow'];

interface Shown {
  text: string;
  annotations: string[];
  problems: number;
}

/** Drafts five times with "Draft 5" and returns what each draft row shows. */
async function draftTwentyFive(): Promise<Shown[]> {
  const shown: Shown[] = [];
  for (let round = 0; round < 5; round++) {
    const before = await composer()
      .getByTestId('drafts')
      .getByTestId('draft')
      .first()
      .getAttribute('data-draft-id')
      .catch(() => null);
    await composer().getByRole('button', { name: 'Draft 5', exact: true }).click();
    const rows = composer().getByTestId('drafts').getByTestId('draft');
    await expect.poll(async () => (await rows.count()) === 5 && (await rows.first().getAttribute('data-draft-id')) !== before).toBe(true);
    for (const row of await rows.all()) {
      shown.push({
        text: (await row.locator('.draft-text > span').textContent()) ?? '',
        annotations: await row.getByTestId('annotations').locator('span').allTextContents(),
        problems: await row.getByTestId('problems').count(),
      });
    }
  }
  return shown;
}

/** What reads wrong in a draft, as a designer would say it; empty when nothing does. */
function misreadings({ text, annotations, problems }: Shown): string[] {
  const found: string[] = [];
  if (problems > 0) found.push('lists problems with the brief');
  const [words, camera, light, colours] = annotations;
  const count = Number(/^(\d+) words$/.exec(words ?? '')?.[1]);
  if (!(count >= 20 && count <= 30)) found.push(`${words}`);
  if (!/^camera: [^,—]+$/.test(camera ?? '')) found.push(`${camera}`);
  if (!/^light: [^,—]+$/.test(light ?? '')) found.push(`${light}`);
  if (!/^colours: [^—]+$/.test(colours ?? '')) found.push(`${colours}`);
  const verbs = [...text.matchAll(/\bcamera (\p{L}+)/giu)].map((m) => m[1]!.toLowerCase());
  if (verbs.length !== 1 || !CAMERA_THIRD.includes(verbs[0]!)) found.push(`camera verb "${verbs.join(', ')}"`);
  for (const colour of COLOUR_WORDS) {
    if (new RegExp(`\\b${colour}\\s*\\d`, 'i').test(text)) found.push(`numbered ${colour}`);
    if ((text.match(new RegExp(`\\b${colour}\\b`, 'gi')) ?? []).length > 1) found.push(`${colour} twice`);
  }
  if (/\s{2}|[,.]\s*[,.]|\s[,.]/.test(text)) found.push('doubled space or punctuation');
  return found;
}

describe('drafts', () => {
  it('with a new project’s palette: each draft meets the brief and reads right', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await createProjectByKeyboard(page, 'Brand loop');
    await page.keyboard.press('Control+k');
    await composer().waitFor();
    await expect
      .poll(() => composer().getByTestId('palette').locator('.swatch-chip').allTextContents())
      .toEqual(['magenta', 'teal', 'yellow']);
    const shown = await draftTwentyFive();
    expect(shown.map((d) => ({ text: d.text, wrong: misreadings(d) })).filter((d) => d.wrong.length > 0)).toEqual([]);
  });

  it('with black, two teals and white: no "teal 2", no colour twice, a plural subject without "a"', async () => {
    await page.getByLabel('Project').selectOption(String(nightTeal));
    await expect
      .poll(() => composer().getByTestId('palette').locator('.swatch-chip').allTextContents())
      .toEqual(['black', 'teal', 'teal 2', 'white']);
    const skeleton = composer().getByTestId('skeleton');
    await skeleton.getByLabel('New subject').fill('sneakers on a bench');
    await skeleton.getByLabel('New subject').press('Enter');
    await skeleton.getByRole('button', { name: 'Save skeleton' }).click();
    await expect.poll(() => skeleton.getByTestId('skeleton-status').textContent()).toBe('Skeleton saved.');

    const shown = await draftTwentyFive();
    expect(shown.map((d) => ({ text: d.text, wrong: misreadings(d) })).filter((d) => d.wrong.length > 0)).toEqual([]);
    const texts = shown.map((d) => d.text.toLowerCase());
    // The two teals are told apart in words, and credited to their own palette entries.
    expect(texts.some((t) => /\b(deep|pale) teal\b/.test(t))).toBe(true);
    expect(shown.some((d) => d.annotations[3]!.includes('teal 2'))).toBe(true);
    expect(texts.some((t) => t.includes('sneakers on a bench'))).toBe(true);
    expect(texts.filter((t) => /\ban? sneakers\b|sneakers on a bench catches\b/.test(t))).toEqual([]);

    await composer().getByTestId('drafts').scrollIntoViewIfNeeded();
    await screenshot(page, 'drafts');
    expect(errors).toEqual([]);
  });
});
