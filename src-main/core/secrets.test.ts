/** Keys live in a private file of their own, never in the catalogue's files; older catalogues give theirs up. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LlmSettings } from './api/index.js';
import { prepareDataDir, resolveConfig } from './config.js';
import { createRpc } from './rpc.js';
import { SecretStore, type SecretCodec } from './secrets.js';
import { createServices, type Services } from './services.js';

const UNSPLASH_KEY = 'UnsplashKey-3f9c2a7b1e5d4c8a';
const LLM_KEY = 'sk-llm-9d8e7f6a5b4c3d2e1f0a';
const HF_TOKEN = 'hf_token_0a1b2c3d4e5f6a7b8c9d';
const posix = process.platform !== 'win32';

let root: string;
let dataDir: string;
const open: Services[] = [];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-secrets-'));
  dataDir = path.join(root, 'data');
});

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function start(codec: SecretCodec | null = null): Services {
  const services = createServices(resolveConfig({ dataDir }), { secretCodec: codec });
  open.push(services);
  return services;
}

/** Every file of the catalogue (the database, its write-ahead log, its shared memory) that exists now. */
function catalogueBytes(): Buffer {
  return Buffer.concat(
    ['catalog.sqlite', 'catalog.sqlite-wal', 'catalog.sqlite-shm']
      .map((f) => path.join(dataDir, f))
      .filter((f) => fs.existsSync(f))
      .map((f) => fs.readFileSync(f)),
  );
}

const mode = (file: string): number => fs.statSync(file).mode & 0o777;

