// Lint rules that keep the layers of ../shared/ARCHITECTURE.md: core never imports Electron,
// the renderer imports no Node modules and only the API contract's types.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const nodeOnlyPackages = ['electron', 'better-sqlite3', 'sharp', 'onnxruntime-node', 'fastify', 'ws', '@fastify/static'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'e2e/artifacts/**', 'bench/out/**', 'native-models/**'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { tsconfigRootDir: root } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.mjs', 'scripts/**/*.js', 'bench/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', performance: 'readonly', Buffer: 'readonly' } },
  },
  {
    // The product's core runs under plain Node: no Electron, no UI.
    files: ['src-main/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'src-main/core runs under plain Node: Electron belongs in src-main/app.' }],
          patterns: [
            { group: ['**/app/*', '**/host/*', '**/cli/*', '**/src-renderer/**'], message: 'core never imports the shells or the UI.' },
          ],
        },
      ],
    },
  },
  {
    // The renderer speaks only through the API contract, and only with types.
    files: ['src-renderer/src/**/*.ts', 'src-renderer/src/**/*.tsx'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, ...nodeOnlyPackages].map((name) => ({
            name,
            message: 'The renderer runs in a browser sandbox: no Node or main-process modules. Use the API client.',
          })),
          patterns: [
            {
              group: ['**/src-main/core/api', '**/src-main/core/api/*'],
              allowTypeImports: true,
              message: 'Import only types from the API contract (import type …).',
            },
            {
              group: ['**/src-main/**', '!**/src-main/core/api', '!**/src-main/core/api/*'],
              message: 'The renderer may import only the API contract (types), nothing else from src-main.',
            },
          ],
        },
      ],
    },
  },
);
