/** The prompt composer: the brand skeleton, template expansion, drafts with history and stars, queueing. */
import {
  ApiError,
  toApiError,
  type Draft,
  type DraftAnnotations,
  type Expansion,
  type GenerationSettings,
  type Job,
  type LlmSettings,
  type Skeleton,
  promptLabel,
} from '../api/index.js';
import type { AppSettings, CatalogDb, ProjectRepository } from '../catalog/index.js';
import { problemText, readAspectFlag, sizeForAspect, type ModelFamily } from '../common/index.js';
import type { GenerationQueue } from '../jobs/index.js';
import type { SecretStore } from '../secrets.js';
import { testLlmConnection } from './connection.js';
import { annotate, draftOffline, draftWithLlm, LlmError } from './drafts.js';
import { countTemplate, expandAll, expandRandom, parseTemplate, templateLoras, TemplateError } from './template.js';
import { builtInLists, DEFAULT_SUBJECTS } from './vocabulary.js';

interface DraftRow {
  id: number;
  project_id: number;
  text: string;
  source: 'offline' | 'llm';
  annotations: string;
  starred: number;
  created_at: string;
}

export class Composer {
  constructor(
    private readonly db: CatalogDb,
    private readonly projects: ProjectRepository,
    private readonly settings: AppSettings,
    private readonly queue: GenerationQueue,
    /** The endpoint's API key lives here, never in the catalogue with the base URL and model. */
    private readonly secrets: SecretStore,
  ) {}

  skeleton(projectId: number): Skeleton {
    const project = this.projects.get(projectId);
    if (!project) throw new ApiError('not_found', `No project with id ${projectId}.`, 'projectId');
    return {
      projectId,
      mood: project.mood,
      aspect: project.aspect,
      palette: project.palette,
      subjects: this.settings.get<string[]>(`prompt.subjects.${projectId}`, [...DEFAULT_SUBJECTS]),
    };
  }

  saveSkeleton(projectId: number, mood: string, subjects: string[], aspect: string): Skeleton {
    this.skeleton(projectId);
    this.db
      .prepare('UPDATE projects SET mood = ?, aspect = ?, updated_at = ? WHERE id = ?')
      .run(mood, aspect, new Date().toISOString(), projectId);
    this.settings.set(`prompt.subjects.${projectId}`, subjects);
    return this.skeleton(projectId);
  }

