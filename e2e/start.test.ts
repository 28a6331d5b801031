/**
 * `npm start` on a machine where Electron cannot open a window: it says why in one line and
 * serves the same UI through the browser host.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { launchBrowser, ROOT, startApp, tempDir, type RunningApp } from './support/app.js';

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

describe('the browser host refuses a guessable token', () => {
  it('--token shorter than 32 characters: exit 1, says why, listens nowhere', () => {
    const run = spawnSync(
      process.execPath,
      [path.join(ROOT, 'dist', 'main', 'host', 'main.js'), '--port', '0', '--token', 'a', '--data-dir', tempDir('short-token')],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/--token must be at least 32 characters/);
    expect(run.stdout).not.toContain('http://');
  });
});
