// Lint rules that keep the layers of ../shared/ARCHITECTURE.md: core never imports Electron,
// the renderer imports no Node modules, only the API contract's types and core/common's values.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import coreFaces from './eslint-rules/core-faces.js';

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
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        performance: 'readonly',
        Buffer: 'readonly',
      },
    },
  },
  {
    // Everywhere: a core module is entered through its index.ts, never past it (the API contract
    // and core/common keep their own rules). See eslint-rules/core-faces.js.
    plugins: { onbrand: { rules: { 'core-faces': coreFaces } } },
    rules: { 'onbrand/core-faces': ['error', { root, exempt: ['api', 'common'] }] },
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
    // core/common is isomorphic (the renderer bundles it): zod and its own files, nothing else.
    // The base rule, so that blocks setting the TypeScript one for all of core leave this one be.
    files: ['src-main/core/common/**/*.ts'],
    ignores: ['src-main/core/common/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!zod$|\\./)',
              message:
                'core/common runs in Node and in the browser: it imports only zod and its own files (no Node, no Electron, no other core module).',
            },
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
              // core/common holds the values both sides need: the renderer imports them through its face.
              // A regex: a group's `!` cannot re-include a file below an excluded folder.
              regex: '(^|/)src-main/(?!core/common(/index)?$|core/api(/[^/]+)?$)',
              message:
                'The renderer may import only the API contract (types) and core/common (through its index), nothing else from src-main.',
            },
          ],
        },
      ],
    },
  },
);
