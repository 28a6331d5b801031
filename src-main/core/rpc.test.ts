import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ApiError,
  InvalidInputError,
  type AppEvent,
  type AppInfo,
  type ImageSummary,
  type ImportReport,
  type Project,
} from './api/index.js';
import { resolveConfig } from './config.js';
import { createRpc, type Rpc } from './rpc.js';
import { createServices, type Services } from './services.js';

let root: string;
let services: Services;
let rpc: Rpc;
let events: AppEvent[];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-rpc-'));
  services = createServices(resolveConfig({ dataDir: path.join(root, 'data'), projectsDir: path.join(root, 'projects') }));
  rpc = createRpc(services, 'cli');
  events = [];
  services.events.subscribe((event) => events.push(event));
});

afterEach(async () => {
  try {
    await services.close();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

/** Calls the method and returns the ApiError it must throw. */
async function failure(method: string, input: unknown): Promise<ApiError> {
  let caught: unknown;
  try {
    await rpc.invoke(method, input);
  } catch (error) {
    caught = error;
  }
  expect(caught, `${method} should have failed`).toBeInstanceOf(ApiError);
  return caught as ApiError;
}

async function create(name: string, extra: Record<string, unknown> = {}): Promise<Project> {
  return (await rpc.invoke('projects.create', { name, ...extra })) as Project;
}

describe('input validation', () => {
  it.each([
    ['projects.create', { name: '' }, 'name'],
    ['projects.create', { name: '   ' }, 'name'],
    ['projects.create', {}, 'name'],
    ['projects.create', { name: 42 }, 'name'],
    ['projects.create', { name: 'a/b' }, 'name'],
    ['projects.create', { name: 'x'.repeat(121) }, 'name'],
    ['projects.create', { name: 'ok', aspect: 'wide' }, 'aspect'],
    ['projects.create', { name: 'ok', palette: [] }, 'palette'],
    ['projects.create', { name: 'ok', palette: [{ name: 'red', hex: 'red' }] }, 'palette.0.hex'],
    ['projects.create', { name: 'ok', folder: '' }, 'folder'],
    ['projects.get', { projectId: 'one' }, 'projectId'],
    ['projects.get', { projectId: 0 }, 'projectId'],
    ['projects.get', { projectId: 1.5 }, 'projectId'],
    ['projects.rename', { projectId: 1, name: '' }, 'name'],
    ['images.list', {}, 'projectId'],
    ['images.import', { projectId: 1, paths: [] }, 'paths'],
    ['images.import', { projectId: 1, paths: 'not-a-list' }, 'paths'],
    ['images.import', { projectId: 1, paths: ['/ok.png', ''] }, 'paths.1'],
  ])('%s %j is invalid_input naming %s', async (method, input, field) => {
    const error = await failure(method, input);
    expect(error.code).toBe('invalid_input');
    expect(error.field).toBe(field);
    // The message is the app's words; the method and the field path are kept for the log.
    expect(error.message).not.toContain(method);
    expect(error.message).toMatch(/^[A-Z"]/);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).detail).toMatch(new RegExp(`^${method.replace('.', '\\.')}: ${field.replace(/\./g, '\\.')}: `));
    expect(error.toJSON()).toEqual({ code: 'invalid_input', message: error.message, field });
  });

  it('refuses keys a method does not know (the schemas are strict)', async () => {
    const error = await failure('projects.create', { name: 'Spring', colour: 'red' });
    expect(error.code).toBe('invalid_input');
    expect(error.message).toContain('colour');
    expect((await failure('projects.list', { verbose: true })).code).toBe('invalid_input');
    expect((await failure('images.import', { projectId: 1, paths: ['/x'], recursive: true })).message).toContain('recursive');
    expect(services.projects.list()).toEqual([]);
  });

  it('refuses input that is not an object', async () => {
    for (const input of ['Spring', 42, [], true]) {
      expect((await failure('projects.create', input)).code).toBe('invalid_input');
    }
  });

  it('treats missing input (undefined, null) as {} for methods without parameters', async () => {
    expect(await rpc.invoke('projects.list', undefined)).toEqual([]);
    expect(await rpc.invoke('projects.list', null)).toEqual([]);
  });

  it('creates nothing when the input is invalid', async () => {
    await failure('projects.create', { name: 'ok', palette: [{ name: 'red', hex: 'red' }] });
    expect(services.projects.list()).toEqual([]);
    expect(fs.existsSync(path.join(root, 'projects', 'ok'))).toBe(false);
    expect(events).toEqual([]);
  });
});

describe('methods', () => {
  it.each(['projects.delete', '', 'toString', '__proto__', 'constructor', 'hasOwnProperty'])('"%s" is unknown_method', async (method) => {
    const error = await failure(method, {});
    expect(error.code).toBe('unknown_method');
  });

  it('unknown_method names the method', async () => {
    expect((await failure('images.delete', {})).message).toContain('images.delete');
  });

  it('app.info tells the shell and the folders', async () => {
    const info = (await rpc.invoke('app.info', {})) as AppInfo;
    expect(info).toMatchObject({
      shell: 'cli',
      dataDir: path.join(root, 'data'),
      projectsDir: path.join(root, 'projects'),
      catalogPath: path.join(root, 'data', 'catalog.sqlite'),
    });
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('projects', () => {
  it('create makes the folder, stores the defaults, trims the name and emits projects.changed', async () => {
    const project = await create('  Spring drop  ', { mood: 'loud' });
    expect(project).toMatchObject({
      name: 'Spring drop',
      folder: path.join(root, 'projects', 'Spring drop'),
      mood: 'loud',
      aspect: '9:16',
      imageCount: 0,
    });
    expect(project.palette.length).toBeGreaterThan(0);
    expect(fs.statSync(project.folder).isDirectory()).toBe(true);
    expect(events).toEqual([{ type: 'projects.changed', payload: { projectId: project.id } }]);
    expect(await rpc.invoke('projects.get', { projectId: project.id })).toEqual(project);
    expect(await rpc.invoke('projects.list', {})).toEqual([project]);
  });

  it('create in a chosen folder', async () => {
    const folder = path.join(root, 'somewhere', 'Brand');
    const project = await create('Brand', { folder, aspect: '16:9', palette: [{ name: 'ink', hex: '#101010' }] });
    expect(project.folder).toBe(folder);
    expect(project.aspect).toBe('16:9');
    expect(project.palette).toEqual([{ name: 'ink', hex: '#101010' }]);
    expect(fs.existsSync(folder)).toBe(true);
  });

  it('a duplicate name is a conflict, whatever its case', async () => {
    await create('Spring');
    events = [];
    for (const name of ['Spring', 'SPRING', ' spring ']) {
      const error = await failure('projects.create', { name });
      expect(error.code).toBe('conflict');
      expect(error.field).toBe('name');
      expect(error.message.toLowerCase()).toContain('spring');
      expect(error.message).toMatch(/already exists/);
    }
    expect(services.projects.list()).toHaveLength(1);
    expect(events).toEqual([]);
  });

  it('a disk root, the home folder, the projects folder and folders above them cannot be project folders; nor names of dots', async () => {
    for (const folder of [path.parse(root).root, os.homedir(), path.dirname(os.homedir()), path.join(root, 'projects'), root]) {
      const error = await failure('projects.create', { name: 'Everything', folder });
      expect(error.code, folder).toBe('invalid_input');
      expect(error.field).toBe('folder');
      expect(error.message).toMatch(
        /cannot be a project folder: it is (the root of a disk|the home folder or a folder above it|the projects folder or a folder above it)/,
      );
    }
    for (const name of ['.', '..', '...']) {
      const error = await failure('projects.create', { name });
      expect(error).toMatchObject({ code: 'invalid_input', field: 'name' });
      expect(error.message).toMatch(/must not be only dots/);
    }
    expect(services.projects.list()).toEqual([]);
  });

  it('a folder that already belongs to a project is a conflict', async () => {
    const folder = path.join(root, 'shared');
    await create('One', { folder });
    const error = await failure('projects.create', { name: 'Two', folder: folder + path.sep });
    expect(error.code).toBe('conflict');
    expect(error.field).toBe('folder');
  });

  it('rename changes the name, keeps the folder, and emits projects.changed', async () => {
    const project = await create('Spring');
    events = [];
    const renamed = (await rpc.invoke('projects.rename', { projectId: project.id, name: 'Summer' })) as Project;
    expect(renamed).toMatchObject({ id: project.id, name: 'Summer', folder: project.folder });
    expect(events).toEqual([{ type: 'projects.changed', payload: { projectId: project.id } }]);
    expect((await rpc.invoke('projects.list', {})) as Project[]).toEqual([renamed]);
    // The old name is free again (the old folder still belongs to the renamed project).
    expect((await create('Spring', { folder: path.join(root, 'new-spring') })).name).toBe('Spring');
  });

  it("a new project under a renamed project's old name gets a folder of its own", async () => {
    const first = await create('Autumn');
    await rpc.invoke('projects.rename', { projectId: first.id, name: 'Winter' });
    const second = await create('Autumn');
    expect(second.folder).not.toBe(first.folder);
    expect(path.basename(second.folder)).toBe('Autumn (2)');
    expect(fs.existsSync(second.folder)).toBe(true);
  });

  it("rename to its own name in another case is allowed; to another project's name is a conflict", async () => {
    const a = await create('Alpha');
    await create('Beta');
    expect(((await rpc.invoke('projects.rename', { projectId: a.id, name: 'ALPHA' })) as Project).name).toBe('ALPHA');
    const error = await failure('projects.rename', { projectId: a.id, name: 'beta' });
    expect(error.code).toBe('conflict');
    expect(((await rpc.invoke('projects.get', { projectId: a.id })) as Project).name).toBe('ALPHA');
  });

  it('projects.get, projects.rename, images.list and images.import on a missing project are not_found', async () => {
    for (const [method, input] of [
      ['projects.get', { projectId: 404 }],
      ['projects.rename', { projectId: 404, name: 'X' }],
      ['images.list', { projectId: 404 }],
      ['images.import', { projectId: 404, paths: [root] }],
    ] as const) {
      const error = await failure(method, input);
      expect(error.code).toBe('not_found');
      expect(error.field).toBe('projectId');
      expect(error.message).toContain('404');
    }
    expect(events).toEqual([]);
  });
});

describe('images', () => {
  it('images.import then images.list return the same images', async () => {
    const project = await create('Spring');
    const file = path.join(root, 'in', 'a.png');
    fs.mkdirSync(path.dirname(file));
    await sharp({ create: { width: 64, height: 96, channels: 3, background: { r: 1, g: 2, b: 3 } } })
      .png()
      .toFile(file);
    const report = (await rpc.invoke('images.import', { projectId: project.id, paths: [file] })) as ImportReport;
    expect(report.imported.map((i) => i.fileName)).toEqual(['a.png']);
    const listed = (await rpc.invoke('images.list', { projectId: project.id })) as ImageSummary[];
    expect(listed.map((i) => i.id)).toEqual(report.imported.map((i) => i.id));
    expect(((await rpc.invoke('projects.get', { projectId: project.id })) as Project).imageCount).toBe(1);
  });
});

describe('paths in the contract', () => {
  // Known bug (reported, not fixed here): `absolutePath` in core/api/contract.ts never checks that
  // the path is absolute, so a relative folder (or import path) is resolved against whatever the
  // server process's working directory happens to be. The relative path below points into this
  // test's temp folder so that the bug, while present, writes nowhere else. Drop `.fails` once
  // the contract refuses relative paths.
  it('projects.create refuses a relative folder as invalid_input naming "folder"', async () => {
    const target = path.join(root, 'relative-target');
    const relative = path.relative(process.cwd(), target);
    expect(path.isAbsolute(relative)).toBe(false);
    const error = await failure('projects.create', { name: 'Relative', folder: relative });
    expect(error.code).toBe('invalid_input');
    expect(error.field).toBe('folder');
  });
});
