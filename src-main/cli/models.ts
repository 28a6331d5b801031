/** `onbrand models import|pull|list|verify|rm|available`: the models folder without the UI. */
import path from 'node:path';
import type { ModelStore } from '../core/models/store.js';
import { describeUnexpected } from '../core/diffusion/graph/index.js';
import type { ImportReport } from '../core/models/importer.js';

export const MODELS_HELP = `Usage: onbrand models import PATH --name NAME [--config DIR] [--tokenizer DIR] [--prediction epsilon|v] [--json]
       onbrand models pull ID [--name NAME] [--json]
       onbrand models available | list | verify NAME | rm NAME

import     installs a Stable Diffusion 1.x / 2.x model from a single-file checkpoint (.safetensors,
           as model sites and A1111/ComfyUI use them), a diffusers folder or a diffusers ONNX folder,
           without Python. The architecture comes from --config DIR (a diffusers-style folder with
           unet/ vae/ text_encoder/ config.json, scheduler/ and tokenizer/), else from an LDM .yaml
           with the checkpoint's name beside it, else from the weights' shapes. A checkpoint has no
           tokenizer: it is taken from --config, --tokenizer DIR, an installed model, or CLIP's on
           the Hugging Face Hub. --prediction overrides the prediction type (SD 2.x 768 models are v).
           .ckpt files are refused: they are Python pickles, which can run code.
pull       downloads a model: an ID of "models available" (default sd15), REPO[@REVISION][:FILE]
           of the Hugging Face Hub, or a https://…/REPO/resolve/REV/FILE URL. Every file is checked
           against its SHA-256; a stopped download resumes where it stopped. HF_TOKEN for gated
           repositories (the app keeps its own in its settings), HF_ENDPOINT for a mirror.
available  the curated list: what each model is, its size and licence
list       installed models: name, family, size, source, licence, hash
verify     re-hashes an installed model's files against what was installed (exit 1 if damaged)
rm         removes an installed model and the graphs built for it`;

export class ModelsUsageError extends Error {}

export interface ModelsArgs {
  name?: string | undefined;
  config?: string | undefined;
  tokenizer?: string | undefined;
  prediction?: string | undefined;
}

const gb = (bytes: number): string => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

function printImport(report: ImportReport, print: (text: string) => void): void {
  const family = report.family === 'sd2' ? 'SD 2.x' : 'SD 1.x';
  const from = { config: 'the --config folder', yaml: 'the .yaml beside it', shapes: "the weights' shapes", folder: "the folder's configs" }[report.architectureFrom];
  print(`Installed "${report.name}" (${family}, ${report.predictionType}) in ${report.dir}: ${gb(report.bytes)} in ${report.seconds.toFixed(1)} s.`);
  print(`  Architecture from ${from}; tokenizer from ${report.tokenizerFrom}; model hash ${report.hash}.`);
  if (report.checkpoint) {
    const ignored = report.checkpoint.ignored.map((i) => `${i.count} ${i.reason}`).join('; ');
    print(`  ${report.checkpoint.mapped} tensors used${ignored ? `; ignored: ${ignored}` : ''}.`);
    const unexpected = describeUnexpected(report.checkpoint);
    if (unexpected) print(`  ${unexpected}.`);
  }
  for (const note of report.notes) if (!note.includes('unexpected key')) print(`  ${note}`);
  print(`Generate with: onbrand generate --model "${report.name}" --prompt "…" --out DIR`);
}

export async function modelsCommand(store: ModelStore, args: string[], values: ModelsArgs, json: boolean, print: (text: string) => void, progress: ((line: string) => void) | null): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'import': {
      if (rest.length !== 1) throw new ModelsUsageError('give exactly one PATH (a .safetensors checkpoint or a model folder)');
      if (!values.name) throw new ModelsUsageError('--name is required: how Onbrand will call the model (e.g. --name dreamshaper-8)');
      const prediction = values.prediction === undefined ? undefined : values.prediction === 'v' || values.prediction === 'v_prediction' ? 'v_prediction' : values.prediction === 'epsilon' || values.prediction === 'eps' ? 'epsilon' : null;
      if (prediction === null) throw new ModelsUsageError(`--prediction must be epsilon or v, not "${values.prediction}"`);
      const report = await store.importNow(
        {
          source: path.resolve(rest[0]!),
          name: values.name,
          ...(values.config ? { configDir: path.resolve(values.config) } : {}),
          ...(values.tokenizer ? { tokenizerDir: path.resolve(values.tokenizer) } : {}),
          ...(prediction ? { predictionType: prediction } : {}),
        },
        progress ? (p) => progress(`${p.phase} ${p.bytesTotal > 0 ? `${Math.floor((100 * p.bytesDone) / p.bytesTotal)} %` : ''}`) : undefined,
      );
      if (json) print(JSON.stringify(report, null, 2));
      else printImport(report, print);
      return 0;
    }
    case 'pull': {
      if (rest.length > 1) throw new ModelsUsageError('give one ID, REPO[@REVISION][:FILE] or URL');
      const result = await store.pullNow(rest[0] ?? 'sd15', values.name, progress ? (p) => progress(p) : undefined);
      if (json) print(JSON.stringify(result, null, 2));
      else if (result.import) printImport(result.import, print);
      else print(`Installed "${result.name}" in ${result.dir}.`);
      return 0;
    }
    case 'available': {
      const catalog = store.catalog();
      if (json) print(JSON.stringify(catalog, null, 2));
      else print(table(['ID', 'MODEL', 'SIZE', 'LICENCE', 'SOURCE'], catalog.map((c) => [c.id + (c.installed ? ' (installed)' : ''), c.title, gb(c.bytes), c.licence, `${c.repo}${c.file ? `:${c.file}` : ''}`])));
      return 0;
    }
    case 'list': {
      const { models, modelsDir } = store.list();
      if (json) print(JSON.stringify(models, null, 2));
      else if (models.length === 0) print(`No models in ${modelsDir}. Get one with: onbrand models pull (Stable Diffusion 1.5), or onbrand models import FILE.safetensors --name NAME`);
      else print(table(['NAME', 'FAMILY', 'SIZE', 'LICENCE', 'HASH', 'SOURCE'], models.map((m) => [m.name, m.family === 'sd2' ? 'SD 2.x' : m.family === 'sd1' ? 'SD 1.x' : '?', gb(m.bytes), m.licence ?? '', m.hash ?? '', m.source])));
      return 0;
    }
    case 'verify': {
      if (rest.length !== 1) throw new ModelsUsageError('give one NAME');
      const result = await store.verify(rest[0]!);
      if (json) print(JSON.stringify(result, null, 2));
      else if (result.ok) print(`${result.name}: all ${result.files} files intact.`);
      else {
        print(`${result.name}: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}:`);
        for (const p of result.problems) print(`  ${p}`);
      }
      return result.ok ? 0 : 1;
    }
    case 'rm': {
      if (rest.length !== 1) throw new ModelsUsageError('give one NAME');
      store.remove(rest[0]!);
      print(json ? JSON.stringify({ removed: rest[0] }) : `Removed "${rest[0]}".`);
      return 0;
    }
    default:
      throw new ModelsUsageError(`unknown subcommand "${sub ?? ''}" (import, pull, available, list, verify, rm)`);
  }
}
