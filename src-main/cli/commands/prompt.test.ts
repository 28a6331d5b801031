import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCaptured as cli } from '../capture.js';

describe('onbrand prompt', () => {
  it('expands templates and drafts from the skeleton', async () => {
    const data = ['--data-dir', fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-cli-prompt-'))];
    const expanded = await cli(['prompt', 'expand', '{portrait|device close-up}, {teal|magenta} light --ar 9:16', ...data]);
    expect(expanded.out.trim().split('\n')).toEqual([
      'portrait, teal light',
      'portrait, magenta light',
      'device close-up, teal light',
      'device close-up, magenta light',
      '4 prompts in all, --ar 9:16',
    ]);
    expect((await cli(['prompt', 'expand', '{portrait', ...data])).err).toMatch(/Template, character 1: "\{" is never closed/);
    expect((await cli(['projects', 'create', 'Fin', '--mood', 'hopeful / rebellious finance', ...data])).code).toBe(0);
    const drafted = await cli(['prompt', 'draft', 'Fin', '--n', '2', '--seed', '4', ...data]);
    expect(drafted.code).toBe(0);
    expect(drafted.out.match(/words · camera: /g)).toHaveLength(2);
    expect((await cli(['prompt', 'draft', 'Fin', '--n', '99', ...data])).err).toMatch(/--n must be a whole number from 1 to 10/);
  });
});
