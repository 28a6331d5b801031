export { Composer } from './composer.js';
export { testLlmConnection } from './connection.js';
export { annotate, draftOffline, draftWithLlm, LlmError, type LlmConfig } from './drafts.js';
export { lintSettings } from './settings-linter.js';
export { countTemplate, expandAll, expandRandom, parseTemplate, TemplateError } from './template.js';
export { builtInLists, CAMERA_VERBS, DEFAULT_SUBJECTS, LIGHTING_ADJECTIVES } from './vocabulary.js';
