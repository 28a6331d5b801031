/** What the Composer tab does: the brand skeleton, drafts, template expansion and queueing prompts. */
import type { Draft as PromptDraft, Expansion, LlmSettings, Skeleton } from '../../../../src-main/core/api/index';
import { SETTING_LIMITS } from '../../../../src-main/core/common/index';
import { getClient } from '../../api/client';
import { errorText } from '../../shared/report';
import { useStore } from '../../store';
import { completeSettings, parseDraft } from '../generation/draft';
import { asDraft, draftPlan } from '../generation/fast-draft';
import { NO_MODEL_REASON, noModelInstalled } from '../models/slice';

/** The workflow's reusable template (WORKFLOW §2). */
export const WORKFLOW_TEMPLATE =
  '<lora:FluxPortraitTrainer:1>, {subject}, {camera action}, rich {lighting adjective} light, brand colours weaving through scene, shallow depth, 35 mm DSLR, f/2.2 --ar 9:16';

/** The batch size the preview counts with when the Generate form has none that parses. */
export const FALLBACK_BATCH_SIZE = 6;

/** The most prompts one `prompt.queue` call takes. */
export const QUEUE_LIMIT = 200;

export interface ComposerData {
  skeleton: Skeleton;
  drafts: PromptDraft[];
  llm: LlmSettings | null;
}

/** The project's skeleton, its draft history (newest first) and the language-model settings. */
export async function loadComposer(projectId: number): Promise<ComposerData> {
  const client = getClient();
  const [skeleton, drafts, llm] = await Promise.all([
    client.call('prompt.skeleton', { projectId }),
    client.call('prompt.drafts', { projectId }),
    // The language model is optional: without its settings the composer still works offline.
    client.call('prompt.llm', {}).catch(() => null),
  ]);
  return { skeleton, drafts: newestFirst(drafts), llm };
}

export function newestFirst(drafts: readonly PromptDraft[]): PromptDraft[] {
  return [...drafts].sort((a, b) => b.id - a.id);
}

export function saveSkeleton(projectId: number, skeleton: Pick<Skeleton, 'mood' | 'subjects' | 'aspect'>): Promise<Skeleton> {
  return getClient().call('prompt.saveSkeleton', { projectId, mood: skeleton.mood, subjects: skeleton.subjects, aspect: skeleton.aspect });
}

export function draftPrompts(projectId: number, llm: boolean): Promise<PromptDraft[]> {
  return getClient().call('prompt.draft', { projectId, n: 5, ...(llm ? { llm: true } : {}) });
}

export function starDraft(draftId: number, starred: boolean): Promise<PromptDraft> {
  return getClient().call('prompt.star', { draftId, starred });
}

export interface ExpandOptions {
  template: string;
  mode: 'all' | 'random';
  count: number | undefined;
  seed: number | undefined;
}

export function expandTemplate(projectId: number, options: ExpandOptions): Promise<Expansion> {
  return getClient().call('prompt.expand', {
    template: options.template,
    mode: options.mode,
    projectId,
    ...(options.mode === 'random' && options.count !== undefined ? { count: options.count } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
}

/** A seed typed in a field: a whole number from 0 to 2^32 - 1, else undefined (random). */
export function parseSeed(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  return Number.isInteger(value) && value >= SETTING_LIMITS.seed.min && value <= SETTING_LIMITS.seed.max ? value : undefined;
}

/**
 * Queues prompts with the Generate form's settings, negative prompt, batches and seed (each
 * prompt's `--ar` is applied by the core). Returns a line for the panel: what was queued, or why not.
 */
export async function queuePrompts(prompts: readonly string[]): Promise<{ ok: boolean; message: string }> {
  const { draft, currentProjectId } = useStore.getState();
  if (currentProjectId === null) return { ok: false, message: 'Create or open a project first.' };
  if (prompts.length === 0) return { ok: false, message: 'Nothing to queue.' };
  if (noModelInstalled(useStore.getState())) return { ok: false, message: NO_MODEL_REASON };
  // The composer brings its own prompts: the form's prompt may be empty.
  const parsed = parseDraft({ ...draft, prompt: prompts[0] ?? '' });
  // The form's messages name their field ("Width must be …"); each prompt's LoRAs and `--ar` are the core's to check, by prompt.
  const firstError = Object.values(parsed.errors)[0];
  if (firstError) return { ok: false, message: `Generate form: ${firstError}` };
  const full = completeSettings(parsed);
  if (!full || parsed.batches === undefined) return { ok: false, message: 'The Generate form has settings missing (is there a model?).' };
  // The Generate panel's Draft toggle applies here too: the fast settings, the fast LoRA in each prompt.
  const choice = draft.fastDraft ? draftPlan(draft, useStore.getState().models).choice : null;
  const settings = choice ? asDraft(full, '', choice).settings : full;
  const list = prompts.slice(0, QUEUE_LIMIT).map((p) => (choice ? asDraft(full, p, choice).prompt : p));
  try {
    const jobs = await getClient().call('prompt.queue', {
      projectId: currentProjectId,
      prompts: list,
      negativePrompt: draft.negativePrompt,
      settings,
      batches: parsed.batches,
      ...(parsed.seed !== undefined ? { seed: parsed.seed } : {}),
      ...(choice ? { draft: true } : {}),
    });
    useStore.getState().addJobs(jobs);
    const images = jobs.reduce((sum, job) => sum + job.batchSize, 0);
    const cut = prompts.length > list.length ? ` (the first ${list.length} of ${prompts.length})` : '';
    return {
      ok: true,
      message: `Queued ${jobs.length} ${choice ? 'draft ' : ''}job${jobs.length === 1 ? '' : 's'} (${images} image${images === 1 ? '' : 's'}) for ${list.length} prompt${list.length === 1 ? '' : 's'}${cut}.`,
    };
  } catch (error) {
    return { ok: false, message: errorText(error) };
  }
}
