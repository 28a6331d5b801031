import { describe, expect, it } from 'vitest';
import { SD15 } from './graph/index.js';
import { defaultMemoryBudget, imagesPerCall, unetBytesPerImage } from './memory.js';

const MB = 1024 * 1024;

describe('memory-aware UNet calls', () => {
  it('estimates SD 1.5 activations per UNet pass from the size (fused attention) and adds the attention matrices of plain graphs', () => {
    const fused = unetBytesPerImage(SD15.unet, 576, 1024, 4);
    // Measured at 576×1024, batch 1 (two passes in one call): +0.7 GB over the loaded model.
    expect(fused / MB).toBeGreaterThan(300);
    expect(fused / MB).toBeLessThan(600);
    expect(unetBytesPerImage(SD15.unet, 576, 1024, 2)).toBe(Math.ceil(fused / 2));
    const plain = unetBytesPerImage(SD15.unet, 576, 1024, 4, 'plain');
    expect(plain - fused).toBe(9216 * 9216 * 8 * 2 * 4);
  });

  it('puts as many passes in one call as the budget allows, at least one, at most all', () => {
    expect(imagesPerCall(2048 * MB, 472 * MB, 12)).toBe(4);
    expect(imagesPerCall(1, 472 * MB, 12)).toBe(1);
    expect(imagesPerCall(Number.POSITIVE_INFINITY, 472 * MB, 12)).toBe(12);
    expect(imagesPerCall(100_000 * MB, 472 * MB, 12)).toBe(12);
  });

  it('defaults to a sixteenth of RAM (512 MB–1 GB) on the CPU, everything at once on a GPU, or ONBRAND_MEMORY_BUDGET_MB', () => {
    const cpu = defaultMemoryBudget('cpu');
    expect(cpu).toBeGreaterThanOrEqual(512 * MB);
    expect(cpu).toBeLessThanOrEqual(1024 * MB);
    expect(defaultMemoryBudget('cuda')).toBe(Number.POSITIVE_INFINITY);
    process.env.ONBRAND_MEMORY_BUDGET_MB = '700';
    try {
      expect(defaultMemoryBudget('cpu')).toBe(700 * MB);
    } finally {
      delete process.env.ONBRAND_MEMORY_BUDGET_MB;
    }
  });
});
