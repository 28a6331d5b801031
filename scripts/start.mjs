// `npm start`: opens the Electron app; where no Electron runtime can start, says why in one line
// and starts the browser host instead (printing its URL with the token).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

/** The Electron binary, downloading it once (the `electron` package fetches it lazily). */
function electronBinary() {
  const pkg = path.join(root, 'node_modules', 'electron');
  if (!fs.existsSync(pkg)) return { reason: 'the electron package is not installed' };
  const binary = () => {
    const pathFile = path.join(pkg, 'path.txt');
    if (!fs.existsSync(pathFile)) return undefined;
    const file = path.join(pkg, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
    return fs.existsSync(file) ? file : undefined;
  };
  if (binary()) return { file: binary() };
  if (process.env.ONBRAND_ELECTRON_DOWNLOAD === '0')
    return { reason: 'the Electron runtime is not downloaded (ONBRAND_ELECTRON_DOWNLOAD=0)' };
  console.log('Onbrand: fetching the Electron runtime (once)…');
  const result = spawnSync(process.execPath, [path.join(pkg, 'install.js')], { stdio: 'ignore', timeout: 120_000 });
  if (result.status === 0 && binary()) return { file: binary() };
  return { reason: 'the Electron runtime is not installed and could not be downloaded (no internet?)' };
}

function whyNoWindow() {
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)
    return 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)';
  return undefined;
}

function startBrowserHost(reason) {
  console.log(`Onbrand: cannot open the desktop app because ${reason}; starting the browser host instead.`);
  const child = spawn(process.execPath, [path.join(root, 'dist', 'main', 'host', 'main.js'), ...args], { stdio: 'inherit' });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code) => process.exit(code ?? 0));
}

const electron = electronBinary();
const noWindow = electron.file ? whyNoWindow() : undefined;
if (!electron.file) startBrowserHost(electron.reason);
else if (noWindow) startBrowserHost(noWindow);
else {
  const started = Date.now();
  const child = spawn(electron.file, [root, ...args], { stdio: 'inherit' });
  child.on('error', (error) => startBrowserHost(`Electron failed to start (${error.message})`));
  child.on('exit', (code) => {
    // A crash in the first seconds means this machine cannot run Electron (missing libraries, GPU, sandbox).
    if (code !== 0 && Date.now() - started < 5000) startBrowserHost(`Electron exited with code ${code} at start-up`);
    else process.exit(code ?? 0);
  });
}
