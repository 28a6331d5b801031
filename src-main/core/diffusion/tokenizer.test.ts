import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer, DEFAULT_BOS_ID, DEFAULT_EOS_ID, bpe, cleanText } from './tokenizer.js';

// The real CLIP vocabulary stays outside the project (third-party licence): ../shared/fixtures, from the repo root.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const clipDir = path.resolve(repoRoot, '../shared/fixtures/clip-tokenizer');
const casesFile = path.resolve(repoRoot, '../shared/fixtures/torch-reference/tokenizer_cases.json');
const haveClip = existsSync(path.join(clipDir, 'vocab.json')) && existsSync(casesFile);
const missingReason = `CLIP vocabulary fixtures not found at ${clipDir} (they live outside the project); skipped`;
if (!haveClip) console.log(missingReason);

interface TokenizerCase {
  text: string;
  ids: number[];
}
// ids from openai/CLIP simple_tokenizer.encode (no BOS/EOS); see ../shared/fixtures/README.md.
const cases: TokenizerCase[] = haveClip ? (JSON.parse(readFileSync(casesFile, 'utf8')) as { cases: TokenizerCase[] }).cases : [];

describe('ClipTokenizer with the real CLIP vocabulary', () => {
  let clip: ClipTokenizer;
  beforeAll(async () => {
    if (haveClip) clip = await ClipTokenizer.fromFiles(clipDir);
  });

  it('takes BOS, EOS, comma and (absent a config) pad from the vocabulary', (ctx) => {
    ctx.skip(!haveClip, missingReason);
    expect([clip.bosId, clip.eosId, clip.padId, clip.commaId]).toEqual([49406, 49407, 49407, 267]);
  });

  // One test per case, named by its text, so a mismatch says which string.
  if (!haveClip) it('encodes every fixture case as the original CLIP tokenizer does', (ctx) => ctx.skip(missingReason));
  for (const testCase of cases) {
    it(`encodes ${JSON.stringify(testCase.text)} as the original CLIP tokenizer does`, () => {
      expect(clip.encode(testCase.text)).toEqual(testCase.ids);
    });
  }

  it('gives the same ids from its word cache on a second call', (ctx) => {
    ctx.skip(!haveClip, missingReason);
    const text = 'a portrait of a woman, magenta and teal light';
    expect(clip.encode(text)).toEqual(clip.encode(text));
  });
});

/** A vocabulary whose ids are the tokens' positions in the list. */
function vocabOf(tokens: readonly string[]): Record<string, number> {
  return Object.fromEntries(tokens.map((token, id) => [token, id]));
}

const HEADER = '#version: 0.2\n';
const letters = ['a', 'b', 'c', 'a</w>', 'b</w>', 'c</w>'];

describe('ClipTokenizer BPE on a tiny vocabulary', () => {
  it('merges the lowest-ranked pair first', () => {
    const vocab = vocabOf([...letters, 'ab', 'bc</w>', 'abc</w>']);
    const bcFirst = new ClipTokenizer(vocab, `${HEADER}b c</w>\na b\n`);
    const abFirst = new ClipTokenizer(vocab, `${HEADER}a b\nb c</w>\n`);
    expect(bcFirst.encode('abc')).toEqual([vocab['a'], vocab['bc</w>']]);
    expect(abFirst.encode('abc')).toEqual([vocab['ab'], vocab['c</w>']]);
  });

  it('keeps merging until no known pair is left', () => {
    const vocab = vocabOf([...letters, 'ab', 'abc</w>']);
    const tokenizer = new ClipTokenizer(vocab, `${HEADER}a b\nab c</w>\n`);
    expect(tokenizer.encode('abc')).toEqual([vocab['abc</w>']]);
  });

  it('marks only the last symbol of a word with </w>', () => {
    expect(bpe('aa', new Map([['a a', 0]]))).toEqual(['a', 'a</w>']);
    expect(bpe('aa', new Map([['a a</w>', 0]]))).toEqual(['aa</w>']);
    expect(bpe('a', new Map())).toEqual(['a</w>']);
  });

  it('joins repeated pairs left to right without overlap', () => {
    expect(bpe('aaaa', new Map([['a a', 0]]))).toEqual(['aa', 'a', 'a</w>']);
  });

  it('splits words, numbers digit by digit, and punctuation runs', () => {
    const vocab = vocabOf([...letters, '1</w>', '2</w>', '!!</w>', '!', '!</w>']);
    const tokenizer = new ClipTokenizer(vocab, `${HEADER}! !</w>\n`);
    expect(tokenizer.encode('a 12!!')).toEqual([vocab['a</w>'], vocab['1</w>'], vocab['2</w>'], vocab['!!</w>']]);
  });

  it('cleans whitespace and lower-cases before splitting', () => {
    expect(cleanText('  A\t\n B\u00a0\u3000C  ')).toBe('a b c');
    const tokenizer = new ClipTokenizer(vocabOf(letters), HEADER);
    expect(tokenizer.encode('  A\t\nB  ')).toEqual(tokenizer.encode('a b'));
  });

  it('encodes UTF-8 bytes through the GPT-2 byte table', () => {
    // é is C3 A9; both bytes are printable, so they stand for themselves: Ã and ©.
    const vocab = vocabOf(['Ã', '©</w>', 'Ã©</w>']);
    expect(new ClipTokenizer(vocab, HEADER).encode('é')).toEqual([0, 1]);
    expect(new ClipTokenizer(vocab, `${HEADER}Ã ©</w>\n`).encode('é')).toEqual([2]);
    // A space byte (0x20) is not printable in the table: it becomes U+0120, Ġ.
    expect(bpe('\u0120', new Map())).toEqual(['\u0120</w>']);
  });

  it('maps symbols missing from the vocabulary to end-of-text, as Hugging Face does', () => {
    const vocab = vocabOf([...letters, '<|startoftext|>', '<|endoftext|>']);
    const tokenizer = new ClipTokenizer(vocab, HEADER);
    expect(tokenizer.encode('a z')).toEqual([vocab['a</w>'], vocab['<|endoftext|>']]);
  });

  it('keeps the special tokens whole', () => {
    const vocab = vocabOf([...letters, '<|startoftext|>', '<|endoftext|>']);
    const tokenizer = new ClipTokenizer(vocab, HEADER);
    expect(tokenizer.encode('<|startoftext|>a<|endoftext|>')).toEqual([6, vocab['a</w>'], 7]);
  });

  it('takes BOS and EOS from the vocabulary, else the CLIP defaults', () => {
    const withSpecials = new ClipTokenizer(vocabOf([...letters, '<|startoftext|>', '<|endoftext|>']), HEADER);
    expect([withSpecials.bosId, withSpecials.eosId]).toEqual([6, 7]);
    expect([withSpecials.idOf('a</w>'), withSpecials.idOf('zz')]).toEqual([3, undefined]);
    const bare = new ClipTokenizer(vocabOf(letters), HEADER);
    expect([bare.bosId, bare.eosId, bare.padId, bare.commaId]).toEqual([DEFAULT_BOS_ID, DEFAULT_EOS_ID, DEFAULT_EOS_ID, undefined]);
  });
});

