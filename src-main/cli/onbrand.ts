/** `onbrand`: the command line. The same services and API contract as the app, no UI. */
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiError, type Draft, type Expansion, type ExportReport, type ImageSummary, type ImportReport, type Project, type Reference, type ReferenceReport } from '../core/api/index.js';
import { resolveConfig } from '../core/config.js';
import { createRpc, type Rpc } from '../core/rpc.js';
import { createServices, type Services } from '../core/services.js';
import { appPackage } from '../core/util/app-root.js';
import { ArgumentError, GENERATE_HELP, generateCommand } from './generate.js';
import { ColourUsageError, LUT_HELP, PALETTE_HELP, lutCommand, paletteCommand } from './colour.js';
import { UPSCALE_HELP, upscaleCommand } from './upscale.js';
import { QUEUE_HELP, QueueUsageError, queueCommand } from './queue.js';
import { MODELS_HELP, ModelsUsageError, modelsCommand } from './models.js';
import { ModelStore } from '../core/models/store.js';

const GLOBAL_OPTIONS = `Global options:
  --data-dir DIR      catalogue and caches (default: the platform's app-data folder; env ONBRAND_DATA_DIR)
  --projects-dir DIR  where new project folders go (default ~/Onbrand; env ONBRAND_PROJECTS_DIR)
  --models-dir DIR    Stable Diffusion models and loras/ (default native-models/; env ONBRAND_MODELS_DIR)
  --json              print machine-readable JSON
  -h, --help          help for the command`;

