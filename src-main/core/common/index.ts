/**
 * Values both sides need, isomorphic (no Node, no Electron, nothing from other core modules):
 * the core and the contract use them, and the renderer imports them instead of keeping copies.
 */
export { ASPECT_PATTERN, ASPECT_PRESETS, isAspectPreset, sizeForAspect, type AspectPreset, type ModelFamily } from './aspects.js';
export { closeMatches } from './close-matches.js';
export { plainColourName } from './colour-names.js';
export { baseColourName, proseColourNames } from './prose-colour-names.js';
export { ciede2000, deltaE, DISTINCT_COLOURS, hexToLab, rgbToLab, type Lab } from './colour-difference.js';
export { normaliseHex, parseHexList, type HexList } from './hex.js';
export {
  aspectProblem,
  fillNameTemplate,
  loraProblem,
  loraTagSpans,
  nameTemplateProblem,
  nearestAspect,
  nearestSize,
  problemText,
  readAspectFlag,
  sizeProblem,
  sizeRule,
  type AspectFlag,
  type FieldProblem,
  type NameValues,
} from './fields.js';
export { formatBytes, formatCount, suggestModelName } from './format.js';
export { LORA_WEIGHT_RANGE, loraWeightValue, MAX_BRAND_COLOURS, SETTING_LIMITS } from './limits.js';
export { loraTags, type LoraTag } from './lora-tags.js';
export {
  BRAND_LOOP_PRESET,
  DEFAULT_NAME_TEMPLATE,
  draftSettings,
  FAST_MODES,
  fastMode,
  fastModeOfName,
  isDraftLora,
  loraNameFamily,
  NAME_TOKENS,
  QUICK_DRAFT_STEPS,
  type DraftChoice,
  type DraftInput,
  type DraftSettings,
  type FastMode,
  type FastModeId,
  type NameToken,
} from './presets.js';
export { REFINE_MODES, REFINE_STRENGTH, strengthProblem, type RefineMode } from './refine.js';
export { SAMPLER_NAMES, SCHEDULE_TYPES, type SamplerLabel, type ScheduleType } from './samplers.js';
export {
  CRISP_FROM,
  SHARPNESS_CEILING,
  SOFT_BELOW,
  formatSharpness,
  readSharpness,
  type SharpnessReading,
  type SharpnessWord,
} from './sharpness.js';
export { absolutePath, aspect, batches, exportPixels, hexColour, id, isAbsolutePath, position, seed, wholeNumber } from './schemas.js';
export {
  fileTooLargeMessage,
  hiddenInFolder,
  planUpload,
  UPLOAD_CONTENT_TYPE,
  UPLOAD_KINDS,
  UPLOAD_LIMITS,
  uploadFileName,
  uploadSize,
  type UploadKind,
  type UploadLimits,
  type UploadPlan,
} from './uploads.js';
export { parseProviderChoice, PROVIDER_CHOICES, type ProviderChoice } from './providers.js';
export { hostMediaUrl } from './media-url.js';
