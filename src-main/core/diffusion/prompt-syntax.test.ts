import { describe, expect, it } from 'vitest';
import { PromptSyntaxError, extractLoraTags, isBreak, parsePromptAttention, type PromptPiece } from './prompt-syntax.js';

/** The PromptSyntaxError that `fn` throws. */
function thrown(fn: () => unknown): PromptSyntaxError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PromptSyntaxError);
    return error as PromptSyntaxError;
  }
  throw new Error('expected a PromptSyntaxError');
}

/** A1111's `[[text, weight], ...]` notation, for comparing with its doctests. */
function pairs(pieces: PromptPiece[]): [string, number][] {
  return pieces.map((piece) => [piece.text, piece.weight]);
}

describe('parsePromptAttention: the doctests of A1111 modules/prompt_parser.py', () => {
  // Inputs and outputs copied from parse_prompt_attention's docstring (Python floats, printed by repr).
  const doctests: [string, [string, number][]][] = [
    ['normal text', [['normal text', 1.0]]],
    [
      'an (important) word',
      [
        ['an ', 1.0],
        ['important', 1.1],
        [' word', 1.0],
      ],
    ],
    ['(unbalanced', [['unbalanced', 1.1]]],
    ['\\(literal\\]', [['(literal]', 1.0]]],
    ['(unnecessary)(parens)', [['unnecessaryparens', 1.1]]],
    [
      'a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).',
      [
        ['a ', 1.0],
        ['house', 1.5730000000000004],
        [' ', 1.1],
        ['on', 1.0],
        [' a ', 1.1],
        ['hill', 0.55],
        [', sun, ', 1.1],
        ['sky', 1.4641000000000006],
        ['.', 1.1],
      ],
    ],
  ];
  for (const [prompt, expected] of doctests) {
    it(JSON.stringify(prompt), () => expect(pairs(parsePromptAttention(prompt))).toEqual(expected));
  }
});

describe('parsePromptAttention', () => {
  it('multiplies nested brackets', () => {
    expect(pairs(parsePromptAttention('((text))'))).toEqual([['text', 1.1 * 1.1]]);
    expect(pairs(parsePromptAttention('[text]'))).toEqual([['text', 1 / 1.1]]);
    expect(pairs(parsePromptAttention('[[text]]'))).toEqual([['text', 1 / 1.1 / 1.1]]);
  });

  it('reads explicit weights, with spaces around them, signed or fractional', () => {
    expect(pairs(parsePromptAttention('(text:1.3)'))).toEqual([['text', 1.3]]);
    expect(pairs(parsePromptAttention('(text: 1.3 )'))).toEqual([['text', 1.3]]);
    expect(pairs(parsePromptAttention('(text:-0.5)'))).toEqual([['text', -0.5]]);
    expect(pairs(parsePromptAttention('(text:.5)'))).toEqual([['text', 0.5]]);
    expect(pairs(parsePromptAttention('(text:2.)'))).toEqual([['text', 2]]);
  });

  it('reads Unicode digits in a weight, as Python float() does', () => {
    expect(pairs(parsePromptAttention('(text:١.٥)'))).toEqual([['text', 1.5]]);
  });

  it('refuses a weight that is not a number, naming its position', () => {
    expect(thrown(() => parsePromptAttention('a (b:1.2.3)')).message).toMatch(/"1\.2\.3" at character 5/);
    expect(thrown(() => parsePromptAttention('(b:.)')).position).toBe(2);
  });

  it('keeps escaped characters and drops a lone backslash', () => {
    expect(pairs(parsePromptAttention('a \\\\ b'))).toEqual([['a \\ b', 1]]);
    expect(pairs(parsePromptAttention('\\[x\\) (y\\)z)'))).toEqual([
      ['[x) ', 1],
      ['y)z', 1.1],
    ]);
    expect(pairs(parsePromptAttention('a\\b'))).toEqual([['ab', 1]]);
  });

  it('keeps unmatched closers and stray colons as text', () => {
    expect(pairs(parsePromptAttention('a) b] c:d'))).toEqual([['a) b] c:d', 1]]);
    expect(pairs(parsePromptAttention('x:1.3)'))).toEqual([['x:1.3)', 1]]);
    expect(pairs(parsePromptAttention('(a:1.3'))).toEqual([['a:1.3', 1.1]]);
  });

  it('gives one empty piece for an empty prompt', () => {
    expect(pairs(parsePromptAttention(''))).toEqual([['', 1]]);
    expect(pairs(parsePromptAttention('()'))).toEqual([['', 1]]);
  });

  it('splits at BREAK as a word, eating the spaces around it', () => {
    const pieces = parsePromptAttention('a cat BREAK\na dog');
    expect(pairs(pieces)).toEqual([
      ['a cat', 1],
      ['BREAK', -1],
      ['a dog', 1],
    ]);
    expect(pieces.map(isBreak)).toEqual([false, true, false]);
    expect(pairs(parsePromptAttention('BREAKfast, aBREAK, break'))).toEqual([['BREAKfast, aBREAK, break', 1]]);
    expect(pairs(parsePromptAttention('BREAK'))).toEqual([
      ['', 1],
      ['BREAK', -1],
      ['', 1],
    ]);
  });

  it('uses Python word boundaries around BREAK (letters beyond ASCII count)', () => {
    expect(pairs(parsePromptAttention('éBREAK'))).toEqual([['éBREAK', 1]]);
    expect(pairs(parsePromptAttention('-BREAK-'))).toEqual([
      ['-', 1],
      ['BREAK', -1],
      ['-', 1],
    ]);
  });

  it('weights a BREAK inside brackets, which then no longer counts as a break (as in A1111)', () => {
    const pieces = parsePromptAttention('(a BREAK b)');
    expect(pairs(pieces)).toEqual([
      ['a', 1.1],
      ['BREAK', -1.1],
      ['b', 1.1],
    ]);
    expect(pieces.some(isBreak)).toBe(false);
  });
});

