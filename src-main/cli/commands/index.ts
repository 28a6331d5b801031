/** The table of commands: it drives dispatch, `onbrand --help` and the list of commands in errors. */
import type { Command } from '../context.js';
import { backends } from './backends.js';
import { exportCommand } from './export.js';
import { generate } from './generate.js';
import { importCommand } from './import.js';
import { lut } from './lut.js';
import { flag, rate } from './marks.js';
import { models } from './models.js';
import { palette } from './palette.js';
import { projects } from './projects.js';
import { prompt } from './prompt.js';
import { queue } from './queue.js';
import { ref } from './ref.js';
import { time } from './time.js';
import { upscale } from './upscale.js';

/** In the order of the top-level help. */
export const COMMANDS: readonly Command[] = [
  projects,
  importCommand,
  models,
  generate,
  queue,
  backends,
  prompt,
  exportCommand,
  rate,
  flag,
  upscale,
  palette,
  lut,
  ref,
  time,
];

/** The command named `name`; undefined for anything else (including Object's own member names). */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((command) => command.name === name);
}

const GLOBAL_OPTIONS = `Global options:
  --data-dir DIR      catalogue and caches (default: the platform's app-data folder; env ONBRAND_DATA_DIR)
  --projects-dir DIR  where new project folders go (default ~/Onbrand; env ONBRAND_PROJECTS_DIR)
  --models-dir DIR    Stable Diffusion models and loras/ (default native-models/; env ONBRAND_MODELS_DIR)
  --json              print machine-readable JSON
  -h, --help          help for the command`;

/** `onbrand --help`: every command's summary lines. */
export function mainHelp(): string {
  return `Usage: onbrand <command> [options]

Onbrand: from blank page to on-brand visuals, from the command line.

Commands:
${COMMANDS.flatMap((command) => command.summary.map((line) => `  ${line}`)).join('\n')}

PROJECT is a project's name or id. Run "onbrand <command> --help" for details.

${GLOBAL_OPTIONS}
  --version           print the version`;
}

/** `onbrand <command> --help`. */
export function commandHelp(command: Command): string {
  return `${command.help}\n\n${GLOBAL_OPTIONS}`;
}
