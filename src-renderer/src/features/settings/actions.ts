/**
 * Settings: the Unsplash access key and the language model endpoint. Keys go to the core's key
 * store and never come back: the view knows only whether one is set.
 */
import type { LlmSettings } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
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
