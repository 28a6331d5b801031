// A core module is entered through its face, `src-main/core/<module>/index.ts`
// (../shared/ARCHITECTURE.md): what the face does not export is the module's own business,
// free to change without touching the rest of the app. This rule fails an import that
// reaches past the face from outside the module.
//
// - Files inside `src-main/core/<module>/` import each other freely, sub-folders included.
// - `<module>/testing/…` holds test support (tiny models, imitation servers) that production
//   code must never load; tests, benchmarks, e2e and other test support may import it directly,
//   so no face has to carry test code into the app.
// - Modules named in `exempt` keep their own rules (the API contract and core/common, which the
//   renderer reaches under the renderer's rules).
// Relative specifiers only: nothing here imports core by a bare or absolute name.
import path from 'node:path';

const FACE = /^index(?:\.[cm]?[jt]sx?)?$/;
const TEST_FILE = /\.(?:test|bench)\.[cm]?[jt]sx?$/;

/** Test code: test and bench files, `testing/` folders, and the e2e and bench trees. */
function isTestSupport(file, root) {
  const parts = path.relative(root, file).split(path.sep);
  return TEST_FILE.test(file) || parts.includes('testing') || parts[0] === 'e2e' || parts[0] === 'bench';
}

/** @type {import('eslint').Rule.RuleModule} */
export default {
  meta: {
    type: 'problem',
    docs: { description: 'Enter a core module only through its index.ts' },
    schema: [
      {
        type: 'object',
        properties: {
          root: { type: 'string' },
          exempt: { type: 'array', items: { type: 'string' } },
        },
        required: ['root'],
        additionalProperties: false,
      },
    ],
    messages: {
      deep: "Import src-main/core/{{module}} through its face '{{face}}', not '{{specifier}}' (export what you need from {{module}}/index.ts).",
      testing: "'{{specifier}}' is test support: only tests, benchmarks and e2e may import src-main/core/{{module}}/testing.",
    },
  },
  create(context) {
    const { root, exempt = [] } = context.options[0];
    const core = path.join(root, 'src-main', 'core');
    const file = context.filename;

    function check(source) {
      if (!source || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), source.value);
      const inside = path.relative(core, target).split(path.sep);
      if (inside[0] === '..' || path.isAbsolute(inside[0]) || inside.length < 2) return;
      const module = inside[0];
      if (exempt.includes(module)) return;
      if (!path.relative(path.join(core, module), file).startsWith('..')) return;
      if (inside.length === 2 && FACE.test(inside[1])) return;
      if (inside[1] === 'testing') {
        if (!isTestSupport(file, root)) context.report({ node: source, messageId: 'testing', data: { module, specifier: source.value } });
        return;
      }
      let face = path
        .relative(path.dirname(file), path.join(core, module, 'index.js'))
        .split(path.sep)
        .join('/');
      if (!face.startsWith('.')) face = `./${face}`;
      context.report({ node: source, messageId: 'deep', data: { module, face, specifier: source.value } });
    }

    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    };
  },
};
