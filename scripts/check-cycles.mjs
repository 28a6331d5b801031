// Fails when the source imports itself in a circle. A cycle makes load order decide which
// module sees the other half-initialised (an `undefined` class at start-up, a store read
// before it exists), and it is the first sign that two files should be one or that a third
// should hold what both need.
//
//   node scripts/check-cycles.mjs [folder …]   (default: src-main src-renderer/src)
//
// Only imports that run count: `import type`, imports whose every name is `type`, and
// `export type … from` are erased by the compiler, and a dynamic `import()` loads later, so
// none of them can close a cycle at load time. Relative specifiers are resolved the way
// NodeNext and Vite do here: `./x.js` is `./x.ts` or `./x.tsx`, a folder is its `index`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SOURCE = /\.(?:ts|tsx|mts|cts)$/;
const SKIP_FOLDERS = new Set(['node_modules', 'dist']);

/** Every source file under the folders (declaration files have no runtime imports). */
function sourceFiles(folders) {
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_FOLDERS.has(entry.name)) walk(full);
      } else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        files.push(full);
      }
    }
  };
  for (const folder of folders) walk(folder);
  return files.sort();
}

/** The relative specifiers a file imports or re-exports at run time. */
function runtimeSpecifiers(file) {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const specifiers = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (clause && typeOnlyImport(clause)) continue;
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier) {
      if (statement.isTypeOnly) continue;
      const named = statement.exportClause;
      if (named && ts.isNamedExports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)) continue;
    } else {
      continue;
    }
    const text = ts.isStringLiteral(statement.moduleSpecifier) ? statement.moduleSpecifier.text : '';
    if (text.startsWith('.')) specifiers.push(text);
  }
  return specifiers;
}

function typeOnlyImport(clause) {
  if (clause.isTypeOnly) return true;
  if (clause.name) return false;
  const bindings = clause.namedBindings;
  // `import { type A, type B }` is elided like `import type` (no verbatimModuleSyntax here).
  return !!bindings && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

const SWAPS = [
  ['.js', ['.ts', '.tsx']],
  ['.jsx', ['.tsx']],
  ['.mjs', ['.mts']],
  ['.cjs', ['.cts']],
];

/** The source file a relative specifier names, or null when it is not one of ours. */
function resolve(from, specifier, known) {
  const target = path.resolve(path.dirname(from), specifier);
  const candidates = [target];
  for (const [js, tsExtensions] of SWAPS) {
    if (target.endsWith(js)) candidates.push(...tsExtensions.map((ext) => target.slice(0, -js.length) + ext));
  }
  candidates.push(`${target}.ts`, `${target}.tsx`, path.join(target, 'index.ts'), path.join(target, 'index.tsx'));
  return candidates.find((candidate) => known.has(candidate)) ?? null;
}

/** Strongly connected components (Tarjan, iterative so deep chains cannot overflow the stack). */
function components(graph) {
  let next = 0;
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const found = [];
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work = [[start, 0]];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [node, i] = frame;
      const edges = graph.get(node);
      if (i < edges.length) {
        frame[1]++;
        const to = edges[i];
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push([to, 0]);
        } else if (onStack.has(to)) {
          low.set(node, Math.min(low.get(node), index.get(to)));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(node)));
      }
      if (low.get(node) === index.get(node)) {
        const component = [];
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          component.push(member);
        } while (member !== node);
        found.push(component);
      }
    }
  }
  return found;
}

/** The shortest chain from `start` back to itself that stays inside `members`. */
function shortestCycle(graph, start, members) {
  const previous = new Map();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head];
    for (const to of graph.get(node)) {
      if (!members.has(to)) continue;
      if (to === start) {
        const chain = [start];
        for (let at = node; at !== start; at = previous.get(at)) chain.unshift(at);
        chain.unshift(start);
        return chain;
      }
      if (!previous.has(to)) {
        previous.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

/**
 * The import cycles among the source files under `folders`, each as a chain of files that
 * starts and ends with the same file. Every file caught in a cycle appears in at least one
 * chain; a tangle of many files is shown as the few short chains that cover it.
 */
function findCycles(folders) {
  const files = sourceFiles(folders);
  const known = new Set(files);
  const graph = new Map();
  for (const file of files) {
    const targets = runtimeSpecifiers(file)
      .map((specifier) => resolve(file, specifier, known))
      .filter((target) => target !== null);
    graph.set(file, [...new Set(targets)]);
  }
  const cycles = [];
  for (const component of components(graph)) {
    const members = new Set(component);
    if (component.length === 1 && !graph.get(component[0]).includes(component[0])) continue;
    const covered = new Set();
    for (const file of [...component].sort()) {
      if (covered.has(file)) continue;
      const chain = shortestCycle(graph, file, members);
      for (const link of chain) covered.add(link);
      cycles.push(chain);
    }
  }
  return cycles;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const args = process.argv.slice(2);
const folders = (args.length > 0 ? args : ['src-main', 'src-renderer/src']).map((folder) => path.resolve(root, folder));
const cycles = findCycles(folders);
for (const chain of cycles) {
  const shown = chain.map((file) => {
    const inside = path.relative(root, file);
    return inside.startsWith('..') ? file : inside.split(path.sep).join('/');
  });
  console.error(`Import cycle: ${shown.join('\n  → ')}\n`);
}
if (cycles.length > 0) {
  console.error(
    `${cycles.length} import cycle${cycles.length === 1 ? '' : 's'}: move what both sides need into a file that neither imports.`,
  );
  process.exit(1);
}
