/**
 * `onbrand models …` end to end: import a tiny LDM checkpoint with --config and generate with it
 * by name; list, verify, rm; usage errors; and `models pull` from a local Hub imitation, killed
 * midway (SIGKILL, the built CLI in a child process) and run again: it resumes with Range.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLdmCheckpoint } from '../../core/diffusion/testing/ldm-checkpoint.js';
import { tinyArchConfig, writeTinySdArch } from '../../core/diffusion/testing/tiny-sd-arch.js';
import { startHubImitation, type HubImitation } from '../../core/models/testing/hub-imitation.js';
import { appPackage } from '../../core/util/index.js';
import { runCaptured as cli } from '../capture.js';

const BIN = path.join(appPackage().root, 'dist', 'main', 'cli', 'bin.js');
let root: string;
let modelsDir: string;
let dataDir: string;
let checkpoint: string;
let configDir: string;
let onnxDir: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-cli-models-'));
  modelsDir = path.join(root, 'models');
  dataDir = path.join(root, 'data');
  onnxDir = writeTinySdArch(path.join(root, 'onnx'), { seed: 9 });
  const vocab = Object.keys(JSON.parse(fs.readFileSync(path.join(onnxDir, 'tokenizer', 'vocab.json'), 'utf8')) as object).length;
  const config = tinyArchConfig(vocab);
  checkpoint = path.join(root, 'tiny.safetensors');
  writeLdmCheckpoint(checkpoint, config, 'sd1');
  configDir = path.join(root, 'config');
  for (const [part, value] of [
    ['unet', config.unet],
    ['vae', config.vae],
    ['text_encoder', config.textEncoder],
  ] as const) {
    fs.mkdirSync(path.join(configDir, part), { recursive: true });
    fs.writeFileSync(path.join(configDir, part, 'config.json'), JSON.stringify(value));
  }
  fs.cpSync(path.join(onnxDir, 'tokenizer'), path.join(configDir, 'tokenizer'), { recursive: true });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const dirs = (): string[] => ['--models-dir', modelsDir, '--data-dir', dataDir];

describe('onbrand models import, then generate --model NAME', () => {
  it('imports a checkpoint with --config and reports what it did', async () => {
    const result = await cli(['models', 'import', checkpoint, '--name', 't', '--config', configDir, ...dirs()]);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/Installed "t" \(SD 1\.x, epsilon\)/);
    expect(result.out).toMatch(/Architecture from the --config folder; tokenizer from .*config\/tokenizer/);
    expect(result.out).toMatch(/onbrand generate --model "t"/);
  });

  it('generates with the installed model by name', async () => {
    const out = path.join(root, 'out');
    const result = await cli([
      'generate',
      '--model',
      't',
      '--prompt',
      'a portrait, teal light',
      '--width',
      '64',
      '--height',
      '64',
      '--steps',
      '3',
      '--seed',
      '4',
      '--out',
      out,
      '--json',
      ...dirs(),
    ]);
    expect(result.code).toBe(0);
    const file = (JSON.parse(result.out) as { files: { path: string }[] }).files[0]!.path;
    expect((await sharp(file).metadata()).width).toBe(64);
  });

  it('--json gives the import report; list, verify and rm manage what is installed', async () => {
    const json = await cli(['models', 'import', onnxDir, '--name', 'onnx copy', '--json', ...dirs()]);
    expect(JSON.parse(json.out)).toMatchObject({ name: 'onnx copy', layout: 'onnx', sourceKind: 'onnx' });
    const list = await cli(['models', 'list', ...dirs()]);
    expect(list.out).toMatch(/^NAME\s+FAMILY\s+SIZE/m);
    expect(list.out).toMatch(/^onnx copy\s+SD 1\.x/m);
    expect(list.out).toMatch(/^t\s+SD 1\.x\s+[\d.]+ MB\s+\s*[0-9a-f]{10}\s+.*tiny\.safetensors$/m);
    expect((await cli(['models', 'verify', 't', ...dirs()])).out).toMatch(/t: all \d+ files intact/);
    fs.appendFileSync(path.join(modelsDir, 't', 'vae', 'config.json'), ' ');
    const damaged = await cli(['models', 'verify', 't', ...dirs()]);
    expect(damaged.code).toBe(1);
    expect(damaged.out).toMatch(/vae\/config\.json has \d+ bytes/);
    expect((await cli(['models', 'rm', 'onnx copy', ...dirs()])).out).toMatch(/Removed "onnx copy"/);
    expect(fs.existsSync(path.join(modelsDir, 'onnx copy'))).toBe(false);
  });

  it('usage errors and refusals name the problem', async () => {
    const noName = await cli(['models', 'import', checkpoint, ...dirs()]);
    expect(noName.code).toBe(2);
    expect(noName.err).toMatch(/--name is required/);
    const ckpt = path.join(root, 'old.ckpt');
    fs.writeFileSync(ckpt, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0]));
    const pickle = await cli(['models', 'import', ckpt, '--name', 'old', ...dirs()]);
    expect(pickle.code).toBe(1);
    expect(pickle.err).toMatch(/pickle/);
    const exists = await cli(['models', 'import', checkpoint, '--name', 't', '--config', configDir, ...dirs()]);
    expect(exists.err).toMatch(/already exists/);
    expect((await cli(['models', 'frobnicate', ...dirs()])).err).toMatch(/unknown subcommand "frobnicate"/);
    expect((await cli(['models', '--help'])).out).toMatch(/onbrand models import PATH --name NAME/);
    expect((await cli(['models', 'available', ...dirs()])).out).toMatch(/sd15\s+Stable Diffusion 1\.5\s+2\.13 GB\s+CreativeML OpenRAIL-M/);
  });
});

describe('onbrand models pull', () => {
  let hub: HubImitation;
  beforeAll(async () => {
    hub = await startHubImitation({
      repos: {
        'test/tiny': { revisions: { main: { 'tiny.safetensors': fs.readFileSync(checkpoint) } } },
        'openai/clip-vit-large-patch14': {
          revisions: {
            main: {
              'vocab.json': fs.readFileSync(path.join(onnxDir, 'tokenizer', 'vocab.json')),
              'merges.txt': fs.readFileSync(path.join(onnxDir, 'tokenizer', 'merges.txt')),
            },
          },
        },
      },
    });
  });
  afterAll(async () => hub?.close());

  function partBytes(dir: string): number {
    if (!fs.existsSync(dir)) return 0;
    let n = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true }))
      if (entry.isFile() && entry.name.endsWith('.part')) n += fs.statSync(path.join(entry.parentPath, entry.name)).size;
    return n;
  }

  it('survives a kill midway: run again, it fetches only the rest (Range), verifies and installs', async () => {
    if (!fs.existsSync(BIN)) throw new Error('Build first (npm run build): this test runs the built CLI.');
    const size = fs.statSync(checkpoint).size;
    hub.setFault({ file: 'tiny.safetensors', bytesPerSecond: Math.ceil(size / 4) });
    const env = { ...process.env, HF_ENDPOINT: hub.url, HF_TOKEN: '' };
    const args = ['models', 'pull', 'test/tiny', '--name', 'pulled', ...dirs()];
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const downloads = path.join(modelsDir, '.downloads');
    const end = Date.now() + 20_000;
    while (partBytes(downloads) < size / 8) {
      if (Date.now() > end) throw new Error('no bytes arrived');
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const kept = partBytes(downloads);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(size);
    expect(fs.existsSync(path.join(modelsDir, 'pulled'))).toBe(false);

    hub.setFault(undefined);
    hub.requests.length = 0;
    const again = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const proc = spawn(process.execPath, [BIN, ...args], { env });
      let out = '';
      proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
      proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
      proc.on('exit', (code) => resolve({ code, out }));
    });
    expect(again.out).toMatch(/Installed "pulled"/);
    expect(again.code).toBe(0);
    const ranged = hub.requests.filter((r) => r.url.includes('tiny.safetensors') && r.status === 206);
    expect(ranged.length).toBe(1);
    expect(ranged[0]!.headers.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(ranged[0]!.bytesSent).toBe(size - Number(/bytes=(\d+)-/.exec(String(ranged[0]!.headers.range))![1]));
    expect((await cli(['models', 'verify', 'pulled', ...dirs()])).code).toBe(0);
  });
});
