/**
 * The Hub protocol against the local imitation (real HTTP on 127.0.0.1): model references, the
 * endpoint and token rules, revision info with hashes, and the errors a user meets (401, 403,
 * 404 in their Hub variants), retried only when retrying can help.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatBytes } from '../common/index.js';
import {
  DEFAULT_ENDPOINT,
  DownloadError,
  fetchRevision,
  hubEndpoint,
  hubToken,
  parseModelRef,
  resolveUrl,
  type HubOptions,
} from './hub.js';
import { gitBlobId, sha256Of, startHubImitation, type HubImitation } from './testing/hub-imitation.js';

describe('parseModelRef', () => {
  it.each([
    ['org/name', { repo: 'org/name', revision: 'main' }],
    ['gpt2', { repo: 'gpt2', revision: 'main' }],
    ['  org/name@v1.0  ', { repo: 'org/name', revision: 'v1.0' }],
    ['org/name@0123456789abcdef0123456789abcdef01234567', { repo: 'org/name', revision: '0123456789abcdef0123456789abcdef01234567' }],
    ['org/name@refs/pr/1:unet/model.onnx', { repo: 'org/name', revision: 'refs/pr/1', path: 'unet/model.onnx' }],
    ['org/name:unet/model.onnx', { repo: 'org/name', revision: 'main', path: 'unet/model.onnx' }],
    [
      'https://huggingface.co/org/name/resolve/refs%2Fpr%2F1/unet/model.onnx?download=true',
      { repo: 'org/name', revision: 'refs/pr/1', path: 'unet/model.onnx', endpoint: 'https://huggingface.co' },
    ],
    [
      'https://huggingface.co/org/name/blob/main/v1-5.safetensors',
      { repo: 'org/name', revision: 'main', path: 'v1-5.safetensors', endpoint: 'https://huggingface.co' },
    ],
    [
      'https://hf-mirror.com/gpt2/resolve/main/config.json',
      { repo: 'gpt2', revision: 'main', path: 'config.json', endpoint: 'https://hf-mirror.com' },
    ],
    ['https://huggingface.co/org/name/tree/fp16', { repo: 'org/name', revision: 'fp16', endpoint: 'https://huggingface.co' }],
    ['https://huggingface.co/org/name/', { repo: 'org/name', revision: 'main', endpoint: 'https://huggingface.co' }],
  ])('reads %s', (input, expected) => {
    expect(parseModelRef(input)).toEqual(expected);
  });

  it.each([
    ['', 'it is empty'],
    ['org name', 'spaces'],
    ['org/name/extra', '"org/name/extra" is not a repo name'],
    ['org/name@', 'is not a revision'],
    ['org/name@main:../../etc/passwd', 'not a file path inside a repo'],
    ['org/name:', 'not a file path'],
    ['-org/name', 'not a repo name'],
    ['https://huggingface.co/datasets/org/data/resolve/main/a.csv', 'datasets, not a model repo'],
    ['https://huggingface.co/org/name/resolve/main', 'names no file'],
    ['https://huggingface.co/', 'names no repo'],
  ])('refuses %j, saying why and what works', (input, why) => {
    let error: unknown;
    try {
      parseModelRef(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).reason).toBe('bad_request');
    expect((error as DownloadError).message).toContain(why);
    expect((error as DownloadError).message).toContain('owner/name@revision:path/in/repo');
  });
});

describe('endpoint, token and URLs', () => {
  it('takes the option first, then HF_ENDPOINT / HF_TOKEN, then the public Hub', () => {
    expect(hubEndpoint({ env: {} })).toBe(DEFAULT_ENDPOINT);
    expect(hubEndpoint({ env: { HF_ENDPOINT: 'https://mirror.example/' } })).toBe('https://mirror.example');
    expect(hubEndpoint({ endpoint: 'http://127.0.0.1:9', env: { HF_ENDPOINT: 'https://mirror.example' } })).toBe('http://127.0.0.1:9');
    expect(hubToken({ env: {} })).toBeUndefined();
    expect(hubToken({ env: { HF_TOKEN: 'hf_env' } })).toBe('hf_env');
    expect(hubToken({ token: 'hf_settings', env: { HF_TOKEN: 'hf_env' } })).toBe('hf_settings');
    expect(hubToken({ token: '', env: { HF_TOKEN: 'hf_env' } })).toBe('hf_env');
  });

  it('encodes the revision as one segment and each path segment on its own', () => {
    expect(resolveUrl('https://huggingface.co', 'org/name', 'refs/pr/1', 'unet/model file.onnx')).toBe(
      'https://huggingface.co/org/name/resolve/refs%2Fpr%2F1/unet/model%20file.onnx',
    );
  });

  it('writes sizes the way file managers do', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(1_500_000)).toBe('1.5 MB');
    expect(formatBytes(4_265_000_000)).toBe('4.3 GB');
  });
});

describe('fetchRevision', () => {
  const big = Buffer.alloc(5000, 7);
  const config = '{"_class_name": "StableDiffusionPipeline"}';
  let hub: HubImitation;
  let options: HubOptions;

  beforeEach(async () => {
    hub = await startHubImitation({
      repos: {
        'onbrand/tiny': { revisions: { main: { 'model_index.json': config, 'unet/model.onnx': big } } },
        'onbrand/gated': { gated: true, revisions: { main: { 'model.safetensors': big } } },
      },
      tokens: { hf_good: ['onbrand/gated'], hf_other: [] },
    });
    options = { endpoint: hub.url, env: {}, retry: { tries: 3, baseDelayMs: 1 } };
  });

  afterEach(async () => {
    await hub.close();
  });

  it('lists sizes, git blob ids and (for LFS files) sha256, pinned to the commit', async () => {
    const info = await fetchRevision('onbrand/tiny', 'main', options);
    expect(info.commit).toBe(hub.commitOf('onbrand/tiny', 'main'));
    expect(info.files).toEqual([
      { path: 'model_index.json', size: config.length, blobId: gitBlobId(Buffer.from(config)) },
      { path: 'unet/model.onnx', size: big.length, blobId: gitBlobId(big), sha256: sha256Of(big) },
    ]);
    expect(hub.requests[0]!.url).toBe('/api/models/onbrand/tiny/revision/main?blobs=true');
    // A pinned commit answers the same.
    expect((await fetchRevision('onbrand/tiny', info.commit, options)).files).toEqual(info.files);
  });

  it('reads HF_ENDPOINT when no endpoint is given', async () => {
    const info = await fetchRevision('onbrand/tiny', undefined, { env: { HF_ENDPOINT: hub.url } });
    expect(info.endpoint).toBe(hub.url);
    expect(info.revision).toBe('main');
  });

  const failures: [string, string, HubOptions, string, string[]][] = [
    [
      'a gated repo without a token',
      'onbrand/gated',
      {},
      'auth',
      ['onbrand/gated@main needs a Hugging Face token (HTTP 401)', 'gated', 'set HF_TOKEN or add a token in Settings'],
    ],
    [
      'a gated repo with a token that has no access',
      'onbrand/gated',
      { token: 'hf_other' },
      'forbidden',
      ['no access to onbrand/gated@main (HTTP 403)', 'set HF_TOKEN or add a token in Settings'],
    ],
    ['an invalid token', 'onbrand/tiny', { token: 'hf_wrong' }, 'auth', ['token was refused', 'HTTP 401']],
    [
      'an unknown repo, anonymously (the Hub says 401)',
      'onbrand/nope',
      {},
      'not_found',
      ['"onbrand/nope" was not found', 'HTTP 401', 'if it is private'],
    ],
    ['an unknown repo, with a token', 'onbrand/nope', { token: 'hf_good' }, 'not_found', ['"onbrand/nope" was not found', 'HTTP 404']],
  ];
  it.each(failures)('names %s, and does not retry', async (_what, repo, extra, reason, words) => {
    const error = await fetchRevision(repo, 'main', { ...options, ...extra }).catch((e: unknown) => e as DownloadError);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).reason).toBe(reason);
    for (const word of words) expect((error as DownloadError).message).toContain(word);
    expect(hub.requests).toHaveLength(1);
  });

  it('names an unknown revision', async () => {
    const error = (await fetchRevision('onbrand/tiny', 'v9', options).catch((e: unknown) => e)) as DownloadError;
    expect(error.reason).toBe('not_found');
    expect(error.message).toBe('Revision "v9" does not exist in onbrand/tiny (HTTP 404).');
    expect(error.detail).toBe('Invalid rev id: v9');
  });

  it('reads a gated repo with a token that has access', async () => {
    const info = await fetchRevision('onbrand/gated', 'main', { ...options, env: { HF_TOKEN: 'hf_good' } });
    expect(info.files.map((f) => f.path)).toEqual(['model.safetensors']);
    expect(hub.requests[0]!.headers.authorization).toBe('Bearer hf_good');
  });

  it('retries a 500 and a 429', async () => {
    hub.setFault({ onApi: true, status: 500, statusTimes: 2 });
    await fetchRevision('onbrand/tiny', 'main', options);
    hub.setFault({ onApi: true, status: 429, retryAfter: 0 });
    await fetchRevision('onbrand/tiny', 'main', options);
    expect(hub.requests.map((r) => r.status)).toEqual([500, 500, 200, 429, 200]);
  });

  it('gives up after the tries run out', async () => {
    hub.setFault({ onApi: true, status: 503, statusTimes: 10 });
    const error = (await fetchRevision('onbrand/tiny', 'main', options).catch((e: unknown) => e)) as DownloadError;
    expect(error.reason).toBe('network');
    expect(error.message).toContain('HTTP 503');
    expect(hub.requests).toHaveLength(3);
  });

  it('names an endpoint that is not a Hub, or not there', async () => {
    const error = (await fetchRevision('onbrand/tiny', 'main', { ...options, endpoint: `${hub.url}/elsewhere` }).catch(
      (e: unknown) => e,
    )) as DownloadError;
    expect(error.reason).toBe('not_found');
    const refused = (await fetchRevision('onbrand/tiny', 'main', { ...options, endpoint: 'http://127.0.0.1:1', retry: { tries: 1 } }).catch(
      (e: unknown) => e,
    )) as DownloadError;
    expect(refused.reason).toBe('network');
    expect(refused.message).toContain('ECONNREFUSED');
  });
});
