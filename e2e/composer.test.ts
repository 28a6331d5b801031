/**
 * The prompt Composer in the UI, in Debian's Chromium through the browser host, with a tiny Stable
 * Diffusion model: the brand skeleton saved, five offline drafts with their annotations, two
 * starred, the template's live count following an edited alternative, and the two starred drafts
 * queued at 64×64 and 4 steps until their images are in the grid.
 * Screenshot: e2e/artifacts/composer.png.
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinySd } from '../src-main/core/diffusion/testing/tiny-sd.js';
import { launchBrowser, screenshot, startApp, tempDir, watchErrors, type RunningApp } from './support/app.js';

let app: RunningApp;
let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  const data = tempDir('composer');
  const modelsDir = path.join(data, 'models');
  writeTinySd(path.join(modelsDir, 'tiny-sd'));
  app = await startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', path.join(data, 'app')], { ONBRAND_MODELS_DIR: modelsDir });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  errors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const panel = () => page.getByTestId('side-panel');
const composer = () => page.getByTestId('composer');
/** The count line once it is for the template as it stands (empty while an expansion is on its way). */
const countText = async (): Promise<string> => {
  const count = composer().locator('[data-testid="expand-count"][data-fresh="true"]');
  return (await count.count()) > 0 ? ((await count.textContent()) ?? '') : '';
};

