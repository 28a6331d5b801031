import { describe, expect, it } from 'vitest';
import { mergePalette, uniqueColourName } from './palette';

describe('taking the board palette', () => {
  const brand = [
    { name: 'magenta', hex: '#FE2C54' },
    { name: 'teal', hex: '#00E0FF' },
  ];
  const board = [
    { hex: '#fe2c54', share: 0.4 },
    { hex: '#15CB74', share: 0.3 },
    { hex: '#7A3CFF', share: 0.3 },
  ];

  it('replaces, keeping the names of colours already in the palette and naming the rest plainly', () => {
    expect(mergePalette(brand, board, 'replace')).toEqual([
      { name: 'magenta', hex: '#FE2C54' },
      { name: 'green', hex: '#15CB74' },
      { name: 'purple', hex: '#7A3CFF' },
    ]);
  });

  it('appends only the colours the palette lacks', () => {
    expect(mergePalette(brand, board, 'append').map((c) => c.hex)).toEqual(['#FE2C54', '#00E0FF', '#15CB74', '#7A3CFF']);
  });

  it('keeps a brand colour as the brand has it when the board has a shade of it', () => {
    const shades = [
      { hex: '#F62E57', share: 0.5 },
      { hex: '#00DCFA', share: 0.5 },
    ];
    expect(mergePalette(brand, shades, 'replace')).toEqual(brand);
    expect(mergePalette(brand, shades, 'append')).toEqual(brand);
  });

  it('keeps yellow and white apart, each named from its own hex', () => {
    const yellowAndWhite = [
      { hex: '#FFD500', share: 0.5 },
      { hex: '#FFFFFF', share: 0.5 },
    ];
    expect(mergePalette([{ name: 'yellow', hex: '#FFD500' }], yellowAndWhite, 'replace')).toEqual([
      { name: 'yellow', hex: '#FFD500' },
      { name: 'white', hex: '#FFFFFF' },
    ]);
  });

  it('names new colours plainly, as the core names them in file names', () => {
    const board = ['#FE2C54', '#00E0FF', '#FFD500', '#808080', '#000000', '#FFFFFF', '#2B2D42'].map((hex) => ({ hex, share: 0.1 }));
    expect(mergePalette([], board, 'replace').map((c) => c.name)).toEqual(['red', 'teal', 'yellow', 'grey', 'black', 'white', 'blue']);
  });

  it('tells two colours of one name apart by their lightness, not by a number', () => {
    expect(uniqueColourName('#00E0FF', new Set())).toBe('teal');
    expect(uniqueColourName('#00E0FF', new Set(['teal']))).toBe('light teal');
    expect(uniqueColourName('#006070', new Set(['teal']))).toBe('dark teal');
    expect(uniqueColourName('#006070', new Set(['teal', 'dark teal', 'deep teal', 'rich teal']))).toBe('teal 2');
  });
});
