/**
 * The backends the queue may use (issue 21): the local engine, and ComfyUI servers kept in the
 * catalogue's settings (`backends`). Header values (a reverse proxy's token) are secrets: they live
 * in the secrets file, never in the catalogue, and are never shown back.
 */
import { ApiError, LOCAL_BACKEND, backendSaveSchema, type BackendSave, type BackendView } from '../api/index.js';
import type { AppSettings } from '../catalog/index.js';
import type { SecretStore } from '../secrets.js';

/** A ComfyUI server as stored (its header values apart). */
export interface StoredBackend {
  name: string;
  url: string;
  headerNames: string[];
  concurrency: number;
  enabled: boolean;
  ratePerHour: number;
  allowInsecure: boolean;
  timeoutSeconds: number;
  models: Record<string, string>;
  loras: Record<string, string>;
}

export const DEFAULT_TIMEOUT_SECONDS = 120;
const SETTINGS_KEY = 'backends';
const LOCAL_KEY = 'backends.local.enabled';

/** Whether `host` (from a URL) is this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * A server's base address, checked: http or https, no credentials or query in it, and plain
 * http only to this machine unless the user confirmed it (ComfyUI has no authentication of its
 * own; over http prompts, images and a proxy's token travel in the clear).
 */
export function checkBackendUrl(raw: string, allowInsecure: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ApiError('invalid_input', `"${raw}" is not a web address: give the server's address, e.g. http://127.0.0.1:8188.`, 'url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ApiError('invalid_input', `The address must start with http:// or https:// (not ${url.protocol}//).`, 'url');
  if (url.username || url.password)
    throw new ApiError('invalid_input', 'Put no user name or password in the address: send them as a header (e.g. Authorization).', 'url');
  if (url.search || url.hash) throw new ApiError('invalid_input', 'The address must not hold a query (?…) or a fragment (#…).', 'url');
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !allowInsecure)
    throw new ApiError(
      'invalid_input',
      `ComfyUI has no login of its own, and plain http:// to ${url.hostname} sends prompts, images and any token unencrypted. ` +
        'Put the server behind an HTTPS reverse proxy with a password or token (README, "More GPUs"), or confirm plain http on a network you trust (--insecure; "Allow plain http" in Settings).',
      'url',
    );
  return url.href.replace(/\/+$/, '');
}

/** The backends' settings: the ComfyUI servers, their secret headers, and the local engine's switch. */
export class BackendRegistry {
  constructor(
    private readonly settings: AppSettings,
    private readonly secrets: SecretStore,
  ) {}

  list(): StoredBackend[] {
    const stored = this.settings.get<unknown>(SETTINGS_KEY, []);
    if (!Array.isArray(stored)) return [];
    return stored.filter((b): b is StoredBackend => typeof b === 'object' && b !== null && typeof (b as StoredBackend).name === 'string');
  }

  get(name: string): StoredBackend | undefined {
    return this.list().find((b) => b.name.toLowerCase() === name.toLowerCase());
  }

  /** A backend by name, or a not_found error that lists the names there are. */
  require(name: string): StoredBackend {
    const found = this.get(name);
    if (found) return found;
    const names = this.list().map((b) => b.name);
    throw new ApiError(
      'not_found',
      `No backend named "${name}"${names.length ? ` (there are: ${names.join(', ')})` : ' (none is set up: add one with onbrand backends add or in Settings)'}.`,
      'name',
    );
  }

  /** The secret headers of a backend (Authorization for a reverse proxy). */
  headers(name: string): Record<string, string> {
    const all = this.allHeaders();
    return all[name.toLowerCase()] ?? {};
  }

  /** Adds a backend or changes one (found by name, case-insensitive); what is absent is kept. */
  save(input: BackendSave): StoredBackend {
    const parsed = backendSaveSchema.parse(input);
    if (parsed.name.toLowerCase() === LOCAL_BACKEND)
      throw new ApiError('invalid_input', `"${LOCAL_BACKEND}" is this computer's own engine: give the server another name.`, 'name');
    const old = this.get(parsed.name);
    const allowInsecure = parsed.allowInsecure ?? old?.allowInsecure ?? false;
    const url = checkBackendUrl(parsed.url, allowInsecure);
    const headers = parsed.headers ?? this.headers(parsed.name);
    const next: StoredBackend = {
      name: old?.name ?? parsed.name,
      url,
      headerNames: Object.keys(headers),
      concurrency: parsed.concurrency ?? old?.concurrency ?? 1,
      enabled: parsed.enabled ?? old?.enabled ?? true,
      ratePerHour: parsed.ratePerHour ?? old?.ratePerHour ?? 0,
      allowInsecure,
      timeoutSeconds: parsed.timeoutSeconds ?? old?.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
      models: parsed.models ?? old?.models ?? {},
      loras: parsed.loras ?? old?.loras ?? {},
    };
    if (parsed.headers !== undefined) this.setHeaders(next.name, parsed.headers);
    const others = this.list().filter((b) => b.name.toLowerCase() !== next.name.toLowerCase());
    this.settings.set(SETTINGS_KEY, [...others, next]);
    return next;
  }

  remove(name: string): string {
    const found = this.require(name);
    this.settings.set(
      SETTINGS_KEY,
      this.list().filter((b) => b.name !== found.name),
    );
    this.setHeaders(found.name, {});
    return found.name;
  }

  localEnabled(): boolean {
    return this.settings.get<boolean>(LOCAL_KEY, true);
  }

  setLocalEnabled(enabled: boolean): void {
    this.settings.set(LOCAL_KEY, enabled);
  }

  private allHeaders(): Record<string, Record<string, string>> {
    let raw: string | null = null;
    try {
      raw = this.secrets.get('backend.headers');
    } catch {
      return {};
    }
    if (!raw) return {};
    try {
      const parsed = JSON.parse(raw) as unknown;
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, Record<string, string>>) : {};
    } catch {
      return {};
    }
  }

  private setHeaders(name: string, headers: Record<string, string>): void {
    const all = { ...this.allHeaders() };
    if (Object.keys(headers).length) all[name.toLowerCase()] = headers;
    else delete all[name.toLowerCase()];
    this.secrets.set('backend.headers', Object.keys(all).length ? JSON.stringify(all) : null);
  }
}

/** The view of the local engine among the backends. */
export function localView(enabled: boolean, running: number, made: number): BackendView {
  return {
    name: LOCAL_BACKEND,
    kind: 'local',
    url: null,
    headerNames: [],
    concurrency: 1,
    enabled,
    ratePerHour: null,
    allowInsecure: false,
    timeoutSeconds: 0,
    models: {},
    loras: {},
    state: !enabled ? 'disabled' : running > 0 ? 'busy' : 'idle',
    running,
    made,
    reason: null,
    inventory: null,
  };
}
