/**
 * PyTorch-compatible CPU noise: `torch.randn(shape, generator=torch.Generator('cpu').manual_seed(seed))`
 * value for value, so a seed gives the same image here as in A1111 and ComfyUI with CPU noise.
 *
 * PyTorch's CPU generator is MT19937. `randn` of 16 or more contiguous float32 values first fills
 * the tensor with uniforms u = (mt() & 0xFFFFFF) / 2^24, then turns each block of 16 into normals
 * with Box–Muller (u1 = 1 - data[j], u2 = data[j + 8]); when the size is not a multiple of 16 the
 * last 16 values are drawn again and transformed once more (aten normal_fill / normal_fill_16).
 * Pure TypeScript, no onnxruntime.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

/** The standard 32-bit Mersenne Twister, as `at::mt19937` (seeded with the low 32 bits of the seed). */
export class MersenneTwister {
  private readonly state = new Uint32Array(N);
  private index = N;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new RangeError(`seed must be an unsigned 32-bit integer, not ${seed}`);
    this.state[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.state[i - 1]! ^ (this.state[i - 1]! >>> 30);
      // 1812433253 * prev + i, in 32-bit arithmetic.
      this.state[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  /** The next 32-bit output. */
  next(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const s = this.state;
    for (let i = 0; i < N; i++) {
      const y = (s[i]! & UPPER) | (s[(i + 1) % N]! & LOWER);
      s[i] = s[(i + M) % N]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.index = 0;
  }
}

const TWO_PI = 2 * Math.PI;
const f32 = Math.fround;

/** A PyTorch CPU generator: `torch.Generator('cpu').manual_seed(seed)`. Calls continue one stream. */
export class TorchGenerator {
  private readonly mt: MersenneTwister;

  constructor(readonly seed: number) {
    this.mt = new MersenneTwister(seed);
  }

  /** `torch.rand`: float32 uniforms in [0, 1) from 24 random bits. */
  rand(count: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = (this.mt.next() & 0xffffff) / 16777216;
    return out;
  }

  /** `torch.randn` of `shape` (C order), float32. */
  randn(shape: readonly number[]): Float32Array {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size < 16) {
      // PyTorch takes another path (double-precision normal_distribution) below 16 values.
      // Latents are always larger; refuse rather than return numbers that would not match.
      throw new RangeError(`randn of fewer than 16 values (${size}) is not supported`);
    }
    const data = this.rand(size);
    for (let i = 0; i + 16 <= size; i += 16) boxMuller16(data, i);
    if (size % 16 !== 0) {
      const start = size - 16;
      data.set(this.rand(16), start);
      boxMuller16(data, start);
    }
    return data;
  }
}

/** aten's normal_fill_16 in float32 arithmetic: 16 uniforms in place to 16 standard normals. */
function boxMuller16(data: Float32Array, offset: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f32(1 - data[offset + j]!);
    const u2 = data[offset + j + 8]!;
    const radius = f32(Math.sqrt(f32(-2 * f32(Math.log(u1)))));
    const theta = f32(f32(TWO_PI) * u2);
    data[offset + j] = f32(radius * f32(Math.cos(theta)));
    data[offset + j + 8] = f32(radius * f32(Math.sin(theta)));
  }
}

/** The initial noise of image i of a job: seed + i, each image its own generator (so a batch equals single runs). */
export function imageSeed(jobSeed: number, index: number): number {
  return (jobSeed + index) >>> 0;
}
