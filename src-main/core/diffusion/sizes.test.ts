import { describe, expect, it } from 'vitest';
import { isOutOfMemory, providerOrder } from './backend.js';
import { checkDimension, sizeForAspect } from './sizes.js';

describe('sizes', () => {
  it('maps the aspect presets to multiples of 64 per model family', () => {
    expect(sizeForAspect('9:16')).toEqual({ width: 576, height: 1024 });
    expect(sizeForAspect('1:1')).toEqual({ width: 512, height: 512 });
    expect(sizeForAspect('4:5', 'sd2')).toEqual({ width: 768, height: 960 });
    expect(sizeForAspect('16:9', 'sd2')).toEqual({ width: 1344, height: 768 });
    for (const aspect of ['9:16', '4:5', '1:1', '16:9', '2:3', '21:9']) {
      const { width, height } = sizeForAspect(aspect);
      expect(width % 64).toBe(0);
      expect(height % 64).toBe(0);
    }
    expect(sizeForAspect('2:3')).toEqual({ width: 448, height: 640 });
  });

  it('refuses malformed aspects and sizes, naming them', () => {
    expect(() => sizeForAspect('tall')).toThrow(/--ar must look like 9:16, not "tall"/);
    expect(() => sizeForAspect('0:16')).toThrow(/--ar/);
    expect(() => checkDimension('width', 100)).toThrow(/width must be a multiple of 8/);
    expect(() => checkDimension('height', 8)).toThrow(/height/);
    expect(() => checkDimension('width', 512)).not.toThrow();
  });
});

describe('execution providers', () => {
  it('tries the platform GPU provider first, then the CPU; an override is used alone', () => {
    expect(providerOrder('auto', 'linux')).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(providerOrder('auto', 'win32')).toEqual(['dml', 'cpu']);
    expect(providerOrder('auto', 'darwin')).toEqual(['coreml', 'cpu']);
    expect(providerOrder('auto', 'freebsd')).toEqual(['cpu']);
    expect(providerOrder('cpu', 'linux')).toEqual(['cpu']);
    expect(providerOrder('webgpu', 'win32')).toEqual(['webgpu']);
  });

  it('recognises out-of-memory failures from the CUDA, DirectML and CPU providers', () => {
    for (const message of [
      'CUDA failure 2: out of memory ; GPU=0',
      '[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Failed to allocate memory for requested buffer of size 1073741824',
      'std::bad_alloc',
      'CUDNN_STATUS_ALLOC_FAILED',
      'DirectML: E_OUTOFMEMORY (0x8007000E)',
    ]) {
      expect(isOutOfMemory(new Error(message)), message).toBe(true);
    }
    expect(isOutOfMemory(new Error('Invalid input name: foo'))).toBe(false);
  });
});
