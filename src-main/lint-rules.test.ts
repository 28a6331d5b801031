// The lint rules that keep the map of ../shared/ARCHITECTURE.md: a core module is entered
// through its index.ts (scripts/eslint-rules/core-faces.js), and no import cycle
// (scripts/check-cycles.mjs). Each must fail on the mistake and pass on clean code.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('core faces (lint)', () => {
  const eslint = new ESLint({ cwd: root, overrideConfigFile: path.join(root, 'scripts/eslint.config.js') });

  /** The core-faces messages for `code` linted as if it were the file at `file` (from the repo root). */
  async function faceErrors(file: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
    return (result?.messages ?? []).filter((m) => m.ruleId === 'onbrand/core-faces').map((m) => m.message);
  }

  it('fails an import past a module face from outside the module', async () => {
    const errors = await faceErrors(
      'src-main/host/example.ts',
      "import { DiffusionEngine } from '../core/diffusion/engine.js';\nexport const e = DiffusionEngine;\n",
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("'../core/diffusion/index.js'");
  });

  it('fails type imports, re-exports, dynamic imports and nested faces too', async () => {
    const code = [
      "import type { ModelStore } from '../models/store.js';",
      "export { writeAtomically } from '../util/fs-atomic.js';",
      "export * from '../diffusion/graph/index.js';",
      "export const later = (): Promise<unknown> => import('../diffusion/engine.js');",
      'export type Store = ModelStore;',
      '',
    ].join('\n');
    expect(await faceErrors('src-main/core/jobs/example.ts', code)).toHaveLength(4);
    expect(await faceErrors('bench/example.bench.ts', "export { appPackage } from '../src-main/core/util/app-root.js';\n")).toHaveLength(1);
  });

  it('passes faces, files of the same module, core root files and the exempt modules', async () => {
    const code = [
      "export { DiffusionEngine } from '../core/diffusion/index.js';",
      "export { createServices } from '../core/services.js';",
      "export type { OnbrandBridge } from '../core/api/bridge.js';",
      '',
    ].join('\n');
    expect(await faceErrors('src-main/host/example.ts', code)).toEqual([]);
    expect(
      await faceErrors(
        'src-main/core/diffusion/graph/example.ts',
        "export { DiffusionEngine } from '../engine.js';\nexport { mulberry32 } from '../../util/index.js';\n",
      ),
    ).toEqual([]);
  });

  it('lets only test code import a module’s testing folder', async () => {
    const testing = "export { writeTinySd } from '../diffusion/testing/tiny-sd.js';\n";
    expect(await faceErrors('src-main/core/jobs/example.test.ts', testing)).toEqual([]);
    expect(await faceErrors('src-main/core/jobs/testing/example.ts', testing)).toEqual([]);
    expect(
      await faceErrors('e2e/example.test.ts', "export { writeTinySd } from '../src-main/core/diffusion/testing/tiny-sd.js';\n"),
    ).toEqual([]);
    const fromProduct = await faceErrors('src-main/core/jobs/example.ts', testing);
    expect(fromProduct).toHaveLength(1);
    expect(fromProduct[0]).toContain('test support');
  });
});

describe('import cycles (lint)', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Writes the files into a fresh folder and runs the cycle check over it. */
  function check(files: Record<string, string>): { status: number | null; output: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-cycles-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text);
    }
    const run = spawnSync(process.execPath, [path.join(root, 'scripts/check-cycles.mjs'), dir], { encoding: 'utf8' });
    return { status: run.status, output: run.stderr + run.stdout };
  }

  it('fails a cycle and shows it as a chain of files', () => {
    const { status, output } = check({
      'actions.ts': "import { board } from './board/index.js';\nexport const act = () => board;\n",
      'board/index.ts': "export { board } from './board-actions.js';\n",
      'board/board-actions.tsx': "import { act } from '../actions.js';\nexport const board = () => act;\n",
      'clean.ts': "import { act } from './actions.js';\nexport const clean = act;\n",
    });
    expect(status).toBe(1);
    expect(output).toMatch(/actions\.ts\n\s+→ .*board[/\\]index\.ts\n\s+→ .*board[/\\]board-actions\.tsx\n\s+→ .*actions\.ts/);
    expect(output).not.toContain('clean.ts');
  });

  it('passes when the only way back is a type import or a dynamic import', () => {
    const { status, output } = check({
      'a.ts': "import { b } from './b.js';\nexport interface A { n: number }\nexport const a = () => b;\n",
      'b.ts': "import type { A } from './a.js';\nexport const b = (x: A) => x.n;\n",
      'c.ts': "import { type A } from './a.js';\nimport { d } from './d.js';\nexport type C = A;\nexport const c = d;\n",
      'd.ts': "export const d = () => import('./c.js');\n",
    });
    expect(output).toBe('');
    expect(status).toBe(0);
  });
});
