/**
 * Culling comfort in the loupe and on the cells (issue 18, item 5), in Debian's Chromium through
 * the browser host: the loupe's info panel (I) with a histogram and the generation parameters an
 * imported A1111 PNG carries (prompt, negative prompt, seed, sampler, steps, CFG, size, model,
 * LoRAs with weights), remembered open or closed across images and reloads; stars on a plate that
 * reads on a yellow thumbnail; sharpness as 0–100 and a word. Screenshots:
 * e2e/artifacts/loupe-info-panel.png and marks-readable.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageSummary, Project } from '../src-main/core/api/index.js';
import { readSharpness } from '../src-main/core/common/index.js';
import { addPngText } from '../src-main/core/diffusion/index.js';
import { callApi, createProjectByKeyboard, importByKeyboard, openHost, screenshot, tempDir, type RunningApp } from './support/app.js';
import { posterSvg } from './support/images.js';

const PROMPT = 'yellow poster, brand colours weaving through scene, 35 mm <lora:TypoTexture:0.4> <lora:FluxPortraitTrainer:0.8>';
const PARAMETERS = [
  PROMPT,
  'Negative prompt: text, watermark, extra limbs, mushy face',
  'Steps: 25, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1247, Size: 576x1024, Model hash: 1a2b3c4d5e, Model: DreamShaper 8, RNG: CPU, Version: onbrand 0.1.0',
].join('\n');

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let project: Project;
let images: ImageSummary[];

/** A 512×512 field of fine random grey blocks: detail everywhere (crisp), or the same blurred by `sigma` px (soft). */
async function texture(sigma: number): Promise<Buffer> {
  const size = 512;
  const raw = Buffer.alloc(size * size);
  let state = 99;
  for (let i = 0; i < raw.length; i += 2) {
    state = (state * 1103515245 + 12345) >>> 0;
    raw[i] = raw[i + 1] = 64 + ((state >>> 16) % 128);
  }
  const image = sharp(raw, { raw: { width: size, height: size, channels: 1 } });
  return (sigma > 0 ? image.blur(sigma) : image).png().toBuffer();
}

