/** The prompt composer part of the API contract: skeleton, templates, drafts, queueing. */
import { z } from 'zod';
import { aspect, batches, id, problemText, readAspectFlag, seed } from '../common/index.js';
import { generationSettingsSchema, type Job } from './generation.js';

export interface Skeleton {
  projectId: number;
  mood: string;
  subjects: string[];
  aspect: string;
  palette: { name: string; hex: string }[];
}

export interface DraftAnnotations {
  words: number;
  cameraVerbs: string[];
  lightingAdjectives: string[];
  brandColours: string[];
  /** What keeps it from the brief ("five 25-word prompts, one camera verb, one lighting adjective"). */
  problems: string[];
}

export interface Draft extends DraftAnnotations {
  id: number;
  projectId: number;
  text: string;
  source: 'offline' | 'llm';
  starred: boolean;
  createdAt: string;
}

export interface Expansion {
  /** The prompts (the first 500 at most), with `--ar` removed. */
  prompts: string[];
  /** How many the template makes in all (combinatorial mode). */
  total: number;
  /** The `--ar W:H` of the template, if any. */
  aspect: string | null;
  loras: { name: string; weight: number }[];
}

export interface LlmSettings {
  baseUrl: string | null;
  model: string | null;
  hasKey: boolean;
}

/**
 * A queued prompt's own `--ar W:H` (its last words; both sides 1 to 99, and a size the queue
 * takes), split from its text, or why it cannot be read. The composer's queueing reads the same.
 */
export function promptAspect(text: string): { prompt: string; aspect: string | null } | { error: string } {
  const read = readAspectFlag(text);
  return 'problem' in read ? { error: problemText(read.problem) } : { prompt: read.text, aspect: read.aspect };
}

/** How a message names a prompt: its number (from 1) and its first words. */
export function promptLabel(index: number, text: string): string {
  const clipped = text.trim().replace(/\s+/g, ' ');
  return `Prompt ${index + 1} ("${clipped.length > 40 ? `${clipped.slice(0, 39)}…` : clipped}")`;
}

const lists = z.record(
  z.string().regex(/^[\w ]{1,40}$/, 'must be named with letters, digits and spaces (up to 40)'),
  z.array(z.string().trim().min(1).max(200)).min(1).max(200),
);

/** An OpenAI-compatible endpoint: http or https only (never file:, data:, ftp:). */
const llmBaseUrl = z.url({ protocol: /^https?$/, error: 'must be a URL like http://127.0.0.1:8080/v1' });

export const promptRequests = {
  'prompt.skeleton': { input: z.object({ projectId: id }).strict(), output: null as unknown as Skeleton },
  'prompt.saveSkeleton': {
    input: z
      .object({
        projectId: id,
        mood: z.string().max(500),
        subjects: z.array(z.string().trim().min(1).max(80)).min(1, 'must have at least one subject').max(20),
        aspect,
      })
      .strict(),
    output: null as unknown as Skeleton,
  },
  'prompt.expand': {
    input: z
      .object({
        template: z.string().trim().min(1, 'must not be empty').max(4000),
        /** `all`: every combination (in order); `random`: `count` seeded picks. */
        mode: z.enum(['all', 'random']).optional(),
        count: z.number().int().min(1).max(500).optional(),
        seed: seed.optional(),
        /** Named lists for `{subject}`, `{camera action}`, …; defaults come from the skeleton and the built-in vocabularies. */
        lists: lists.optional(),
        projectId: id.optional(),
      })
      .strict(),
    output: null as unknown as Expansion,
  },
  'prompt.draft': {
    input: z
      .object({ projectId: id, n: z.number().int().min(1).max(10).optional(), seed: seed.optional(), llm: z.boolean().optional() })
      .strict(),
    output: null as unknown as Draft[],
  },
  'prompt.drafts': { input: z.object({ projectId: id }).strict(), output: null as unknown as Draft[] },
  'prompt.star': { input: z.object({ draftId: id, starred: z.boolean() }).strict(), output: null as unknown as Draft },
  'prompt.llm': { input: z.object({}).strict(), output: null as unknown as LlmSettings },
  'prompt.setLlm': {
    input: z
      .object({
        baseUrl: llmBaseUrl.nullable(),
        model: z.string().trim().min(1).max(200).nullable(),
        apiKey: z.string().max(500).nullable().optional(),
      })
      .strict(),
    output: null as unknown as LlmSettings,
  },
  /** Checks the endpoint with one tiny completion: the fields given (before saving), else the stored ones. */
  'prompt.testLlm': {
    input: z
      .object({
        baseUrl: llmBaseUrl.optional(),
        model: z.string().trim().min(1, 'must not be empty').max(200).optional(),
        apiKey: z.string().max(500).optional(),
      })
      .strict(),
    output: null as unknown as { ok: true; message: string },
  },
  'prompt.queue': {
    input: z
      .object({
        projectId: id,
        prompts: z
          .array(z.string().trim().min(1).max(4000))
          .min(1, 'must queue at least one prompt')
          .max(200)
          // Every prompt is read before any is queued: one bad `--ar` queues nothing.
          .superRefine((prompts, ctx) => {
            prompts.forEach((text, i) => {
              const read = promptAspect(text);
              if ('error' in read) ctx.addIssue({ code: 'custom', path: [i], message: `${promptLabel(i, text)}: ${read.error}` });
            });
          }),
        negativePrompt: z.string().max(4000),
        settings: generationSettingsSchema,
        batches,
        seed: seed.optional(),
        /** Queued with the Draft toggle on (the settings are already the fast ones). */
        draft: z.boolean({ error: 'must be true or false' }).optional(),
      })
      .strict(),
    output: null as unknown as Job[],
  },
} as const;
