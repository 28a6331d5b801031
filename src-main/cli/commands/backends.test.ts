import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BackendView } from '../../core/api/index.js';
import { startComfyImitation, type ComfyImitation } from '../../core/backends/testing/comfy-imitation.js';
import { writeTinySd } from '../../core/diffusion/testing/tiny-sd.js';
import { cliTestFolder } from '../capture.js';

const cli = cliTestFolder('onbrand-cli-backends-');
beforeEach(cli.setUp);
afterEach(cli.tearDown);
const onbrand = cli.onbrand;

let server: ComfyImitation;
beforeAll(async () => {
  const models = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-cli-backends-models-'));
  writeTinySd(path.join(models, 'tiny-sd'));
  server = await startComfyImitation({
    checkpoints: { 'SD1.5/tiny-sd.safetensors': path.join(models, 'tiny-sd') },
    headers: { authorization: 'Bearer proxy-token-1234' },
    vramFree: 6 * 1024 ** 3,
    version: '0.3.66',
  });
});
afterAll(async () => {
  await server?.close();
});

describe('onbrand backends', () => {
  it('adds a server behind a token, tests it, lists it after the local engine, removes it', async () => {
    const added = await onbrand(
      'backends',
      'add',
      'studio-1',
      server.url,
      '--header',
      'Authorization: Bearer proxy-token-1234',
      '--concurrency',
      '2',
      '--rate',
      '1.5',
    );
    expect(added.code, added.err).toBe(0);
    expect(added.out).toMatch(
      /^Saved studio-1 \(http:\/\/127\.0\.0\.1:\d+\), 2 images at once\.\n {2}It has 1 checkpoints and 0 LoRAs\.\n$/,
    );

    const tested = await onbrand('backends', 'test', 'studio-1');
    expect(tested.code, tested.err).toBe(0);
    expect(tested.out).toMatch(/^studio-1 \(http:\/\/127\.0\.0\.1:\d+\): ComfyUI 0\.3\.66, answered in \d+ ms\n/);
    expect(tested.out).toMatch(/6\.0 GiB free of/);
    expect(tested.out).toContain('Checkpoints (1): SD1.5/tiny-sd.safetensors');

    const listed = JSON.parse((await onbrand('backends', 'list', '--json')).out) as BackendView[];
    expect(listed.map((b) => [b.name, b.kind, b.concurrency, b.ratePerHour, b.headerNames])).toEqual([
      ['local', 'local', 1, null, []],
      ['studio-1', 'comfyui', 2, 1.5, ['Authorization']],
    ]);
    const table = (await onbrand('backends')).out;
    expect(table).toMatch(/^NAME +ADDRESS +AT ONCE +COST +STATE +HAS\n/);
    expect(table).toMatch(/\nlocal +this computer +1 +Time \+ Cost rate +idle/);
    expect(table).not.toContain('proxy-token');

    expect((await onbrand('backends', 'rm', 'studio-1')).out).toBe('Removed studio-1.\n');
    expect(JSON.parse((await onbrand('backends', 'list', '--json')).out)).toHaveLength(1);
  });

  it('says why: a wrong token, plain http to another machine, a missing name, a bad header', async () => {
    const wrong = await onbrand('backends', 'add', 'no-token', server.url);
    expect(wrong.code).toBe(0);
    expect(wrong.out).toMatch(/did not answer yet: .*no-token/);
    const test = await onbrand('backends', 'test', 'no-token');
    expect(test.code).toBe(1);
    expect(test.err).toMatch(/no-token/);

    const lan = await onbrand('backends', 'add', 'lan', 'http://192.0.2.1:8188');
    expect(lan.code).toBe(1);
    expect(lan.err).toMatch(/no login of its own.*--insecure/s);

    expect((await onbrand('backends', 'test', 'ghost')).err).toMatch(/No backend named "ghost" \(there are: no-token\)/);
    const bad = await onbrand('backends', 'add', 'x', server.url, '--header', 'Authorization');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--header must be "Name: value"/);
    expect((await onbrand('backends', 'add', 'x')).code).toBe(2);
  });

  it('switches the local engine off and on', async () => {
    expect((await onbrand('backends', 'local', 'off')).out).toBe('The local engine is off.\n');
    expect(JSON.parse((await onbrand('backends', 'list', '--json')).out)[0]).toMatchObject({
      name: 'local',
      enabled: false,
      state: 'disabled',
    });
    expect((await onbrand('backends', 'local', 'on')).out).toBe('The local engine is on.\n');
    expect((await onbrand('backends', 'local', 'maybe')).code).toBe(2);
  });
});
