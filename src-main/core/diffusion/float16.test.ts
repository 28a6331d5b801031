import { describe, expect, it } from 'vitest';
import { float16ToFloat32, float32ToFloat16, fromHalf, toHalf } from './float16.js';

describe('float16', () => {
  it('converts known values exactly', () => {
    // Bit patterns from the IEEE 754 binary16 tables.
    const cases: [number, number][] = [
      [0, 0x0000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff],
      [2 ** -24, 0x0001],
      [2 ** -14, 0x0400],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
    ];
    for (const [value, bits] of cases) {
      expect(toHalf(value)).toBe(bits);
      expect(fromHalf(bits)).toBe(value);
    }
    expect(toHalf(1e6)).toBe(0x7c00);
    expect(Number.isNaN(fromHalf(toHalf(NaN)))).toBe(true);
  });

  it('rounds to nearest even and round-trips within half precision', () => {
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10);
    const back = float16ToFloat32(float32ToFloat16(values));
    for (let i = 0; i < values.length; i++)
      expect(Math.abs(back[i]! - values[i]!)).toBeLessThanOrEqual(Math.abs(values[i]!) * 2 ** -11 + 1e-7);
  });
});
