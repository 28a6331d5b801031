/** The options of every command, parsed once: any command accepts any of them and reads its own. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

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
  schedule: { type: 'string' },
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

/** Parses argv (strict: an unknown option throws, naming it). */
export function parseCommandLine(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

export type CliValues = ReturnType<typeof parseCommandLine>['values'];
