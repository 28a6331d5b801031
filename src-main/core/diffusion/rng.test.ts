import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MersenneTwister, TorchGenerator, imageSeed } from './rng.js';

interface RandnEntry {
  seed: number;
  shape: number[];
  first16: number[];
  last16: number[];
  sum: number;
  sum_sq: number;
  second_call_first16: number[];
}
// Numbers from PyTorch 1.13 on CPU (see testdata/README.md).
const reference = JSON.parse(readFileSync(new URL('./testdata/torch-randn.json', import.meta.url), 'utf8')) as {
  entries: RandnEntry[];
  non_multiple_of_16_example: { seed: number; shape: number[]; values: number[] };
  uniform_example: { seed: number; 'torch.rand(8)': number[] };
};

/** float32 results may differ from libm's float functions by an ulp or two. */
function expectClose(actual: ArrayLike<number>, expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tolerance = 4e-7 * Math.max(1, Math.abs(expected[i]!));
    if (Math.abs(actual[i]! - expected[i]!) > tolerance) {
      throw new Error(`value ${i}: ${actual[i]} differs from PyTorch's ${expected[i]}`);
    }
  }
}

describe('MersenneTwister', () => {
  it('matches the reference MT19937 output (seed 5489, the 10000th value)', () => {
    // The C++ standard requires mt19937 default-seeded (5489) to give 4123659995 as its 10000th output.
    const mt = new MersenneTwister(5489);
    let value = 0;
    for (let i = 0; i < 10000; i++) value = mt.next();
    expect(value).toBe(4123659995);
  });

  it('refuses seeds outside unsigned 32 bits', () => {
    expect(() => new MersenneTwister(-1)).toThrow(/unsigned 32-bit/);
    expect(() => new MersenneTwister(2 ** 32)).toThrow(/unsigned 32-bit/);
    expect(() => new MersenneTwister(1.5)).toThrow(/unsigned 32-bit/);
  });
});

describe('TorchGenerator', () => {
  it('rand matches torch.rand', () => {
    const { seed, 'torch.rand(8)': values } = reference.uniform_example;
    expectClose(new TorchGenerator(seed).rand(8), values);
  });

  for (const entry of reference.entries) {
    it(`randn matches torch.randn for seed ${entry.seed}, shape [${entry.shape.join(', ')}]`, () => {
      const generator = new TorchGenerator(entry.seed);
      const values = generator.randn(entry.shape);
      expectClose(values.subarray(0, 16), entry.first16);
      expectClose(values.subarray(values.length - 16), entry.last16);
      let sum = 0;
      let sumSq = 0;
      for (const v of values) {
        sum += v;
        sumSq += v * v;
      }
      expect(sum).toBeCloseTo(entry.sum, 2);
      expect(sumSq).toBeCloseTo(entry.sum_sq, 1);
      // A second call continues the same stream.
      expectClose(generator.randn(entry.shape).subarray(0, 16), entry.second_call_first16);
    });
  }

  it('recomputes the last 16 values when the size is not a multiple of 16, as PyTorch does', () => {
    const { seed, shape, values } = reference.non_multiple_of_16_example;
    expectClose(new TorchGenerator(seed).randn(shape), values);
  });

  it('refuses sizes below 16 rather than returning numbers PyTorch would not', () => {
    expect(() => new TorchGenerator(1).randn([1, 3])).toThrow(/fewer than 16/);
  });

  it('image i of a job uses seed + i, wrapping at 2^32', () => {
    expect(imageSeed(100, 0)).toBe(100);
    expect(imageSeed(100, 5)).toBe(105);
    expect(imageSeed(0xffffffff, 1)).toBe(0);
  });
});
