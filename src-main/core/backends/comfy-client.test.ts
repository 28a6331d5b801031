/** Onbrand's ComfyUI client against the ComfyUI imitation: real servers on 127.0.0.1, a real tiny model, real images. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffusionEngine, readPngText, type GenerateSettings } from '../diffusion/index.js';
import { writeTinySd } from '../diffusion/testing/tiny-sd.js';
import { comfyImg2img } from './comfy-graph.js';
import { ComfyBackendError, ComfyClient } from './comfy-client.js';
import { exampleGraph, startComfyImitation, writeTinySdLora, type ComfyImitation } from './testing/comfy-imitation.js';

let root: string;
let model: string;
let server: ComfyImitation;
let client: ComfyClient;
/** Onbrand's own engine, for the reference images; its LoRA folder holds the same file as the server's. */
let engine: DiffusionEngine;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-comfy-client-'));
  model = writeTinySd(path.join(root, 'tiny-sd'));
  const lora = writeTinySdLora(path.join(root, 'loras', 'Brand.safetensors'), 3);
  server = await startComfyImitation({
    checkpoints: { 'tiny-sd.safetensors': model },
    loras: { 'Brand.safetensors': lora },
    vramFree: 6_000_000_000,
  });
  client = new ComfyClient({ name: 'studio-1', url: server.url });
  engine = new DiffusionEngine({ loraDir: path.join(root, 'loras'), graphCacheDir: path.join(root, 'graphs') });
  await engine.load(model, 'cpu');
});

afterAll(async () => {
  client?.close();
  await server?.close();
  await engine?.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

const settings = (over: Partial<GenerateSettings>): GenerateSettings => ({
  prompt: 'a red fox',
  negativePrompt: '',
  seed: 1,
  steps: 3,
  cfg: 7,
  sampler: 'Euler',
  width: 64,
  height: 64,
  batchSize: 1,
  ...over,
});

const pixels = (png: Buffer): Promise<Buffer> => sharp(png).raw().toBuffer();

async function failure(promise: Promise<unknown>): Promise<ComfyBackendError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ComfyBackendError);
  return error as ComfyBackendError;
}

