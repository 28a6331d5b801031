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

export type CameraVerb = (typeof CAMERA_VERBS)[number];

/**
 * Each camera verb's forms, written out (no rules to get "dollies" or "swept" wrong), with the words
 * that take it to a subject ("dollies toward a portrait") and that end it without one ("pushes in").
 * The brief checker finds a verb by any of its forms; the drafter conjugates from here.
 */
export const CAMERA_VERB_FORMS: Record<CameraVerb, { base: string; third: string; past: string; ing: string; to: string; alone: string }> =
  {
    dolly: { base: 'dolly', third: 'dollies', past: 'dollied', ing: 'dollying', to: 'toward', alone: 'in slowly' },
    pan: { base: 'pan', third: 'pans', past: 'panned', ing: 'panning', to: 'across', alone: 'slowly' },
    tilt: { base: 'tilt', third: 'tilts', past: 'tilted', ing: 'tilting', to: 'up to', alone: 'up slowly' },
    track: { base: 'track', third: 'tracks', past: 'tracked', ing: 'tracking', to: 'alongside', alone: 'alongside' },
    orbit: { base: 'orbit', third: 'orbits', past: 'orbited', ing: 'orbiting', to: '', alone: 'slowly' },
    crane: { base: 'crane', third: 'cranes', past: 'craned', ing: 'craning', to: 'down to', alone: 'down slowly' },
    'push in': { base: 'push in', third: 'pushes in', past: 'pushed in', ing: 'pushing in', to: 'on', alone: 'slowly' },
    'pull back': { base: 'pull back', third: 'pulls back', past: 'pulled back', ing: 'pulling back', to: 'from', alone: 'slowly' },
    zoom: { base: 'zoom', third: 'zooms', past: 'zoomed', ing: 'zooming', to: 'in on', alone: 'in slowly' },
    glide: { base: 'glide', third: 'glides', past: 'glided', ing: 'gliding', to: 'past', alone: 'past' },
    sweep: { base: 'sweep', third: 'sweeps', past: 'swept', ing: 'sweeping', to: 'across', alone: 'across' },
    'rack focus': { base: 'rack focus', third: 'racks focus', past: 'racked focus', ing: 'racking focus', to: 'to', alone: 'slowly' },
    frame: { base: 'frame', third: 'frames', past: 'framed', ing: 'framing', to: '', alone: 'it all' },
    drift: { base: 'drift', third: 'drifts', past: 'drifted', ing: 'drifting', to: 'toward', alone: 'closer' },
    swoop: { base: 'swoop', third: 'swoops', past: 'swooped', ing: 'swooping', to: 'down on', alone: 'down' },
  };

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

/** What the light falls across in a draft ("spilling teal across the haze"). */
export const SURFACE_NOUNS = [
  'haze',
  'glass',
  'chrome',
  'skyline',
  'shadows',
  'reflections',
  'horizon',
  'concrete',
  'water',
  'steel',
] as const;

/** Finishing touches a draft takes to come to about 25 words; none names a camera verb, a light or a colour. */
export const FINISHING_PHRASES = [
  'shallow depth of field',
  '35 mm film',
  'anamorphic lens',
  'fine grain',
  'editorial layout',
  'cinematic stillness',
  'bold city energy',
  'quiet negative space',
  'crisp detail',
  'subtle lens flare',
  'high contrast',
  'clean composition',
  'photoreal',
  'bokeh',
  'minimal',
  'textured',
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
