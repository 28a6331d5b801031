import { describe, expect, it } from 'vitest';
import { baseColourName, plainColourName, proseColourNames } from './index.js';

describe('prose colour names', () => {
  it('drop the number "Use as brand palette" adds, and keep names that are numbers', () => {
    expect(['teal 2', 'Signal red', 'teal 12', 'Pantone 7710', '2024'].map(baseColourName)).toEqual([
      'teal',
      'Signal red',
      'teal',
      'Pantone 7710',
      '2024',
    ]);
  });

  it('tell alike colours apart by lightness, darkest first, and leave the rest as named', () => {
    const palette = [
      { name: 'teal', hex: '#00E0FF' },
      { name: 'black', hex: '#0A0A0A' },
      { name: 'teal 2', hex: '#007A8A' },
      { name: 'magenta', hex: '#FE2C54' },
      { name: 'black 2', hex: '#000000' },
    ];
    expect(proseColourNames(palette)).toEqual(['pale teal', 'off-black', 'deep teal', 'magenta', 'jet black']);
    expect(proseColourNames([{ name: 'teal 2', hex: '#00E0FF' }])).toEqual(['teal']);
    // A qualified name a colour already has is not given to another.
    expect(proseColourNames([...palette.slice(0, 3), { name: 'pale teal', hex: '#5FF5FF' }])).toEqual([
      'light teal',
      'black',
      'deep teal',
      'pale teal',
    ]);
  });

  it('stay distinct and number-free for a whole palette of one colour, and leave plainColourName as it was', () => {
    const hexes = Array.from(
      { length: 16 },
      (_, i) => `#00${(0x30 + i * 8).toString(16).toUpperCase()}${(0x40 + i * 10).toString(16).toUpperCase()}`,
    );
    const names = proseColourNames(hexes.map((hex, i) => ({ name: i ? `${plainColourName(hex)} ${i + 1}` : plainColourName(hex), hex })));
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(16);
    expect(names.every((n) => !/\d/.test(n))).toBe(true);
    expect(plainColourName('#00E0FF')).toBe('teal');
  });
});
