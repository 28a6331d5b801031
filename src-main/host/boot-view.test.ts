import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageSummary, Project } from '../core/api/index.js';
import { resolveConfig } from '../core/config.js';
import { createServices, type Services } from '../core/services.js';
import { BOOT_CELLS, bootViewHtml, escapeHtml, lastProjectFromCookie, openingProject, withBootView } from './boot-view.js';
import { startHost, type RunningHost } from './server.js';

const INDEX_HTML = '<!doctype html><html><head><title>Onbrand test UI</title></head><body><div id="root"></div></body></html>\n';

function image(id: number, patch: Partial<ImageSummary> = {}): ImageSummary {
  return {
    id,
    projectId: 1,
    path: `/p/img_${id}.png`,
    fileName: `img_${id}.png`,
    thumbPath: `thumbs/${id}.jpg`,
    previewPath: null,
    width: 576,
    height: 1024,
    rating: 0,
    flag: 'none',
    label: 'none',
    seed: null,
    createdAt: '2026-11-30T00:00:00.000Z',
    jobId: null,
    prompt: null,
    sharpness: null,
    colour: null,
    ...patch,
  };
}
const project = { id: 4, name: 'Spring <drop>' } as Project;
const cells = (html: string): string[] => html.match(/<div class="boot-cell[^"]*">/g) ?? [];

