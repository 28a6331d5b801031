import { describe, expect, it } from 'vitest';
import { CHUNK_LENGTH, applyEmphasis, emptyChunk, padChunks, promptChunks, type ChunkTokenizer, type PromptChunk } from './conditioning.js';
import { ClipTokenizer } from './tokenizer.js';

const BOS = 49406;
const EOS = 49407;
const COMMA = 267;

/** A stand-in tokenizer: each space-separated number is its own id, `,` is CLIP's comma. */
function numberTokenizer(padId = EOS): ChunkTokenizer {
  return {
    bosId: BOS,
    eosId: EOS,
    padId,
    commaId: COMMA,
    encode: (text) =>
      text
        .split(/\s+/)
        .filter((word) => word !== '')
        .map((word) => (word === ',' ? COMMA : Number(word))),
  };
}

/** `count` tokens 1, 2, 3… as prompt text. */
function words(count: number, from = 1): string {
  return Array.from({ length: count }, (_, i) => String(from + i)).join(' ');
}

/** The 77 ids `[BOS, ...tokens, EOS, fill…]`. */
function framed(tokens: readonly number[], fill = EOS): number[] {
  return [BOS, ...tokens, EOS, ...Array<number>(CHUNK_LENGTH - tokens.length - 2).fill(fill)];
}

function idsOf(chunks: PromptChunk[]): number[][] {
  return chunks.map((chunk) => [...chunk.ids]);
}

describe('promptChunks', () => {
  const tokenizer = numberTokenizer();

  it('gives one all-padding chunk for an empty prompt', () => {
    const chunks = promptChunks(tokenizer, '');
    expect(idsOf(chunks)).toEqual([framed([])]);
    expect([...chunks[0]!.weights]).toEqual(Array<number>(77).fill(1));
  });

  it('carries each token its weight; BOS, EOS and padding weigh 1', () => {
    const [chunk] = promptChunks(tokenizer, '(1 2:1.5) [3] 4');
    expect([...chunk!.ids]).toEqual(framed([1, 2, 3, 4]));
    expect([...chunk!.weights.subarray(0, 7)]).toEqual([1, 1.5, 1.5, Math.fround(1 / 1.1), 1, 1, 1]);
    expect(chunk!.ids).toBeInstanceOf(Int32Array);
    expect(chunk!.weights).toBeInstanceOf(Float32Array);
  });

  it('accepts already parsed pieces', () => {
    const [chunk] = promptChunks(tokenizer, [{ text: '7 8', weight: 0.5 }]);
    expect([...chunk!.ids.subarray(0, 4)]).toEqual([BOS, 7, 8, EOS]);
    expect([...chunk!.weights.subarray(0, 4)]).toEqual([1, 0.5, 0.5, 1]);
  });

  it('pads after the first EOS with a distinct pad token (SD 2.x)', () => {
    // [BOS, 1, 2, 3, EOS, 0, …, 0]: the last position is padding too, as in A1111 and Hugging Face.
    expect(idsOf(promptChunks(numberTokenizer(0), '1 2 3'))).toEqual([framed([1, 2, 3], 0)]);
  });

  it('fits exactly 75 tokens in one chunk and starts a second at 76', () => {
    const tokens75 = Array.from({ length: 75 }, (_, i) => i + 1);
    expect(idsOf(promptChunks(tokenizer, words(75)))).toEqual([framed(tokens75)]);
    expect(idsOf(promptChunks(tokenizer, words(76)))).toEqual([framed(tokens75), framed([76])]);
  });

  it('ends the chunk at BREAK, even an empty one', () => {
    expect(idsOf(promptChunks(tokenizer, '1 2 BREAK 3'))).toEqual([framed([1, 2]), framed([3])]);
    expect(idsOf(promptChunks(tokenizer, 'BREAK 3'))).toEqual([framed([]), framed([3])]);
    expect(idsOf(promptChunks(tokenizer, '1 BREAK'))).toEqual([framed([1])]);
  });

  it('moves the words after a comma near the end into the next chunk, with their weights', () => {
    // 70 words, a comma (position 70), then 10 (heavier) words: the chunk fills at 75 with the comma 5 back.
    const chunks = promptChunks(tokenizer, `${words(70)} , (${words(10, 101)}:1.2)`);
    const head = [...Array.from({ length: 70 }, (_, i) => i + 1), COMMA];
    expect(idsOf(chunks)).toEqual([framed(head), framed(Array.from({ length: 10 }, (_, i) => 101 + i))]);
    expect(chunks[0]!.weights.subarray(1, 73).every((w) => w === 1)).toBe(true);
    expect([...chunks[1]!.weights.subarray(0, 12)]).toEqual([1, ...Array<number>(10).fill(Math.fround(1.2)), 1]);
  });

  it('backtracks to a comma exactly 20 tokens from the end, not 21', () => {
    const at55 = promptChunks(tokenizer, `${words(55)} , ${words(30, 101)}`);
    expect(at55[0]!.ids[56]).toBe(COMMA);
    expect(at55[0]!.ids[57]).toBe(EOS);
    expect(at55[1]!.ids[1]).toBe(101);

    const at54 = promptChunks(tokenizer, `${words(54)} , ${words(30, 101)}`);
    expect(at54[0]!.ids[75]).toBe(120); // a hard cut after 75 tokens
    expect(at54[1]!.ids[1]).toBe(121);
  });

  it('starts a new chunk with a comma that arrives when the chunk is full', () => {
    const chunks = promptChunks(tokenizer, `${words(75)} , 1`);
    expect(idsOf(chunks)[1]!.slice(0, 4)).toEqual([BOS, COMMA, 1, EOS]);
  });

  it('works with the real tokenizer type', () => {
    const vocab = { a: 0, 'a</w>': 1, ',</w>': 2, '<|startoftext|>': 3, '<|endoftext|>': 4, '!': 5 };
    const clip = new ClipTokenizer(vocab, '#version: 0.2\n', { padToken: '!' });
    expect([...promptChunks(clip, 'a, a')[0]!.ids.subarray(0, 7)]).toEqual([3, 1, 2, 1, 4, 5, 5]);
  });
});