const HELP: Record<string, string> = {
  main: `Usage: onbrand <command> [options]

Onbrand: from blank page to on-brand visuals, from the command line.

Commands:
  projects                      list projects
  projects create NAME          create a project (--folder DIR, --mood TEXT, --aspect W:H)
  projects rename PROJECT NAME  rename a project
  import PROJECT PATH...        import image files or folders (PNG, JPEG, WebP) into a project
  models pull [ID|REPO]         download a model (default Stable Diffusion 1.5), checked and resumable
  models import PATH --name N   install a .safetensors checkpoint or a model folder, without Python
  models list|available|verify|rm   installed models, the curated list, check, remove
  generate --model NAME --prompt TEXT --out DIR  generate images with Stable Diffusion
  queue add|list|cancel|retry|run                the generation queue of the app, headless
  prompt expand TEMPLATE         expand a prompt template ({a|b}, {subject}, <lora:…>, --ar W:H)
  prompt draft PROJECT [--n 5]   draft cinematic prompts from the project's brand skeleton (--llm: the configured model)
  export PROJECT --target T      export picks or ⭐N+ to the Framer, Sora, folder or Maybe Later target
  rate PROJECT IMAGE_ID STARS    set a rating (0–5); flag PROJECT IMAGE_ID pick|reject|none sets a flag
  upscale --model NAME IN OUT    ESRGAN upscaling (esrgan-slim|medium|thick ×2/3/4/8 or an ONNX model)
  palette IMAGE [--brand HEX,…]  dominant colours and brand-colour coverage of an image
  lut apply|snap                 apply a .cube LUT, or write the brand palette-snap LUT
  ref add PROJECT URL|PATH...    add references to a project's mood board (files, folders, image URLs, Unsplash pages)
  ref list PROJECT               list the mood board with attribution and palettes

PROJECT is a project's name or id. Run "onbrand <command> --help" for details.

${GLOBAL_OPTIONS}
  --version           print the version`,
  projects: `Usage: onbrand projects [list]
       onbrand projects create NAME [--folder DIR] [--mood TEXT] [--aspect W:H]
       onbrand projects rename PROJECT NEW_NAME

Lists, creates or renames projects. A new project's folder defaults to PROJECTS-DIR/NAME.

${GLOBAL_OPTIONS}`,
  import: `Usage: onbrand import PROJECT PATH...

Imports image files and folders (searched recursively) into PROJECT. Files are copied into the
project's imports/ folder and get thumbnails. Files that are not PNG, JPEG or WebP images, are
damaged, or are already in the project are reported by name and skipped.

Exit status: 0 all imported, 3 finished but some files were skipped, 1 error.

${GLOBAL_OPTIONS}`,
  export: `Usage: onbrand export PROJECT --target framer|sora|folder|maybe-later [--dir DIR] [--min-rating N | --picks]
                      [--width W --height H] [--lut snap] [--name TEMPLATE] [--again] [--json]

Exports as progressive JPEG 90 with the generation parameters in EXIF (UserComment) and XMP, named by
TEMPLATE (default {yyyymmdd}_{section}_{colour}_{seed}.jpg; tokens: yyyymmdd, section, colour, seed,
rating, index, project), never over an existing file. framer: each section's paired image at its slot
size (cropped like object-fit: cover, centred on the subject; ESRGAN ×4 for slots wider than 1920 px);
sora: 1080×1920 portraits numbered in order; folder: the chosen size; maybe-later: rejected images.
--dir defaults to the project's target folder (PROJECT/exports/TARGET unless set in the app).
Exit status: 0 all exported, 3 some skipped, 1 error.

${GLOBAL_OPTIONS}`,
  prompt: `Usage: onbrand prompt expand TEMPLATE [--count N] [--seed S]
       onbrand prompt draft PROJECT [--n 5] [--seed S] [--llm]

expand  prints every prompt a template makes (or --count seeded picks with --seed), and how many.
        {a|b|c} alternatives; {subject}, {camera action}, {lighting adjective}, {camera verb},
        {cinematic noun} lists; <lora:name:w> tags are kept; a final --ar W:H sets the size.
draft   "five 25-word prompts, cinematic language, one camera verb, one lighting adjective" from the
        project's palette, mood and subjects, each annotated; offline unless --llm.

${GLOBAL_OPTIONS}`,
  rate: `Usage: onbrand rate PROJECT IMAGE_ID STARS

${GLOBAL_OPTIONS}`,
  flag: `Usage: onbrand flag PROJECT IMAGE_ID pick|reject|none

${GLOBAL_OPTIONS}`,
  upscale: `${UPSCALE_HELP}

${GLOBAL_OPTIONS}`,
  palette: `${PALETTE_HELP}

${GLOBAL_OPTIONS}`,
  lut: `${LUT_HELP}

${GLOBAL_OPTIONS}`,
  ref: `Usage: onbrand ref add PROJECT URL|PATH...
       onbrand ref list PROJECT

add   copies each file (PNG, JPEG, WebP), folder (searched recursively), image URL or web page
      (an Unsplash photo page is resolved through its Open Graph image, with the photographer
      credited) into the project's references/ folder with its palette. Each item that fails
      (unreachable, no image, not an image, too large, already there) is named and skipped.
      Exit status: 0 all added, 3 some skipped, 1 error.
list  the mood board in order: file, size, dominant colours, author, licence, source.

${GLOBAL_OPTIONS}`,
  queue: `${QUEUE_HELP}

${GLOBAL_OPTIONS}`,
  generate: `${GENERATE_HELP}

${GLOBAL_OPTIONS}`,
  models: `${MODELS_HELP}

${GLOBAL_OPTIONS}`,
};

