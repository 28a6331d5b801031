/** Saved presets: read back as saved; what an older version let through snaps or is left out. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { BRAND_LOOP_PRESET } from '../api/index.js';
import { openCatalog, type CatalogDb } from './database.js';
import { PresetRepository } from './presets.js';
import { ProjectRepository } from './projects.js';

let dir: string;
let db: CatalogDb;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onbrand-presets-'));
  db = openCatalog(path.join(dir, 'onbrand.db'));
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('keeps a preset an older version saved at a size that never generated, snapped to the nearest that does', () => {
  const project = new ProjectRepository(db).create({
    name: 'Old presets',
    folder: path.join(dir, 'p'),
    palette: [],
    mood: '',
    aspect: '9:16',
  });
  const presets = new PresetRepository(db);
  const { model: _model, ...settings } = BRAND_LOOP_PRESET.settings as typeof BRAND_LOOP_PRESET.settings & { model?: string };
  presets.save(project.id, 'Story', { ...settings, width: 576, height: 1024 }, 'blurry');
  const insert = db.prepare('INSERT INTO presets (project_id, name, settings, negative_prompt, created_at) VALUES (?, ?, ?, ?, ?)');
  insert.run(project.id, 'Wide (old)', JSON.stringify({ ...settings, width: 1080, height: 600 }), '', new Date().toISOString());
  insert.run(project.id, 'Broken', '{not json', '', new Date().toISOString());
  const listed = presets.list(project.id);
  expect(listed.map((p) => p.name)).toEqual([BRAND_LOOP_PRESET.name, 'Story', 'Wide (old)']);
  expect(listed.find((p) => p.name === 'Story')).toMatchObject({ settings: { width: 576, height: 1024 }, negativePrompt: 'blurry' });
  expect(listed.find((p) => p.name === 'Wide (old)')!.settings).toMatchObject({ width: 1088, height: 576 });
});

it('reads presets saved before schedule types as Automatic (no field), and keeps a schedule type saved with one', () => {
  const project = new ProjectRepository(db).create({ name: 'Drafts', folder: path.join(dir, 'd'), palette: [], mood: '', aspect: '9:16' });
  const presets = new PresetRepository(db);
  const { model: _model, ...settings } = BRAND_LOOP_PRESET.settings as typeof BRAND_LOOP_PRESET.settings & { model?: string };
  // A row as an older version wrote it: no scheduleType.
  db.prepare('INSERT INTO presets (project_id, name, settings, negative_prompt, created_at) VALUES (?, ?, ?, ?, ?)').run(
    project.id,
    'Old',
    JSON.stringify(settings),
    '',
    new Date().toISOString(),
  );
  presets.save(project.id, 'Lightning', { ...settings, sampler: 'Euler', scheduleType: 'SGM Uniform', steps: 4, cfg: 1 }, '');
  const listed = presets.list(project.id);
  const old = listed.find((p) => p.name === 'Old')!;
  expect(old.settings).toEqual(settings);
  expect(old.settings.scheduleType).toBeUndefined();
  expect(listed.find((p) => p.name === 'Lightning')!.settings).toMatchObject({ sampler: 'Euler', scheduleType: 'SGM Uniform', steps: 4 });
  // A schedule type this version does not know leaves the preset out, as any unreadable one.
  db.prepare('INSERT INTO presets (project_id, name, settings, negative_prompt, created_at) VALUES (?, ?, ?, ?, ?)').run(
    project.id,
    'Future',
    JSON.stringify({ ...settings, scheduleType: 'Align Your Steps' }),
    '',
    new Date().toISOString(),
  );
  expect(presets.list(project.id).map((p) => p.name)).not.toContain('Future');
});
