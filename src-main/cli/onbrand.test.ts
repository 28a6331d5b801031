import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliTestFolder } from './capture.js';
import { COMMANDS } from './commands/index.js';

const cli = cliTestFolder();
beforeEach(cli.setUp);
afterEach(cli.tearDown);
const onbrand = cli.onbrand;

describe('help and usage', () => {
  it('--help lists the commands and global options, and touches nothing', async () => {
    for (const args of [['--help'], ['-h'], [], ['help']]) {
      const { code, out, err } = await onbrand(...args);
      expect(code, args.join(' ')).toBe(0);
      expect(err).toBe('');
      expect(out).toMatch(/^Usage: onbrand <command>/);
      for (const command of ['projects', 'projects create NAME', 'projects rename', 'import PROJECT PATH...'])
        expect(out).toContain(command);
      expect(out).toContain('--data-dir');
    }
    expect(fs.existsSync(cli.dataDir)).toBe(false);
  });

  it('each command has its own help', async () => {
    const projects = await onbrand('projects', '--help');
    expect(projects.code).toBe(0);
    expect(projects.out).toMatch(/^Usage: onbrand projects/);
    const imp = await onbrand('help', 'import');
    expect(imp.code).toBe(0);
    expect(imp.out).toMatch(/^Usage: onbrand import PROJECT PATH/);
    expect(imp.out).toContain('3 finished but some files were skipped');
    expect(fs.existsSync(cli.dataDir)).toBe(false);
  });

  it('--version prints the version', async () => {
    const { code, out } = await onbrand('--version');
    expect(code).toBe(0);
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('an unknown command is exit code 2 with a clear message on stderr', async () => {
    const { code, out, err } = await onbrand('frobnicate');
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain('unknown command "frobnicate"');
    expect(err).toContain('onbrand --help');
    expect(fs.existsSync(cli.dataDir)).toBe(false);
  });

  it('an unknown option or a wrong argument count is exit code 2', async () => {
    const option = await onbrand('projects', '--colour', 'red');
    expect(option.code).toBe(2);
    expect(option.err).toContain('--colour');

    const noName = await onbrand('projects', 'create');
    expect(noName.code).toBe(2);
    expect(noName.err).toContain('NAME');

    const noPath = await onbrand('import', 'Spring');
    expect(noPath.code).toBe(2);
    expect(noPath.err).toContain('PATH');

    const sub = await onbrand('projects', 'delete', 'X');
    expect(sub.code).toBe(2);
    expect(sub.err).toContain('unknown subcommand "delete"');
  });

  // Commands were once looked up with `command in HELP`, which also found Object.prototype's
  // members: `onbrand toString --help` threw a TypeError out of run().
  it('"toString" is an unknown command like any other (exit code 2)', async () => {
    expect((await onbrand('toString', '--help')).code).toBe(2);
  });
});

describe('the command table', () => {
  it('the top-level help shows every summary line of the table, in its order', async () => {
    const { out } = await onbrand('--help');
    const lines = out.split('\n');
    const summaries = COMMANDS.flatMap((command) => command.summary.map((line) => `  ${line}`));
    const first = lines.indexOf(summaries[0]!);
    expect(first).toBeGreaterThan(0);
    expect(lines.slice(first, first + summaries.length)).toEqual(summaries);
    expect(lines[first + summaries.length]).toBe('');
    // Every command is on some line (flag shares rate's).
    for (const command of COMMANDS) expect(out).toContain(`${command.name} `);
  });

  it('each command answers --help and `help NAME` alike: its usage, then the global options', async () => {
    for (const command of COMMANDS) {
      const own = await onbrand(command.name, '--help');
      expect(own.code, command.name).toBe(0);
      expect(own.out).toMatch(new RegExp(`^Usage: onbrand ${command.name}\\b`));
      expect(own.out.startsWith(command.help)).toBe(true);
      expect(own.out).toMatch(/\n\nGlobal options:\n {2}--data-dir DIR[^]*-h, --help {10}help for the command\n$/);
      expect((await onbrand('help', command.name)).out).toBe(own.out);
    }
    expect(fs.existsSync(cli.dataDir)).toBe(false);
  });

  it('an unknown command lists the commands of the table', async () => {
    const { code, err } = await onbrand('frobnicate');
    expect(code).toBe(2);
    const names = COMMANDS.map((c) => c.name).join(', ');
    expect(err).toBe(`onbrand: unknown command "frobnicate". Commands: ${names}. Run "onbrand --help".\n`);
    expect(names).toBe('projects, import, models, generate, queue, backends, prompt, export, rate, flag, upscale, palette, lut, ref, time');
  });

  it('a usage error of any command is exit code 2 and points to its help; other failures are exit code 1', async () => {
    const usage = await onbrand('lut', 'frobnicate');
    expect(usage).toEqual({
      code: 2,
      out: '',
      err: 'onbrand lut: unknown subcommand "frobnicate" (apply, snap)\nRun "onbrand lut --help" for usage.\n',
    });
    const failure = await onbrand('projects', 'rename', 'Nope', 'X');
    expect(failure).toEqual({ code: 1, out: '', err: 'onbrand projects: No project named "Nope". There are no projects yet.\n' });
  });
});
