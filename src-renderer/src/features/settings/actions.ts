/**
 * Settings: the Unsplash access key, the language model endpoint and the GPU backends. Keys go to the core's key
 * store and never come back: the view knows only whether one is set.
 */
import type { BackendSave, BackendTestResult, BackendView, LlmSettings } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
import { errorField, errorText } from '../../shared/report';
import { useStore } from '../../store';

export interface SettingsState {
  unsplashConfigured: boolean;
  llm: LlmSettings;
}

/** The outcome of a save or a test, as one line for the view. */
export interface Outcome {
  ok: boolean;
  text: string;
}

export function openSettings(): void {
  useStore.getState().setSettingsOpen(true);
}

export function closeSettings(): void {
  useStore.getState().setSettingsOpen(false);
}

export async function loadSettings(): Promise<SettingsState> {
  const client = getClient();
  const [settings, llm] = await Promise.all([client.call('settings.get', {}), client.call('prompt.llm', {})]);
  return { unsplashConfigured: settings.unsplashConfigured, llm };
}

const failed = (error: unknown): Outcome => ({ ok: false, text: error instanceof Error ? error.message : String(error) });

/** Stores (or, with null, clears) the Unsplash access key. */
export async function setUnsplashKey(key: string | null): Promise<Outcome> {
  try {
    const { configured } = await getClient().call('settings.setUnsplashKey', { key });
    return { ok: true, text: configured ? 'Access key saved.' : 'Access key cleared.' };
  } catch (error) {
    return failed(error);
  }
}

/** Tests the key being typed, else the stored one. */
export async function testUnsplash(typed: string): Promise<Outcome> {
  try {
    const result = await getClient().call('settings.testUnsplash', typed.trim() ? { key: typed.trim() } : {});
    return { ok: true, text: result.message };
  } catch (error) {
    return failed(error);
  }
}

/** Why a base URL cannot be used, or null. */
export function baseUrlProblem(text: string): string | null {
  const value = text.trim();
  if (!value) return null;
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol))
    return 'The base URL must be an http(s) address like http://127.0.0.1:8080/v1.';
  return null;
}

/**
 * Saves the endpoint; `key`: a new key, null to clear the stored one, undefined to keep it.
 * Returns the outcome and, when saved, the settings as stored.
 */
export async function saveLlm(
  baseUrl: string,
  model: string,
  key: string | null | undefined,
  hadKey = false,
): Promise<Outcome & { llm?: LlmSettings }> {
  const problem = baseUrlProblem(baseUrl);
  if (problem) return { ok: false, text: problem };
  if (!baseUrl.trim() !== !model.trim()) return { ok: false, text: 'Give both the base URL and the model name, or neither.' };
  try {
    const llm = await getClient().call('prompt.setLlm', {
      baseUrl: baseUrl.trim() || null,
      model: model.trim() || null,
      ...(key !== undefined ? { apiKey: key } : {}),
    });
    const text =
      key === null
        ? 'API key cleared.'
        : !llm.baseUrl
          ? 'Language model removed.'
          : key === undefined && hadKey && !llm.hasKey
            ? 'Language model saved. The API key was for the old address, so it was removed: enter the key for this server if it needs one.'
            : 'Language model saved: the Composer can draft with it.';
    return { ok: true, text, llm };
  } catch (error) {
    return failed(error);
  }
}

/** Tests the fields as typed (with the key typed, if any; else the stored key, for the stored address only). */
export async function testLlm(baseUrl: string, model: string, key: string): Promise<Outcome> {
  const problem = baseUrlProblem(baseUrl);
  if (problem) return { ok: false, text: problem };
  try {
    const result = await getClient().call('prompt.testLlm', {
      ...(baseUrl.trim() ? { baseUrl: baseUrl.trim() } : {}),
      ...(model.trim() ? { model: model.trim() } : {}),
      ...(key ? { apiKey: key } : {}),
    });
    return { ok: true, text: result.message };
  } catch (error) {
    return failed(error);
  }
}

/* ---- GPU backends (issue 21): the local engine and the ComfyUI servers the queue sends images to ---- */

/** A failed backend call: its message, and the form field it names (`url`, `concurrency`, `headers.Authorization`…). */
export interface BackendFailure {
  ok: false;
  text: string;
  field: string | undefined;
}

const backendFailed = (error: unknown): BackendFailure => ({ ok: false, text: errorText(error), field: errorField(error) });

/** The backends as the core has them now, into the store (the Settings view shows them from there). */
export async function loadBackends(): Promise<string | null> {
  try {
    useStore.getState().setBackends(await getClient().call('backends.list', {}));
    return null;
  } catch (error) {
    return errorText(error);
  }
}

/** Takes a `backends.updated` event: the whole list, local engine first. */
export function takeBackends(backends: BackendView[]): void {
  useStore.getState().setBackends(backends);
}

/** Adds a ComfyUI server or changes one (by name); the saved view, or why not with the field to blame. */
export async function saveBackend(input: BackendSave): Promise<{ ok: true; view: BackendView } | BackendFailure> {
  try {
    const view = await getClient().call('backends.save', input);
    void loadBackends();
    return { ok: true, view };
  } catch (error) {
    return backendFailed(error);
  }
}

export async function removeBackend(name: string): Promise<{ ok: true } | BackendFailure> {
  try {
    await getClient().call('backends.remove', { name });
    void loadBackends();
    return { ok: true };
  } catch (error) {
    return backendFailed(error);
  }
}

/** Asks a server what it is and has (version, GPUs and free VRAM, checkpoints, LoRAs). */
export async function testBackend(name: string): Promise<{ ok: true; result: BackendTestResult } | BackendFailure> {
  try {
    const result = await getClient().call('backends.test', { name });
    void loadBackends();
    return { ok: true, result };
  } catch (error) {
    return backendFailed(error);
  }
}

/** A server paused after repeated failures takes images again. */
export async function resumeBackend(name: string): Promise<{ ok: true } | BackendFailure> {
  try {
    await getClient().call('backends.resume', { name });
    void loadBackends();
    return { ok: true };
  } catch (error) {
    return backendFailed(error);
  }
}

/** This computer's engine on or off. */
export async function setLocalEngine(enabled: boolean): Promise<{ ok: true } | BackendFailure> {
  try {
    await getClient().call('backends.local', { enabled });
    void loadBackends();
    return { ok: true };
  } catch (error) {
    return backendFailed(error);
  }
}
