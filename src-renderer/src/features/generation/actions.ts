/** What the Generate and Queue panels do, as plain functions over the client and the store. */
import type { Job } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
import { errorText, reportError } from '../../shared/report';
import { useStore } from '../../store';
import { completeSettings, parseDraft, presetSettings, type Draft } from './draft';
import { asDraft, draftPlan, refineRequest } from './fast-draft';
import { movePosition, type SideTab } from './slice';

/** The engine's state for the status bar; later changes arrive as `engine.status` events. */
export async function loadEngineStatus(): Promise<void> {
  try {
    useStore.getState().setEngine(await getClient().call('engine.status', {}));
  } catch (error) {
    reportError(error);
  }
}

/** Every job in the queue (all projects: the queue's order is shared). */
export async function loadJobs(): Promise<void> {
  try {
    useStore.getState().setJobs(await getClient().call('queue.list', {}));
  } catch (error) {
    reportError(error);
  }
}

/** The models folder's models and LoRAs, and the current project's presets. */
export async function loadGenerationChoices(): Promise<void> {
  const projectId = useStore.getState().currentProjectId;
  try {
    const [models, presets] = await Promise.all([
      getClient().call('models.list', {}),
      projectId === null ? Promise.resolve(null) : getClient().call('presets.list', { projectId }),
    ]);
    useStore.getState().setModels(models);
    if (presets && useStore.getState().currentProjectId === projectId) useStore.getState().setPresets(presets);
  } catch (error) {
    reportError(error);
  }
}

/** Until when a Generate form that mounts leaves the keyboard where it is. */
let quietUntil = 0;

/**
 * The Generate form shown next (within a second: the panel's next render) leaves the keyboard
 * where it is, with the images: for a panel expanded from its rail (F8, «) or a tab chosen with
 * the mouse, which are not a request to type.
 */
export function showFormQuietly(): void {
  quietUntil = performance.now() + 1000;
}

/** Whether a Generate form just shown takes the keyboard into its prompt. */
export function promptTakesFocus(): boolean {
  const take = performance.now() > quietUntil;
  quietUntil = 0;
  return take;
}

/** Shows or hides the Generate panel; it opens only with a project to generate into. */
export function toggleGenerate(open = !useStore.getState().generateOpen): void {
  if (open && useStore.getState().currentProjectId === null) return;
  if (open) useStore.getState().setSideTab('generate');
  useStore.getState().setGenerateOpen(open);
  if (open) void loadGenerationChoices();
}

/**
 * The side panel's tab key (Ctrl+G: Generate, Ctrl+K: Composer): opens the panel on that tab,
 * switches to it when the panel shows the other tab, and closes the panel when it already shows it.
 */
export function toggleSideTab(tab: SideTab): void {
  const state = useStore.getState();
  if (state.generateOpen && state.sideTab !== tab) {
    state.setSideTab(tab);
    return;
  }
  if (state.generateOpen) {
    state.setGenerateOpen(false);
    return;
  }
  if (state.currentProjectId === null) return;
  state.setSideTab(tab);
  state.setGenerateOpen(true);
  void loadGenerationChoices();
}

let hintRequest = 0;

/**
 * Field-note hints for what the form holds now. Only fields that are valid are sent, so a field
 * half-typed never costs the other hints; the last request wins; a failure keeps the old hints.
 */
export async function refreshHints(draft: Draft): Promise<void> {
  const request = ++hintRequest;
  const { settings } = parseDraft(draft);
  try {
    const hints = await getClient().call('settings.hints', { prompt: draft.prompt.slice(0, 4000), settings });
    if (request === hintRequest) useStore.getState().setHints(hints);
  } catch {
    // Hints are advice: never an error the user has to deal with.
  }
}

/**
 * Queues the form's batches, checked first as the core checks them (sizes, the prompt's LoRAs
 * against the installed ones). Returns why not, for the form, or the jobs queued.
 */
export async function queueDraft(): Promise<{ error: string } | { jobs: Job[] }> {
  const { draft, currentProjectId, models } = useStore.getState();
  if (currentProjectId === null) return { error: 'Create or open a project first.' };
  const parsed = parseDraft(draft, models?.loras);
  const firstError = Object.values(parsed.errors)[0];
  if (firstError) return { error: firstError };
  const full = completeSettings(parsed);
  if (!full || parsed.batches === undefined) return { error: 'Some settings are missing.' };
  // Draft on: the fast settings of the model's family (and its LoRA in the prompt); the fields keep the full ones.
  const { settings, prompt } = draft.fastDraft
    ? asDraft(full, draft.prompt, draftPlan(draft, models).choice)
    : { settings: full, prompt: draft.prompt };
  try {
    const jobs = await getClient().call('queue.add', {
      projectId: currentProjectId,
      prompt,
      negativePrompt: draft.negativePrompt,
      settings,
      batches: parsed.batches,
      ...(parsed.seed !== undefined ? { seed: parsed.seed } : {}),
      ...(draft.fastDraft ? { draft: true } : {}),
    });
    // Their `job.updated` events may have come first (and be newer): only add what is missing.
    useStore.getState().addJobs(jobs);
    return { jobs };
  } catch (error) {
    return { error: errorText(error) };
  }
}

