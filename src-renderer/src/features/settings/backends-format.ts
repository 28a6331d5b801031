/** Settings → GPU backends: the words and checks of BackendsSection, apart from React (tested in backends-format.test.ts). */
import type { BackendView } from '../../../../src-main/core/api/index';

/** The contract's MAX_BACKEND_CONCURRENCY (a value the renderer may not import from the API; the core checks it). */
export const MAX_AT_ONCE = 8;

export const gib = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The plain words beside "Allow plain http to another machine" (and the reason the core refuses such an address). */
export const PLAIN_HTTP_WARNING =
  'ComfyUI has no login of its own: anyone who can reach its address can use it and fetch its images. Across a network, put it ' +
  'behind an HTTPS reverse proxy that asks for a token, and give that token as the header above. Plain http sends prompts, ' +
  'images and the token unencrypted: allow it only on a network you trust.';

/** The state as one short word or two for its badge, a tone, and the reason (paused, not answering) for the line beneath. */
export function backendState(b: BackendView): { text: string; tone: 'ok' | 'busy' | 'warn' | 'off'; reason: string | null } {
  if (!b.enabled) return { text: b.kind === 'local' ? 'off' : 'disabled', tone: 'off', reason: null };
  if (b.state === 'paused') return { text: 'paused', tone: 'warn', reason: b.reason ?? 'Paused after repeated failures.' };
  if (b.kind === 'comfyui' && b.inventory === null)
    return b.reason ? { text: 'not answering', tone: 'warn', reason: b.reason } : { text: 'not asked yet', tone: 'off', reason: null };
  if (b.state === 'busy' || b.running > 0) return { text: `busy ${b.running}`, tone: 'busy', reason: null };
  return { text: 'idle', tone: 'ok', reason: null };
}

/** "3 checkpoints, 2 LoRAs", with the names for a tooltip. */
export function inventoryText(b: BackendView): { text: string; names: string } | null {
  if (!b.inventory) return null;
  const { checkpoints, loras } = b.inventory;
  return {
    text: `${plural(checkpoints.length, 'checkpoint')}, ${plural(loras.length, 'LoRA')}`,
    names: [`Checkpoints: ${checkpoints.join(', ') || 'none'}`, `LoRAs: ${loras.join(', ') || 'none'}`].join('\n'),
  };
}

export interface Mapping {
  from: string;
  to: string;
}
export type FormField =
  'name' | 'url' | 'headers' | 'concurrency' | 'ratePerHour' | 'timeoutSeconds' | 'allowInsecure' | 'models' | 'loras';
const FORM_FIELDS: readonly FormField[] = [
  'name',
  'url',
  'headers',
  'concurrency',
  'ratePerHour',
  'timeoutSeconds',
  'allowInsecure',
  'models',
  'loras',
];

/** The form field an error's path names (`headers.Authorization` → headers), or undefined for the form as a whole. */
export function formField(path: string | undefined): FormField | undefined {
  const head = path?.split('.')[0];
  return FORM_FIELDS.find((f) => f === head);
}

/** A stored table as the form's rows. */
export const mappingRows = (record: Record<string, string> | undefined): Mapping[] =>
  Object.entries(record ?? {}).map(([from, to]) => ({ from, to }));

/** A mapping's rows as a record, or why not (a half-filled row). */
export function mappingRecord(list: Mapping[]): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const row of list) {
    const from = row.from.trim();
    const to = row.to.trim();
    if (!from && !to) continue;
    if (!from || !to) return 'Give both the name and the file on the server, or remove the row.';
    if (from in out) return `"${from}" is in two rows: keep one.`;
    out[from] = to;
  }
  return out;
}

/**
 * The `headers` to send from the form's header fields: a new value replaces what is stored, Clear
 * removes it ({}), and nothing typed keeps it (undefined). The stored value is never in the form,
 * so a renamed header needs its value typed again.
 */
export function headerInput(fields: {
  name: string;
  value: string;
  /** The stored header's name, '' when none. */
  stored: string;
  clear: boolean;
}): { headers: Record<string, string> | undefined } | { error: string } {
  const name = fields.name.trim();
  if (fields.value) return name ? { headers: { [name]: fields.value } } : { error: 'Give the header a name (e.g. Authorization).' };
  if (fields.clear) return name ? { error: `Type the value of the header ${name}, or clear its name.` } : { headers: {} };
  if (!name || name === fields.stored) return { headers: undefined };
  return {
    error: fields.stored ? `Type the value again for the header ${name}.` : `Type the value of the header ${name}, or clear its name.`,
  };
}
