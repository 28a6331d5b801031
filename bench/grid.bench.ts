/** Time from opening a 10,000-image project to the first painted grid, in Chromium via the browser host. */
import { it } from 'vitest';
import { launchBrowser, startApp, tempDir } from '../e2e/support/app.js';
import { seedLargeProject } from '../e2e/support/seed.js';
import { measure, median, report } from './support.js';

const COUNT = 10_000;

it('first painted grid of a 10,000-image project', async () => {
  await measure('grid', async () => {
    const data = tempDir('bench-grid');
    await seedLargeProject(data, COUNT);
    const app = await startApp('dist/main/host/main.js', ['--port', '0', '--data-dir', data]);
    const browser = await launchBrowser();
    try {
      // The API call alone: listing 10,000 images.
      const listTimes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const response = await fetch(new URL('/api/images.list', app.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-onbrand-token': app.token },
          body: JSON.stringify({ projectId: 1 }),
        });
        const body = (await response.json()) as { result: unknown[] };
        if (body.result.length !== COUNT) throw new Error(`listed ${body.result.length} images`);
        listTimes.push(performance.now() - started);
      }
      report(`grid: images.list of ${COUNT} images over HTTP: median ${median(listTimes).toFixed(0)} ms`);

      const paint: number[] = [];
      for (let run = 0; run < 5; run++) {
        const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
        const page = await context.newPage();
        const started = performance.now();
        await page.goto(app.urlWithToken);
        await page.waitForFunction(() => {
          const imgs = Array.from(document.querySelectorAll<HTMLImageElement>('.cell img.thumb'));
          return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
        });
        paint.push(performance.now() - started);
        await context.close();
      }
      report(
        `grid: open a ${COUNT}-image project → first painted grid with thumbnails (headless Chromium, no GPU): ` +
          `median ${median(paint).toFixed(0)} ms, runs ${paint.map((t) => t.toFixed(0)).join(', ')} ms`,
      );
    } finally {
      await browser.close();
      await app.stop();
    }
  });
});