describe('the first screenful drawn by the host', () => {
  it('draws the default view: capture order, rejects left out, the first image selected, names escaped', () => {
    const html = bootViewHtml({
      project,
      total: 12_345,
      token: 't&1',
      images: [image(1, { flag: 'reject' }), image(2, { fileName: 'a<b>"c".png' }), image(3, { thumbPath: null }), image(4)],
    });
    expect(html).toContain('data-project="4"');
    expect(html).toContain('Spring &lt;drop&gt;');
    expect(html).toContain('12,345 images');
    expect(html).not.toContain('img_1.png');
    expect(cells(html)).toEqual(['<div class="boot-cell selected">', '<div class="boot-cell">', '<div class="boot-cell">']);
    expect(html).toContain('alt="a&lt;b&gt;&quot;c&quot;.png"');
    // The grid's own address for the thumbnail (api/client.ts mediaUrl), escaped for the attribute.
    expect(html).toContain('src="/media?path=thumbs%2F2.jpg&amp;token=t%261"');
    expect(html).toContain('<div class="thumb pending"></div>');
    // A thumbnail carried in the page is used as it is.
    const inline = new Map([['thumbs/4.jpg', 'data:image/jpeg;base64,AAAA']]);
    expect(bootViewHtml({ project, total: 4, token: 't', images: [image(4)], inline })).toContain('src="data:image/jpeg;base64,AAAA"');
    expect(html).toMatch(/class="boot-grid boot-more"/);
    expect(html).not.toMatch(/style=|<script/);
  });

  it('draws at most a screenful, with no scroll bar when everything fits', () => {
    const many = bootViewHtml({ project, total: 500, token: 't', images: Array.from({ length: 120 }, (_, i) => image(i + 1)) });
    expect(cells(many)).toHaveLength(BOOT_CELLS);
    const few = bootViewHtml({ project, total: 2, token: 't', images: [image(1), image(2)] });
    expect(few).toMatch(/class="boot-grid"/);
    expect(few).toContain('2 images');
  });

  it('reads the last project from the cookie, else opens the first', () => {
    expect(lastProjectFromCookie('a=1; onbrand.lastProject=7; b=2')).toBe(7);
    expect(lastProjectFromCookie('onbrand.lastProject=7x')).toBeNull();
    expect(lastProjectFromCookie(undefined)).toBeNull();
    const list = [{ id: 1 }, { id: 7 }] as Project[];
    expect(openingProject(list, 7)?.id).toBe(7);
    expect(openingProject(list, 9)?.id).toBe(1);
    expect(openingProject([], null)).toBeNull();
    expect(escapeHtml(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&#39;');
    expect(withBootView('<body><div id="root"></div></body>', '<i></i>')).toBe('<body><div id="root"></div>\n    <i></i></body>');
    expect(withBootView('<body></body>', '<i></i>')).toBe('<body></body>');
  });
});

describe('the page the browser host serves', () => {
  let root: string;
  let services: Services;
  let host: RunningHost;
  let base: string;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-boot-view-'));
    const rendererDir = path.join(root, 'renderer');
    fs.mkdirSync(rendererDir);
    fs.writeFileSync(path.join(rendererDir, 'index.html'), INDEX_HTML);
    services = createServices(resolveConfig({ dataDir: path.join(root, 'data'), projectsDir: path.join(root, 'projects') }));
    host = await startHost({ services, port: 0, rendererDir });
    base = `http://127.0.0.1:${host.port}`;
    await call('projects.create', { name: 'Empty' });
    const second = (await call('projects.create', { name: 'Shoot & Co' })) as Project;
    const source = path.join(root, 'in');
    fs.mkdirSync(source);
    for (const [i, name] of ['one.png', "t<w>o'.png", 'three.png'].entries())
      await sharp({ create: { width: 64, height: 96, channels: 3, background: { r: 40 * i, g: 10, b: 90 } } })
        .png()
        .toFile(path.join(source, name));
    await call('images.import', { projectId: second.id, paths: [source] });
  });

  async function call(method: string, input: object): Promise<unknown> {
    const res = await fetch(`${base}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-onbrand-token': host.token },
      body: JSON.stringify(input),
    });
    const body = (await res.json()) as { result?: unknown; error?: { message: string } };
    if (!res.ok) throw new Error(body.error?.message);
    return body.result;
  }
  const projects = async (): Promise<Project[]> => (await call('projects.list', {})) as Project[];

  afterAll(async () => {
    await Promise.race([host.close(), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
    await services.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const page = async (query: string, cookie?: string): Promise<{ html: string; cache: string | null }> => {
    const res = await fetch(`${base}/${query}`, cookie ? { headers: { cookie } } : {});
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    return { html: await res.text(), cache: res.headers.get('cache-control') };
  };

  it('draws the last project opened (the cookie) when asked for with the token, and its thumbnails load', async () => {
    const shoot = (await projects()).find((p) => p.name.startsWith('Shoot'))!;
    const first = ((await call('images.list', { projectId: shoot.id })) as ImageSummary[]).find((i) => i.fileName === 'one.png');
    await call('images.mark', { projectId: shoot.id, changes: [{ imageId: first!.id, flag: 'reject' }] });
    const { html, cache } = await page(`?token=${host.token}`, `onbrand.lastProject=${shoot.id}`);
    expect(cache).toBe('no-store');
    expect(html).toContain(`data-project="${shoot.id}"`);
    expect(html).toContain('Shoot &amp; Co');
    expect(html).toContain('3 images');
    expect(cells(html)).toHaveLength(2); // the rejected one is in Maybe Later
    expect(html).not.toContain(`alt="${first!.fileName}"`);
    expect(html).toContain('alt="t&lt;w&gt;o&#39;.png"');
    // The thumbnails ride in the page: the very bytes /media serves for them.
    const sources = [...html.matchAll(/<img class="thumb" src="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources).toHaveLength(2);
    const shown = ((await call('images.list', { projectId: shoot.id })) as ImageSummary[]).filter((i) => i.flag !== 'reject');
    for (const [i, src] of sources.entries()) {
      const match = /^data:(image\/[a-z]+);base64,(.+)$/.exec(src);
      expect(match, src.slice(0, 40)).not.toBeNull();
      const served = await fetch(`${base}/media?path=${encodeURIComponent(shown[i]!.thumbPath!)}&token=${host.token}`);
      expect(served.headers.get('content-type')).toBe(match![1]);
      expect(Buffer.from(match![2]!, 'base64').equals(Buffer.from(await served.arrayBuffer()))).toBe(true);
    }
  });

  it('draws nothing without the right token, for an empty project, or with no project at all', async () => {
    expect((await page('')).html).toBe(INDEX_HTML);
    expect((await page('?token=wrong')).html).toBe(INDEX_HTML);
    const empty = (await projects()).find((p) => p.name === 'Empty')!;
    expect((await page(`?token=${host.token}`, `onbrand.lastProject=${empty.id}`)).html).toBe(INDEX_HTML);
  });
});