describe('ClipTokenizer pad token', () => {
  const vocab = vocabOf(['!', ...letters, '<|startoftext|>', '<|endoftext|>']);

  it('defaults to end-of-text (SD 1.x)', () => {
    expect(new ClipTokenizer(vocab, HEADER).padId).toBe(vocab['<|endoftext|>']);
  });

  it('uses the given token (SD 2.x pads with "!")', () => {
    expect(new ClipTokenizer(vocab, HEADER, { padToken: '!' }).padId).toBe(0);
  });

  it('refuses a pad token missing from the vocabulary', () => {
    expect(() => new ClipTokenizer(vocab, HEADER, { padToken: '<pad>' })).toThrow(/pad token "<pad>" is not in vocab\.json/);
  });
});

describe('ClipTokenizer.fromFiles', () => {
  const vocab = vocabOf(['!', ...letters, '<|startoftext|>', '<|endoftext|>']);
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** A tokenizer folder with the given files; vocab.json and merges.txt unless overridden. */
  async function folder(files: Record<string, string | undefined>): Promise<string> {
    dir = await mkdtemp(path.join(os.tmpdir(), 'onbrand-tokenizer-'));
    const all: Record<string, string | undefined> = { 'vocab.json': JSON.stringify(vocab), 'merges.txt': `${HEADER}a b\n`, ...files };
    for (const [name, text] of Object.entries(all)) if (text !== undefined) await writeFile(path.join(dir, name), text);
    return dir;
  }

  it('reads vocab and merges; pad defaults to end-of-text without configs', async () => {
    const tokenizer = await ClipTokenizer.fromFiles(await folder({}));
    expect(tokenizer.padId).toBe(vocab['<|endoftext|>']);
    expect(tokenizer.encode('ab')).toEqual([vocab['a'], vocab['b</w>']]);
  });

  it('reads pad_token as a string from tokenizer_config.json', async () => {
    const tokenizer = await ClipTokenizer.fromFiles(await folder({ 'tokenizer_config.json': JSON.stringify({ pad_token: '!' }) }));
    expect(tokenizer.padId).toBe(0);
  });

  it('reads pad_token as an AddedToken object, special_tokens_map.json first', async () => {
    const tokenizer = await ClipTokenizer.fromFiles(
      await folder({
        'special_tokens_map.json': JSON.stringify({ pad_token: { content: '!', lstrip: false } }),
        'tokenizer_config.json': JSON.stringify({ pad_token: '<|endoftext|>' }),
      }),
    );
    expect(tokenizer.padId).toBe(0);
  });

  it('names a missing vocab.json or merges.txt', async () => {
    const noVocab = await folder({ 'vocab.json': undefined });
    await expect(ClipTokenizer.fromFiles(noVocab)).rejects.toThrow(/vocab\.json is missing/);
    await rm(noVocab, { recursive: true });
    const noMerges = await folder({ 'merges.txt': undefined });
    await expect(ClipTokenizer.fromFiles(noMerges)).rejects.toThrow(/merges\.txt is missing/);
  });

  it('names a malformed file', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'vocab.json': '{"a": 1,' }, /vocab\.json: not valid JSON/],
      [{ 'vocab.json': '["a"]' }, /vocab\.json: expected an object/],
      [{ 'vocab.json': '{"a": 1.5}' }, /vocab\.json: the id of "a" is not a non-negative integer/],
      [{ 'merges.txt': `${HEADER}a b\nabc\n` }, /merges\.txt line 3: expected two symbols/],
      [{ 'tokenizer_config.json': '{pad' }, /tokenizer_config\.json: not valid JSON/],
      [{ 'special_tokens_map.json': '{"pad_token": 3}' }, /special_tokens_map\.json: pad_token must be a string/],
      [{ 'tokenizer_config.json': '{"pad_token": "<pad>"}' }, /tokenizer_config\.json: pad token "<pad>" is not in .*vocab\.json/],
    ];
    for (const [files, message] of cases) {
      const broken = await folder(files);
      await expect(ClipTokenizer.fromFiles(broken)).rejects.toThrow(message);
      await rm(dir!, { recursive: true });
    }
  });
});
