import { describe, expect, it } from 'vitest';
import { normaliseHex, parseHexList } from './index.js';

describe('typed colours', () => {
  it('reads #RGB and #RRGGBB, with or without #, in any case', () => {
    expect(['#FE2C54', 'fe2c54', ' #fe2c54 ', '#F2C', 'f2c'].map(normaliseHex)).toEqual([
      '#FE2C54',
      '#FE2C54',
      '#FE2C54',
      '#FF22CC',
      '#FF22CC',
    ]);
    expect(['', '#', '#12345', '#1234567', 'red', '#GGGGGG', '##FE2C54'].map(normaliseHex)).toEqual(Array(7).fill(null));
  });

  it('reads a pasted list separated by commas, spaces or lines, and names what is not a colour', () => {
    expect(parseHexList('#FE2C54, #00E0FF #FFD500')).toEqual({ colours: ['#FE2C54', '#00E0FF', '#FFD500'], invalid: [] });
    expect(parseHexList('fe2c54\n#00e0ff;\n\n  blue, #12345 #fe2c54')).toEqual({
      colours: ['#FE2C54', '#00E0FF'],
      invalid: ['blue', '#12345'],
    });
    expect(parseHexList('  ')).toEqual({ colours: [], invalid: [] });
  });
});
