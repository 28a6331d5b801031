import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Two projects: unit/integration tests beside the code (plain Node, real SQLite, real sharp),
// and end-to-end tests in e2e/ (the built app in Debian's Chromium through the browser host).
export default defineConfig({
  root,
  test: {
    root,
    projects: [
      {
        test: {
          name: 'unit',
          root,
          include: ['src-main/**/*.test.ts', 'src-renderer/**/*.test.ts', 'bench/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          root,
          include: ['e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 90_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        // `npm run bench`: figures only, never part of `npm test`, never failing.
        test: {
          name: 'bench',
          root,
          include: ['bench/**/*.bench.ts'],
          environment: 'node',
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