const OPTIONS = {
  'data-dir': { type: 'string' },
  'projects-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  folder: { type: 'string' },
  mood: { type: 'string' },
  aspect: { type: 'string' },
  model: { type: 'string' },
  prompt: { type: 'string' },
  negative: { type: 'string' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  cfg: { type: 'string' },
  sampler: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  ar: { type: 'string' },
  batch: { type: 'string' },
  'lora-dir': { type: 'string' },
  'memory-budget': { type: 'string' },
  graphs: { type: 'string' },
  init: { type: 'string' },
  strength: { type: 'string' },
  provider: { type: 'string' },
  out: { type: 'string' },
  brand: { type: 'string' },
  threshold: { type: 'string' },
  cube: { type: 'string' },
  lift: { type: 'string' },
  'crush-greens': { type: 'string' },
  scale: { type: 'string' },
  tile: { type: 'string' },
  target: { type: 'string' },
  dir: { type: 'string' },
  'min-rating': { type: 'string' },
  picks: { type: 'boolean' },
  lut: { type: 'string' },
  name: { type: 'string' },
  again: { type: 'boolean' },
  count: { type: 'string' },
  n: { type: 'string' },
  llm: { type: 'boolean' },
  preset: { type: 'string' },
  batches: { type: 'string' },
  'models-dir': { type: 'string' },
  config: { type: 'string' },
  tokenizer: { type: 'string' },
  prediction: { type: 'string' },
} satisfies ParseArgsConfig['options'];

class UsageError extends Error {}

export async function run(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    err.write(`onbrand: ${(error as Error).message}\nRun "onbrand --help" for usage.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  const print = (text: string): void => void out.write(text.endsWith('\n') ? text : `${text}\n`);

  if (values.version) {
    print(appPackage().version);
    return 0;
  }
  if (!command || command === 'help') {
    print((rest[0] && Object.hasOwn(HELP, rest[0]) ? HELP[rest[0]] : HELP.main)!);
    return 0;
  }
  if (!Object.hasOwn(HELP, command) || command === 'main') {
    err.write(`onbrand: unknown command "${command}". Commands: projects, import, models, generate, queue, ref, palette, lut, upscale, export, rate, flag, prompt. Run "onbrand --help".\n`);
    return 2;
  }
  if (values.help) {
    print(HELP[command]!);
    return 0;
  }

  if (command === 'palette' || command === 'lut' || command === 'upscale') {
    try {
      if (command === 'upscale') {
        const config = resolveConfig(values['models-dir'] ? { modelsDir: values['models-dir'] } : {});
        return await upscaleCommand(rest, values, config.modelsDir, values.json === true, print, 'isTTY' in err && err.isTTY === true ? (line) => err.write(line) : null);
      }
      return command === 'palette' ? await paletteCommand(rest, values, values.json === true, print) : await lutCommand(rest, values, print);
    } catch (error) {
      if (error instanceof ColourUsageError) {
        err.write(`onbrand ${command}: ${error.message}\nRun "onbrand ${command} --help" for usage.\n`);
        return 2;
      }
      err.write(`onbrand ${command}: ${(error as Error).message}\n`);
      return 1;
    }
  }

  if (command === 'models') {
    const json = values.json === true;
    const interactive = !json && 'isTTY' in err && err.isTTY === true;
    const config = resolveConfig({ ...(values['models-dir'] ? { modelsDir: values['models-dir'] } : {}), ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}) });
    const store = new ModelStore({ modelsDir: config.modelsDir, dataDir: config.dataDir, graphCacheDir: path.join(config.dataDir, 'graph-cache') });
    try {
      const code = await modelsCommand(store, rest, values, json, print, interactive ? (line) => err.write(`\r${line}`.slice(0, 100).padEnd(100)) : null);
      if (interactive) err.write('\r'.padEnd(100) + '\r');
      return code;
    } catch (error) {
      if (interactive) err.write('\r'.padEnd(100) + '\r');
      if (error instanceof ModelsUsageError) {
        err.write(`onbrand models: ${error.message}\nRun "onbrand models --help" for usage.\n`);
        return 2;
      }
      err.write(`onbrand models: ${(error as Error).message}\n`);
      return 1;
    } finally {
      await store.close();
    }
  }

  if (command === 'generate') {
    const json = values.json === true;
    const interactive = !json && 'isTTY' in err && err.isTTY === true;
    try {
      if (positionals.length > 1) throw new ArgumentError(`unexpected argument "${positionals[1]}" (quote the prompt: --prompt "…")`);
      const config = resolveConfig({ ...(values['models-dir'] ? { modelsDir: values['models-dir'] } : {}), ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}) });
      const result = await generateCommand(
        { ...values, 'graph-cache': path.join(config.dataDir, 'graph-cache') },
        config.modelsDir,
        (line) => (json ? err.write(`${line}\n`) : print(line)),
        interactive ? (line) => err.write(`\r${line}`.padEnd(60)) : null,
      );
      if (interactive) err.write('\r'.padEnd(60) + '\r');
      if (json) print(JSON.stringify(result, null, 2));
      else print(`Generated ${result.files.length} image${result.files.length === 1 ? '' : 's'} in ${(result.elapsedMs / 1000).toFixed(1)} s (seed ${result.seed}).`);
      return 0;
    } catch (error) {
      if (error instanceof ArgumentError) {
        err.write(`onbrand generate: ${error.message}\nRun "onbrand generate --help" for usage.\n`);
        return 2;
      }
      err.write(`onbrand generate: ${(error as Error).message}\n`);
      return 1;
    }
  }

  let services: Services | undefined;
  try {
    const config = resolveConfig({
      ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
      ...(values['projects-dir'] ? { projectsDir: values['projects-dir'] } : {}),
      ...(values['models-dir'] ? { modelsDir: values['models-dir'] } : {}),
    });
    const provider = values.provider ?? 'auto';
    if (!['auto', 'cpu', 'cuda', 'dml', 'coreml'].includes(provider)) throw new UsageError(`--provider must be auto, cpu, cuda, dml or coreml, not "${provider}"`);
    services = createServices(config, { provider: provider as 'auto' });
    const rpc = createRpc(services, 'cli');
    const json = values.json === true;
    switch (command) {
      case 'projects':
        return await projectsCommand(rpc, services, rest, values, json, print);
      case 'import':
        return await importCommand(rpc, services, rest, json, print, err);
      case 'queue':
        return await queueCommand(rpc, services, rest, values, json, print);
      case 'ref':
        return await refCommand(rpc, services, rest, json, print);
      case 'export':
        return await exportCommand(rpc, services, rest, values, json, print);
      case 'prompt': {
        const [sub, arg] = rest;
        const int = (name: string, raw: string | undefined, min: number, max: number): number | undefined => {
          if (raw === undefined) return undefined;
          const v = Number(raw);
          if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
          return v;
        };
        if (sub === 'expand') {
          if (!arg || rest.length !== 2) throw new UsageError('give one TEMPLATE (quote it)');
          const count = int('count', values.count, 1, 500);
          const seed = int('seed', values.seed, 0, 0xffffffff);
          const result = (await rpc.invoke('prompt.expand', { template: arg, ...(seed !== undefined ? { mode: 'random', count: count ?? 5, seed } : count ? { count } : {}) })) as Expansion;
          if (json) print(JSON.stringify(result, null, 2));
          else {
            for (const p of result.prompts) print(p);
            print(`${result.total} prompt${result.total === 1 ? '' : 's'} in all${result.aspect ? `, --ar ${result.aspect}` : ''}`);
          }
          return 0;
        }
        if (sub === 'draft') {
          if (!arg || rest.length !== 2) throw new UsageError('give one PROJECT');
          const project = services.projects.find(arg);
          const n = int('n', values.n, 1, 10);
          const seed = int('seed', values.seed, 0, 0xffffffff);
          const drafts = (await rpc.invoke('prompt.draft', { projectId: project.id, ...(n ? { n } : {}), ...(seed !== undefined ? { seed } : {}), ...(values.llm ? { llm: true } : {}) })) as Draft[];
          if (json) print(JSON.stringify(drafts, null, 2));
          else for (const d of drafts) print(`${d.text}\n   ${d.words} words · camera: ${d.cameraVerbs.join(', ') || '—'} · light: ${d.lightingAdjectives.join(', ') || '—'} · brand: ${d.brandColours.join(', ') || '—'}${d.problems.length ? ` · ${d.problems.join('; ')}` : ''}`);
          return 0;
        }
        throw new UsageError(`unknown subcommand "${sub ?? ''}" (expand, draft)`);
      }
      case 'rate':
      case 'flag': {
        if (rest.length !== 3 || !/^\d+$/.test(rest[1]!)) throw new UsageError(`give PROJECT IMAGE_ID ${command === 'rate' ? 'STARS' : 'pick|reject|none'}`);
        const project = services.projects.find(rest[0]!);
        const value = rest[2]!;
        if (command === 'rate' && !/^[0-5]$/.test(value)) throw new UsageError(`STARS must be 0 to 5, not "${value}"`);
        if (command === 'flag' && !['pick', 'reject', 'none'].includes(value)) throw new UsageError(`the flag must be pick, reject or none, not "${value}"`);
        const change = command === 'rate' ? { imageId: Number(rest[1]), rating: Number(value) } : { imageId: Number(rest[1]), flag: value };
        const [image] = (await rpc.invoke('images.mark', { projectId: project.id, changes: [change] })) as ImageSummary[];
        print(json ? JSON.stringify(image, null, 2) : `${image!.fileName}: ${'★'.repeat(image!.rating)}${image!.flag !== 'none' ? ` (${image!.flag})` : ''}`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof QueueUsageError) {
      err.write(`onbrand ${command}: ${error.message}\nRun "onbrand ${command} --help" for usage.\n`);
      return 2;
    }
    err.write(`onbrand ${command}: ${error instanceof ApiError || error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await services?.close();
  }
}

async function projectsCommand(
  rpc: Rpc,
  services: Services,
  args: string[],
  values: { folder?: string; mood?: string; aspect?: string },
  json: boolean,
  print: (text: string) => void,
): Promise<number> {
  const [sub = 'list', ...rest] = args;
  if (sub === 'list') {
    if (rest.length) throw new UsageError(`"projects list" takes no arguments`);
    const projects = (await rpc.invoke('projects.list', {})) as Project[];
    if (json) print(JSON.stringify(projects, null, 2));
    else if (projects.length === 0) print('No projects yet. Create one with: onbrand projects create NAME');
    else print(table(['ID', 'NAME', 'IMAGES', 'FOLDER'], projects.map((p) => [String(p.id), p.name, String(p.imageCount), p.folder])));
    return 0;
  }
  if (sub === 'create') {
    if (rest.length !== 1) throw new UsageError('give exactly one NAME (quote names with spaces)');
    const project = (await rpc.invoke('projects.create', {
      name: rest[0],
      ...(values.folder ? { folder: path.resolve(values.folder) } : {}),
      ...(values.mood !== undefined ? { mood: values.mood } : {}),
      ...(values.aspect ? { aspect: values.aspect } : {}),
    })) as Project;
    print(json ? JSON.stringify(project, null, 2) : `Created project "${project.name}" (id ${project.id}) in ${project.folder}`);
    return 0;
  }
  if (sub === 'rename') {
    if (rest.length !== 2) throw new UsageError('give PROJECT and NEW_NAME');
    const project = services.projects.find(rest[0]!);
    const renamed = (await rpc.invoke('projects.rename', { projectId: project.id, name: rest[1] })) as Project;
    print(json ? JSON.stringify(renamed, null, 2) : `Renamed "${project.name}" to "${renamed.name}"`);
    return 0;
  }
  throw new UsageError(`unknown subcommand "${sub}" (list, create, rename)`);
}

async function importCommand(
  rpc: Rpc,
  services: Services,
  args: string[],
  json: boolean,
  print: (text: string) => void,
  err: NodeJS.WritableStream,
): Promise<number> {
  if (args.length < 2) throw new UsageError('give a PROJECT and at least one PATH');
  const [projectName, ...paths] = args;
  const project = services.projects.find(projectName!);
  const interactive = !json && 'isTTY' in err && err.isTTY === true;
  const stop = services.events.subscribe((event) => {
    if (event.type === 'import.progress' && interactive) {
      err.write(`\r${event.payload.done}/${event.payload.total} ${path.basename(event.payload.current)}`.padEnd(70).slice(0, 79));
    }
  });
  let report: ImportReport;
  try {
    report = (await rpc.invoke('images.import', { projectId: project.id, paths: paths.map((p) => path.resolve(p)) })) as ImportReport;
  } finally {
    stop();
    if (interactive) err.write('\r'.padEnd(80) + '\r');
  }
  if (json) {
    print(JSON.stringify(report, null, 2));
  } else {
    print(
      `Imported ${report.imported.length} image${report.imported.length === 1 ? '' : 's'} into "${project.name}" in ${(report.elapsedMs / 1000).toFixed(1)} s` +
        (report.duplicates.length ? `; ${report.duplicates.length} already there` : '') +
        (report.skipped.length ? `; ${report.skipped.length} skipped:` : '.'),
    );
    for (const s of report.skipped) print(`  skipped ${s.message}`);
  }
  return report.skipped.length > 0 ? 3 : 0;
}

async function exportCommand(
  rpc: Rpc,
  services: Services,
  args: string[],
  values: { target?: string; dir?: string; 'min-rating'?: string; picks?: boolean; width?: string; height?: string; lut?: string; name?: string; again?: boolean },
  json: boolean,
  print: (text: string) => void,
): Promise<number> {
  if (args.length !== 1) throw new UsageError('give exactly one PROJECT');
  if (!values.target) throw new UsageError('--target is required (framer, sora, folder, maybe-later)');
  if (values.picks && values['min-rating']) throw new UsageError('give either --picks or --min-rating, not both');
  if (values.lut && values.lut !== 'snap') throw new UsageError('--lut takes "snap" (the brand palette snap)');
  const project = services.projects.find(args[0]!);
  const minRating = values['min-rating'] === undefined ? undefined : Number(values['min-rating']);
  if (minRating !== undefined && !(Number.isInteger(minRating) && minRating >= 1 && minRating <= 5)) throw new UsageError(`--min-rating must be 1 to 5, not "${values['min-rating']}"`);
  const report = (await rpc.invoke('export.run', {
    projectId: project.id,
    target: values.target,
    selection: minRating !== undefined ? { kind: 'min-rating', rating: minRating } : { kind: 'picks' },
    ...(values.dir ? { dir: path.resolve(values.dir) } : {}),
    ...(values.width ? { width: Number(values.width) } : {}),
    ...(values.height ? { height: Number(values.height) } : {}),
    ...(values.lut ? { paletteSnap: true } : {}),
    ...(values.name ? { nameTemplate: values.name } : {}),
    ...(values.again ? { again: true } : {}),
  })) as ExportReport;
  if (json) print(JSON.stringify(report, null, 2));
  else {
    print(`Exported ${report.files.length} file${report.files.length === 1 ? '' : 's'} to ${report.dir} in ${(report.elapsedMs / 1000).toFixed(1)} s${report.skipped.length ? `; ${report.skipped.length} skipped:` : '.'}`);
    for (const f of report.files) print(`  ${f.fileName}  ${f.width}×${f.height}  ${Math.round(f.bytes / 1024)} KB${f.upscaled ? '  (ESRGAN ×4)' : ''}`);
    for (const s of report.skipped) print(`  skipped ${s.message}`);
  }
  return report.skipped.length > 0 ? 3 : 0;
}

async function refCommand(rpc: Rpc, services: Services, args: string[], json: boolean, print: (text: string) => void): Promise<number> {
  const [sub, projectName, ...items] = args;
  if (sub !== 'add' && sub !== 'list') throw new UsageError(`unknown subcommand "${sub ?? ''}" (add, list)`);
  if (!projectName) throw new UsageError('give a PROJECT');
  const project = services.projects.find(projectName);
  if (sub === 'list') {
    const refs = (await rpc.invoke('refs.list', { projectId: project.id })) as Reference[];
    if (json) print(JSON.stringify(refs, null, 2));
    else if (refs.length === 0) print(`The mood board of "${project.name}" is empty. Add references with: onbrand ref add "${project.name}" URL|PATH…`);
    else
      print(
        table(
          ['#', 'FILE', 'SIZE', 'COLOURS', 'AUTHOR', 'LICENCE', 'SOURCE'],
          refs.map((r, i) => [String(i + 1), r.fileName, `${r.width}×${r.height}`, r.palette.slice(0, 3).map((c) => c.hex).join(' '), r.author ?? '', r.licence ?? '', r.sourceUrl ?? '']),
        ),
      );
    return 0;
  }
  if (items.length === 0) throw new UsageError('give at least one URL or PATH');
  const report = (await rpc.invoke('refs.add', {
    projectId: project.id,
    items: items.map((i) => (/^https?:\/\//i.test(i) ? i : path.resolve(i))),
  })) as ReferenceReport;
  if (json) print(JSON.stringify(report, null, 2));
  else {
    print(`Added ${report.added.length} reference${report.added.length === 1 ? '' : 's'} to "${project.name}"${report.skipped.length ? `; ${report.skipped.length} skipped:` : '.'}`);
    for (const r of report.added) print(`  ${r.fileName}${r.author ? ` — ${r.author}` : ''}${r.licence ? ` (${r.licence})` : ''}`);
    for (const s of report.skipped) print(`  skipped ${s.message}`);
  }
  return report.skipped.length > 0 ? 3 : 0;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
