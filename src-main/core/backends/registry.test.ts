/**
 * The backends' settings through the contract, as every shell calls them: addresses checked (plain
 * http only to this machine unless confirmed), header values kept in the secrets file and never in
 * the catalogue or shown back, changes merged, removal, the local engine's switch.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackendView } from '../api/index.js';
import { resolveConfig } from '../config.js';
import { createRpc, type Rpc } from '../rpc.js';
import { createServices, type Services } from '../services.js';
import { checkBackendUrl, isLoopbackHost } from './registry.js';

const TOKEN = 'Bearer studio-token-7c1e9a4b2d';
let root: string;
let services: Services;
let rpc: Rpc;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-backends-'));
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data'), modelsDir: path.join(root, 'models') }));
  rpc = createRpc(services, 'cli');
});

afterEach(async () => {
  await services.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** Every file of the catalogue (database, write-ahead log) as one buffer. */
function catalogueBytes(): Buffer {
  const dir = path.join(root, 'data');
  return Buffer.concat(
    ['catalog.sqlite', 'catalog.sqlite-wal', 'catalog.sqlite-shm']
      .map((f) => path.join(dir, f))
      .filter((f) => fs.existsSync(f))
      .map((f) => fs.readFileSync(f)),
  );
}

describe('backend addresses', () => {
  it('takes http to this machine and https anywhere; refuses plain http elsewhere unless confirmed, with why', () => {
    expect(checkBackendUrl('http://127.0.0.1:8188/', false)).toBe('http://127.0.0.1:8188');
    expect(checkBackendUrl('http://localhost:8188', false)).toBe('http://localhost:8188');
    expect(checkBackendUrl('http://[::1]:8188', false)).toBe('http://[::1]:8188');
    expect(checkBackendUrl('https://gpu-1.studio.example/comfy/', false)).toBe('https://gpu-1.studio.example/comfy');
    expect(() => checkBackendUrl('http://192.168.1.20:8188', false)).toThrow(/no login of its own.*unencrypted.*--insecure/);
    expect(checkBackendUrl('http://192.168.1.20:8188', true)).toBe('http://192.168.1.20:8188');
    expect(() => checkBackendUrl('ftp://host', false)).toThrow(/http:\/\/ or https:\/\//);
    expect(() => checkBackendUrl('gpu-1:8188', false)).toThrow(/http:\/\/ or https:\/\/|not a web address/);
    expect(() => checkBackendUrl('https://user:pw@host', false)).toThrow(/no user name or password/);
    expect(() => checkBackendUrl('not a url', false)).toThrow(/not a web address/);
    expect(isLoopbackHost('127.8.0.1')).toBe(true);
    expect(isLoopbackHost('127.0.0.1.example.com')).toBe(false);
  });
});

describe('backends.save / list / remove / local', () => {
  it('adds a server with a proxy token kept out of the catalogue and never shown back; lists the local engine first', async () => {
    const saved = (await rpc.invoke('backends.save', {
      name: 'studio-1',
      url: 'https://127.0.0.1:9/',
      headers: { Authorization: TOKEN },
      concurrency: 2,
      ratePerHour: 2.5,
      timeoutSeconds: 30,
    })) as BackendView;
    expect(saved).toMatchObject({
      name: 'studio-1',
      kind: 'comfyui',
      url: 'https://127.0.0.1:9',
      headerNames: ['Authorization'],
      concurrency: 2,
      ratePerHour: 2.5,
    });
    // Nothing listens there: it is kept, with why it did not answer.
    expect(saved.inventory).toBeNull();
    expect(saved.reason).toMatch(/studio-1/);
    expect(JSON.stringify(saved)).not.toContain('studio-token');
    const list = (await rpc.invoke('backends.list', {})) as BackendView[];
    expect(list.map((b) => [b.name, b.kind, b.state])).toEqual([
      ['local', 'local', 'idle'],
      ['studio-1', 'comfyui', 'idle'],
    ]);
    expect(JSON.stringify(list)).not.toContain('studio-token');
    expect(catalogueBytes().includes('studio-token')).toBe(false);
    expect(services.backends.registry.headers('STUDIO-1')).toEqual({ Authorization: TOKEN });
    expect(fs.readFileSync(services.secrets.file, 'utf8')).toContain('studio-token');
  });

  it('changes only what is given (the token kept), and {} removes the headers', async () => {
    await rpc.invoke('backends.save', { name: 'cloud', url: 'https://127.0.0.1:9', headers: { Authorization: TOKEN }, ratePerHour: 1.2 });
    const changed = (await rpc.invoke('backends.save', { name: 'Cloud', url: 'https://127.0.0.1:9', concurrency: 3 })) as BackendView;
    expect(changed).toMatchObject({ name: 'cloud', concurrency: 3, ratePerHour: 1.2, headerNames: ['Authorization'] });
    expect(services.backends.registry.headers('cloud')).toEqual({ Authorization: TOKEN });
    await rpc.invoke('backends.save', { name: 'cloud', url: 'https://127.0.0.1:9', headers: {} });
    expect(services.backends.registry.headers('cloud')).toEqual({});
    expect(((await rpc.invoke('backends.list', {})) as BackendView[])[1]!.headerNames).toEqual([]);
  });

  it('refuses bad input with the field named: plain http to another machine, the name "local", a header on two lines, concurrency 0', async () => {
    await expect(rpc.invoke('backends.save', { name: 'lan', url: 'http://192.0.2.1:8188' })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'url',
    });
    const lan = (await rpc.invoke('backends.save', {
      name: 'lan',
      url: 'http://192.0.2.1:8188',
      allowInsecure: true,
      timeoutSeconds: 5,
    })) as BackendView;
    expect(lan.allowInsecure).toBe(true);
    await expect(rpc.invoke('backends.save', { name: 'local', url: 'http://127.0.0.1:8188' })).rejects.toMatchObject({ field: 'name' });
    await expect(
      rpc.invoke('backends.save', { name: 'x', url: 'http://127.0.0.1:8188', headers: { Authorization: 'a\r\nX-Evil: 1' } }),
    ).rejects.toThrow(/one line/);
    await expect(rpc.invoke('backends.save', { name: 'x', url: 'http://127.0.0.1:8188', concurrency: 0 })).rejects.toThrow(/at least 1/);
    await expect(rpc.invoke('backends.remove', { name: 'nope' })).rejects.toThrow(/No backend named "nope" \(there are: lan\)/);
  });

  it('removes a server with its stored headers; switches the local engine off and on', async () => {
    await rpc.invoke('backends.save', { name: 'gone', url: 'https://127.0.0.1:9', headers: { 'X-Api-Key': 'k-123456' } });
    expect(await rpc.invoke('backends.remove', { name: 'GONE' })).toEqual({ removed: 'gone' });
    expect(((await rpc.invoke('backends.list', {})) as BackendView[]).map((b) => b.name)).toEqual(['local']);
    expect(fs.existsSync(services.secrets.file) ? fs.readFileSync(services.secrets.file, 'utf8') : '').not.toContain('k-123456');
    expect(await rpc.invoke('backends.local', { enabled: false })).toMatchObject({ name: 'local', enabled: false, state: 'disabled' });
    expect(services.backends.registry.localEnabled()).toBe(false);
    expect(await rpc.invoke('backends.local', { enabled: true })).toMatchObject({ enabled: true, state: 'idle' });
  });
});
