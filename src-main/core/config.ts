import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appPackage } from './util/index.js';

export interface OnbrandConfig {
  /** Catalogue, thumbnail cache and settings. */
  dataDir: string;
  /** Where new projects' folders go unless the user picks one. */
  projectsDir: string;
  /** Stable Diffusion and upscaler models. */
  modelsDir: string;
}

/** The platform's folder for application data (what Electron's `app.getPath('userData')` gives). */
export function defaultDataDir(): string {
  const home = os.homedir();
  switch (process.platform) {
    case 'win32':
      return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Onbrand');
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', 'Onbrand');
    default:
      return path.join(process.env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'onbrand');
  }
}

/**
 * Resolves the folders from explicit options, then environment variables
 * (ONBRAND_DATA_DIR, ONBRAND_PROJECTS_DIR, ONBRAND_MODELS_DIR), then defaults. When a data folder
 * is given explicitly, new projects go inside it (a self-contained workspace, as tests want);
 * otherwise they go to ~/Onbrand where a designer sees them.
 */
export function resolveConfig(options: Partial<OnbrandConfig> = {}, appRoot = appPackage().root): OnbrandConfig {
  const explicitData = options.dataDir ?? process.env.ONBRAND_DATA_DIR;
  const dataDir = path.resolve(explicitData ?? defaultDataDir());
  const projectsDir = path.resolve(
    options.projectsDir ??
      process.env.ONBRAND_PROJECTS_DIR ??
      (explicitData ? path.join(dataDir, 'projects') : path.join(os.homedir(), 'Onbrand')),
  );
  const modelsDir = path.resolve(options.modelsDir ?? process.env.ONBRAND_MODELS_DIR ?? path.join(appRoot, 'native-models'));
  return { dataDir, projectsDir, modelsDir };
}

/**
 * Creates the data folder readable by the user alone (0700): it holds the catalogue, the keys and
 * the thumbnails of every project. A data folder an older Onbrand made (it holds a catalogue) is
 * tightened the same way; a folder Onbrand did not make and does not use is left as it is. The
 * folders above it are made with the system's usual mode.
 */
export function prepareDataDir(dataDir: string): void {
  let created = false;
  try {
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    fs.mkdirSync(dataDir, { mode: 0o700 });
    created = true;
  } catch (error) {
    // A folder that cannot be made (no space, no permission) is reported by the catalogue's opening, with advice.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return;
  }
  if (process.platform === 'win32') return; // folder modes do not apply; the profile folder is private already
  const mode = fs.statSync(dataDir).mode & 0o777;
  // A new folder gets exactly 0700 (whatever the umask); an older one loses only what others could do.
  const wanted = created ? 0o700 : fs.existsSync(path.join(dataDir, 'catalog.sqlite')) ? mode & 0o700 : mode;
  if (mode !== wanted) {
    try {
      fs.chmodSync(dataDir, wanted);
    } catch (error) {
      // Someone else's folder (shared, or made by another account): say so, and go on.
      console.warn(
        `onbrand: ${dataDir} is readable by others (mode ${mode.toString(8)}) and cannot be made private (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
      );
    }
  }
}