describe('ComfyClient', () => {
  it('reads system stats and the checkpoint and LoRA lists', async () => {
    const stats = await client.systemStats();
    expect(stats.version).toBe('0.3.66');
    expect(stats.python).toMatch(/^3\.12/);
    expect(stats.devices).toEqual([
      { name: expect.stringContaining('cuda:0'), type: 'cuda', vramTotal: expect.any(Number), vramFree: 6_000_000_000 },
    ]);
    expect(await client.inventory()).toEqual({ checkpoints: ['tiny-sd.safetensors'], loras: ['Brand.safetensors'] });
  });

  it("makes a txt2img image pixel-equal to Onbrand's own engine at batch 1, with progress and previews", async () => {
    const progress: [number, number][] = [];
    const previews: string[] = [];
    const graph = exampleGraph({
      ckpt: 'tiny-sd.safetensors',
      positive: 'a red fox',
      negative: 'blurry',
      seed: 1234,
      steps: 4,
      sampler: 'dpmpp_2m',
      scheduler: 'karras',
      cfg: 6.5,
    });
    const result = await client.run(graph, {
      outputNode: '9',
      onProgress: (value, max) => progress.push([value, max]),
      onPreview: (url) => previews.push(url),
    });
    expect(result).toMatchObject({ promptId: expect.any(String), width: 64, height: 64 });
    expect(server.prompts.at(-1)).toMatchObject({ promptId: result.promptId, graph });
    expect(progress).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
    expect(previews.length).toBeGreaterThan(0);
    expect(previews[0]).toMatch(/^data:image\/jpeg;base64,\/9j\//);
    expect(readPngText(result.png).parameters).toBeUndefined();
    const [reference] = await engine.generate(
      settings({ negativePrompt: 'blurry', seed: 1234, steps: 4, sampler: 'DPM++ 2M Karras', cfg: 6.5 }),
    );
    expect(await pixels(result.png)).toEqual(reference!.rgb);
  });

  it('runs a LoRA graph: the image changes, and equals the engine with <lora:Brand:0.8>', async () => {
    const plain = await client.run(exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'a logo', seed: 9, steps: 3 }), {
      outputNode: '9',
    });
    const branded = await client.run(
      exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'a logo', seed: 9, steps: 3, loras: [['Brand.safetensors', 0.8]] }),
      {
        outputNode: '9',
      },
    );
    expect(await pixels(branded.png)).not.toEqual(await pixels(plain.png));
    const [reference] = await engine.generate(settings({ prompt: 'a logo <lora:Brand:0.8>', seed: 9 }));
    expect(await pixels(branded.png)).toEqual(reference!.rgb);
  });

  it('uploads an image and runs img2img from it', async () => {
    const source = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 20, g: 140, b: 200 } } })
      .png()
      .toBuffer();
    const name = await client.uploadImage(source, 'moodboard ref.png');
    expect(name).toBe('onbrand/moodboard ref.png');
    const result = await client.run(
      // The engine's 4 steps at strength 0.6, as ComfyUI's KSampler is asked to walk them.
      exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'a fox', seed: 77, image: name, ...comfyImg2img(4, 0.6) }),
      {
        outputNode: '9',
      },
    );
    const [reference] = await engine.generate(settings({ prompt: 'a fox', seed: 77, steps: 4, init: { image: source, strength: 0.6 } }));
    expect(await pixels(result.png)).toEqual(reference!.rgb);
  });

  it('names the value a server refused (a checkpoint it does not have) as rejected', async () => {
    const error = await failure(
      client.run(exampleGraph({ ckpt: 'brand-xl.safetensors', positive: 'x', seed: 1, steps: 2 }), { outputNode: '9' }),
    );
    expect(error.kind).toBe('rejected');
    expect(error.message).toContain(`ComfyUI "studio-1" (${server.url})`);
    expect(error.message).toContain("ckpt_name: 'brand-xl.safetensors' not in ['tiny-sd.safetensors']");
  });

  it("reports the server's exception when a node fails", async () => {
    const error = await failure(
      client.run(exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'x', seed: 1, steps: 2, sampler: 'heun' }), { outputNode: '9' }),
    );
    expect(error.kind).toBe('execution');
    expect(error.message).toMatch(/ComfyUI "studio-1" .* failed in KSampler 3: .*heun/);
  });

  it('runs several prompts at once over one WebSocket, each getting its own image', async () => {
    const seeds = [11, 12, 13];
    const results = await Promise.all(
      seeds.map((seed) =>
        client.run(exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'a fox', seed, steps: 2 }), { outputNode: '9' }),
      ),
    );
    for (const [i, seed] of seeds.entries()) {
      const [reference] = await engine.generate(settings({ prompt: 'a fox', seed, steps: 2 }));
      expect(await pixels(results[i]!.png)).toEqual(reference!.rgb);
    }
  });

  it('fails as lost at once when the server goes away mid-run, and works again with a server restarted on that address', async () => {
    const slow = await startComfyImitation({ checkpoints: { 'tiny-sd.safetensors': model }, stepDelayMs: 1500 });
    const c = new ComfyClient({ name: 'studio-2', url: slow.url, idleTimeoutMs: 60_000 });
    let restarted: ComfyImitation | undefined;
    try {
      let started = 0;
      const run = c.run(exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'x', seed: 1, steps: 4 }), {
        outputNode: '9',
        onProgress: () => undefined,
      });
      const settled = failure(run);
      while (
        !slow.prompts.length ||
        !(await fetch(`${slow.url}/queue`).then((r) => r.json() as Promise<{ queue_running: unknown[] }>)).queue_running.length
      ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      started = Date.now();
      await slow.kill();
      const error = await settled;
      expect(error.kind).toBe('lost');
      expect(error.message).toContain('ComfyUI "studio-2"');
      // A few quick reconnect attempts (about 2 s), far sooner than the idle timeout (60 s here).
      expect(Date.now() - started).toBeLessThan(5000);

      // The same address comes back, knowing nothing: a new run works; the old prompt is unknown there.
      restarted = await startComfyImitation({ checkpoints: { 'tiny-sd.safetensors': model }, port: slow.port });
      const again = await c.run(exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'x', seed: 1, steps: 2 }), { outputNode: '9' });
      expect(again.width).toBe(64);
      expect(restarted.prompts).toHaveLength(1);
    } finally {
      c.close();
      await slow.close();
      await restarted?.close();
    }
  });

  it('a server restarted on the same address has forgotten the prompt: lost', async () => {
    const first = await startComfyImitation({ checkpoints: { 'tiny-sd.safetensors': model }, stepDelayMs: 300 });
    const c = new ComfyClient({ name: 'studio-4', url: first.url, idleTimeoutMs: 60_000 });
    let second: ComfyImitation | undefined;
    try {
      let stepped = false;
      const graph = exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'x', seed: 1, steps: 8 });
      const settled = failure(c.run(graph, { outputNode: '9', onProgress: () => (stepped = true) }));
      while (!stepped) await new Promise((r) => setTimeout(r, 10));
      await first.kill();
      second = await startComfyImitation({ checkpoints: { 'tiny-sd.safetensors': model }, port: first.port });
      const error = await settled;
      expect(error.kind).toBe('lost');
      expect(error.message).toContain('ComfyUI "studio-4"');
      expect(error.message).toContain('no longer knows the image it was making');
    } finally {
      c.close();
      await second?.close();
    }
  });

  it('carries on after the connections drop while the server keeps the prompt (a proxy limit)', async () => {
    const proxied = await startComfyImitation({ checkpoints: { 'tiny-sd.safetensors': model }, stepDelayMs: 200 });
    const c = new ComfyClient({ name: 'behind-proxy', url: proxied.url });
    try {
      const progress: number[] = [];
      let dropped = false;
      const result = await c.run(exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'a fox', seed: 21, steps: 4 }), {
        outputNode: '9',
        onProgress: (value) => {
          progress.push(value);
          if (!dropped) {
            dropped = true;
            proxied.dropConnections();
          }
        },
      });
      const [reference] = await engine.generate(settings({ prompt: 'a fox', seed: 21, steps: 4 }));
      expect(await pixels(result.png)).toEqual(reference!.rgb);
      expect(progress.at(-1)).toBe(4);
    } finally {
      c.close();
      await proxied.close();
    }
  });

  it('a prompt waiting its turn behind another client is not a timeout', async () => {
    const busy = await startComfyImitation({ checkpoints: { 'tiny-sd.safetensors': model }, stepDelayMs: 350 });
    const other = new ComfyClient({ name: 'busy', url: busy.url });
    const mine = new ComfyClient({ name: 'busy', url: busy.url, idleTimeoutMs: 2500 });
    try {
      // The other client's prompt runs about 5.6 s (two idle times; an idle time long enough that a
      // loaded machine still hears from a running prompt in time); mine hears nothing meanwhile (its messages go to the other client).
      const theirs = other.run(exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'theirs', seed: 1, steps: 16 }), { outputNode: '9' });
      // Settled whatever happens here, so a failure below is not also an unhandled rejection.
      const theirsDone = theirs.then(
        () => null,
        (e: unknown) => e,
      );
      while (!busy.prompts.length) await new Promise((r) => setTimeout(r, 10));
      const result = await mine.run(exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'mine', seed: 2, steps: 1 }), {
        outputNode: '9',
      });
      expect(result.width).toBe(64);
      expect(await theirsDone).toBeNull();
      expect(busy.prompts.map((p) => p.graph['6']!.inputs.text)).toEqual(['theirs', 'mine']);
    } finally {
      other.close();
      mine.close();
      await busy.close();
    }
  });

  it('abort removes the prompt from the queue or interrupts the running one, and nothing else runs', async () => {
    const slow = await startComfyImitation({ checkpoints: { 'tiny-sd.safetensors': model }, stepDelayMs: 300 });
    const c = new ComfyClient({ name: 'studio-3', url: slow.url });
    try {
      const first = new AbortController();
      const second = new AbortController();
      let firstStep = false;
      const a = c.run(exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'one', seed: 1, steps: 4 }), {
        outputNode: '9',
        signal: first.signal,
        onProgress: () => (firstStep = true),
      });
      const b = c.run(exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'two', seed: 2, steps: 4 }), {
        outputNode: '9',
        signal: second.signal,
      });
      const aDone = a.then(
        () => null,
        (e: unknown) => e,
      );
      const bDone = b.then(
        () => null,
        (e: unknown) => e,
      );
      while (!firstStep || slow.prompts.length < 2) await new Promise((r) => setTimeout(r, 10));
      second.abort(); // pending: deleted from the queue
      first.abort(); // running: interrupted
      expect(((await aDone) as Error).name).toBe('AbortError');
      expect(((await bDone) as Error).name).toBe('AbortError');
      const idle = async (): Promise<boolean> => {
        const q = (await (await fetch(`${slow.url}/queue`)).json()) as { queue_running: unknown[]; queue_pending: unknown[] };
        return q.queue_running.length === 0 && q.queue_pending.length === 0;
      };
      while (!(await idle())) await new Promise((r) => setTimeout(r, 20));
      expect(slow.stats).toMatchObject({ interrupts: 1, interrupted: 1, deleted: 1, executed: 0, rendered: 0 });
      const history = (await (await fetch(`${slow.url}/history`)).json()) as Record<string, unknown>;
      expect(Object.keys(history)).toEqual([slow.prompts[0]!.promptId]);
      expect(fs.readdirSync(path.join(slow.dir, 'output'))).toEqual([]);
    } finally {
      c.close();
      await slow.close();
    }
  });

  it('fails as auth without the reverse proxy header, and works with it on every request and the WebSocket', async () => {
    const guarded = await startComfyImitation({
      checkpoints: { 'tiny-sd.safetensors': model },
      headers: { authorization: 'Bearer s3cret' },
    });
    const without = new ComfyClient({ name: 'proxy', url: guarded.url });
    const withHeader = new ComfyClient({ name: 'proxy', url: `${guarded.url}/`, headers: { authorization: 'Bearer s3cret' } });
    try {
      const stats = await failure(without.systemStats());
      expect(stats.kind).toBe('auth');
      expect(stats.message).toContain('ComfyUI "proxy"');
      expect(
        (await failure(without.run(exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'x', seed: 1, steps: 2 }), { outputNode: '9' })))
          .kind,
      ).toBe('auth');
      expect((await withHeader.inventory()).checkpoints).toEqual(['tiny-sd.safetensors']);
      const done = await withHeader.run(exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'x', seed: 1, steps: 2 }), {
        outputNode: '9',
      });
      expect(done.height).toBe(64);
    } finally {
      without.close();
      withHeader.close();
      await guarded.close();
    }
  });

  it('times out when a running prompt says nothing for idleTimeoutMs', async () => {
    const stalled = await startComfyImitation({ checkpoints: { 'tiny-sd.safetensors': model }, stepDelayMs: 60_000 });
    const c = new ComfyClient({ name: 'stalled', url: stalled.url, idleTimeoutMs: 300 });
    try {
      const started = Date.now();
      const error = await failure(
        c.run(exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'x', seed: 1, steps: 2 }), { outputNode: '9' }),
      );
      expect(error.kind).toBe('timeout');
      expect(error.message).toMatch(/ComfyUI "stalled" .* said nothing for 0\.3 s/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      c.close();
      await stalled.kill();
    }
  });

  it('fails as unreachable when nothing listens at the address', async () => {
    const gone = await startComfyImitation({ checkpoints: { 'tiny-sd.safetensors': model } });
    await gone.close();
    const c = new ComfyClient({ name: 'off', url: gone.url });
    const error = await failure(c.systemStats());
    expect(error.kind).toBe('unreachable');
    expect(error.message).toContain('nothing is listening there');
    expect(
      (await failure(c.run(exampleGraph({ ckpt: 'tiny-sd.safetensors', positive: 'x', seed: 1, steps: 2 }), { outputNode: '9' }))).kind,
    ).toBe('unreachable');
  });
});
