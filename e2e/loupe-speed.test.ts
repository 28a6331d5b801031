/**
 * The loupe's speed machinery in Debian's Chromium through the browser host: fit to the window it
 * shows the image's rendition (decoded ahead, drawn on a canvas), zoomed the full-resolution
 * original; the next image is decoded before the key press and shown without fetching it again; a
 * held → (auto-repeat) decodes nothing it flies past and lands on the right image; the decode
 * cache stays within its bounds; an image without a rendition shows its original. The tests'
 * renditions are grey, so the pixels on screen tell which file they came from.
 * Screenshot: e2e/artifacts/loupe-speed.png.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageSummary, Project } from '../src-main/core/api/index.js';
import { openCatalog } from '../src-main/core/catalog/index.js';
import { previewRelativePath } from '../src-main/core/images/index.js';
import { callApi, openHost, screenshot, tempDir, type RunningApp } from './support/app.js';
import { posterSvg } from './support/images.js';
import { makeRenditions } from './support/renditions.js';

declare global {
  interface Window {
    __onbrandLoupeCache?: {
      stats(): { count: number; bytes: number; maxCount: number; maxBytes: number; pending: number; started: number };
      keys(): string[];
      setBounds(maxCount: number, maxBytes: number): void;
    };
  }
}

const COUNT = 14;

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];
let images: ImageSummary[];
/** Image ids in the grid's order. */
let ids: number[];
let renditions: Map<number, string>;

interface Shown {
  tag: string;
  id: number;
  loaded: boolean;
  src: string;
  width: number;
  height: number;
  /** Whether the pixels at the poster's circle are grey (the tests' renditions) rather than coloured (the originals). */
  grey: boolean;
  /** The size the image takes fit to the loupe's box, in device pixels. */
  fit: [number, number];
}

/** What the loupe shows: the element, the image it is for, whether its pixels are decoded, their source, size and colour. */
const shown = (): Promise<Shown> =>
  page.getByTestId('loupe-image').evaluate((el: HTMLElement) => {
    const box = el.parentElement!;
    const width = el instanceof HTMLImageElement ? el.naturalWidth : (el as HTMLCanvasElement).width;
    const height = el instanceof HTMLImageElement ? el.naturalHeight : (el as HTMLCanvasElement).height;
    const scale = Math.min((box.clientWidth * devicePixelRatio) / 540, (box.clientHeight * devicePixelRatio) / 960, 1);
    const probe = document.createElement('canvas');
    probe.width = width;
    probe.height = height;
    const context = probe.getContext('2d')!;
    context.drawImage(el as CanvasImageSource, 0, 0);
    const [r, g, b] = context.getImageData(Math.round(width / 2), Math.round(height * 0.38), 1, 1).data;
    return {
      tag: el.tagName,
      id: Number(el.dataset.imageId),
      loaded: el.dataset.loaded === 'true',
      src: decodeURIComponent(el instanceof HTMLImageElement ? el.src : (el.dataset.src ?? '')),
      width,
      height,
      grey: Math.abs(r! - g!) < 6 && Math.abs(g! - b!) < 6,
      fit: [Math.round(540 * scale), Math.round(960 * scale)],
    };
  });
const byId = (id: number): ImageSummary => images.find((i) => i.id === id)!;
/** Waits until the loupe shows this image's own decoded pixels. */
const shownLoaded = (id: number) => page.locator(`[data-testid="loupe-image"][data-image-id="${id}"][data-loaded="true"]`).waitFor();
const stats = () => page.evaluate(() => window.__onbrandLoupeCache!.stats());
const cachedUrls = (): Promise<string[]> => page.evaluate(() => window.__onbrandLoupeCache!.keys().map((u) => decodeURIComponent(u)));
/** How many times the page fetched a file (resource timing). */
const fetches = (file: string): Promise<number> =>
  page.evaluate(
    (f) =>
      performance
        .getEntriesByType('resource')
        .filter((e) => decodeURIComponent(e.name).includes(`path=${f}&`) || decodeURIComponent(e.name).endsWith(`path=${f}`)).length,
    file,
  );
/** The loupe's position, "n of N". */
const position = async (): Promise<number> => Number(/(\d+) of \d+/.exec((await page.getByTestId('loupe-info').textContent()) ?? '')![1]);

