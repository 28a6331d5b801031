/**
 * The renderer keeps no copy of a core value: its menus, first values, limits and colour names
 * are core/common's. The core's side: src-main/core/common/common.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ASPECT_PRESETS, BRAND_LOOP_PRESET, SETTING_LIMITS, plainColourName, sizeForAspect } from '../../../src-main/core/common/index';
import { ASPECTS, initialDraft, matchesPreset, parseDraft } from '../features/generation/draft';
import { mergePalette } from '../features/moodboard/palette';

describe('the renderer and the core', () => {
  it('offer the same aspects at the engine’s SD 1.x sizes', () => {
    expect(ASPECTS.map((a) => a.aspect)).toEqual(ASPECT_PRESETS);
    for (const a of ASPECTS) expect({ width: a.width, height: a.height }).toEqual(sizeForAspect(a.aspect));
  });

  it('start the Generate form from the built-in preset', () => {
    expect(matchesPreset(initialDraft(), BRAND_LOOP_PRESET)).toBe(true);
    expect(initialDraft().preset).toBe(BRAND_LOOP_PRESET.name);
  });

  it('check a setting against the contract’s limits', () => {
    const field = (patch: Partial<ReturnType<typeof initialDraft>>) => Object.keys(parseDraft({ ...initialDraft(), ...patch }).errors);
    const { steps, batches, seed, size } = SETTING_LIMITS;
    expect(field({ steps: String(steps.max) })).not.toContain('steps');
    expect(field({ steps: String(steps.max + 1) })).toContain('steps');
    expect(field({ batches: String(batches.max + 1) })).toContain('batches');
    expect(field({ seed: String(seed.max) })).not.toContain('seed');
    expect(field({ seed: String(seed.max + 1) })).toContain('seed');
    expect(parseDraft({ ...initialDraft(), width: String(size.max + 500) }).fixes.width?.value).toBe(String(size.max));
  });

  it('name a new brand colour as the core names a colour (file names, `onbrand palette`)', () => {
    // Colours the renderer's old copy named otherwise: "magenta", "dark blue", "dark grey", "light grey".
    const hexes = ['#FE2C54', '#2B2D42', '#1C1C1C', '#EBEBEB', '#C2185B', '#5D4037'];
    const named = mergePalette(
      [],
      hexes.map((hex) => ({ hex, share: 0.1 })),
      'replace',
    );
    expect(named.map((c) => c.name)).toEqual(hexes.map(plainColourName));
    expect(named.map((c) => c.name)).toEqual(['red', 'blue', 'black', 'white', 'pink', 'brown']);
  });
});
