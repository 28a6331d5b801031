/** End-to-end support: the real browser host as a child process, and Debian's Chromium through Playwright. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = path.join(ROOT, 'e2e', 'artifacts');

/** Debian's Chromium (apt-get install chromium), or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `onbrand-e2e-${prefix}-`));
}

export interface RunningApp {
  url: string;
  urlWithToken: string;
  token: string;
  process: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Starts `node <script> ...args` and waits for the line with the URL and token, as a user would
 * read it from the terminal.
 */
export async function startApp(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningApp> {
  const child = spawn(process.execPath, [path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const urlWithToken = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed within 60 s:\n${output}`)), 60_000);
    const check = (): void => {
      const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before printing a URL:\n${output}`));
    });
  });
  const url = new URL(urlWithToken);
  return {
    url: `${url.origin}/`,
    urlWithToken,
    token: url.searchParams.get('token')!,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH.`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
}

/** Collects console errors and page errors (a CSP violation shows up as a console error). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Calls the browser host's API with this run's token; an error answer throws with its code and message. */
export async function callApi<T>(app: RunningApp, method: string, input: object): Promise<T> {
  const response = await fetch(new URL(`/api/${method}`, app.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-onbrand-token': app.token },
    body: JSON.stringify(input),
  });
  const body = (await response.json()) as { result?: T; error?: { code: string; message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.code}: ${body.error.message}`);
  return body.result as T;
}

/** Creates a project from the keyboard (Ctrl+N); returns once it is open and the dialog has gone. */
export async function createProjectByKeyboard(page: Page, name: string): Promise<void> {
  await page.keyboard.press('Control+n');
  const dialog = page.getByRole('dialog', { name: 'New project' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('empty-project').waitFor();
  // The app's keys are off while a dialog is open; it closes once the project is opened.
  await dialog.waitFor({ state: 'detached' });
}

/** Imports a folder from the keyboard (Ctrl+I), waits for the report to say `reported`, dismisses it. */
export async function importByKeyboard(page: Page, dir: string, reported: string): Promise<void> {
  await page.keyboard.press('Control+i');
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Files or folders').fill(dir);
  await dialog.getByRole('button', { name: 'Import' }).click();
  await page.getByTestId('import-report').filter({ hasText: reported }).waitFor();
  await page.getByRole('button', { name: 'Dismiss' }).click();
}

/** The browser host on a fresh data folder, with Chromium on its page (1440×900) and console errors watched. */
export async function openHost(
  dataDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ app: RunningApp; browser: Browser; page: Page; errors: string[] }> {
  const app = await startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', dataDir], env);
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  return { app, browser, page, errors: watchErrors(page) };
}
