/**
 * `npm start` on a machine where Electron cannot open a window: it says why in one line and
 * serves the same UI through the browser host.
 */
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { launchBrowser, startApp, tempDir, type RunningApp } from './support/app.js';

let app: RunningApp | undefined;
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

describe('npm start without an Electron runtime or display', () => {
  it('falls back to the browser host, says why, and serves a working UI', async () => {
    // Where no display exists the Electron runtime could not open a window anyway; skip the download attempt.
    app = await startApp('scripts/start.mjs', ['--port', '0', '--data-dir', tempDir('start')], {
      ONBRAND_ELECTRON_DOWNLOAD: '0',
      DISPLAY: '',
      WAYLAND_DISPLAY: '',
    });
    const lines = app.output().trim().split('\n');
    expect(lines[0]).toMatch(/^Onbrand: cannot open the desktop app because .+; starting the browser host instead\.$/);
    expect(app.output()).toContain('Onbrand browser host: http://127.0.0.1:');

    const health = (await (await fetch(new URL('/api/health', app.url))).json()) as { ok: boolean };
    expect(health.ok).toBe(true);
    browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await expect(page.getByTestId('no-project').isVisible()).resolves.toBe(true);
  });
});