describe('padChunks', () => {
  const tokenizer = numberTokenizer();
  const one = promptChunks(tokenizer, '1');
  const two = promptChunks(tokenizer, words(80));

  it('appends empty-prompt chunks to the shorter side', () => {
    const [cond, uncond] = padChunks(tokenizer, two, one);
    expect(idsOf(cond)).toEqual(idsOf(two));
    expect(idsOf(uncond)).toEqual([...idsOf(one), framed([])]);
    const [cond2, uncond2] = padChunks(tokenizer, one, two);
    expect(idsOf(cond2)).toEqual([...idsOf(one), [...emptyChunk(tokenizer).ids]]);
    expect(uncond2).toHaveLength(2);
  });

  it('leaves equal lengths alone', () => {
    const [cond, uncond] = padChunks(tokenizer, one, one);
    expect(cond).toEqual(one);
    expect(uncond).toEqual(one);
  });
});

describe('applyEmphasis', () => {
  it('weights rows, then restores the original mean (hand-computed)', () => {
    // hidden [[1, 2], [3, 4]], weights [1, 2]: mean 2.5; weighted [[1, 2], [6, 8]], mean 4.25;
    // scale 2.5 / 4.25 = 10/17, giving [10, 20, 60, 80] / 17.
    const z = applyEmphasis(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 2]), 2, 2);
    const expected = [10 / 17, 20 / 17, 60 / 17, 80 / 17];
    expected.forEach((value, i) => expect(z[i]).toBeCloseTo(value, 6));
  });

  it('handles a negative entry exactly', () => {
    // hidden [-1, 3] (2 tokens × 1), weights [2, 1]: mean 1; weighted [-2, 3], mean 0.5; scale 2 → [-4, 6].
    expect([...applyEmphasis(new Float32Array([-1, 3]), new Float32Array([2, 1]), 2, 1)]).toEqual([-4, 6]);
  });

  it('leaves the values as they were when every weight is 1, and returns a new array', () => {
    const hidden = new Float32Array([0.25, -1.5, 3, 7]);
    const z = applyEmphasis(hidden, new Float32Array([1, 1]), 2, 2);
    expect([...z]).toEqual([...hidden]);
    expect(z).not.toBe(hidden);
  });

  it('does not divide by a zero mean', () => {
    expect([...applyEmphasis(new Float32Array([1, 2]), new Float32Array([0, 0]), 2, 1)]).toEqual([0, 0]);
  });

  it('refuses sizes that do not fit', () => {
    expect(() => applyEmphasis(new Float32Array(6), new Float32Array(2), 2, 2)).toThrow(/do not fit 2×2/);
  });
});
