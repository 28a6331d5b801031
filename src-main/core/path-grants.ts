/**
 * Which files and folders a renderer may name. In the Electron app the page is the least trusted
 * part (it shows images and text from anywhere), so a path it passes to the API must lie in the
 * catalogue's folders or in a file or folder the user chose themselves: through a native dialog
 * or by dropping it onto the window. The browser host does not use this: its page is the user's
 * own browser, holding the per-run token.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApiError, isMethod, requests, type Method, type ParsedInput } from './api/index.js';
import { isInside } from './images/index.js';
import { resolveModelDir } from './jobs/index.js';
import type { Services } from './services.js';

/** The folders a renderer may always name: the catalogue's own. */
export interface CatalogueFolders {
  /** Folders (or files) that are allowed with everything below them. */
  roots: readonly string[];
  /** Where a model named without a path lives (`settings.model`). */
  modelsDir: string;
}

/** One path inside a request, with the dotted name of its field (for the error). */
interface PathRef {
  field: string;
  path: string;
  /** A model setting: a folder name in the models folder, or an absolute path. */
  model?: true;
}

const one = (field: string, value: string | undefined): PathRef[] => (value === undefined ? [] : [{ field, path: value }]);
const each = (field: string, values: readonly string[]): PathRef[] => values.map((p, i) => ({ field: `${field}.${i}`, path: p }));
const model = (value: string): PathRef[] => [{ field: 'settings.model', path: value, model: true }];

/**
 * Every method of the contract, and the paths its input carries. A method added to the contract
 * fails the type-check here until someone says whether it takes paths.
 */
