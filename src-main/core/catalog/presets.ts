import { BRAND_LOOP_PRESET, generationSettingsSchema, type Preset } from '../api/index.js';
import { nearestSize } from '../common/index.js';
import type { CatalogDb } from './database.js';

interface PresetRow {
  id: number;
  name: string;
  settings: string;
  negative_prompt: string;
}

const presetSettings = generationSettingsSchema.omit({ model: true });

/** Settings presets per project, after the built-in "Brand loop". */
export class PresetRepository {
  constructor(private readonly db: CatalogDb) {}

  list(projectId: number): Preset[] {
    const rows = this.db
      .prepare('SELECT id, name, settings, negative_prompt FROM presets WHERE project_id = ? ORDER BY name')
      .all(projectId) as PresetRow[];
    const saved: Preset[] = [];
    for (const row of rows) {
      // A size an older version let through (a multiple of 8) snaps to the nearest that generates;
      // a preset that still does not parse is left out rather than breaking the list.
      const parsed = presetSettings.safeParse(snapSizes(safeJson(row.settings)));
      if (parsed.success)
        saved.push({ id: row.id, name: row.name, settings: parsed.data, negativePrompt: row.negative_prompt, builtIn: false });
    }
    return [BRAND_LOOP_PRESET, ...saved];
  }

  /** Saves (or replaces, by name) a preset. */
  save(projectId: number, name: string, settings: Preset['settings'], negativePrompt: string): Preset {
    this.db
      .prepare(
        `INSERT INTO presets (project_id, name, settings, negative_prompt, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (project_id, name) DO UPDATE SET settings = excluded.settings, negative_prompt = excluded.negative_prompt`,
      )
      .run(projectId, name, JSON.stringify(settings), negativePrompt, new Date().toISOString());
    return this.list(projectId).find((p) => !p.builtIn && p.name.toLowerCase() === name.toLowerCase())!;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function snapSizes(settings: unknown): unknown {
  if (typeof settings !== 'object' || settings === null) return settings;
  const { width, height } = settings as { width?: unknown; height?: unknown };
  return {
    ...settings,
    ...(typeof width === 'number' ? { width: nearestSize(width) } : {}),
    ...(typeof height === 'number' ? { height: nearestSize(height) } : {}),
  };
}
