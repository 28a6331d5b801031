// `npm run models`: converts the trained ESRGAN models of the @upscalerjs packages to ONNX in
// native-models/upscalers/ (each checked against TensorFlow.js's output on a fixed probe).
// Onbrand also converts a model on first use; this does them all ahead of time.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { BUILT_IN, SCALES, ensureBuiltIn } = await import(path.join(root, 'dist', 'main', 'core', 'upscale', 'index.js'));
const dir = process.env.ONBRAND_MODELS_DIR
  ? path.join(process.env.ONBRAND_MODELS_DIR, 'upscalers')
  : path.join(root, 'native-models', 'upscalers');
for (const name of BUILT_IN) {
  for (const scale of SCALES) {
    const started = performance.now();
    const file = await ensureBuiltIn(name, scale, dir);
    console.log(`${name} ×${scale}: ${path.relative(root, file)} (${Math.round(performance.now() - started)} ms)`);
  }
}