  expand(
    template: string,
    options: {
      mode?: 'all' | 'random' | undefined;
      count?: number | undefined;
      seed?: number | undefined;
      lists?: Record<string, string[]> | undefined;
      projectId?: number | undefined;
    },
  ): Expansion {
    const subjects = options.projectId ? this.skeleton(options.projectId).subjects : [...DEFAULT_SUBJECTS];
    const lists = {
      ...builtInLists(subjects),
      ...Object.fromEntries(Object.entries(options.lists ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    };
    try {
      const parsed = parseTemplate(template, lists);
      const total = countTemplate(parsed, lists);
      const prompts =
        options.mode === 'random'
          ? expandRandom(parsed, lists, options.count ?? 5, options.seed ?? 1)
          : expandAll(parsed, lists, options.count ?? 500);
      return { prompts, total, aspect: parsed.aspect, loras: templateLoras(template) };
    } catch (error) {
      // "Template, character 28: …" (TemplateError), or a LoRA tag the prompt syntax cannot read.
      if (error instanceof TemplateError) throw new ApiError(error.code, error.message, error.field);
      throw new ApiError('invalid_input', `Template: ${(error as Error).message}`, 'template');
    }
  }

  async draft(projectId: number, n: number, seed: number, useLlm: boolean): Promise<Draft[]> {
    const skeleton = this.skeleton(projectId);
    let texts: string[];
    let source: Draft['source'] = 'offline';
    if (useLlm) {
      const llm = this.llmConfig();
      if (!llm.baseUrl || !llm.model)
        throw new ApiError('invalid_input', 'Set a language model endpoint (base URL and model) first.', 'llm');
      try {
        texts = await draftWithLlm({ baseUrl: llm.baseUrl, model: llm.model, apiKey: llm.apiKey }, skeleton, n);
      } catch (error) {
        if (error instanceof LlmError) throw toApiError(error);
        throw error;
      }
      source = 'llm';
    } else texts = draftOffline(skeleton, n, seed);
    const insert = this.db.prepare('INSERT INTO drafts (project_id, text, source, annotations, created_at) VALUES (?, ?, ?, ?, ?)');
    const ids = texts.map((text) =>
      Number(
        insert.run(projectId, text, source, JSON.stringify(annotate(text, skeleton.palette, skeleton.subjects)), new Date().toISOString())
          .lastInsertRowid,
      ),
    );
    return ids.map((id) => this.getDraft(id)!);
  }

  drafts(projectId: number): Draft[] {
    this.skeleton(projectId);
    return (this.db.prepare('SELECT * FROM drafts WHERE project_id = ? ORDER BY id DESC').all(projectId) as DraftRow[]).map(toDraft);
  }

  star(draftId: number, starred: boolean): Draft {
    if (!this.getDraft(draftId)) throw new ApiError('not_found', `No draft with id ${draftId}.`, 'draftId');
    this.db.prepare('UPDATE drafts SET starred = ? WHERE id = ?').run(starred ? 1 : 0, draftId);
    return this.getDraft(draftId)!;
  }

  private getDraft(id: number): Draft | undefined {
    const row = this.db.prepare('SELECT * FROM drafts WHERE id = ?').get(id) as DraftRow | undefined;
    return row && toDraft(row);
  }

  llm(): LlmSettings {
    const { baseUrl, model } = this.endpoint();
    return { baseUrl, model, hasKey: this.secrets.has('llm.apiKey') };
  }

  /**
   * `apiKey` undefined keeps the stored key, but only for the same address: a key never follows
   * the endpoint to another server (the designer gives the new server's key, or none); null or ''
   * removes it.
   */
  setLlm(baseUrl: string | null, model: string | null, apiKey: string | null | undefined): LlmSettings {
    const moved = !sameAddress(baseUrl, this.endpoint().baseUrl);
    if (apiKey !== undefined) this.secrets.set('llm.apiKey', apiKey);
    else if (moved) this.secrets.set('llm.apiKey', null);
    this.settings.set('llm', { baseUrl, model });
    return this.llm();
  }

  /**
   * Tests the endpoint as given (unsaved fields), else as stored. The stored key goes only to the
   * stored address: a test of another address uses the key typed with it, or none.
   */
  async testLlm(given: {
    baseUrl?: string | undefined;
    model?: string | undefined;
    apiKey?: string | undefined;
  }): Promise<{ ok: true; message: string }> {
    const stored = this.endpoint();
    const baseUrl = given.baseUrl ?? stored.baseUrl;
    const model = given.model ?? stored.model;
    if (!baseUrl || !model) throw new ApiError('invalid_input', 'Give the language model’s base URL and model name first.', 'llm');
    const apiKey =
      given.apiKey !== undefined ? given.apiKey || null : sameAddress(baseUrl, stored.baseUrl) ? this.secrets.get('llm.apiKey') : null;
    try {
      return await testLlmConnection({ baseUrl, model, apiKey });
    } catch (error) {
      if (error instanceof LlmError) throw toApiError(error);
      throw error;
    }
  }

  private endpoint(): { baseUrl: string | null; model: string | null } {
    const stored = this.settings.get<{ baseUrl?: string | null; model?: string | null }>('llm', {});
    return { baseUrl: stored.baseUrl ?? null, model: stored.model ?? null };
  }

  private llmConfig(): { baseUrl: string | null; model: string | null; apiKey: string | null } {
    return { ...this.endpoint(), apiKey: this.secrets.get('llm.apiKey') };
  }

  /**
   * Each prompt × settings × batches into the queue; a prompt's own `--ar` sets its size. Every
   * prompt is checked first (its `--ar`, its LoRAs), so one bad prompt queues nothing.
   */
  queuePrompts(
    projectId: number,
    prompts: string[],
    negativePrompt: string,
    settings: GenerationSettings,
    batches: number,
    seed?: number,
    options: { family?: ModelFamily | null; draft?: boolean } = {},
  ): Job[] {
    // `--ar` gives the selected model family's size (SDXL's buckets for an SDXL model).
    const family = options.family ?? 'sd1';
    const planned = prompts.map((raw, i) => {
      const read = readAspectFlag(raw, family);
      if ('problem' in read) throw new ApiError('invalid_input', `${promptLabel(i, raw)}: ${problemText(read.problem)}`, `prompts.${i}`);
      this.queue.checkPrompt(read.text, promptLabel(i, raw), `prompts.${i}`);
      const own: GenerationSettings = read.aspect ? { ...settings, ...sizeForAspect(read.aspect, family), aspect: read.aspect } : settings;
      return { prompt: read.text, settings: own };
    });
    const jobs: Job[] = [];
    planned.forEach(({ prompt, settings: own }, i) => {
      jobs.push(
        ...this.queue.add(
          projectId,
          prompt,
          negativePrompt,
          own,
          batches,
          seed === undefined ? undefined : (seed + i * batches * own.batchSize) >>> 0,
          options.draft ? { draft: true } : {},
        ),
      );
    });
    return jobs;
  }
}

function toDraft(row: DraftRow): Draft {
  const a = JSON.parse(row.annotations) as DraftAnnotations;
  return {
    id: row.id,
    projectId: row.project_id,
    text: row.text,
    source: row.source,
    starred: row.starred === 1,
    createdAt: row.created_at,
    ...a,
  };
}

/** Two endpoint addresses are the same server and path (a trailing slash aside). */
function sameAddress(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}
