import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Project } from '../../core/api/index.js';
import { cliTestFolder } from '../capture.js';

const cli = cliTestFolder();
beforeEach(cli.setUp);
afterEach(cli.tearDown);
const onbrand = cli.onbrand;

describe('projects', () => {
  it('with none, says so', async () => {
    const { code, out } = await onbrand('projects');
    expect(code).toBe(0);
    expect(out).toContain('No projects yet');
    expect(out).toContain('onbrand projects create NAME');
  });

  it('create, then list shows it in a table', async () => {
    const created = await onbrand('projects', 'create', 'Spring drop', '--mood', 'loud');
    expect(created.code).toBe(0);
    const folder = path.join(cli.dataDir, 'projects', 'Spring drop');
    expect(created.out).toContain('Created project "Spring drop" (id 1)');
    expect(created.out).toContain(folder);
    expect(fs.statSync(folder).isDirectory()).toBe(true);

    const listed = await onbrand('projects');
    expect(listed.code).toBe(0);
    const lines = listed.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+IMAGES\s+FOLDER$/);
    expect(lines[1]).toMatch(new RegExp(`^1\\s+Spring drop\\s+0\\s+${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(lines).toHaveLength(2);
    expect((await onbrand('projects', 'list')).out).toBe(listed.out);
  });

  it('--json prints what the API returns', async () => {
    await onbrand('projects', 'create', 'A');
    await onbrand('projects', 'create', 'B', '--aspect', '16:9', '--folder', path.join(cli.root, 'elsewhere', 'B'));
    const { code, out } = await onbrand('--json', 'projects');
    expect(code).toBe(0);
    const projects = JSON.parse(out) as Project[];
    expect(projects.map((p) => p.name).sort()).toEqual(['A', 'B']);
    const b = projects.find((p) => p.name === 'B')!;
    expect(b.aspect).toBe('16:9');
    expect(b.folder).toBe(path.join(cli.root, 'elsewhere', 'B'));
  });

  it('a duplicate or invalid name is exit code 1 with the reason', async () => {
    await onbrand('projects', 'create', 'Spring');
    const dup = await onbrand('projects', 'create', 'spring');
    expect(dup.code).toBe(1);
    expect(dup.err).toContain('already exists');

    const bad = await onbrand('projects', 'create', 'a/b');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('name');
    expect((await onbrand('--json', 'projects')).out).toContain('"Spring"');
    expect(JSON.parse((await onbrand('--json', 'projects')).out)).toHaveLength(1);
  });

  it('rename by name or id', async () => {
    await onbrand('projects', 'create', 'Spring');
    const byName = await onbrand('projects', 'rename', 'spring', 'Summer');
    expect(byName.code).toBe(0);
    expect(byName.out).toContain('Renamed "Spring" to "Summer"');
    const byId = await onbrand('projects', 'rename', '1', 'Autumn');
    expect(byId.code).toBe(0);
    expect((await onbrand('projects')).out).toContain('Autumn');
    const missing = await onbrand('projects', 'rename', 'Winter', 'X');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('No project named "Winter"');
    expect(missing.err).toContain('Autumn');
  });
});