beforeAll(async () => {
  const data = tempDir('loupe-speed');
  const incoming = path.join(data, 'incoming');
  fs.mkdirSync(incoming, { recursive: true });
  for (let i = 0; i < COUNT; i++) {
    await sharp(posterSvg(i))
      .png()
      .toFile(path.join(incoming, `frame_${String(i + 1).padStart(2, '0')}.png`));
  }
  const dataDir = path.join(data, 'app');
  ({ app, browser, page, errors } = await openHost(dataDir));
  const project = await callApi<Project>(app, 'projects.create', { name: 'Loupe' });
  await callApi(app, 'images.import', { projectId: project.id, paths: [incoming] });
  const listed = await callApi<ImageSummary[]>(app, 'images.list', { projectId: project.id });
  // Every image but the last in file order gets a rendition; the last shows its original.
  const last = listed.find((i) => i.fileName === `frame_${COUNT}.png`)!;
  renditions = await makeRenditions(
    dataDir,
    listed.filter((i) => i.id !== last.id),
    { greyscale: true },
  );
  // The last one's rendition (made at import) is taken away, and the background repair cannot make
  // it again (a folder stands where the file would go): the loupe must show the original.
  withoutRendition(dataDir, last);
  images = await callApi<ImageSummary[]>(app, 'images.list', { projectId: project.id });
  await page.goto(app.urlWithToken);
  await page.locator('.cell').first().waitFor();
  await page.waitForFunction((n) => document.querySelectorAll('.cell').length === n, COUNT);
  ids = await page.locator('.cell').evaluateAll((cells) => cells.map((c) => Number((c as HTMLElement).dataset.imageId)));
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

describe('loupe speed', () => {
  it('shows the rendition fit to the window, and the full-resolution original when zoomed', async () => {
    expect(byId(ids[0]!).previewPath).toBe(renditions.get(ids[0]!));
    await page.keyboard.press('l');
    await shownLoaded(ids[0]!);
    const fit = await shown();
    expect(fit).toMatchObject({ tag: 'CANVAS', id: ids[0], grey: true, src: expect.stringContaining(`path=${renditions.get(ids[0]!)}`) });
    // Decoded at the size it shows at, not larger.
    expect([fit.width, fit.height]).toEqual(fit.fit);
    // Once decoded, the blurred thumbnail has gone.
    await expect.poll(() => page.locator('.loupe .loupe-placeholder').isVisible()).toBe(false);
    await screenshot(page, 'loupe-speed');

    await page.keyboard.press('z');
    await page.locator('.loupe [data-zoom="100"]').waitFor();
    await shownLoaded(ids[0]!);
    const zoomed = await shown();
    expect(zoomed).toMatchObject({ tag: 'IMG', id: ids[0], grey: false, src: expect.stringContaining(`path=${byId(ids[0]!).path}`) });
    expect([zoomed.width, zoomed.height]).toEqual([540, 960]);
    await page.keyboard.press('z');
    await page.locator('.loupe [data-zoom="fit"]').waitFor();
    await shownLoaded(ids[0]!);
    expect((await shown()).tag).toBe('CANVAS');
  });

  it('decodes the next image ahead, and shows it on → without fetching it again', async () => {
    const next = renditions.get(ids[1]!)!;
    // Resting on an image, the next ones are decoded before any key is pressed.
    await expect.poll(cachedUrls).toEqual(expect.arrayContaining([expect.stringContaining(`path=${next}`)]));
    await expect.poll(cachedUrls).toEqual(expect.arrayContaining([expect.stringContaining(`path=${renditions.get(ids[3]!)}`)]));
    // Settled: a decode started at a box size that changed while the loupe opened is done too.
    await expect.poll(async () => (await stats()).pending).toBe(0);
    const fetched = await fetches(next);
    expect(fetched).toBeGreaterThanOrEqual(1);
    const started = (await stats()).started;
    await page.keyboard.press('ArrowRight');
    await shownLoaded(ids[1]!);
    expect(await shown()).toMatchObject({ grey: true, src: expect.stringContaining(`path=${next}`) });
    expect(await fetches(next)).toBe(fetched);
    // Nothing decoded for it: the decodes since are of images further ahead.
    await expect.poll(async () => (await stats()).pending).toBe(0);
    const urls = await cachedUrls();
    expect(urls.filter((u) => u.includes(`path=${next}`))).toHaveLength(1);
    expect((await stats()).started - started).toBeLessThanOrEqual(2);
  });

  it('holding → flies past without decoding what it skips, and lands on the right image', async () => {
    await expect.poll(async () => (await stats()).pending).toBe(0);
    const from = await position();
    // On every frame: was each press's image on screen (its thumbnail, or its decoded pixels) in the frame after it?
    await page.evaluate(() => {
      const presses: { t: number; frames: number; result: 'pending' | 'shown' | 'late' | 'superseded' }[] = [];
      (window as unknown as { __flips: typeof presses }).__flips = presses;
      window.addEventListener('keydown', (event) => presses.push({ t: event.timeStamp, frames: 0, result: 'pending' }), { capture: true });
      const tick = (now: number): void => {
        const el = document.querySelector<HTMLElement>('[data-testid="loupe-image"]');
        const thumb = document.querySelector<HTMLImageElement>('.loupe .loupe-placeholder');
        const onScreen = el?.dataset.loaded === 'true' || (thumb !== null && thumb.complete && thumb.naturalWidth > 0);
        const waiting = presses.filter((p) => p.result === 'pending' && p.t < now);
        for (const [i, p] of waiting.entries()) {
          p.frames++;
          if (i < waiting.length - 1) p.result = 'superseded';
          else if (onScreen) p.result = p.frames <= 2 ? 'shown' : 'late';
        }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    await page.keyboard.down('ArrowRight');
    await page.keyboard.down('ArrowRight'); // auto-repeat from here on (event.repeat)
    const started = (await stats()).started;
    const repeats = 7;
    for (let i = 0; i < repeats; i++) await page.keyboard.down('ArrowRight');
    // No decode started for the images flown past, and none waits to be shown later (no backlog).
    expect((await stats()).started).toBe(started);
    expect((await stats()).pending).toBe(0);
    await page.keyboard.up('ArrowRight');
    const landed = from + repeats + 2;
    // Within two frames of the release the loupe is on the image the key landed on.
    const onLanding = await page.evaluate(
      () =>
        new Promise<number>((resolve) =>
          requestAnimationFrame(() =>
            requestAnimationFrame(() =>
              resolve(Number(document.querySelector<HTMLElement>('[data-testid="loupe-image"]')!.dataset.imageId)),
            ),
          ),
        ),
    );
    expect(onLanding).toBe(ids[landed - 1]);
    expect(await position()).toBe(landed);
    await shownLoaded(ids[landed - 1]!);
    const flips = await page.evaluate(() => (window as unknown as { __flips: { result: string }[] }).__flips.map((p) => p.result));
    // Every press not overtaken within its frame by the next one showed its image in the frame after it.
    const settled = flips.filter((r) => r !== 'superseded');
    expect(settled.length).toBeGreaterThan(0);
    expect(settled).toEqual(settled.map(() => 'shown'));
    expect((await stats()).started).toBeGreaterThan(started);
  });

  it('shows the original of an image without a rendition', async () => {
    const bare = images.find((i) => i.previewPath === null)!;
    await page.keyboard.press('Home');
    for (let i = 0; i < ids.indexOf(bare.id); i++) await page.keyboard.press('ArrowRight');
    await shownLoaded(bare.id);
    const fallback = await shown();
    expect(fallback).toMatchObject({ tag: 'CANVAS', id: bare.id, grey: false, src: expect.stringContaining(`path=${bare.path}`) });
    expect([fallback.width, fallback.height]).toEqual(fallback.fit);
  });

  it('keeps the decode cache within its bounds while stepping through more images than it holds', async () => {
    const meter = page.getByTestId('loupe-cache');
    expect(await meter.getAttribute('data-max-count')).toBe('8');
    expect(await meter.getAttribute('data-max-bytes')).toBe(String(256 * 1024 * 1024));
    // Narrowed so 14 images overflow it by count and by bytes: 3 images, at most two and a half images' worth.
    const fit = (await shown()).fit;
    const maxBytes = Math.round(fit[0] * fit[1] * 4 * 2.5);
    await page.evaluate((bytes) => window.__onbrandLoupeCache!.setBounds(3, bytes), maxBytes);
    expect(await meter.getAttribute('data-max-count')).toBe('3');
    // Sampled on every frame while stepping, as well as after each step.
    await page.evaluate(() => {
      const w = window as unknown as { __most: { count: number; bytes: number }; __sampling: boolean };
      w.__most = { count: 0, bytes: 0 };
      w.__sampling = true;
      const sample = (): void => {
        const s = window.__onbrandLoupeCache!.stats();
        w.__most = { count: Math.max(w.__most.count, s.count), bytes: Math.max(w.__most.bytes, s.bytes) };
        if (w.__sampling) requestAnimationFrame(sample);
      };
      sample();
    });
    await page.keyboard.press('Home');
    for (let i = 0; i < COUNT; i++) {
      await shownLoaded(ids[i]!);
      const s = await stats();
      expect(s.count).toBeLessThanOrEqual(3);
      expect(s.bytes).toBeLessThanOrEqual(maxBytes);
      expect(Number(await meter.getAttribute('data-count'))).toBeLessThanOrEqual(3);
      if (i < COUNT - 1) await page.keyboard.press('ArrowRight');
    }
    const most = await page.evaluate(() => {
      const w = window as unknown as { __most: { count: number; bytes: number }; __sampling: boolean };
      w.__sampling = false;
      return w.__most;
    });
    expect(most.count).toBeLessThanOrEqual(3);
    expect(most.count).toBeGreaterThan(1);
    expect(most.bytes).toBeLessThanOrEqual(maxBytes);
    await page.evaluate(() => window.__onbrandLoupeCache!.setBounds(8, 256 * 1024 * 1024));
  });

  it('had no console errors', () => {
    expect(errors).toEqual([]);
  });
});

/** Takes an image's rendition away for good: no record, and a folder where the repair would write the file. */
function withoutRendition(dataDir: string, image: ImageSummary): void {
  const file = path.join(dataDir, previewRelativePath(crypto.createHash('sha256').update(fs.readFileSync(image.path)).digest('hex')));
  fs.rmSync(file, { force: true });
  fs.mkdirSync(file, { recursive: true });
  const db = openCatalog(path.join(dataDir, 'catalog.sqlite'));
  try {
    db.prepare('UPDATE images SET preview_path = NULL WHERE id = ?').run(image.id);
  } finally {
    db.close();
  }
}