beforeAll(async () => {
  const data = tempDir('loupe-info');
  const incoming = path.join(data, 'incoming');
  fs.mkdirSync(incoming, { recursive: true });
  // A yellow generation (brand yellow #FFD500 with a white mark), carrying A1111 parameters as a generated PNG does.
  const yellow = await sharp({ create: { width: 288, height: 512, channels: 3, background: '#FFD500' } })
    .composite([
      {
        input: Buffer.from(
          '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><circle cx="32" cy="32" r="32" fill="#fff"/></svg>',
        ),
        top: 60,
        left: 112,
      },
    ])
    .png()
    .toBuffer();
  fs.writeFileSync(path.join(incoming, 'a_yellow.png'), addPngText(yellow, 'parameters', PARAMETERS));
  fs.writeFileSync(path.join(incoming, 'b_crisp.png'), await texture(0));
  fs.writeFileSync(path.join(incoming, 'c_soft.png'), await texture(4));
  await sharp(posterSvg(1)).png().toFile(path.join(incoming, 'd_poster.png'));
  ({ app, browser, page, errors } = await openHost(path.join(data, 'app')));
  await page.goto(app.urlWithToken);
  await page.locator('html[data-ready="true"]').waitFor();
  await createProjectByKeyboard(page, 'Loupe info');
  await importByKeyboard(page, incoming, 'Imported 4 images');
  project = (await callApi<Project[]>(app, 'projects.list', {})).find((p) => p.name === 'Loupe info')!;
  images = await callApi<ImageSummary[]>(app, 'images.list', { projectId: project.id });
  await page.locator('.cell').nth(3).waitFor();
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const idOf = (fileName: string): number => images.find((i) => i.fileName === fileName)!.id;
const cell = (fileName: string) => page.locator(`.cell[data-image-id="${idOf(fileName)}"]`);
const panel = () => page.getByTestId('info-panel');
const row = (field: string) => panel().locator(`.info-row[data-field="${field}"] dd`);

/** sRGB relative luminance and the WCAG contrast ratio of two `rgb(…)` colours. */
function luminance(css: string): number {
  const [r, g, b] = (css.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
const contrast = (a: string, b: string): number => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
};
const alpha = (css: string): number => {
  const parts = css.match(/[\d.]+/g) ?? [];
  return parts.length >= 4 ? Number(parts[3]) : css.startsWith('rgb(') ? 1 : 0;
};

describe('marks readability', () => {
  it('puts the stars on a dark plate, readable on a yellow thumbnail', async () => {
    await cell('a_yellow.png').click();
    await page.keyboard.press('3');
    const stars = cell('a_yellow.png').locator('.stars');
    await expect.poll(() => stars.textContent()).toBe('★★★');
    const { colour, plate } = await stars.evaluate((el) => {
      const style = getComputedStyle(el);
      return { colour: style.color, plate: style.backgroundColor };
    });
    // The plate is there (the old stars had none, and vanished on #FFD500) and the stars stand out on it.
    expect(alpha(plate)).toBeGreaterThanOrEqual(0.6);
    // The plate as seen over the yellow thumbnail (alpha-blended): the stars' contrast on it passes WCAG AA.
    const a = alpha(plate);
    const [pr, pg, pb] = (plate.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number) as [number, number, number];
    const seen = `rgb(${a * pr + (1 - a) * 255}, ${a * pg + (1 - a) * 213}, ${a * pb})`;
    expect(contrast(colour, seen)).toBeGreaterThan(4.5);
    expect(contrast(colour, 'rgb(255, 213, 0)')).toBeLessThan(1.5); // without the plate: yellow on yellow
  });

  it('shows sharpness as 0–100 and a word (S), from the core score: crisp for detail, soft when blurred', async () => {
    await expect
      .poll(async () => (await callApi<ImageSummary[]>(app, 'images.list', { projectId: project.id })).every((i) => i.sharpness !== null), {
        timeout: 30_000,
      })
      .toBe(true);
    images = await callApi<ImageSummary[]>(app, 'images.list', { projectId: project.id });
    await page.keyboard.press('s');
    await expect.poll(() => page.getByTestId('sharpness').count()).toBe(4);
    for (const image of images) {
      const mark = page.locator(`.cell[data-image-id="${image.id}"]`).getByTestId('sharpness');
      const { score, word } = readSharpness(image.sharpness!);
      await expect.poll(() => mark.textContent()).toBe(`${score} ${word}`);
    }
    await expect.poll(() => cell('b_crisp.png').getByTestId('sharpness').getAttribute('data-word')).toBe('crisp');
    await expect.poll(() => cell('c_soft.png').getByTestId('sharpness').getAttribute('data-word')).toBe('soft');
    await expect.poll(() => cell('b_crisp.png').getByTestId('sharpness').getAttribute('title')).toMatch(/^Sharpness \d+ of 100: crisp/);
    await screenshot(page, 'marks-readable');
    await page.keyboard.press('s');
    await expect.poll(() => page.getByTestId('sharpness').count()).toBe(0);
  });
});

describe('the loupe info panel', () => {
  it('opens with I: histogram and the generation parameters, the image fit beside it', async () => {
    await cell('a_yellow.png').click();
    await page.keyboard.press('l');
    await page.getByTestId('loupe').waitFor();
    await page.getByTestId('info-tab').waitFor();
    await expect(panel().count()).resolves.toBe(0);

    await page.keyboard.press('i');
    await panel().waitFor();
    await expect.poll(() => panel().getByTestId('histogram').getAttribute('data-ready')).toBe('true');
    await expect(panel().locator('path[data-channel]').count()).resolves.toBe(4);
    // Yellow is red and green at full, blue near nothing: the red histogram rises at the right end.
    const red = (await panel().locator('path[data-channel="r"]').getAttribute('d')) ?? '';
    const redAt255 = Number(/L255,([\d.]+) L255,100 Z$/.exec(red)?.[1]);
    expect(redAt255).toBeLessThan(5);
    await expect.poll(() => panel().getByTestId('histogram').getAttribute('aria-label')).toMatch(/^Histogram: mean brightness \d+ of 255/);

    await panel().getByTestId('info-generation').waitFor();
    await expect.poll(() => row('prompt').textContent()).toBe(PROMPT);
    await expect.poll(() => row('negative').textContent()).toBe('text, watermark, extra limbs, mushy face');
    await expect.poll(() => row('seed').textContent()).toBe('1247');
    await expect.poll(() => row('sampler').textContent()).toBe('DPM++ 2M Karras');
    await expect.poll(() => row('steps').textContent()).toBe('25');
    await expect.poll(() => row('cfg').textContent()).toBe('7');
    await expect.poll(() => row('size').textContent()).toBe('576 × 1024');
    await expect.poll(() => row('model').textContent()).toBe('DreamShaper 8');
    await expect.poll(() => row('loras').textContent()).toBe('TypoTexture × 0.4, FluxPortraitTrainer × 0.8');
    await expect.poll(() => row('sharpness').textContent()).toMatch(/^\d{1,3} (soft|ok|crisp)$/);

    // The image is fit beside the panel, not under it.
    const box = (await page.locator('.loupe-stage > .zoom-box').boundingBox())!;
    const side = (await panel().boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(side.x + 1);
    await screenshot(page, 'loupe-info-panel');
  });

  it('stays open from image to image, and says when an image has no parameters', async () => {
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => panel().getAttribute('data-image-id')).toBe(String(idOf('b_crisp.png')));
    await panel().getByTestId('info-no-parameters').waitFor();
    await expect.poll(() => panel().getByTestId('histogram').getAttribute('data-ready')).toBe('true');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => row('seed').textContent()).toBe('1247');
  });

  it('is remembered across reloads, open and closed; I from the grid opens the loupe with it', async () => {
    await page.reload();
    await page.locator('html[data-ready="true"]').waitFor();
    await expect.poll(() => page.locator('.cell').count()).toBe(4);
    await cell('a_yellow.png').click();
    await page.keyboard.press('l');
    await panel().waitFor();
    await expect.poll(() => row('model').textContent()).toBe('DreamShaper 8');

    await page.keyboard.press('i');
    await page.getByTestId('info-tab').waitFor();
    await expect(panel().count()).resolves.toBe(0);
    await page.reload();
    await page.locator('html[data-ready="true"]').waitFor();
    await expect.poll(() => page.locator('.cell').count()).toBe(4);
    await cell('a_yellow.png').click();
    await page.keyboard.press('l');
    await page.getByTestId('info-tab').waitFor();
    await expect(panel().count()).resolves.toBe(0);

    // From the grid, I opens the loupe on the selected image with the panel shown; the tab opens it with the mouse too.
    await page.keyboard.press('g');
    await page.getByTestId('grid').waitFor();
    await page.keyboard.press('i');
    await panel().waitFor();
    await expect.poll(() => page.getByTestId('loupe').getAttribute('data-image-id')).toBe(String(idOf('a_yellow.png')));
    await panel().getByRole('button', { name: 'Hide the info panel' }).click();
    await page.getByTestId('info-tab').click();
    await panel().waitFor();
  });

  it('lists I in the cheat sheet, and logged no errors', async () => {
    await page.keyboard.press('?');
    const sheet = page.getByRole('dialog');
    await expect(sheet.locator('tr[data-action="infoPanel"] kbd').allTextContents()).resolves.toEqual(['I']);
    await expect.poll(() => sheet.locator('tr[data-action="infoPanel"] th').textContent()).toMatch(/^Info panel in the loupe/);
    await page.keyboard.press('Escape');
    expect(errors).toEqual([]);
  });
});
