/**
 * From a prompt to CLIP's 77-token chunks and back to weighted hidden states, as A1111's
 * `FrozenCLIPEmbedderWithCustomWords` does with its default settings (`sd_hijack_clip.py`,
 * "Original" emphasis from `sd_emphasis.py`). Prompts longer than 75 tokens become several chunks,
 * each encoded on its own and concatenated along the token axis. Pure TypeScript.
 */
import { isBreak, parsePromptAttention, type PromptPiece } from './prompt-syntax.js';
import { type ClipTokenizer } from './tokenizer.js';

/** Prompt tokens per chunk; with BOS and EOS a chunk is CLIP's 77-token context. */
export const CHUNK_TOKENS = 75;
export const CHUNK_LENGTH = CHUNK_TOKENS + 2;
/** A1111's `comma_padding_backtrack` default: a chunk may end early at a comma this close to its end. */
export const COMMA_BACKTRACK = 20;

/** One text-encoder input: token ids and each token's attention weight. */
export interface PromptChunk {
  ids: Int32Array;
  weights: Float32Array;
}

/** What chunking needs of a tokenizer. */
export type ChunkTokenizer = Pick<ClipTokenizer, 'encode' | 'bosId' | 'eosId' | 'padId' | 'commaId'>;

/** Tokens of the chunk being filled, before framing. */
interface OpenChunk {
  tokens: number[];
  weights: number[];
}

/**
 * A prompt (LoRA tags already removed) as chunks of 77 ids: `[BOS, up to 75 tokens, EOS, padding]`.
 * A `BREAK` closes the current chunk; a chunk that fills up moves the words after its last comma
 * (if within 20 tokens of the end) to the next chunk. An empty prompt gives one chunk.
 */
export function promptChunks(tokenizer: ChunkTokenizer, prompt: string | readonly PromptPiece[]): PromptChunk[] {
  const pieces = typeof prompt === 'string' ? parsePromptAttention(prompt) : prompt;
  const chunks: PromptChunk[] = [];
  let open: OpenChunk = { tokens: [], weights: [] };
  let lastComma = -1;
  const close = (): void => {
    chunks.push(frameChunk(tokenizer, open));
    open = { tokens: [], weights: [] };
    lastComma = -1;
  };
  for (const piece of pieces) {
    if (isBreak(piece)) {
      close();
      continue;
    }
    for (const token of tokenizer.encode(piece.text)) {
      if (token === tokenizer.commaId) {
        lastComma = open.tokens.length;
      } else if (open.tokens.length === CHUNK_TOKENS && lastComma !== -1 && CHUNK_TOKENS - lastComma <= COMMA_BACKTRACK) {
        const moved = { tokens: open.tokens.splice(lastComma + 1), weights: open.weights.splice(lastComma + 1) };
        close();
        open = moved;
      }
      if (open.tokens.length === CHUNK_TOKENS) close();
      open.tokens.push(token);
      open.weights.push(piece.weight);
    }
  }
  if (open.tokens.length > 0 || chunks.length === 0) close();
  return chunks;
}

/**
 * `[BOS, tokens, EOS…]` to 77, weight 1 outside the tokens; then, as A1111 does for SD 2.x, every
 * position after the first EOS becomes the pad token (a no-op where pad is EOS, as in SD 1.x).
 */
function frameChunk(tokenizer: ChunkTokenizer, open: OpenChunk): PromptChunk {
  const ids = new Int32Array(CHUNK_LENGTH).fill(tokenizer.eosId);
  const weights = new Float32Array(CHUNK_LENGTH).fill(1);
  ids[0] = tokenizer.bosId;
  ids.set(open.tokens, 1);
  weights.set(open.weights, 1);
  const firstEos = ids.indexOf(tokenizer.eosId);
  if (tokenizer.padId !== tokenizer.eosId) ids.fill(tokenizer.padId, firstEos + 1);
  return { ids, weights };
}

/** The chunk of an empty prompt, which A1111 appends to the shorter of cond and uncond. */
export function emptyChunk(tokenizer: ChunkTokenizer): PromptChunk {
  return promptChunks(tokenizer, '')[0]!;
}

/**
 * Cond and uncond with the same number of chunks, the shorter one padded with empty-prompt chunks
 * (A1111's "pad prompt/negative prompt" behaviour), so both can go through the UNet in one batch.
 */
export function padChunks(
  tokenizer: ChunkTokenizer,
  cond: readonly PromptChunk[],
  uncond: readonly PromptChunk[],
): [PromptChunk[], PromptChunk[]] {
  const count = Math.max(cond.length, uncond.length);
  const pad = (chunks: readonly PromptChunk[]): PromptChunk[] => [
    ...chunks,
    ...Array.from({ length: count - chunks.length }, () => emptyChunk(tokenizer)),
  ];
  return [pad(cond), pad(uncond)];
}

/**
 * A1111's "Original" emphasis on one encoded chunk (`tokens` rows of `dim` floats): scale each token's
 * row by its weight, then rescale everything so the mean is what it was before weighting.
 * Keeping the mean stops heavy weights from shifting the whole conditioning. Float32 steps as in PyTorch;
 * the means are summed in float64. Returns a new array.
 */
export function applyEmphasis(hidden: Float32Array, weights: Float32Array, tokens: number, dim: number): Float32Array {
  if (hidden.length !== tokens * dim || weights.length !== tokens) {
    throw new Error(`applyEmphasis: ${hidden.length} values and ${weights.length} weights do not fit ${tokens}×${dim}`);
  }
  const originalMean = mean(hidden);
  const z = new Float32Array(hidden.length);
  for (let t = 0; t < tokens; t++) {
    const weight = weights[t]!;
    for (let i = t * dim; i < (t + 1) * dim; i++) z[i] = hidden[i]! * weight;
  }
  const newMean = mean(z);
  // All weights 1 gives a ratio of 1; a zero mean (all weights 0) would divide by zero, so leave z be.
  if (newMean === 0) return z;
  const ratio = Math.fround(Math.fround(originalMean) / Math.fround(newMean));
  for (let i = 0; i < z.length; i++) z[i] = z[i]! * ratio;
  return z;
}

function mean(values: Float32Array): number {
  let sum = 0;
  for (const value of values) sum += value;
  return values.length === 0 ? 0 : sum / values.length;
}
