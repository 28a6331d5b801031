/** What a command gets from the dispatcher: its options, its output, and the services it opens. */
import { resolveConfig, type OnbrandConfig } from '../core/config.js';
import { createRpc, type Rpc } from '../core/rpc.js';
import { createServices, type Services } from '../core/services.js';
import type { CliValues } from './options.js';
import { provider } from './usage.js';

export interface CommandContext {
  /** Every option of the command line; a command reads its own. */
  values: CliValues;
  /** --json: print machine-readable JSON. */
  json: boolean;
  /** Writes one line (or lines) to stdout. */
  print(text: string): void;
  /** stderr: progress lines go there. */
  err: NodeJS.WritableStream;
  /** stderr is a terminal, so a progress line can be redrawn in place. */
  tty: boolean;
  /** The folders, from --data-dir, --projects-dir, --models-dir, the environment or the defaults. */
  config(): OnbrandConfig;
  /** Opens the catalogue and every service, with the API as the app sees it; closed after the command. */
  services(): { services: Services; rpc: Rpc };
  /** Runs `close` after the command, once its output and any error are written. */
  defer(close: () => Promise<void>): void;
}

/** One command of the table: `onbrand <name> …`. */
export interface Command {
  name: string;
  /** Its lines in the top-level help ("usage   what it does"), without the indent. */
  summary: string[];
  /** `onbrand <name> --help`, without the global options. */
  help: string;
  /** Runs the command; resolves to the exit code. A UsageError is exit code 2. */
  run(ctx: CommandContext, args: string[]): Promise<number>;
}

/** The context of one run, and `close` for what its command opened. */
export function createContext(
  values: CliValues,
  print: (text: string) => void,
  err: NodeJS.WritableStream,
): CommandContext & { close(): Promise<void> } {
  const closers: (() => Promise<void>)[] = [];
  const config = (): OnbrandConfig =>
    resolveConfig({
      ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
      ...(values['projects-dir'] ? { projectsDir: values['projects-dir'] } : {}),
      ...(values['models-dir'] ? { modelsDir: values['models-dir'] } : {}),
    });
  let opened: { services: Services; rpc: Rpc } | undefined;
  return {
    values,
    json: values.json === true,
    print,
    err,
    tty: 'isTTY' in err && err.isTTY === true,
    config,
    services() {
      if (opened) return opened;
      const resolved = config();
      const services = createServices(resolved, { provider: provider(values.provider) });
      closers.push(() => services.close());
      return (opened = { services, rpc: createRpc(services, 'cli') });
    },
    defer(close) {
      closers.push(close);
    },
    async close() {
      for (const close of closers.splice(0).reverse()) await close();
    },
  };
}
