/** `onbrand models import|pull|list|verify|rm|available`: the models folder without the UI. */
import path from 'node:path';
import { describeUnexpected } from '../../core/diffusion/index.js';
import { ModelStore, type ImportReport } from '../../core/models/index.js';
import type { Command, CommandContext } from '../context.js';
import { plural, table } from '../format.js';
import { UsageError } from '../usage.js';

const gb = (bytes: number): string => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`);

const ARCHITECTURE_FROM = {
  config: 'the --config folder',
  yaml: 'the .yaml beside it',
  shapes: "the weights' shapes",
  folder: "the folder's configs",
} as const;

function printImport(report: ImportReport, print: (text: string) => void): void {
  const family = report.family === 'sdxl' ? 'SDXL' : report.family === 'sd2' ? 'SD 2.x' : 'SD 1.x';
  const took = `${report.seconds.toFixed(1)} s`;
  print(`Installed "${report.name}" (${family}, ${report.predictionType}) in ${report.dir}: ${gb(report.bytes)} in ${took}.`);
  const from = ARCHITECTURE_FROM[report.architectureFrom];
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

/** `--prediction`: epsilon or v (with their long and short spellings); null when it is neither. */
function predictionType(raw: string | undefined): 'epsilon' | 'v_prediction' | undefined | null {
  if (raw === undefined) return undefined;
  if (raw === 'v' || raw === 'v_prediction') return 'v_prediction';
  if (raw === 'epsilon' || raw === 'eps') return 'epsilon';
  return null;
}

async function subcommand(
  ctx: CommandContext,
  store: ModelStore,
  args: string[],
  progress: ((line: string) => void) | null,
): Promise<number> {
  const { values, json, print } = ctx;
  const [sub, ...rest] = args;
  switch (sub) {
    case 'import': {
      if (rest.length !== 1) throw new UsageError('give exactly one PATH (a .safetensors checkpoint or a model folder)');
      if (!values.name) throw new UsageError('--name is required: how Onbrand will call the model (e.g. --name dreamshaper-8)');
      const prediction = predictionType(values.prediction);
      if (prediction === null) throw new UsageError(`--prediction must be epsilon or v, not "${values.prediction}"`);
      const report = await store.importNow(
        {
          source: path.resolve(rest[0]!),
          name: values.name,
          ...(values.config ? { configDir: path.resolve(values.config) } : {}),
          ...(values.tokenizer ? { tokenizerDir: path.resolve(values.tokenizer) } : {}),
          ...(prediction ? { predictionType: prediction } : {}),
        },
        progress
          ? (p) => progress(`${p.phase} ${p.bytesTotal > 0 ? `${Math.floor((100 * p.bytesDone) / p.bytesTotal)} %` : ''}`)
          : undefined,
      );
      if (json) print(JSON.stringify(report, null, 2));
      else printImport(report, print);
      return 0;
    }
    case 'pull': {
      if (rest.length > 1) throw new UsageError('give one ID, REPO[@REVISION][:FILE] or URL');
      const result = await store.pullNow(rest[0] ?? 'sd15', values.name, progress ? (p) => progress(p) : undefined);
      if (json) print(JSON.stringify(result, null, 2));
      else if (result.import) printImport(result.import, print);
      else print(`Installed "${result.name}" in ${result.dir}.`);
      return 0;
    }
    case 'available': {
      const catalog = store.catalog();
      if (json) print(JSON.stringify(catalog, null, 2));
      else {
        const rows = catalog.map((c) => {
          const source = `${c.repo}${c.file ? `:${c.file}` : ''}`;
          return [c.id + (c.installed ? ' (installed)' : ''), c.title, gb(c.bytes), c.licence, source];
        });
        print(table(['ID', 'MODEL', 'SIZE', 'LICENCE', 'SOURCE'], rows));
      }
      return 0;
    }
    case 'list': {
      const { models, modelsDir } = store.list();
      if (json) print(JSON.stringify(models, null, 2));
      else if (models.length === 0) {
        print(
          `No models in ${modelsDir}. Get one with: onbrand models pull (Stable Diffusion 1.5), ` +
            'or onbrand models import FILE.safetensors --name NAME',
        );
      } else {
        const rows = models.map((m) => {
          const family = m.family === 'sdxl' ? 'SDXL' : m.family === 'sd2' ? 'SD 2.x' : m.family === 'sd1' ? 'SD 1.x' : '?';
          return [m.name, family, gb(m.bytes), m.licence ?? '', m.hash ?? '', m.source];
        });
        print(table(['NAME', 'FAMILY', 'SIZE', 'LICENCE', 'HASH', 'SOURCE'], rows));
      }
      return 0;
    }
    case 'verify': {
      if (rest.length !== 1) throw new UsageError('give one NAME');
      const result = await store.verify(rest[0]!);
      if (json) print(JSON.stringify(result, null, 2));
      else if (result.ok) print(`${result.name}: all ${result.files} files intact.`);
      else {
        print(`${result.name}: ${plural(result.problems.length, 'problem')}:`);
        for (const p of result.problems) print(`  ${p}`);
      }
      return result.ok ? 0 : 1;
    }
    case 'rm': {
      if (rest.length !== 1) throw new UsageError('give one NAME');
      store.remove(rest[0]!);
      print(json ? JSON.stringify({ removed: rest[0] }) : `Removed "${rest[0]}".`);
      return 0;
    }
    default:
      throw new UsageError(`unknown subcommand "${sub ?? ''}" (import, pull, available, list, verify, rm)`);
  }
}

export const models: Command = {
  name: 'models',
  summary: [
    'models pull [ID|REPO]         download a model (default Stable Diffusion 1.5), checked and resumable',
    'models import PATH --name N   install a .safetensors checkpoint or a model folder, without Python',
    'models list|available|verify|rm   installed models, the curated list, check, remove',
  ],
  help: `Usage: onbrand models import PATH --name NAME [--config DIR] [--tokenizer DIR] [--prediction epsilon|v] [--json]
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
rm         removes an installed model and the graphs built for it`,

  async run(ctx, args) {
    const { dataDir, modelsDir } = ctx.config();
    const store = new ModelStore({ modelsDir, dataDir, graphCacheDir: path.join(dataDir, 'graph-cache') });
    ctx.defer(() => store.close());
    // Download and import progress is one line on a terminal, redrawn in place and cleared at the end.
    const interactive = !ctx.json && ctx.tty;
    const progress = interactive ? (line: string) => void ctx.err.write(`\r${line}`.slice(0, 100).padEnd(100)) : null;
    try {
      return await subcommand(ctx, store, args, progress);
    } finally {
      if (interactive) ctx.err.write('\r'.padEnd(100) + '\r');
    }
  },
};