describe('extractLoraTags', () => {
  it('removes tags and returns their names and weights in order', () => {
    expect(extractLoraTags('a cat <lora:brand_style:0.8>, studio <lora:film grain>')).toEqual({
      text: 'a cat , studio ',
      loras: [
        { name: 'brand_style', weight: 0.8 },
        { name: 'film grain', weight: 1 },
      ],
    });
  });

  it('accepts negative and decimal weights within -2..2', () => {
    const { loras } = extractLoraTags('<lora:a:-1.5><lora:b:.25><lora:c:2><LoRA:d: -2 >');
    expect(loras).toEqual([
      { name: 'a', weight: -1.5 },
      { name: 'b', weight: 0.25 },
      { name: 'c', weight: 2 },
      { name: 'd', weight: -2 },
    ]);
  });

  it('leaves a prompt without tags as it is', () => {
    expect(extractLoraTags('(a cat:1.2) <not a tag>')).toEqual({ text: '(a cat:1.2) <not a tag>', loras: [] });
  });

  it('refuses malformed tags, naming the tag and position', () => {
    const cases: [string, RegExp, number][] = [
      ['a <lora:x:3>', /LoRA tag <lora:x:3> at character 3: the weight 3 is outside -2\.\.2/, 2],
      ['<lora:x:-2.5>', /outside -2\.\.2/, 0],
      ['ab <lora:x:heavy>', /<lora:x:heavy> at character 4: the weight "heavy" is not a number/, 3],
      ['<lora::1>', /the name is empty/, 0],
      ['<lora:x:1:0.5>', /expected <lora:name> or <lora:name:weight>/, 0],
      ['a cat <lora:x', /LoRA tag at character 7 has no closing ">"/, 6],
    ];
    for (const [prompt, message, position] of cases) {
      const error = thrown(() => extractLoraTags(prompt));
      expect(error.message).toMatch(message);
      expect(error.position).toBe(position);
    }
  });
});