/** What was queued, counted from the jobs themselves: "Queued 1 batch (1 image).", "Queued 3 batches (18 images)." */
export function queuedText(jobs: readonly Job[]): string {
  const images = jobs.reduce((sum, job) => sum + job.batchSize, 0);
  return `Queued ${jobs.length} batch${jobs.length === 1 ? '' : 'es'} (${images} image${images === 1 ? '' : 's'}).`;
}

// Cancel, retry, move, pause and resume show their effect through the `job.updated` and
// `engine.status` events the core sends for every change: those arrive in order, while a call's
// own answer can arrive after newer events (a retried job already running) and would turn it back.

export async function cancelJob(job: Job): Promise<void> {
  try {
    await getClient().call('queue.cancel', { jobId: job.id });
  } catch (error) {
    reportError(error);
  }
}

export async function retryJob(job: Job): Promise<void> {
  try {
    await getClient().call('queue.retry', { jobId: job.id });
  } catch (error) {
    reportError(error);
  }
}

/** Swaps a queued job with its project's neighbour above (-1) or below (+1). */
export async function moveJob(job: Job, direction: -1 | 1): Promise<void> {
  const position = movePosition(useStore.getState().jobs, job, direction);
  if (position === null) return;
  try {
    await getClient().call('queue.move', { jobId: job.id, position });
  } catch (error) {
    reportError(error);
  }
}

export async function setQueuePaused(paused: boolean): Promise<void> {
  try {
    await getClient().call(paused ? 'queue.pause' : 'queue.resume', {});
  } catch (error) {
    reportError(error);
  }
}

/** Saves the form's settings as a named preset of the project. Returns an error message, or null. */
export async function savePreset(name: string): Promise<string | null> {
  const { draft, currentProjectId } = useStore.getState();
  if (currentProjectId === null) return 'Create or open a project first.';
  const settings = presetSettings(draft);
  if (typeof settings === 'string') return settings;
  try {
    const preset = await getClient().call('presets.save', {
      projectId: currentProjectId,
      name,
      settings,
      negativePrompt: draft.negativePrompt,
    });
    const presets = await getClient().call('presets.list', { projectId: currentProjectId });
    useStore.getState().setPresets(presets);
    useStore.getState().editDraft({ preset: preset.name });
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Refine (R, or the Generate panel's button): each selected draft image made again at the form's
 * full settings from its own seed, batch 1, or as img2img from the draft at the chosen strength.
 * Images that are not drafts are left out and said so. Returns a line for the panel and the notice.
 */
export async function refineSelected(): Promise<{ ok: boolean; message: string }> {
  const { images, selection, selected, jobs, draft, refineChoice, currentProjectId } = useStore.getState();
  if (currentProjectId === null) return { ok: false, message: 'Create or open a project first.' };
  const chosen = selection.length > 0 ? images.filter((i) => selection.includes(i.id)) : images.slice(selected, selected + 1);
  if (chosen.length === 0) return { ok: false, message: 'Select a draft image to refine.' };
  const requests = chosen.map((image) =>
    refineRequest(
      image,
      jobs.find((j) => j.id === image.jobId),
      draft,
      refineChoice,
      currentProjectId,
    ),
  );
  const ready = requests.flatMap((r) => ('input' in r ? [r.input] : []));
  const problems = requests.flatMap((r) => ('error' in r ? [r.error] : []));
  if (ready.length === 0) return { ok: false, message: problems[0] ?? 'Nothing to refine.' };
  const queued: Job[] = [];
  try {
    for (const input of ready) queued.push(...(await getClient().call('queue.add', input)));
  } catch (error) {
    if (queued.length) useStore.getState().addJobs(queued);
    return { ok: false, message: errorText(error) };
  }
  useStore.getState().addJobs(queued);
  const how = refineChoice.mode === 'img2img' ? `img2img at strength ${Number(refineChoice.strength)}` : 'same seed, full settings';
  const left = chosen.length - ready.length;
  return {
    ok: true,
    message: `Refining ${ready.length} draft${ready.length === 1 ? '' : 's'} (${how}).${left > 0 ? ` ${left} selected image${left === 1 ? ' is' : 's are'} not a draft.` : ''}`,
  };
}

/**
 * R (and the Refine buttons): refines the selection; what happened shows in the Refine panel, or
 * in the notice line while the Generate panel is not showing.
 */
export async function refineKey(): Promise<void> {
  if (useStore.getState().refineBusy) return;
  useStore.getState().setRefineBusy(true);
  let result: { ok: boolean; message: string };
  try {
    result = await refineSelected();
  } finally {
    useStore.getState().setRefineBusy(false);
  }
  const state = useStore.getState();
  state.setRefineMessage({ ok: result.ok, text: result.message });
  if (!state.generateOpen || state.sideTab !== 'generate') state.notify(result.ok ? 'info' : 'error', result.message);
}