/** A real codec (AES-256-GCM with a key of this test's own), standing in for the system keychain. */
function aesCodec(name = 'test-keychain'): SecretCodec {
  const key = crypto.randomBytes(32);
  return {
    name,
    encrypt(plain) {
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    decrypt(sealed) {
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

describe('keys', () => {
  it('set through the API never reach the catalogue: they go to secrets.json (0600) in a private data folder (0700)', async () => {
    const services = start();
    const rpc = createRpc(services, 'cli');
    expect(await rpc.invoke('settings.setUnsplashKey', { key: UNSPLASH_KEY })).toEqual({ configured: true });
    expect(await rpc.invoke('prompt.setLlm', { baseUrl: 'http://127.0.0.1:9/v1', model: 'local', apiKey: LLM_KEY })).toEqual({
      baseUrl: 'http://127.0.0.1:9/v1',
      model: 'local',
      hasKey: true,
    });
    expect(await rpc.invoke('models.setToken', { token: HF_TOKEN })).toEqual({ hasToken: true });

    // While the app runs (the log holds the latest writes) and after it closed.
    for (const key of [UNSPLASH_KEY, LLM_KEY, HF_TOKEN]) expect(catalogueBytes().includes(key)).toBe(false);
    expect(await rpc.invoke('settings.get', {})).toMatchObject({ unsplashConfigured: true });
    expect(services.secrets.get('unsplash.key')).toBe(UNSPLASH_KEY);
    expect(services.secrets.get('llm.apiKey')).toBe(LLM_KEY);
    expect(services.models.hubSettings().hasToken).toBe(true);

    const file = path.join(dataDir, 'secrets.json');
    expect(fs.readFileSync(file, 'utf8')).toContain(UNSPLASH_KEY); // plain Node: no keychain, the file's mode protects it
    if (posix) {
      expect(mode(file)).toBe(0o600);
      expect(mode(dataDir)).toBe(0o700);
    }

    // Another model at the same address keeps the key; another address drops it (a key never
    // follows the endpoint to another server); null removes it.
    expect(await rpc.invoke('prompt.setLlm', { baseUrl: 'http://127.0.0.1:9/v1/', model: 'other' })).toMatchObject({ hasKey: true });
    expect(await rpc.invoke('prompt.setLlm', { baseUrl: 'http://127.0.0.1:9/v2', model: 'other' })).toMatchObject({ hasKey: false });
    expect(services.secrets.get('llm.apiKey')).toBeNull();
    expect(await rpc.invoke('prompt.setLlm', { baseUrl: 'http://127.0.0.1:9/v2', model: 'other', apiKey: LLM_KEY })).toMatchObject({
      hasKey: true,
    });
    expect(await rpc.invoke('prompt.setLlm', { baseUrl: null, model: null, apiKey: null })).toMatchObject({ hasKey: false });
    expect(await rpc.invoke('settings.setUnsplashKey', { key: null })).toEqual({ configured: false });
    expect(services.secrets.get('unsplash.key')).toBeNull();
    await services.close();
    for (const key of [UNSPLASH_KEY, LLM_KEY, HF_TOKEN]) expect(catalogueBytes().includes(key)).toBe(false);
  });

  it('an older catalogue gives its plain keys up at start: moved to the secret store, gone from the catalogue files', async () => {
    // What an older Onbrand left: the keys in app_settings.
    await start().close();
    open.length = 0;
    const old = new Database(path.join(dataDir, 'catalog.sqlite'));
    const put = old.prepare('INSERT INTO app_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    put.run('unsplash.key', JSON.stringify(UNSPLASH_KEY));
    put.run('llm', JSON.stringify({ baseUrl: 'http://127.0.0.1:9/v1', model: 'local', apiKey: LLM_KEY }));
    put.run('hf.token', JSON.stringify(HF_TOKEN));
    old.close();
    expect(catalogueBytes().includes(UNSPLASH_KEY)).toBe(true); // the test would prove nothing otherwise

    const services = start();
    expect(services.secrets.get('unsplash.key')).toBe(UNSPLASH_KEY);
    expect(services.secrets.get('llm.apiKey')).toBe(LLM_KEY);
    expect(services.secrets.get('hf.token')).toBe(HF_TOKEN);
    expect(services.composer.llm()).toEqual<LlmSettings>({ baseUrl: 'http://127.0.0.1:9/v1', model: 'local', hasKey: true });
    const rows = services.db
      .prepare('SELECT key, value FROM app_settings WHERE key IN (?, ?, ?) ORDER BY key')
      .all('hf.token', 'llm', 'unsplash.key');
    expect(rows).toEqual([{ key: 'llm', value: JSON.stringify({ baseUrl: 'http://127.0.0.1:9/v1', model: 'local' }) }]);
    for (const key of [UNSPLASH_KEY, LLM_KEY, HF_TOKEN]) expect(catalogueBytes().includes(key)).toBe(false);
    await services.close();
    open.length = 0;
    // A second start finds nothing more to move and loses nothing.
    expect(start().secrets.get('llm.apiKey')).toBe(LLM_KEY);
  });

  it('with a keychain, values are sealed in the file; a process without it says so instead of acting as if none were set', () => {
    const codec = aesCodec();
    const app = new SecretStore(dataDir, codec);
    app.set('unsplash.key', UNSPLASH_KEY);
    expect(app.get('unsplash.key')).toBe(UNSPLASH_KEY);
    expect(fs.readFileSync(app.file, 'utf8')).not.toContain(UNSPLASH_KEY);
    const cli = new SecretStore(dataDir);
    expect(cli.has('unsplash.key')).toBe(true);
    expect(() => cli.get('unsplash.key')).toThrow(
      /Unsplash access key was saved by the Onbrand app, sealed with the system keychain \(test-keychain\)/,
    );
    expect(() => new SecretStore(dataDir, aesCodec()).get('unsplash.key')).toThrow(/cannot be unsealed by the system keychain/);
    // Set again from the command line: stored plain in the private file, readable by both.
    cli.set('unsplash.key', 'from-the-cli');
    expect(app.get('unsplash.key')).toBe('from-the-cli');
  });

  it.runIf(posix)(
    'secrets.json is 0600 and the data folder 0700 even under a permissive umask; a copy restored 0644 is tightened when read',
    () => {
      const before = process.umask(0);
      try {
        prepareDataDir(dataDir);
        expect(mode(dataDir)).toBe(0o700);
        const store = new SecretStore(dataDir);
        store.set('llm.apiKey', LLM_KEY);
        expect(mode(store.file)).toBe(0o600);
        fs.chmodSync(store.file, 0o644);
        expect(new SecretStore(dataDir).get('llm.apiKey')).toBe(LLM_KEY);
        expect(mode(store.file)).toBe(0o600);
        expect(fs.readdirSync(dataDir)).toEqual(['secrets.json']); // no temporary file left
      } finally {
        process.umask(before);
      }
    },
  );

  it.runIf(posix)("tightens an older Onbrand data folder, never a folder that is not Onbrand's", () => {
    const older = path.join(root, 'older');
    fs.mkdirSync(older, { mode: 0o755 });
    fs.chmodSync(older, 0o755);
    fs.writeFileSync(path.join(older, 'catalog.sqlite'), '');
    prepareDataDir(older);
    expect(mode(older)).toBe(0o700);
    const someone = path.join(root, 'shared');
    fs.mkdirSync(someone);
    fs.chmodSync(someone, 0o755);
    prepareDataDir(someone);
    expect(mode(someone)).toBe(0o755);
  });

  it('a damaged secrets.json is reported by name and kept aside when a key is set again', () => {
    fs.mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, 'secrets.json');
    fs.writeFileSync(file, '{"secrets": {"unsplash.key": ', { mode: 0o600 });
    const store = new SecretStore(dataDir);
    expect(() => store.get('unsplash.key')).toThrow(/secrets\.json is damaged .*set your keys again/);
    store.set('unsplash.key', UNSPLASH_KEY);
    expect(store.get('unsplash.key')).toBe(UNSPLASH_KEY);
    const aside = fs.readdirSync(dataDir).filter((f) => f.startsWith('secrets.json.damaged-'));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(dataDir, aside[0]!), 'utf8')).toBe('{"secrets": {"unsplash.key": ');
  });
});
