/**
 * The models folder: Stable Diffusion models (Onbrand's own layout with a manifest, diffusers
 * folders, diffusers ONNX folders) and LoRA files, with what a designer wants to know about each
 * (size, where it came from, licence, hash); checking an installed model against its manifest;
 * removing one (and its built graphs).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { InstalledModel, ModelList } from '../api/index.js';
import { folderLayout, MANIFEST_FILE, modelFamily, type ModelManifest } from '../diffusion/index.js';

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(full);
    else if (entry.isFile()) total += fs.statSync(full).size;
  }
  return total;
}

function readManifest(dir: string): ModelManifest | null {
  try {
    const value = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as ModelManifest;
    return value.format === 'onbrand-model' ? value : null;
  } catch {
    return null;
  }
}

/** One installed model, as the app and `models list` show it. */
export function describeModel(dir: string): InstalledModel | null {
  if (!fs.existsSync(path.join(dir, 'model_index.json'))) return null;
  const layout = folderLayout(dir);
  if (!layout) return null;
  const manifest = readManifest(dir);
  const bytes = manifest ? Object.values(manifest.files).reduce((n, f) => n + f.bytes, 0) : folderBytes(dir);
  let family: InstalledModel['family'] = manifest?.family ?? null;
  if (!family) {
    try {
      const config = JSON.parse(fs.readFileSync(path.join(dir, 'unet', 'config.json'), 'utf8')) as Record<string, unknown>;
      family = modelFamily(config, fs.existsSync(path.join(dir, 'text_encoder_2')));
    } catch {
      family = null;
    }
  }
  const source = manifest?.source;
  return {
    name: path.basename(dir),
    dir,
    layout,
    family,
    bytes,
    source: source
      ? source.repo
        ? `${source.repo}${source.revision ? `@${source.revision}` : ''}`
        : (source.url ?? source.path ?? source.kind)
      : 'a folder placed in the models folder',
    licence: manifest?.licence ?? null,
    hash: manifest?.hash ?? null,
    installedAt: manifest?.installedAt ?? null,
  };
}

/** Models (any of the three layouts) and LoRA files the app can use. */
export function listModels(modelsDir: string, loraDir: string): ModelList {
  const models = fs.existsSync(modelsDir)
    ? fs
        .readdirSync(modelsDir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => describeModel(path.join(modelsDir, e.name)))
        .filter((m): m is InstalledModel => m !== null)
        .sort((a, b) => a.name.localeCompare(b.name))
    : [];
  const loras = fs.existsSync(loraDir)
    ? fs
        .readdirSync(loraDir)
        .filter((f) => f.toLowerCase().endsWith('.safetensors'))
        .map((f) => f.slice(0, -'.safetensors'.length))
        .sort()
    : [];
  return { modelsDir, loraDir, models, loras };
}

export interface VerifyResult {
  name: string;
  ok: boolean;
  /** Files checked against the manifest. */
  files: number;
  /** Each file that is missing, has another size or another SHA-256. */
  problems: string[];
}

/** Re-hashes every file of an installed model against its manifest. */
export async function verifyModel(dir: string, onBytes?: (n: number) => void): Promise<VerifyResult> {
  const manifest = readManifest(dir);
  const name = path.basename(dir);
  if (!manifest)
    return {
      name,
      ok: false,
      files: 0,
      problems: [`${MANIFEST_FILE} is missing or unreadable: the model was not installed by Onbrand, nothing to check against`],
    };
  const problems: string[] = [];
  for (const [relative, expected] of Object.entries(manifest.files)) {
    const file = path.join(dir, relative);
    if (!fs.existsSync(file)) {
      problems.push(`${relative} is missing`);
      continue;
    }
    const size = fs.statSync(file).size;
    if (size !== expected.bytes) {
      problems.push(`${relative} has ${size} bytes, ${expected.bytes} expected`);
      continue;
    }
    const hash = crypto.createHash('sha256');
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) {
      hash.update(chunk as Buffer);
      onBytes?.((chunk as Buffer).length);
    }
    const actual = hash.digest('hex');
    if (actual !== expected.sha256)
      problems.push(`${relative} has SHA-256 ${actual.slice(0, 16)}…, ${expected.sha256.slice(0, 16)}… expected (damaged or changed)`);
  }
  return { name, ok: problems.length === 0, files: Object.keys(manifest.files).length, problems };
}

/**
 * Removes an installed model: renamed aside first (so a half-removed model is never seen), then
 * deleted, with the graphs built for it.
 */
export function removeModel(modelsDir: string, name: string, graphCacheDir: string | null): void {
  const dir = path.join(modelsDir, name);
  if (path.dirname(dir) !== path.resolve(modelsDir) || !describeModel(dir)) throw new Error(`No model named "${name}" in ${modelsDir}`);
  const aside = path.join(
    modelsDir,
    '.staging',
    `removing-${name.replace(/[^\w.-]+/g, '_')}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`,
  );
  fs.mkdirSync(path.dirname(aside), { recursive: true });
  try {
    fs.renameSync(dir, aside);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EPERM' || code === 'EBUSY' || code === 'EACCES') {
      throw new Error(
        `"${name}" cannot be removed now: one of its files is in use or not writable (${code}). Close what uses it (another window generating with it) and try again.`,
      );
    }
    throw error;
  }
  fs.rmSync(aside, { recursive: true, force: true });
  if (graphCacheDir && fs.existsSync(graphCacheDir)) {
    const safe = name.replace(/[^\w.-]+/g, '_').slice(0, 40);
    const pattern = new RegExp(`^${safe.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(float16|float32)-(fused|plain)-[0-9a-f]{12}$`);
    for (const entry of fs.readdirSync(graphCacheDir)) {
      if (!pattern.test(entry)) continue;
      // Only builds of this folder (the identity starts with the model's path).
      try {
        const manifest = JSON.parse(fs.readFileSync(path.join(graphCacheDir, entry, 'manifest.json'), 'utf8')) as { identity?: string };
        if (manifest.identity?.startsWith(`${dir}|`)) fs.rmSync(path.join(graphCacheDir, entry), { recursive: true, force: true });
      } catch {
        // An unreadable build is left for the cache to replace.
      }
    }
  }
}
