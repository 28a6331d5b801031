/** "Test connection" for the language model, against an imitation of an OpenAI-compatible server on 127.0.0.1. */
import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config.js';
import { createRpc, type Rpc } from '../rpc.js';
import { createServices, type Services } from '../services.js';
import { testLlmConnection } from './connection.js';

const KEY = 'sk-local-test';
let server: http.Server;
let base: string;
const seen: { url: string; auth: string | undefined; model: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const model = (JSON.parse(body || '{}') as { model?: string }).model ?? '';
      seen.push({ url: req.url ?? '', auth: req.headers.authorization, model });
      const send = (status: number, value: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.url !== '/v1/chat/completions') return send(404, { error: 'not found' });
      if (req.headers.authorization !== `Bearer ${KEY}`) return send(401, { error: { message: 'Incorrect API key provided' } });
      if (model !== 'tiny-chat') return send(404, { error: { message: `The model '${model}' does not exist` } });
      return send(200, { choices: [{ message: { role: 'assistant', content: 'OK' } }] });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('testing the language model endpoint', () => {
  it('says it answered, or what is wrong: the key, the address, the model, no server', async () => {
    await expect(testLlmConnection({ baseUrl: `${base}/v1`, model: 'tiny-chat', apiKey: KEY })).resolves.toMatchObject({
      ok: true,
      message: expect.stringMatching(/^The model tiny-chat at http:\/\/127\.0\.0\.1:\d+\/v1 answered in [\d.]+ s\.$/),
    });
    await expect(testLlmConnection({ baseUrl: `${base}/v1`, model: 'tiny-chat', apiKey: 'wrong' })).rejects.toThrow(
      /refused the API key \(HTTP 401\)/,
    );
    await expect(testLlmConnection({ baseUrl: base, model: 'tiny-chat', apiKey: KEY })).rejects.toThrow(/usually ends in \/v1/);
    await expect(testLlmConnection({ baseUrl: `${base}/v1`, model: 'llama-9000', apiKey: KEY })).rejects.toThrow(
      /does not know the model "llama-9000"/,
    );
    await expect(testLlmConnection({ baseUrl: 'http://127.0.0.1:1/v1', model: 'tiny-chat', apiKey: null })).rejects.toThrow(
      /cannot be reached: that port is one web requests may not use/,
    );
    const closed = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    await expect(testLlmConnection({ baseUrl: `http://127.0.0.1:${closed}/v1`, model: 'tiny-chat', apiKey: null })).rejects.toThrow(
      /cannot be reached: nothing answers at that address and port \(ECONNREFUSED\)/,
    );
  });
});

describe('through the API', () => {
  let root: string;
  let services: Services;
  let rpc: Rpc;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-llm-'));
    services = createServices(resolveConfig({ dataDir: path.join(root, 'data') }));
    rpc = createRpc(services, 'browser');
    seen.length = 0;
  });
  afterEach(async () => {
    await services.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('tests the stored endpoint with the stored key, which never goes to another address nor back to the UI', async () => {
    await expect(rpc.invoke('prompt.testLlm', {})).rejects.toThrow(/base URL and model name first/);
    // Fields not saved yet, with the key typed beside them.
    await expect(rpc.invoke('prompt.testLlm', { baseUrl: `${base}/v1`, model: 'tiny-chat', apiKey: KEY })).resolves.toMatchObject({
      ok: true,
    });
    const saved = await rpc.invoke('prompt.setLlm', { baseUrl: `${base}/v1`, model: 'tiny-chat', apiKey: KEY });
    expect(saved).toEqual({ baseUrl: `${base}/v1`, model: 'tiny-chat', hasKey: true });
    expect(JSON.stringify(await rpc.invoke('prompt.llm', {}))).not.toContain(KEY);
    await expect(rpc.invoke('prompt.testLlm', {})).resolves.toMatchObject({ ok: true });
    expect(seen.at(-1)).toMatchObject({ auth: `Bearer ${KEY}`, model: 'tiny-chat' });
    // Another address (here the same server by another name) gets no stored key.
    const other = base.replace('127.0.0.1', 'localhost');
    await expect(rpc.invoke('prompt.testLlm', { baseUrl: `${other}/v1` })).rejects.toThrow(/refused the API key/);
    expect(seen.at(-1)!.auth).toBeUndefined();
    await expect(rpc.invoke('prompt.testLlm', { baseUrl: 'not a url' })).rejects.toThrow(/must be a URL/);
    for (const baseUrl of ['file:///etc/passwd', 'data:,hello', 'ftp://127.0.0.1/v1'])
      await expect(rpc.invoke('prompt.setLlm', { baseUrl, model: 'tiny-chat' }), baseUrl).rejects.toThrow(/must be a URL/);
    // Saving another address without a key drops the stored one: it never reaches the new server.
    expect(await rpc.invoke('prompt.setLlm', { baseUrl: `${other}/v1`, model: 'tiny-chat' })).toMatchObject({ hasKey: false });
    await expect(rpc.invoke('prompt.testLlm', {})).rejects.toThrow(/refused the API key/);
    expect(seen.at(-1)!.auth).toBeUndefined();
  });
});
