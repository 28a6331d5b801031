import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, type Project } from './api/index.js';
import { resolveConfig } from './config.js';
import { catalogueFolders, confinePaths, METHODS_WITH_PATHS, PathGrants } from './path-grants.js';
import { createRpc, type Rpc } from './rpc.js';
import { createServices, type Services } from './services.js';

let root: string;
let outside: string;

beforeEach(() => {
  // realpath: on macOS the temp folder itself sits behind a link (/var → /private/var).
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-grants-')));
  outside = path.join(root, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.png'), 'x');
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('PathGrants', () => {
  it('allows what lies in a granted folder, even not yet created, and refuses its siblings', async () => {
    const chosen = path.join(root, 'chosen');
    fs.mkdirSync(path.join(chosen, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(chosen, 'sub', 'a.png'), 'x');
    const grants = new PathGrants();
    expect(await grants.allows(path.join(chosen, 'sub', 'a.png'))).toBe(false);
    grants.grant(chosen);
    expect(await grants.allows(chosen)).toBe(true);
    expect(await grants.allows(path.join(chosen, 'sub', 'a.png'))).toBe(true);
    expect(await grants.allows(path.join(chosen, 'new', 'exports'))).toBe(true);
    expect(await grants.allows(path.join(outside, 'secret.png'))).toBe(false);
    // A sibling whose name starts with the granted one's is another folder.
    expect(await grants.allows(`${chosen}-2`)).toBe(false);
    expect(await grants.allows(root)).toBe(false);
  });

  it('allows a granted file and nothing beside it', async () => {
    const file = path.join(root, 'dropped.png');
    fs.writeFileSync(file, 'x');
    fs.writeFileSync(path.join(root, 'beside.png'), 'x');
    const grants = new PathGrants();
    grants.grant(file);
    expect(await grants.allows(file)).toBe(true);
    expect(await grants.allows(path.join(root, 'beside.png'))).toBe(false);
    expect(await grants.allows(root)).toBe(false);
  });

  it('refuses any path with a .. segment, even one that ends inside', async () => {
    const chosen = path.join(root, 'chosen');
    fs.mkdirSync(path.join(chosen, 'sub'), { recursive: true });
    const grants = new PathGrants();
    grants.grant(chosen);
    expect(await grants.allows(`${chosen}/../outside/secret.png`)).toBe(false);
    expect(await grants.allows(`${chosen}/sub/../sub`)).toBe(false);
    expect(await grants.allows('relative/path')).toBe(false);
  });

  it('refuses a symbolic link that leads out of a granted folder, and a dangling one', async () => {
    const chosen = path.join(root, 'chosen');
    fs.mkdirSync(chosen);
    fs.symlinkSync(outside, path.join(chosen, 'door'));
    fs.symlinkSync(path.join(outside, 'secret.png'), path.join(chosen, 'file.png'));
    fs.symlinkSync(path.join(outside, 'not-yet'), path.join(chosen, 'dangling'));
    fs.mkdirSync(path.join(chosen, 'real'));
    fs.symlinkSync(path.join(chosen, 'real'), path.join(chosen, 'inner'));
    const grants = new PathGrants();
    grants.grant(chosen);
    expect(await grants.allows(path.join(chosen, 'door', 'secret.png'))).toBe(false);
    expect(await grants.allows(path.join(chosen, 'door', 'new-folder'))).toBe(false);
    expect(await grants.allows(path.join(chosen, 'file.png'))).toBe(false);
    expect(await grants.allows(path.join(chosen, 'dangling'))).toBe(false);
    expect(await grants.allows(path.join(chosen, 'dangling', 'x'))).toBe(false);
    // A link that stays inside is fine.
    expect(await grants.allows(path.join(chosen, 'inner'))).toBe(true);
  });

  it('allows through a granted link to the folder it names', async () => {
    fs.mkdirSync(path.join(root, 'target'));
    fs.symlinkSync(path.join(root, 'target'), path.join(root, 'alias'));
    const grants = new PathGrants();
    grants.grant(path.join(root, 'alias'));
    expect(await grants.allows(path.join(root, 'alias', 'a.png'))).toBe(true);
    expect(await grants.allows(path.join(root, 'target', 'a.png'))).toBe(true);
  });

  it('ignores grants that are not absolute paths', async () => {
    const grants = new PathGrants();
    grants.grant('relative');
    grants.grant('');
    grants.grant(42 as unknown as string);
    expect(grants.list()).toEqual([]);
  });
});

describe('confinePaths with real services', () => {
  let services: Services;
  let rpc: Rpc;
  let grants: PathGrants;
  let project: Project;
  const folders = () => catalogueFolders(services);

  beforeEach(async () => {
    services = createServices(
      resolveConfig({ dataDir: path.join(root, 'data'), projectsDir: path.join(root, 'projects'), modelsDir: path.join(root, 'models') }),
    );
    rpc = createRpc(services, 'electron');
    grants = new PathGrants();
    project = (await rpc.invoke('projects.create', { name: 'Spring' })) as Project;
  });

  afterEach(async () => {
    await services.close();
  });

  async function refusal(method: string, input: unknown): Promise<ApiError> {
    const error = await confinePaths(method, input, grants, folders).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error, `${method} should have been refused`).toBeInstanceOf(ApiError);
    return error as ApiError;
  }

  it('refuses an import from outside, naming the path and the field, until the user chooses it', async () => {
    const inside = path.join(project.folder, 'references');
    const input = { projectId: project.id, paths: [inside, outside] };
    const error = await refusal('images.import', input);
    expect(error.code).toBe('unauthorized');
    expect(error.field).toBe('paths.1');
    expect(error.message).toContain(outside);
    grants.grant(outside);
    expect(await confinePaths('images.import', input, grants, folders)).toEqual(input);
  });

  it('keeps the data folder (the catalogue, the secrets) out of reach', async () => {
    const error = await refusal('refs.add', { projectId: project.id, items: [services.catalogPath] });
    expect(error.message).toContain(services.catalogPath);
    await refusal('projects.create', { name: 'Data', folder: path.join(root, 'data', 'inside') });
  });

  it('checks the paths as the handler sees them (trimmed) and lets URLs through', async () => {
    const url = 'https://example.com/a.jpg';
    const error = await refusal('refs.add', { projectId: project.id, items: [url, `  ${path.join(outside, 'secret.png')}  `] });
    expect(error.field).toBe('items.1');
    const passed = await confinePaths('refs.add', { projectId: project.id, items: [` ${url} `] }, grants, folders);
    expect(passed).toEqual({ projectId: project.id, items: [url] });
  });

  it('confines project folders, export folders and model sources', async () => {
    expect((await refusal('projects.create', { name: 'Elsewhere', folder: path.join(outside, 'p') })).field).toBe('folder');
    await confinePaths('projects.create', { name: 'Inside', folder: path.join(root, 'projects', 'Inside') }, grants, folders);
    expect((await refusal('export.setTarget', { projectId: project.id, target: 'sora', dir: outside })).field).toBe('dir');
    expect(
      (await refusal('export.run', { projectId: project.id, target: 'folder', selection: { kind: 'picks' }, dir: outside })).field,
    ).toBe('dir');
    expect((await refusal('models.import', { path: path.join(outside, 'm.safetensors'), name: 'm' })).field).toBe('path');
    expect(
      (await refusal('models.import', { path: path.join(root, 'models', 'm.safetensors'), name: 'm', configDir: outside })).field,
    ).toBe('configDir');
  });

  it("treats an export folder the project remembers as the catalogue's", async () => {
    const sora = path.join(root, 'sora-drop');
    const input = { projectId: project.id, target: 'sora', selection: { kind: 'picks' }, dir: sora };
    await refusal('export.run', input);
    services.exporter.setTarget(project.id, 'sora', sora);
    await confinePaths('export.run', input, grants, folders);
  });

  it('resolves a model name in the models folder and refuses one that climbs out', async () => {
    const settings = {
      model: 'sd15',
      sampler: 'Euler',
      steps: 20,
      cfg: 7,
      width: 512,
      height: 512,
      batchSize: 1,
      loraWeight: 0.8,
      aspect: '1:1',
    };
    const input = { projectId: project.id, prompt: 'a cat', negativePrompt: '', settings, batches: 1 };
    await confinePaths('queue.add', input, grants, folders);
    // A model folder the user linked into the models folder from another disk is theirs.
    fs.mkdirSync(path.join(root, 'models'), { recursive: true });
    fs.symlinkSync(outside, path.join(root, 'models', 'linked'));
    await confinePaths('queue.add', { ...input, settings: { ...settings, model: 'linked' } }, grants, folders);
    expect((await refusal('queue.add', { ...input, settings: { ...settings, model: '../outside' } })).field).toBe('settings.model');
    expect((await refusal('queue.add', { ...input, settings: { ...settings, model: '..' } })).field).toBe('settings.model');
    expect((await refusal('queue.add', { ...input, settings: { ...settings, model: 'linked/../../outside' } })).field).toBe(
      'settings.model',
    );
    expect(
      (
        await refusal('prompt.queue', {
          projectId: project.id,
          prompts: ['a'],
          negativePrompt: '',
          settings: { ...settings, model: outside },
          batches: 1,
        })
      ).field,
    ).toBe('settings.model');
  });

  it('passes unknown methods and invalid input on untouched, for the RPC layer to report', async () => {
    const bad = { projectId: project.id, paths: ['relative'] };
    expect(await confinePaths('images.import', bad, grants, folders)).toBe(bad);
    expect(await confinePaths('nope', { a: 1 }, grants, folders)).toEqual({ a: 1 });
    expect(await confinePaths('projects.list', undefined, grants, folders)).toEqual({});
  });

  it('names every method that takes a path', () => {
    expect([...METHODS_WITH_PATHS].sort()).toEqual([
      'export.run',
      'export.setTarget',
      'images.import',
      'models.import',
      'projects.create',
      'prompt.queue',
      'queue.add',
      'refs.add',
    ]);
  });
});
