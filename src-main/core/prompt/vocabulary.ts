/** Curated vocabularies for cinematic prompts: the drafter draws from them and the annotator checks against them. */

/** One camera verb per prompt ("cinematic language, one camera verb"). */
export const CAMERA_VERBS = [
  'dolly',
  'pan',
  'tilt',
  'track',
  'orbit',
  'crane',
  'push in',
  'pull back',
  'zoom',
  'glide',
  'sweep',
  'rack focus',
  'frame',
  'drift',
  'swoop',
] as const;

/** One lighting adjective per prompt. */
export const LIGHTING_ADJECTIVES = [
  'neon',
  'golden',
  'moody',
  'volumetric',
  'backlit',
  'rim-lit',
  'soft',
  'harsh',
  'diffused',
  'dramatic',
  'glowing',
  'dappled',
  'chiaroscuro',
  'luminous',
  'hazy',
] as const;

export const CINEMATIC_NOUNS = [
  'haze',
  'bokeh',
  'reflections',
  'grain',
  'silhouette',
  'lens flare',
  'depth',
  'shadows',
  'highlights',
  'skyline',
  'glass',
  'chrome',
  'texture',
  'motion blur',
  'horizon',
] as const;

export const CAMERA_ACTIONS = [
  'slow dolly in',
  'low-angle tracking shot',
  'overhead crane shot',
  'handheld push in',
  'orbiting close-up',
  'static wide frame',
] as const;

export const DEFAULT_SUBJECTS = ['portrait', 'device close-up', 'abstract shape'] as const;

/** The built-in named lists for templates (`{camera action}`, `{lighting adjective}`, …). */
export function builtInLists(subjects: readonly string[]): Record<string, string[]> {
  return {
    subject: [...subjects],
    'camera action': [...CAMERA_ACTIONS],
    'camera verb': [...CAMERA_VERBS],
    'lighting adjective': [...LIGHTING_ADJECTIVES],
    'cinematic noun': [...CINEMATIC_NOUNS],
  };
}
