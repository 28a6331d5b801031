import os from 'node:os';
import path from 'node:path';
import { appPackage } from './util/app-root.js';

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
