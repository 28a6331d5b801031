/**
 * Backends (issue 21): where the queue's images are made. The local engine, plus any number of
 * ComfyUI servers (a studio's GPU boxes, rented cloud GPUs) that the queue sends images to.
 */
import { z } from 'zod';

/** The local engine's name among the backends. */
export const LOCAL_BACKEND = 'local';

/** Most images one ComfyUI server is sent at once. */
export const MAX_BACKEND_CONCURRENCY = 8;

export const backendName = z
  .string({ error: 'must be text' })
  .trim()
  .min(1, 'must not be empty')
  .max(40, 'must be at most 40 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'must start with a letter or digit and hold only letters, digits, spaces, . _ -');

/** A header name as HTTP allows it (a token), and a value on one line. */
const headerName = z
  .string()
  .min(1, 'a header name must not be empty')
  .max(100, 'a header name must be at most 100 characters')
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'a header name must be letters, digits and - only (e.g. Authorization)');
const headerValue = z
  .string()
  .max(4000, 'a header value must be at most 4000 characters')
  .refine((v) => !/[\r\n\0]/.test(v), 'a header value must be one line');

/** A name Onbrand uses (a model folder or a LoRA's name) → the file name the ComfyUI server knows it by. */
const nameMap = z.record(
  z.string().trim().min(1, 'a name must not be empty').max(200, 'a name must be at most 200 characters'),
  z.string().trim().min(1, 'a ComfyUI file name must not be empty').max(400, 'a ComfyUI file name must be at most 400 characters'),
);

export const backendSaveSchema = z
  .object({
    name: backendName,
    /** The server's base address, e.g. https://gpu-1.studio.example or http://127.0.0.1:8188. */
    url: z.string({ error: 'must be text' }).trim().min(1, 'must not be empty').max(2000, 'must be at most 2000 characters'),
    /** Sent with every request (a reverse proxy's Authorization); absent keeps the stored ones, {} removes them. */
    headers: z.record(headerName, headerValue).optional(),
    concurrency: z
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(MAX_BACKEND_CONCURRENCY, `must be at most ${MAX_BACKEND_CONCURRENCY}`)
      .optional(),
    enabled: z.boolean({ error: 'must be true or false' }).optional(),
    /** Money per GPU hour on this server (a rented GPU costs more than a studio's own box). */
    ratePerHour: z.number({ error: 'must be a number' }).min(0, 'must not be negative').max(1000, 'must be at most 1000').optional(),
    /** The user confirmed plain http:// to a host that is not this machine (prompts and images travel unencrypted). */
    allowInsecure: z.boolean({ error: 'must be true or false' }).optional(),
    /** An image with no word from the server for this long is given up on that server and made elsewhere. */
    timeoutSeconds: z
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(5, 'must be at least 5')
      .max(3600, 'must be at most 3600')
      .optional(),
    /** Renamed files: Onbrand's model name → the server's checkpoint file (absent keeps the stored table). */
    models: nameMap.optional(),
    /** Renamed files: a LoRA tag's name → the server's LoRA file. */
    loras: nameMap.optional(),
  })
  .strict();
export type BackendSave = z.input<typeof backendSaveSchema>;

export type BackendState = 'idle' | 'busy' | 'paused' | 'disabled';

/** A backend as the Settings panel and `onbrand backends list` show it (header values are never shown). */
export interface BackendView {
  name: string;
  kind: 'local' | 'comfyui';
  url: string | null;
  headerNames: string[];
  concurrency: number;
  enabled: boolean;
  /** Null for the local engine: it costs the Time + Cost panel's GPU rate. */
  ratePerHour: number | null;
  allowInsecure: boolean;
  timeoutSeconds: number;
  models: Record<string, string>;
  loras: Record<string, string>;
  state: BackendState;
  /** Images being made there now. */
  running: number;
  /** Images made there since the app started. */
  made: number;
  /** Why it is paused (repeated failures), or the last failure; null when none. */
  reason: string | null;
  /** What the server has, as last asked; null before the first answer. */
  inventory: { checkpoints: string[]; loras: string[]; checkedAt: string } | null;
}

/** `backends.test`: what the server is and has. */
export interface BackendTestResult {
  name: string;
  url: string;
  version: string | null;
  devices: { name: string; type: string; vramTotal: number; vramFree: number }[];
  checkpoints: string[];
  loras: string[];
  /** Round trip of the checks, milliseconds. */
  ms: number;
}

const named = z.object({ name: backendName }).strict();

export const backendRequests = {
  'backends.list': { input: z.object({}).strict(), output: null as unknown as BackendView[] },
  'backends.save': { input: backendSaveSchema, output: null as unknown as BackendView },
  'backends.remove': { input: named, output: null as unknown as { removed: string } },
  'backends.test': { input: named, output: null as unknown as BackendTestResult },
  /** A backend paused after repeated failures takes images again. */
  'backends.resume': { input: named, output: null as unknown as BackendView },
  /** The local engine on or off (a laptop that should leave the work to the studio's GPUs). */
  'backends.local': {
    input: z.object({ enabled: z.boolean({ error: 'must be true or false' }) }).strict(),
    output: null as unknown as BackendView,
  },
} as const;

export const backendEvents = {
  /** A backend was added, changed, paused or resumed, or started or finished an image. */
  'backends.updated': z.object({ backends: z.array(z.any()) }),
} as const;
