import fs from 'node:fs';
import path from 'node:path';
import type { ModelList } from './api/index.js';

/** Model folders (diffusers ONNX layout) and LoRA files the app can use. */
export function listModels(modelsDir: string, loraDir: string): ModelList {
  const models = fs.existsSync(modelsDir)
    ? fs
        .readdirSync(modelsDir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && fs.existsSync(path.join(modelsDir, e.name, 'model_index.json')))
        .map((e) => ({ name: e.name, dir: path.join(modelsDir, e.name) }))
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
