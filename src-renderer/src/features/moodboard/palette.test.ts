import { describe, expect, it } from 'vitest';
import { mergePalette } from './palette';

describe('taking the board palette', () => {
  const brand = [
    { name: 'magenta', hex: '#FE2C54' },
    { name: 'teal', hex: '#00E0FF' },
  ];
  const board = [
    { hex: '#fe2c54', share: 0.4 },
    { hex: '#15CB74', share: 0.3 },
    { hex: '#12C070', share: 0.3 },
  ];

  it('replaces, keeping the names of colours already in the palette and naming the rest plainly', () => {
    expect(mergePalette(brand, board, 'replace')).toEqual([
      { name: 'magenta', hex: '#FE2C54' },
      { name: 'green', hex: '#15CB74' },
      { name: 'green 2', hex: '#12C070' },
    ]);
  });

  it('appends only the colours the palette lacks', () => {
    expect(mergePalette(brand, board, 'append').map((c) => c.hex)).toEqual(['#FE2C54', '#00E0FF', '#15CB74', '#12C070']);
  });

  it('names new colours plainly, as the core names them in file names', () => {
    const board = ['#FE2C54', '#00E0FF', '#FFD500', '#808080', '#000000', '#FFFFFF', '#2B2D42'].map((hex) => ({ hex, share: 0.1 }));
    expect(mergePalette([], board, 'replace').map((c) => c.name)).toEqual(['red', 'teal', 'yellow', 'grey', 'black', 'white', 'blue']);
  });
});
