/**
 * CLIP's byte-level BPE tokenizer, as OpenAI's `simple_tokenizer` and Hugging Face's `CLIPTokenizer`
 * (with ftfy) do it: clean whitespace, lower-case, split with CLIP's pre-tokenizer pattern, map UTF-8
 * bytes to GPT-2's printable characters, then merge pairs by rank with `</w>` marking a word's end.
 * Reads the diffusers `tokenizer/` folder format (`vocab.json`, `merges.txt`). Pure TypeScript.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** OpenAI CLIP's ids; used when a (test) vocabulary lacks the named tokens. */
export const DEFAULT_BOS_ID = 49406;
export const DEFAULT_EOS_ID = 49407;

const BOS_TOKEN = '<|startoftext|>';
const EOS_TOKEN = '<|endoftext|>';
const COMMA_TOKEN = ',</w>';
const WORD_END = '</w>';

/**
 * Hugging Face reads at most this many merges (`[1 : 49152 - 256 - 2 + 1]`).
 * It matters only for OpenAI's full BPE file, whose later merges make tokens the vocabulary lacks.
 */
const MAX_MERGES = 49152 - 256 - 2;

/** Words remembered by `encode`; cleared when full so a long session cannot grow it without bound. */
const WORD_CACHE_LIMIT = 50_000;

/**
 * Python's `str.isspace()` set, which its `re` module's `\s` and `str.strip()` use.
 * JavaScript's `\s` differs (it adds U+FEFF and lacks U+001C–U+001F and U+0085).
 */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WHITESPACE_RUN = new RegExp(`[${PY_SPACE}]+`, 'gu');

/**
 * CLIP's pre-tokenizer pattern. After whitespace clean-up the only space left is U+0020, so the
 * `\s` of the original's last class is written as a plain space: that keeps JavaScript's wider `\s` out.
 */
const WORD_PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^ \p{L}\p{N}]+/giu;

/** GPT-2's `bytes_to_unicode`: printable bytes stand for themselves, the rest map to U+0100 onwards. */
const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) table.push(String.fromCharCode(printable(b) ? b : next++));
  return table;
})();

const utf8 = new TextEncoder();

/** Where each input came from, so errors can name the file. */
export interface ClipTokenizerSources {
  vocab?: string;
  merges?: string;
  padToken?: string;
}

export interface ClipTokenizerOptions {
  /** The padding token's text (`pad_token`): `<|endoftext|>` for SD 1.x, `!` for SD 2.x. Default: end-of-text. */
  padToken?: string;
  sources?: ClipTokenizerSources;
}

export class ClipTokenizer {
  /** `<|startoftext|>`, framing every chunk. */
  readonly bosId: number;
  /** `<|endoftext|>`, which also stands for symbols missing from the vocabulary (Hugging Face's `unk_token`). */
  readonly eosId: number;
  readonly padId: number;
  /** `,</w>`, where A1111 prefers to break long prompts; undefined if the vocabulary lacks it. */
  readonly commaId: number | undefined;

  private readonly vocab: ReadonlyMap<string, number>;
  private readonly ranks: ReadonlyMap<string, number>;
  private readonly cache = new Map<string, readonly number[]>();

  /** From parsed `vocab.json`, the text of `merges.txt`, and the pad token. */
  constructor(vocab: Readonly<Record<string, number>>, merges: string, options: ClipTokenizerOptions = {}) {
    const sources = options.sources ?? {};
    this.vocab = vocabMap(vocab, sources.vocab ?? 'vocab.json');
    this.ranks = mergeRanks(merges, sources.merges ?? 'merges.txt');
    this.bosId = this.vocab.get(BOS_TOKEN) ?? DEFAULT_BOS_ID;
    this.eosId = this.vocab.get(EOS_TOKEN) ?? DEFAULT_EOS_ID;
    this.commaId = this.vocab.get(COMMA_TOKEN);
    this.padId = this.padTokenId(options.padToken, sources);
  }

  /**
   * Reads a diffusers `tokenizer/` folder; the pad token comes from `special_tokens_map.json`, else
   * `tokenizer_config.json`, else `defaultPad` (SDXL's `tokenizer_2/` pads with "!"), else end-of-text.
   */
  static async fromFiles(dir: string, defaultPad?: string): Promise<ClipTokenizer> {
    const vocabFile = path.join(dir, 'vocab.json');
    const mergesFile = path.join(dir, 'merges.txt');
    const vocab = parseJson(await readText(vocabFile, true), vocabFile);
    const merges = await readText(mergesFile, true);
    // Hugging Face lets special_tokens_map.json override tokenizer_config.json.
    let pad: { token: string; file: string } | undefined;
    for (const name of ['special_tokens_map.json', 'tokenizer_config.json']) {
      const file = path.join(dir, name);
      const text = await readText(file, false);
      const token = text === undefined ? undefined : padTokenOf(parseJson(text, file), file);
      if (token !== undefined) {
        pad = { token, file };
        break;
      }
    }
    const sources: ClipTokenizerSources = { vocab: vocabFile, merges: mergesFile };
    if (pad === undefined)
      return new ClipTokenizer(vocab as Record<string, number>, merges, {
        sources,
        ...(defaultPad !== undefined ? { padToken: defaultPad } : {}),
      });
    sources.padToken = pad.file;
    return new ClipTokenizer(vocab as Record<string, number>, merges, { padToken: pad.token, sources });
  }

