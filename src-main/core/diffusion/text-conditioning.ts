/**
 * A prompt to the UNet's text conditioning, as A1111 computes it (`sd_hijack_clip.py` per encoder,
 * sgm's `GeneralConditioner` across encoders), for one text encoder (SD 1.x / 2.x) or two (SDXL):
 *
 * - each encoder chunks the prompt on its own tokenizer into 77-id chunks (`promptChunks`); the
 *   tokenizers share CLIP's vocabulary, so the chunks hold the same tokens, and differ only in
 *   padding: SDXL's first pads with the end-of-text token, its second (`tokenizer_2`) with "!" (id 0)
 *   after the end-of-text token;
 * - each chunk is encoded, the chosen hidden state taken (SD 1.x: the last layer after the final
 *   layer norm; SD 2.x and SDXL: the penultimate layer) and emphasis applied with the mean restored,
 *   per encoder (A1111's `process_tokens`);
 * - SDXL concatenates the two encoders' states of each token on the last axis (768 + 1280 = 2048),
 *   and chunks are concatenated on the token axis;
 * - the pooled text (SDXL) is the second encoder's `text_embeds` of the first chunk (A1111 returns
 *   `zs[0].pooled`).
 *
 * The negative prompt goes through the same path, except that for SDXL an empty negative prompt's
 * states and pooled text are zeros (`zeroed`): A1111's `force_zero_negative_prompt`
 * (`sd_models_xl.get_learned_conditioning`) and diffusers' `force_zeros_for_empty_prompt`; ComfyUI
 * encodes the empty prompt instead (the engine's `encodeEmptyNegative`).
 */
import type { Feed, OnnxSession } from './backend.js';
import { applyEmphasis, CHUNK_LENGTH, promptChunks, type ChunkTokenizer } from './conditioning.js';
import type { PromptPiece } from './prompt-syntax.js';

export interface Conditioning {
  /** [tokens, dim] row-major: every chunk's states, chunk after chunk. */
  data: Float32Array;
  tokens: number;
  dim: number;
  /** SDXL's pooled text ([projection width]); null for one-encoder models. */
  pooled: Float32Array | null;
}

/** One text encoder: its session, tokenizer and the feeds of its LoRA branches. */
export interface TextEncoderPart {
  session: OnnxSession;
  tokenizer: ChunkTokenizer;
  feeds?: Record<string, Feed>;
}

/** The states an encoder's graph gives: Onbrand's `hidden_states` / `last_hidden_state`, or an export's penultimate `hidden_states.N`. */
function statesOf(
  outputs: Record<string, { data: Float32Array; dims: readonly number[] }>,
  penultimate: boolean,
): { data: Float32Array; dims: readonly number[] } {
  if (outputs.hidden_states) return outputs.hidden_states;
  // An optimum export of an SDXL encoder lists every layer's states: the penultimate is the second-to-last.
  const layers = Object.keys(outputs)
    .map((k) => /^hidden_states\.(\d+)$/.exec(k))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]));
  if (penultimate && layers.length > 1) return outputs[`hidden_states.${Math.max(...layers) - 1}`]!;
  // SDXL conditions on the penultimate layer: an encoder that gives only its last is refused, not used.
  if (penultimate)
    throw new Error(
      `an SDXL text encoder must give its penultimate layer's states (hidden_states); this one gives ${Object.keys(outputs).join(', ')}`,
    );
  return outputs.last_hidden_state ?? Object.values(outputs)[0]!;
}

/** Encodes `prompt` (LoRA tags already removed) with one or two text encoders. */
export async function encodePrompt(encoders: readonly TextEncoderPart[], prompt: string | readonly PromptPiece[]): Promise<Conditioning> {
  if (encoders.length === 0) throw new Error('no text encoder');
  const perEncoder: { chunks: Float32Array[]; dim: number; pooled: Float32Array | null }[] = [];
  let chunkCount = -1;
  for (const encoder of encoders) {
    const chunks = promptChunks(encoder.tokenizer, prompt);
    if (chunkCount >= 0 && chunks.length !== chunkCount)
      throw new Error(
        "the model's tokenizer_2/ does not match its tokenizer/ (they split the prompt differently): both should hold CLIP's vocabulary",
      );
    chunkCount = chunks.length;
    const inputName = encoder.session.input('input_ids')?.name ?? encoder.session.inputs[0]!.name;
    const states: Float32Array[] = [];
    let dim = 0;
    let pooled: Float32Array | null = null;
    for (const [index, chunk] of chunks.entries()) {
      const outputs = await encoder.session.run({
        [inputName]: { data: Array.from(chunk.ids), dims: [1, chunk.ids.length] },
        ...(encoder.feeds ?? {}),
      });
      const hidden = statesOf(outputs, encoders.length > 1);
      dim = hidden.dims[2]!;
      states.push(applyEmphasis(hidden.data, chunk.weights, chunk.ids.length, dim));
      if (index === 0 && outputs.text_embeds) pooled = Float32Array.from(outputs.text_embeds.data);
    }
    perEncoder.push({ chunks: states, dim, pooled });
  }
  const length = CHUNK_LENGTH;
  const dim = perEncoder.reduce((n, e) => n + e.dim, 0);
  const tokens = chunkCount * length;
  const data = new Float32Array(tokens * dim);
  // Token t of chunk c: encoder 1's row, then encoder 2's.
  for (let c = 0; c < chunkCount; c++)
    for (let t = 0; t < length; t++) {
      let offset = (c * length + t) * dim;
      for (const encoder of perEncoder) {
        data.set(encoder.chunks[c]!.subarray(t * encoder.dim, (t + 1) * encoder.dim), offset);
        offset += encoder.dim;
      }
    }
  return { data, tokens, dim, pooled: perEncoder.find((e) => e.pooled)?.pooled ?? null };
}

/** The same shape with every value 0 (diffusers' `force_zeros_for_empty_prompt` for an empty negative prompt). */
export function zeroed(c: Conditioning): Conditioning {
  return {
    data: new Float32Array(c.data.length),
    tokens: c.tokens,
    dim: c.dim,
    pooled: c.pooled ? new Float32Array(c.pooled.length) : null,
  };
}

/** SDXL's micro-conditioning, in diffusers' order: original size (h, w), crop top-left (top, left), target size (h, w). */
export function sdxlTimeIds(width: number, height: number, crop: { top: number; left: number } = { top: 0, left: 0 }): number[] {
  return [height, width, crop.top, crop.left, height, width];
}