const PATHS_IN_INPUT: { [M in Method]: ((input: ParsedInput<M>) => PathRef[]) | null } = {
  'app.info': null,
  'projects.list': null,
  'projects.get': null,
  'projects.create': (i) => one('folder', i.folder),
  'projects.rename': null,
  'projects.update': null,
  'images.list': null,
  'images.page': null,
  'images.info': null,
  'images.mark': null,
  'images.import': (i) => each('paths', i.paths),
  'models.list': null,
  'engine.status': null,
  // The engine reads the model folder these name.
  'queue.add': (i) => model(i.settings.model),
  'queue.list': null,
  'queue.cancel': null,
  'queue.retry': null,
  'queue.move': null,
  'queue.pause': null,
  'queue.resume': null,
  'presets.list': null,
  'presets.save': null,
  // Only lints the values; it opens no file.
  'settings.hints': null,
  'timelog.get': null,
  'timelog.activity': null,
  'timelog.correct': null,
  'timelog.export': null,
  'settings.setCost': null,
  'refs.list': null,
  // Items are URLs or absolute paths; only the paths are files.
  'refs.add': (i) => i.items.flatMap((item, n) => (/^https?:\/\//i.test(item) ? [] : [{ field: `items.${n}`, path: item }])),
  'refs.remove': null,
  'refs.move': null,
  'refs.palette': null,
  'unsplash.search': null,
  'unsplash.import': null,
  'settings.setUnsplashKey': null,
  'settings.get': null,
  'settings.testUnsplash': null,
  'sections.list': null,
  'sections.save': null,
  'sections.remove': null,
  'sections.move': null,
  'sections.pair': null,
  'sections.check': null,
  'export.run': (i) => one('dir', i.dir),
  'export.targets': null,
  'export.setTarget': (i) => one('dir', i.dir),
  'prompt.skeleton': null,
  'prompt.saveSkeleton': null,
  'prompt.expand': null,
  'prompt.draft': null,
  'prompt.drafts': null,
  'prompt.star': null,
  'prompt.llm': null,
  'prompt.setLlm': null,
  'prompt.testLlm': null,
  'prompt.queue': (i) => model(i.settings.model),
  'models.catalog': null,
  'models.tasks': null,
  // Hub references and URLs, never local files.
  'models.pull': null,
  'models.import': (i) => [...one('path', i.path), ...one('configDir', i.configDir)],
  'models.cancel': null,
  'models.resume': null,
  'models.clear': null,
  'models.hub': null,
  'models.remove': null,
  'models.setToken': null,
  'backends.list': null,
  'backends.save': null,
  'backends.remove': null,
  'backends.test': null,
  'backends.resume': null,
  'backends.local': null,
};

/** The methods whose input names files or folders (for tests and docs). */
export const METHODS_WITH_PATHS = (Object.keys(PATHS_IN_INPUT) as Method[]).filter((m) => PATHS_IN_INPUT[m] !== null);

/** The real path of `p`, or, for a path that does not exist yet, its nearest existing folder's real path plus the rest. */
async function realPathOf(p: string): Promise<string> {
  const tail: string[] = [];
  let current = p;
  for (;;) {
    try {
      return path.join(await fs.realpath(current), ...tail.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A link that points nowhere (or in a loop) would be followed once its target appears: refuse it.
      const isLink = await fs.lstat(current).then(
        (s) => s.isSymbolicLink(),
        () => false,
      );
      if (isLink || (code !== 'ENOENT' && code !== 'ENOTDIR')) throw new Error(`${p} cannot be resolved (${code ?? 'error'})`);
      const parent = path.dirname(current);
      if (parent === current) throw new Error(`${p} cannot be resolved`);
      tail.push(path.basename(current));
      current = parent;
    }
  }
}

/**
 * The files and folders the user chose in this session (a dialog, a drop). A granted folder
 * allows everything below it; a granted file allows that file only. Kept in memory: a choice
 * that must outlast the session is stored where the catalogue keeps it (a project's folder, an
 * export target), and those are catalogue folders.
 */
export class PathGrants {
  private readonly granted = new Set<string>();

  /** Synchronous, so a grant sent just before a request is in place when the request is checked. */
  grant(p: string): void {
    if (typeof p !== 'string' || !path.isAbsolute(p) || p.includes('\u0000')) return;
    // Roughly the largest drop anyone makes; past it, the oldest grants go first.
    if (this.granted.size >= 20_000) this.granted.delete(this.granted.values().next().value!);
    this.granted.add(path.resolve(p));
  }

  list(): string[] {
    return [...this.granted];
  }

  /**
   * Whether `p` lies inside one of `roots` or a granted path, both as written and with every
   * symbolic link resolved, so a link inside a granted folder cannot reach outside it. A path
   * with a `..` segment is refused outright: nothing a dialog or a drop gives has one.
   */
  async allows(p: string, roots: readonly string[] = []): Promise<boolean> {
    return (await this.checker(roots))(p);
  }

  /** `allows` for many paths: the roots' real paths are looked up once. */
  async checker(roots: readonly string[] = []): Promise<(p: string) => Promise<boolean>> {
    const written = [...roots, ...this.granted].map((r) => path.resolve(r));
    const real = (await Promise.all(written.map((r) => realPathOf(r).catch(() => null)))).filter((r): r is string => r !== null);
    return async (p) => {
      if (typeof p !== 'string' || !path.isAbsolute(p) || p.includes('\u0000') || p.split(/[\\/]/).includes('..')) return false;
      const asWritten = path.resolve(p);
      // Refuse by the path as written first, so the answer never depends on what exists outside.
      if (![...written, ...real].some((root) => isInside(root, asWritten))) return false;
      const resolved = await realPathOf(asWritten).catch(() => null);
      return resolved !== null && real.some((root) => isInside(root, resolved));
    };
  }
}

/**
 * Checks every path in a request against the catalogue's folders and the user's grants, and
 * returns the parsed input to pass on (the paths checked are the ones the handler will see, after
 * the contract's trimming). An unknown method or invalid input is returned as it came: the RPC
 * layer gives its usual error for it. A path outside is refused with `unauthorized`, naming it.
 */
export async function confinePaths(method: string, input: unknown, grants: PathGrants, folders: () => CatalogueFolders): Promise<unknown> {
  if (!isMethod(method)) return input;
  const parsed = requests[method].input.safeParse(input ?? {});
  if (!parsed.success) return input;
  const pathsOf = PATHS_IN_INPUT[method] as ((input: unknown) => PathRef[]) | null;
  if (!pathsOf) return parsed.data;
  const refs = pathsOf(parsed.data);
  if (refs.length === 0) return parsed.data;
  const { roots, modelsDir } = folders();
  const allows = await grants.checker(roots);
  for (const ref of refs) {
    // A model named by its folder's name is one the user placed in the models folder (perhaps as
    // a link to a big disk): the name alone cannot reach anywhere else.
    if (ref.model && /^[^\\/]+$/.test(ref.path) && ref.path !== '.' && ref.path !== '..') continue;
    const target = ref.model ? resolveModelDir(ref.path, modelsDir) : ref.path;
    if (!(await allows(target))) {
      throw new ApiError(
        'unauthorized',
        `${method}: ${ref.field}: ${ref.path} is outside Onbrand's folders and the files and folders you chose. Choose it with "Choose…" or drop it onto the window.`,
        ref.field,
      );
    }
  }
  return parsed.data;
}

/**
 * The catalogue's folders: the projects and models folders, every project's folder and every
 * export folder a project remembers (each one chosen by the user when it was set). Not the data
 * folder itself: it holds the catalogue and the secrets, which no request has reason to name
 * (its projects/ folder, where it is the projects folder, is allowed as that).
 */
export function catalogueFolders(services: Pick<Services, 'config' | 'projects' | 'exporter'>): CatalogueFolders {
  const { projectsDir, modelsDir } = services.config;
  const projects = services.projects.list();
  return {
    modelsDir,
    roots: [
      projectsDir,
      modelsDir,
      ...projects.map((p) => p.folder),
      ...projects.flatMap((p) => Object.values(services.exporter.targets(p.id))),
    ],
  };
}
