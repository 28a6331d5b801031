import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const renderer = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src-renderer');

// Lives in scripts/ so that src-renderer holds only browser code (no Node imports, even in config).
// The renderer is built into dist/renderer and served by the Electron `onbrand://` scheme or
// the browser host; relative asset paths work for both.
export default defineConfig({
  root: renderer,
  base: './',
  plugins: [react()],
  build: {
    outDir: path.join(renderer, '..', 'dist', 'renderer'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
});