  /** Token ids of `text`, without BOS/EOS. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const match of cleanText(text).matchAll(WORD_PATTERN)) ids.push(...this.wordIds(match[0]));
    return ids;
  }

  /** The id of a vocabulary entry (`',</w>'`, `'cat</w>'`), or undefined. */
  idOf(token: string): number | undefined {
    return this.vocab.get(token);
  }

  /** One pre-tokenized word → ids, through the cache. */
  private wordIds(word: string): readonly number[] {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    // The special tokens are whole words (the original seeds its cache with them).
    const symbols = word === BOS_TOKEN || word === EOS_TOKEN ? [word] : bpe(byteEncode(word), this.ranks);
    const ids = symbols.map((symbol) => this.vocab.get(symbol) ?? this.eosId);
    if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, ids);
    return ids;
  }

  /** The pad token's id; one missing from the vocabulary is an error naming where it came from. */
  private padTokenId(padToken: string | undefined, sources: ClipTokenizerSources): number {
    if (padToken === undefined) return this.eosId;
    const id = this.vocab.get(padToken);
    if (id === undefined) {
      throw new Error(
        `${sources.padToken ?? 'tokenizer options'}: pad token ${JSON.stringify(padToken)} is not in ${sources.vocab ?? 'vocab.json'}`,
      );
    }
    return id;
  }
}

/** Hugging Face's `whitespace_clean(...).lower()`, after NFC (ftfy's default normalisation). */
export function cleanText(text: string): string {
  return text.normalize('NFC').replace(WHITESPACE_RUN, ' ').replace(/^ | $/g, '').toLowerCase();
}

/** A word's UTF-8 bytes as GPT-2's printable stand-ins. */
function byteEncode(word: string): string {
  let out = '';
  for (const byte of utf8.encode(word)) out += BYTE_TO_CHAR[byte]!;
  return out;
}

/**
 * Byte-pair merges of one word: repeatedly join every occurrence of the lowest-ranked adjacent pair.
 * Every stand-in character is a single UTF-16 unit, so splitting the string by index is safe.
 */
export function bpe(word: string, ranks: ReadonlyMap<string, number>): string[] {
  let symbols = [...word.slice(0, -1), word.slice(-1) + WORD_END];
  while (symbols.length > 1) {
    const best = lowestRankedPair(symbols, ranks);
    if (best === undefined) break;
    symbols = mergePair(symbols, best[0], best[1]);
  }
  return symbols;
}

/** The adjacent pair with the lowest merge rank, or undefined when none is a known merge. */
function lowestRankedPair(symbols: readonly string[], ranks: ReadonlyMap<string, number>): [string, string] | undefined {
  let best: [string, string] | undefined;
  let bestRank = Infinity;
  for (let i = 0; i + 1 < symbols.length; i++) {
    const rank = ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
    if (rank !== undefined && rank < bestRank) {
      bestRank = rank;
      best = [symbols[i]!, symbols[i + 1]!];
    }
  }
  return best;
}

/** Joins each non-overlapping occurrence of `first second`, left to right. */
function mergePair(symbols: readonly string[], first: string, second: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (symbols[i] === first && symbols[i + 1] === second) {
      out.push(first + second);
      i++;
    } else {
      out.push(symbols[i]!);
    }
  }
  return out;
}

/** Checks a parsed `vocab.json`: an object of non-negative integer ids. */
function vocabMap(vocab: unknown, file: string): Map<string, number> {
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) {
    throw new Error(`${file}: expected an object mapping tokens to ids`);
  }
  const map = new Map<string, number>();
  for (const [token, id] of Object.entries(vocab)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new Error(`${file}: the id of ${JSON.stringify(token)} is not a non-negative integer`);
    }
    map.set(token, id);
  }
  if (map.size === 0) throw new Error(`${file}: the vocabulary is empty`);
  return map;
}

/**
 * `merges.txt` → rank of each `"first second"` pair (its line number after the `#version` header).
 * As in Hugging Face, a repeated pair keeps its later rank; blank lines take a rank but merge nothing.
 */
function mergeRanks(text: string, file: string): Map<string, number> {
  const ranks = new Map<string, number>();
  const lines = text.trim().split(/\r?\n/);
  const first = lines[0]?.startsWith('#version') === true ? 1 : 0;
  const end = Math.min(lines.length, first + MAX_MERGES);
  for (let i = first; i < end; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const parts = line.split(/\s+/);
    if (parts.length !== 2) throw new Error(`${file} line ${i + 1}: expected two symbols, found ${JSON.stringify(line)}`);
    ranks.set(`${parts[0]} ${parts[1]}`, i - first);
  }
  return ranks;
}

/** `pad_token` of a tokenizer config: a string, or an AddedToken object with `content`. */
function padTokenOf(config: unknown, file: string): string | undefined {
  if (typeof config !== 'object' || config === null) throw new Error(`${file}: expected a JSON object`);
  const value = (config as Record<string, unknown>)['pad_token'];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  const content = typeof value === 'object' ? (value as Record<string, unknown>)['content'] : undefined;
  if (typeof content === 'string') return content;
  throw new Error(`${file}: pad_token must be a string or an object with a string "content"`);
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

/** A file's text; a missing optional file gives undefined, a missing required one an error naming it. */
async function readText(file: string, required: true): Promise<string>;
async function readText(file: string, required: false): Promise<string | undefined>;
async function readText(file: string, required: boolean): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return undefined;
    const reason = code === 'ENOENT' ? 'missing' : `unreadable (${(error as Error).message})`;
    throw new Error(`CLIP tokenizer file ${file} is ${reason}`, { cause: error });
  }
}
