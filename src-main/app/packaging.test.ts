/**
 * electron-builder.yml as electron-builder itself reads it: its loader, its schema check, and the
 * fuse settings it flips into the packaged binary. No Electron binary can be downloaded here, so
 * the fuses are flipped (by the same @electron/fuses code) in a stand-in file holding Electron's
 * fuse wire with Electron's defaults, and read back.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { appPackage } from '../core/util/index.js';

const root = appPackage().root;
const require = createRequire(path.join(root, 'package.json'));

interface BuilderConfig {
  asar?: boolean | object | null;
  asarUnpack?: string[] | string | null;
  /** Patterns, or (after electron-builder's loader) file sets holding them as `filter`. */
  files?: (string | { filter?: string[] | string })[];
  electronFuses?: Record<string, boolean> | null;
}
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  getConfig(projectDir: string, configPath: string | null, fromOptions: null): Promise<BuilderConfig>;
  validateConfiguration(config: BuilderConfig, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
// The package's index first: its modules import each other in a cycle that only resolves from there.
const { PlatformPackager } = require('app-builder-lib') as {
  PlatformPackager: { prototype: { generateFuseConfig(fuses: unknown): Promise<Record<string, unknown>> } };
};
const fuses = require('@electron/fuses') as {
  FuseV1Options: Record<string, number | string>;
  flipFuses(file: string, config: Record<string, unknown>): Promise<number>;
  getCurrentFuseWire(file: string): Promise<Record<string, number>>;
};
const { minimatch } = require('minimatch') as { minimatch(file: string, pattern: string): boolean };

const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const ON = '1'.charCodeAt(0);
const OFF = '0'.charCodeAt(0);

async function loadConfig(): Promise<BuilderConfig> {
  return getConfig(root, path.join(root, 'electron-builder.yml'), null);
}

describe('electron-builder.yml', () => {
  it("passes electron-builder's own schema check, and a misspelt fuse would not", async () => {
    const config = await loadConfig();
    await validateConfiguration(config, new DebugLogger(false));
    const misspelt = { ...config, electronFuses: { ...config.electronFuses, runAsnode: false } };
    await expect(validateConfiguration(misspelt, new DebugLogger(false))).rejects.toThrow(/electronFuses/);
  });

  it('flips the fuses that close Node entry points and lock the app to its signed app.asar', async () => {
    const config = await loadConfig();
    const fuseConfig = await PlatformPackager.prototype.generateFuseConfig.call({}, config.electronFuses);
    // Electron's fuse wire (version 1, 8 fuses) with Electron's defaults, as in its binary.
    const defaults: Record<string, number> = {
      RunAsNode: ON,
      EnableCookieEncryption: OFF,
      EnableNodeOptionsEnvironmentVariable: ON,
      EnableNodeCliInspectArguments: ON,
      EnableEmbeddedAsarIntegrityValidation: OFF,
      OnlyLoadAppFromAsar: OFF,
      LoadBrowserProcessSpecificV8Snapshot: OFF,
      GrantFileProtocolExtraPrivileges: ON,
    };
    const names = Object.keys(defaults);
    const wire = Buffer.from(names.map((n) => defaults[n]!));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-fuses-'));
    const binary = path.join(dir, 'electron');
    try {
      fs.writeFileSync(
        binary,
        Buffer.concat([Buffer.from('…binary…'), Buffer.from(SENTINEL), Buffer.from([1, names.length]), wire, Buffer.from('…')]),
      );
      await fuses.flipFuses(binary, fuseConfig);
      const flipped = await fuses.getCurrentFuseWire(binary);
      const state = (name: string): 'on' | 'off' => (flipped[String(fuses.FuseV1Options[name])] === ON ? 'on' : 'off');
      expect(Object.fromEntries(names.map((n) => [n, state(n)]))).toEqual({
        RunAsNode: 'off',
        EnableCookieEncryption: 'on',
        EnableNodeOptionsEnvironmentVariable: 'off',
        EnableNodeCliInspectArguments: 'off',
        EnableEmbeddedAsarIntegrityValidation: 'on',
        OnlyLoadAppFromAsar: 'on',
        LoadBrowserProcessSpecificV8Snapshot: 'off',
        GrantFileProtocolExtraPrivileges: 'off',
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('packs into app.asar (onlyLoadAppFromAsar needs it) and keeps the worker threads unpacked', async () => {
    const config = await loadConfig();
    expect(config.asar ?? true).not.toBe(false);
    const unpack = ([] as string[]).concat(config.asarUnpack ?? []);
    const files = (config.files ?? []).flatMap((f) => (typeof f === 'string' ? [f] : ([] as string[]).concat(f.filter ?? [])));
    // The paths core/jobs/queue.ts and core/curation/analysis.ts start their workers from, relative to the app's root.
    for (const worker of ['dist/main/core/jobs/worker.js', 'dist/main/core/curation/analysis-worker.js']) {
      expect(
        unpack.some((pattern) => minimatch(worker, pattern)),
        worker,
      ).toBe(true);
      const included =
        files.some((p) => !p.startsWith('!') && minimatch(worker, p)) &&
        !files.some((p) => p.startsWith('!') && minimatch(worker, p.slice(1)));
      expect(included, worker).toBe(true);
    }
  });
});
