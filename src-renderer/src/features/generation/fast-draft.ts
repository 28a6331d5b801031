/**
 * Draft and Refine in the Generate panel (issue 19), as pure functions: what the Draft toggle
 * sends (the fast settings of the selected model's family, from core/common's draftSettings), and
 * what Refine sends for a draft image (the form's full settings, the draft's prompt without its
 * fast LoRA, its seed, batch 1; or img2img from the draft at a strength). No store, no client.
 */
import type { GenerationSettings, ImageSummary, Job, ModelList, RequestInput } from '../../../../src-main/core/api/index';
import {
  BRAND_LOOP_PRESET,
  draftSettings,
  fastMode,
  isDraftLora,
  loraTagSpans,
  strengthProblem,
  type DraftChoice,
  type ModelFamily,
  type RefineMode,
} from '../../../../src-main/core/common/index';
import { parseDraft, presetSettings, type Draft } from './draft';

/** The selected model's family, as the models folder says it; null when not known. */
export function modelFamily(models: ModelList | null, model: string): ModelFamily | null {
  return models?.models.find((m) => m.name === model)?.family ?? null;
}

/** What the Draft toggle will send, in words for the toggle: "Draft · LCM-LoRA · 6 steps · CFG 1.5". */
export interface DraftPlan {
  choice: DraftChoice;
  /** "LCM-LoRA", "SDXL-Lightning", or "quick" when no fast mode is installed. */
  modeLabel: string;
  label: string;
}

/** The draft the form's model and settings get (draftSettings over the form's valid fields, the preset's otherwise). */
export function draftPlan(draft: Draft, models: ModelList | null): DraftPlan {
  const { settings } = parseDraft(draft);
  const choice = draftSettings({
    family: modelFamily(models, draft.model),
    modelName: draft.model,
    loras: models?.loras ?? [],
    settings: {
      sampler: draft.sampler,
      steps: settings.steps ?? BRAND_LOOP_PRESET.settings.steps,
      cfg: settings.cfg ?? BRAND_LOOP_PRESET.settings.cfg,
    },
  });
  const modeLabel = choice.mode === 'quick' ? 'quick' : fastMode(choice.mode).label;
  const s = choice.settings;
  return {
    choice,
    modeLabel,
    label: `Draft · ${modeLabel} · ${s.steps} step${s.steps === 1 ? '' : 's'} · CFG ${s.cfg}`,
  };
}

/** A prompt with a LoRA tag added (before a final `--ar`, which must stay last); unchanged when it names that LoRA already. */
export function withLoraTag(prompt: string, tag: string, lora: string): string {
  if (loraTagSpans(prompt).some((t) => t.name.toLowerCase() === lora.toLowerCase())) return prompt;
  const ar = /\s*--ar(?:\s+\S*)?\s*$/.exec(prompt);
  const body = (ar ? prompt.slice(0, ar.index) : prompt).trimEnd();
  const joined = body === '' ? tag : `${body}${/[,]$/.test(body) ? ' ' : ', '}${tag}`;
  return ar ? `${joined} ${prompt.slice(ar.index).trim()}` : joined;
}

/** Settings and prompt as a draft: the fast mode's sampler, schedule, steps and CFG, and its LoRA in the prompt. */
export function asDraft(
  settings: GenerationSettings,
  prompt: string,
  choice: DraftChoice,
): { settings: GenerationSettings; prompt: string } {
  const s = choice.settings;
  return {
    settings: { ...settings, sampler: s.sampler, scheduleType: s.scheduleType, steps: s.steps, cfg: s.cfg },
    prompt: choice.loraTag && choice.lora ? withLoraTag(prompt, choice.loraTag, choice.lora) : prompt,
  };
}

/** A draft's prompt without the fast LoRAs the draft added (LCM, Lightning, Hyper-SD tags), tidied. */
export function refinePrompt(prompt: string): string {
  let out = prompt;
  for (const tag of loraTagSpans(prompt).reverse()) {
    if (!isDraftLora(tag.name)) continue;
    out = out.slice(0, tag.at) + out.slice(tag.at + tag.tag.length);
  }
  if (out === prompt) return prompt;
  return out
    .replace(/\s*,(\s*,)+/g, ',')
    .replace(/^\s*,\s*|\s*,\s*$/g, '')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

/** How Refine runs: the same seed at full settings, or img2img from the draft at a strength (text, as typed). */
export interface RefineChoice {
  mode: RefineMode;
  strength: string;
}

/** Why Refine cannot run with this form, or the `queue.add` input for one draft image. */
export function refineRequest(
  image: ImageSummary,
  job: Job | undefined,
  form: Draft,
  choice: RefineChoice,
  projectId: number,
): { error: string } | { input: RequestInput<'queue.add'> } {
  if (!job || !job.draft) return { error: `${image.fileName} is not a draft: Refine works on images made with Draft on.` };
  if (image.seed === null) return { error: `${image.fileName} has no seed recorded, so it cannot be made again.` };
  const full = presetSettings(form);
  if (typeof full === 'string') return { error: `Generate form: ${full}` };
  let init: { imageId: number; strength: number } | undefined;
  if (choice.mode === 'img2img') {
    const problem = strengthProblem(choice.strength);
    if (problem) return { error: problem.message };
    init = { imageId: image.id, strength: Number(choice.strength) };
  }
  // The draft's composition: its model and size; the form's full sampler, steps, CFG and schedule.
  const { scheduleType: _fast, ...draftOwn } = job.settings;
  const settings: GenerationSettings = {
    ...draftOwn,
    sampler: full.sampler,
    steps: full.steps,
    cfg: full.cfg,
    loraWeight: full.loraWeight,
    ...(full.scheduleType ? { scheduleType: full.scheduleType } : {}),
    batchSize: 1,
  };
  return {
    input: {
      projectId,
      prompt: refinePrompt(job.prompt),
      negativePrompt: job.negativePrompt,
      settings,
      batches: 1,
      seed: image.seed,
      refines: image.id,
      ...(init ? { init } : {}),
    },
  };
}

/** The mark an image's job gives it: made as a draft, made by refining one, or neither. */
export type ImageOrigin = 'draft' | 'refined' | null;

const originCache = new WeakMap<readonly Job[], Map<number, ImageOrigin>>();

/** The origin of a job's images (cached per jobs list, so every grid cell asks cheaply). */
export function jobOrigin(jobs: readonly Job[], jobId: number | null): ImageOrigin {
  if (jobId === null) return null;
  let map = originCache.get(jobs);
  if (!map) {
    map = new Map();
    for (const job of jobs) if (job.draft || job.refines !== null) map.set(job.id, job.draft ? 'draft' : 'refined');
    originCache.set(jobs, map);
  }
  return map.get(jobId) ?? null;
}
