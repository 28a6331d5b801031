/**
 * The browser host draws the opening project's first screenful into the page (host/boot-view.ts):
 * it paints with the HTML, before the app's bundle runs, at the places the app's grid then takes.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, startApp, tempDir, watchErrors, type RunningApp } from './support/app.js';
import { seedLargeProject } from './support/seed.js';

let app: RunningApp;
let browser: Browser;

beforeAll(async () => {
  const data = tempDir('boot-view');
  await seedLargeProject(data, 500);
  app = await startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', data]);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

/** The first `n` cells' boxes (x, y, width, height, rounded) of `selector`. */
const boxes = (page: Page, selector: string, n: number): Promise<number[][]> =>
  page.evaluate(
    ({ selector, n }) =>
      Array.from(document.querySelectorAll(selector))
        .slice(0, n)
        .map((c) => {
          const r = c.getBoundingClientRect();
          return [r.x, r.y, r.width, r.height].map(Math.round);
        }),
    { selector, n },
  );

/** Every image of `selector` has loaded. */
const loaded = (page: Page, selector: string): Promise<unknown> =>
  page.waitForFunction(
    (s) => {
      const imgs = Array.from(document.querySelectorAll<HTMLImageElement>(s));
      return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    },
    selector,
    { timeout: 20_000 },
  );

describe('the first screenful drawn by the host', () => {
  it('paints without the app (scripts off): real thumbnails, the count, the first image selected', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(app.urlWithToken);
    await loaded(page, '.boot-cell img.thumb');
    expect(await page.locator('.boot-cell').count()).toBe(60);
    expect(await page.locator('.boot-view .statusbar').textContent()).toBe('500 images');
    expect(await page.locator('.boot-cell.selected .cell-name').textContent()).toBe('gen_000001.png');
    await context.close();
  });

  it('keeps the keys pressed on the picture and gives them to the app when it takes over', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // The app's bundle comes late, as on a slow start: the picture is all there is meanwhile.
    await context.route(/\/assets\/main-[^/]+\.js$/, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await route.continue();
    });
    const page = await context.newPage();
    await page.goto(app.urlWithToken);
    await loaded(page, '.boot-cell img.thumb');
    expect(await page.locator('.grid-scroll').count()).toBe(0);
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    await page.keyboard.press('3');
    await page.waitForFunction(() => !document.getElementById('boot-view'), undefined, { timeout: 20_000 });
    await expect.poll(() => page.locator('.cell.selected').getAttribute('data-index')).toBe('3');
    await expect.poll(() => page.locator('.cell.selected').getAttribute('data-rating')).toBe('3');
    await context.close();
  });

  it("is replaced by the app's grid at the same places, with no error on the page", async () => {
    const still = await browser.newContext({ viewport: { width: 1280, height: 800 }, javaScriptEnabled: false });
    const stillPage = await still.newPage();
    await stillPage.goto(app.urlWithToken);
    const drawn = await boxes(stillPage, '.boot-cell', 16);
    await still.close();

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(app.urlWithToken);
    await page.waitForFunction(() => !document.getElementById('boot-view'), undefined, { timeout: 20_000 });
    await loaded(page, '.grid-scroll .cell img.thumb');
    const grid = await boxes(page, '.grid-scroll .cell', 16);
    expect(drawn).toHaveLength(16);
    for (const [i, box] of grid.entries())
      for (const [k, v] of box.entries()) expect(Math.abs(v - drawn[i]![k]!), `cell ${i}`).toBeLessThanOrEqual(1);
    // The app is in charge: keys move the selection.
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.locator('.cell.selected').getAttribute('data-index')).toBe('1');
    expect(errors).toEqual([]);
    // A reload without the token in the address (the app keeps it for the session) shows the app alone.
    const again = await page.request.get(new URL('/', app.url).toString());
    expect(await again.text()).not.toContain('boot-view');
    await context.close();
  });
});
