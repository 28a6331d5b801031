/** `onbrand`: the command line. The same services and API contract as the app, no UI; one file per command in commands/. */
import { appPackage } from '../core/util/index.js';
import { COMMANDS, commandHelp, findCommand, mainHelp } from './commands/index.js';
import { createContext } from './context.js';
import { parseCommandLine } from './options.js';
import { UsageError } from './usage.js';

/**
 * Runs one command line; resolves to the exit code: 0 done, 1 failed, 2 a usage error (the
 * message names the argument), 3 done with some items skipped (import, export, ref add).
 */
export async function run(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    err.write(`onbrand: ${(error as Error).message}\nRun "onbrand --help" for usage.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [name, ...args] = positionals;
  const print = (text: string): void => void out.write(text.endsWith('\n') ? text : `${text}\n`);

  if (values.version) {
    print(appPackage().version);
    return 0;
  }
  if (!name || name === 'help') {
    const topic = args[0] ? findCommand(args[0]) : undefined;
    print(topic ? commandHelp(topic) : mainHelp());
    return 0;
  }
  const command = findCommand(name);
  if (!command) {
    const names = COMMANDS.map((c) => c.name).join(', ');
    err.write(`onbrand: unknown command "${name}". Commands: ${names}. Run "onbrand --help".\n`);
    return 2;
  }
  if (values.help) {
    print(commandHelp(command));
    return 0;
  }

  const ctx = createContext(values, print, err);
  try {
    return await command.run(ctx, args);
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`onbrand ${name}: ${error.message}\nRun "onbrand ${name} --help" for usage.\n`);
      return 2;
    }
    err.write(`onbrand ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    // What the command opened (the catalogue, the model store) closes after its last word.
    await ctx.close();
  }
}