describe('composer', () => {
  it('opens the Composer tab with Ctrl+K on a new project and saves the brand skeleton', async () => {
    await page.goto(app.urlWithToken);
    await page.locator('html[data-ready="true"]').waitFor();
    await page.getByRole('button', { name: '+ New project' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New project' });
    await dialog.getByLabel('Name').fill('Composer drop');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('empty-project').waitFor();
    await dialog.waitFor({ state: 'detached' });

    // The Generate form first: the tiny model's 64×64 at 4 steps, two images a batch, one batch.
    await page.keyboard.press('Control+g');
    await expect.poll(() => panel().getByLabel('Model').inputValue()).toBe('tiny-sd');
    await panel().getByLabel('Width').fill('64');
    await panel().getByLabel('Height').fill('64');
    await panel().getByLabel('Steps').fill('4');
    await panel().getByLabel('Batch size').fill('2');
    await panel().getByLabel('Batches').fill('1');

    // Ctrl+K switches to the Composer (from the form's fields too); the tab says which one shows.
    await page.keyboard.press('Control+k');
    await composer().waitFor();
    await expect.poll(() => panel().getByRole('tab', { name: 'Composer' }).getAttribute('aria-selected')).toBe('true');
    // Ctrl+K again hides the panel; the visible tab brings it back.
    await page.keyboard.press('Control+k');
    await panel().waitFor({ state: 'detached' });
    await page.keyboard.press('Control+k');
    await composer().waitFor();
    await panel().getByRole('tab', { name: 'Generate' }).click();
    await expect.poll(() => panel().getByLabel('Width').inputValue()).toBe('64');
    await panel().getByRole('tab', { name: 'Composer' }).click();

    const skeleton = composer().getByTestId('skeleton');
    await skeleton.getByLabel('Mood').fill('hopeful / rebellious finance');
    // The abstract background hint follows the subjects.
    const subjects = skeleton.getByTestId('subjects');
    await subjects.locator('li').first().waitFor();
    if ((await subjects.getByText('abstract shape', { exact: true }).count()) > 0) {
      await skeleton.getByTestId('abstract-hint').waitFor();
      await skeleton.getByRole('button', { name: 'Remove subject abstract shape' }).click();
      await skeleton.getByTestId('abstract-hint').waitFor({ state: 'detached' });
    }
    await skeleton.getByLabel('New subject').fill('abstract shape');
    await skeleton.getByRole('button', { name: 'Add subject' }).click();
    await skeleton.getByTestId('abstract-hint').waitFor();
    await skeleton.getByLabel('New subject').fill('phone in hand');
    await skeleton.getByLabel('New subject').press('Enter');
    await skeleton.getByLabel('Aspect').selectOption('9:16');
    await skeleton.getByRole('button', { name: 'Save skeleton' }).click();
    await expect.poll(() => skeleton.getByTestId('skeleton-status').textContent()).toBe('Skeleton saved.');
    await expect(subjects.locator('li').allTextContents()).resolves.toEqual(
      expect.arrayContaining([expect.stringContaining('phone in hand')]),
    );
  });

  it('drafts five prompts with their annotations and stars two', async () => {
    await composer().getByRole('button', { name: 'Draft 5' }).click();
    const drafts = composer().getByTestId('drafts').getByTestId('draft');
    await expect.poll(() => drafts.count()).toBe(5);
    for (const text of await drafts.getByTestId('annotations').allTextContents()) {
      expect(text).toMatch(/\d+ words/);
      expect(text).toContain('camera:');
      expect(text).toContain('light:');
      expect(text).toContain('colours:');
    }
    await drafts
      .nth(0)
      .getByRole('button', { name: /^Star draft/ })
      .click();
    await drafts
      .nth(2)
      .getByRole('button', { name: /^Star draft/ })
      .click();
    await expect.poll(() => composer().locator('[data-testid="draft"][data-starred="true"]').count()).toBe(2);
    await composer().getByRole('button', { name: 'Queue starred (2)' }).waitFor();
  });

  it('shows the template count, which follows an edited alternative, and the error position', async () => {
    const template = composer().getByRole('textbox', { name: 'Template', exact: true });
    await expect.poll(() => template.inputValue()).toContain('<lora:FluxPortraitTrainer:1>, {subject}, {camera action}');
    await expect.poll(countText).toMatch(/^\d+ prompts? × 2 = \d+ images/);
    const before = Number(/^(\d+)/.exec(await countText())![1]);

    await template.fill('{teal|magenta} glow, {subject}, 35 mm --ar 9:16');
    await expect.poll(countText).toMatch(/^\d+ prompts? × 2/);
    const two = Number(/^(\d+)/.exec(await countText())![1]);
    await template.fill('{teal|magenta|yellow} glow, {subject}, 35 mm --ar 9:16');
    await expect.poll(async () => Number(/^(\d+)/.exec(await countText())?.[1] ?? NaN)).toBe((two / 2) * 3);
    await composer().getByTestId('expansions').locator('li').first().waitFor();

    // A template with an unclosed alternative says where. Its `invalid_input` answer is an HTTP 400,
    // which Chromium logs as a failed resource: that one line is expected, and taken out.
    const errorsBefore = errors.length;
    await template.fill('{teal|magenta glow');
    const error = composer().locator('[data-testid="template-error"][data-fresh="true"]');
    await error.waitFor();
    await expect.poll(() => error.textContent()).toMatch(/\d/);
    const added = errors.splice(errorsBefore);
    expect(added.every((e) => e.includes('status of 400'))).toBe(true);
    expect(added.length).toBeLessThanOrEqual(1);
    await template.fill('{teal|magenta|yellow} glow, {subject}, 35 mm --ar 9:16');
    await expect.poll(countText).toMatch(/^\d+ prompts? × 2/);
    expect(before).toBeGreaterThan(0);
  });

  it('queues the two starred drafts with the Generate form settings and their images land in the grid', async () => {
    await composer().getByRole('button', { name: 'Queue starred (2)' }).click();
    await expect.poll(() => composer().getByTestId('composer-queue-status').textContent()).toMatch(/^Queued 2 jobs \(4 images\)/);
    const jobs = panel().locator('[data-testid="job"]');
    await expect.poll(() => jobs.count()).toBe(2);
    await expect.poll(() => page.getByTestId('image-count').textContent(), { timeout: 60_000 }).toBe('4 images');
    await expect.poll(() => panel().locator('[data-testid="job"][data-state="done"]').count(), { timeout: 60_000 }).toBe(2);
    await expect
      .poll(() =>
        page.evaluate(() => {
          const thumbs = Array.from(document.querySelectorAll<HTMLImageElement>('.cell img.thumb'));
          return thumbs.length === 4 && thumbs.every((img) => img.complete && img.naturalWidth > 0);
        }),
      )
      .toBe(true);
    // The shot shows the Composer from its top: the tabs, the skeleton and the drafts.
    await panel()
      .locator('section.generate')
      .evaluate((el) => el.scrollTo(0, 0));
    await screenshot(page, 'composer');
    expect(errors).toEqual([]);
  });
});
