/**
 * The Electron app through Playwright's Electron support. Runs where an Electron runtime is
 * installed (and a display exists); elsewhere it reports itself skipped with the reason.
 */
import fs from 'node:fs';
import path from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, it, expect } from 'vitest';
import { ROOT, screenshot, tempDir } from './support/app.js';

function electronBinary(): { file?: string; reason?: string } {
  const pkg = path.join(ROOT, 'node_modules', 'electron');
  const pathFile = path.join(pkg, 'path.txt');
  if (!fs.existsSync(pathFile))
    return {
      reason: 'no Electron runtime installed (node_modules/electron/path.txt is missing; it downloads on first `npm start` with internet)',
    };
  const file = path.join(pkg, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
  if (!fs.existsSync(file)) return { reason: `the Electron runtime ${file} is missing` };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)
    return { reason: 'no display (run under xvfb-run to test the Electron window)' };
  return { file };
}

const runtime = electronBinary();

describe('Electron app', () => {
  it('opens a sandboxed window whose renderer talks to the core through the preload', async (ctx) => {
    if (!runtime.file) {
      console.log(`Electron e2e skipped: ${runtime.reason}`);
      ctx.skip(runtime.reason);
      return;
    }
    const data = tempDir('electron');
    const app = await electron.launch({
      executablePath: runtime.file,
      args: [ROOT],
      env: { ...process.env, ONBRAND_DATA_DIR: data } as Record<string, string>,
    });
    try {
      const window = await app.firstWindow();
      await window.locator('html[data-ready="true"]').waitFor();
      // No Node in the renderer; only the bridge.
      const globals = await window.evaluate(() => ({
        require: typeof (globalThis as { require?: unknown }).require,
        process: typeof (globalThis as { process?: unknown }).process,
        bridge: typeof (window as { onbrand?: unknown }).onbrand,
      }));
      expect(globals).toEqual({ require: 'undefined', process: 'undefined', bridge: 'object' });
      await window.getByRole('button', { name: '+ New project' }).first().click();
      await window.getByRole('dialog').getByLabel('Name').fill('Electron project');
      await window.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
      await window.getByTestId('empty-project').waitFor();
      await screenshot(window, 'electron');
    } finally {
      await app.close();
    }
  });
});
