/**
 * The contract's input fields in a designer's words: the label each field goes by in the app, and
 * for some a rule or an "empty" message of their own ("Give the project a name", "Slot width must
 * be 64–8192 px"). `invalidInput` (errors.ts) builds its message from these; the technical form
 * (method, field path, zod's message) goes to the log.
 */
import type { z } from 'zod';

export interface FieldText {
  /** What the app calls the field; `{n}` is the 1-based place of the nearest list item ("Prompt {n}"). */
  label: string;
  /** Said after the label for any failure of the field, instead of the schema's message. */
  rule?: string;
  /** The whole message when the field is missing or empty. */
  empty?: string;
}

const PX = 'must be 64–8192 px';

/**
 * Labels by field path (list items as `*`), for every method. A method's own entries (below) win.
 * A field missing from both is named by its path's last word, split into words.
 */
const FIELDS: Record<string, FieldText> = {
  again: { label: '"Export again"' },
  apiKey: { label: 'API key' },
  aspect: { label: 'Aspect' },
  backgroundHex: { label: 'Background colour' },
  baseUrl: { label: 'Language model address' },
  batches: { label: 'Batches' },
  changes: { label: 'Changes' },
  'changes.*.flag': { label: 'Flag' },
  'changes.*.imageId': { label: 'Image' },
  'changes.*.rating': { label: 'Rating' },
  configDir: { label: 'Config folder' },
  count: { label: 'Count' },
  dir: { label: 'Folder' },
  discard: { label: '"Discard"' },
  draftId: { label: 'Draft' },
  folder: { label: 'Project folder' },
  format: { label: 'Format' },
  gpuCostPerHour: { label: 'GPU cost per hour' },
  height: { label: 'Height' },
  imageId: { label: 'Image' },
  items: { label: 'References' },
  'items.*': { label: 'Reference {n}' },
  jobId: { label: 'Job' },
  key: { label: 'Key' },
  lists: { label: 'Lists' },
  'lists.*': { label: 'A list' },
  'lists.*.*': { label: 'List entry {n}' },
  llm: { label: '"Use the language model"' },
  minutes: { label: 'Minutes' },
  mode: { label: 'Mode' },
  model: { label: 'Model' },
  mood: { label: 'Mood' },
  n: { label: 'Number of drafts' },
  name: { label: 'Name', empty: 'Give it a name' },
  nameTemplate: { label: 'Name template' },
  negativePrompt: { label: 'Negative prompt' },
  page: { label: 'Page' },
  palette: { label: 'Palette' },
  'palette.*.hex': { label: 'Colour {n}' },
  'palette.*.name': { label: 'The name of colour {n}', empty: 'Give colour {n} a name' },
  paletteSnap: { label: '"Palette snap"' },
  path: { label: 'Checkpoint file' },
  paths: { label: 'Files' },
  'paths.*': { label: 'File {n}' },
  phase: { label: 'Phase' },
  photoId: { label: 'Photo' },
  position: { label: 'Position' },
  predictionType: { label: 'Prediction type' },
  projectId: { label: 'Project' },
  prompt: { label: 'Prompt', empty: 'Write a prompt' },
  prompts: { label: 'Prompts' },
  'prompts.*': { label: 'Prompt {n}' },
  query: { label: 'Search', empty: 'Type something to search for' },
  refId: { label: 'Reference' },
  refIds: { label: 'References' },
  'refIds.*': { label: 'Reference {n}' },
  sectionId: { label: 'Section' },
  seed: { label: 'Seed' },
  selection: { label: 'Which images' },
  'selection.imageIds': { label: 'Images' },
  'selection.imageIds.*': { label: 'Image {n}' },
  'selection.kind': { label: 'Which images' },
  'selection.rating': { label: 'Minimum rating' },
  'settings.aspect': { label: 'Aspect' },
  'settings.batchSize': { label: 'Batch size' },
  'settings.cfg': { label: 'CFG' },
  'settings.height': { label: 'Height' },
  'settings.loraWeight': { label: 'LoRA weight' },
  'settings.model': { label: 'Model', empty: 'Choose a model' },
  'settings.sampler': { label: 'Sampler' },
  'settings.scheduleType': { label: 'Schedule type' },
  'settings.steps': { label: 'Steps' },
  'settings.width': { label: 'Width' },
  settings: { label: 'Settings' },
  slotHeight: { label: 'Slot height', rule: PX },
  slotWidth: { label: 'Slot width', rule: PX },
  source: { label: 'Model source', empty: 'Name a model to download' },
  starred: { label: 'Star' },
  subjects: { label: 'Subjects' },
  'subjects.*': { label: 'Subject {n}' },
  target: { label: 'Export target' },
  taskId: { label: 'Task' },
  template: { label: 'Template', empty: 'Write a template' },
  token: { label: 'Token' },
  tolerance: { label: 'Tolerance' },
  width: { label: 'Width' },
};

/** A method's own names for its fields, where the general ones would be vague. */
const METHOD_FIELDS: Record<string, Record<string, FieldText>> = {
  'projects.create': { name: { label: 'Project name', empty: 'Give the project a name' } },
  'projects.rename': { name: { label: 'Project name', empty: 'Give the project a name' } },
  'projects.update': { mood: { label: 'Mood' } },
  'sections.save': { name: { label: 'Section name', empty: 'Give the section a name' } },
  'presets.save': { name: { label: 'Preset name', empty: 'Give the preset a name' } },
  'export.run': {
    width: { label: 'Export width', rule: PX },
    height: { label: 'Export height', rule: PX },
    dir: { label: 'Export folder' },
  },
  'export.setTarget': { dir: { label: 'Export folder' } },
  'models.pull': { name: { label: 'Model name' } },
  'models.import': { name: { label: 'Model name' }, configDir: { label: 'Config folder' } },
  'models.remove': { name: { label: 'Model name', empty: 'Name the model to remove' } },
  'prompt.setLlm': { model: { label: 'Language model' }, apiKey: { label: 'API key' } },
  'prompt.saveSkeleton': { aspect: { label: 'Skeleton aspect' } },
  'settings.setUnsplashKey': { key: { label: 'Unsplash key' } },
  'models.setToken': { token: { label: 'Hugging Face token' } },
  'prompt.draft': { llm: { label: '"Use the language model"' } },
  'prompt.expand': { seed: { label: 'Expand seed' } },
  'backends.save': {
    name: { label: 'Backend name', empty: 'Give the server a name' },
    url: { label: 'Address', empty: "Give the server's address (e.g. http://127.0.0.1:8188)" },
    headers: { label: 'Header' },
    concurrency: { label: 'Images at once' },
    ratePerHour: { label: 'Cost per GPU hour' },
    timeoutSeconds: { label: 'Timeout' },
    allowInsecure: { label: '"Allow plain http"' },
    models: { label: 'Model names' },
    loras: { label: 'LoRA names' },
  },
  'backends.remove': { name: { label: 'Backend name' } },
  'backends.test': { name: { label: 'Backend name' } },
  'backends.resume': { name: { label: 'Backend name' } },
  'backends.local': { enabled: { label: '"This computer"' } },
};

/** "slotWidth" → "Slot width". */
function words(key: string): string {
  const spaced = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** The field text for a path (indices as numbers), with `{n}` filled in. */
export function fieldText(method: string, path: readonly PropertyKey[]): FieldText {
  const raw = path.map((p) => (typeof p === 'number' ? '*' : String(p)));
  // A record's key is the user's word ("lists.teal tones"): it goes by the record's `*` entry.
  const keys = raw.map((k, i) =>
    i > 0 && !(raw.slice(0, i + 1).join('.') in FIELDS) && `${raw.slice(0, i).join('.')}.*` in FIELDS ? '*' : k,
  );
  const pattern = keys.join('.');
  const last = [...keys].reverse().find((k) => k !== '*') ?? '';
  const own = METHOD_FIELDS[method] ?? {};
  const found = own[pattern] ?? FIELDS[pattern] ?? own[last] ?? FIELDS[last] ?? { label: last ? words(last) : 'The request' };
  const index = [...path].reverse().find((p): p is number => typeof p === 'number');
  const n = index === undefined ? '' : String(index + 1);
  const fill = (text: string | undefined): string | undefined => text?.replace(/\{n\}/g, n).replace(/ {2,}/g, ' ');
  return { label: fill(found.label)!, ...(found.rule ? { rule: found.rule } : {}), ...(found.empty ? { empty: fill(found.empty)! } : {}) };
}

/** "Batches are", "Width is". */
function is(label: string): string {
  return /[^s]s$/.test(label) ? 'are' : 'is';
}

/** zod's own messages ("Invalid input: …", "Too small: …"): replaced by words built from the issue. */
const ZOD_DEFAULT = /^(Invalid|Too (small|big)|Unrecognized key)/;

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'yes or no (true or false)',
  array: 'a list',
  object: 'a set of fields',
};

/** The value at `path` inside `input` (undefined where there is none). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** One zod issue of `method`'s input as a sentence a designer can act on. */
export function issueText(method: string, issue: z.core.$ZodIssue, input: unknown): { message: string; path: PropertyKey[] } {
  const path = [...issue.path];
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return { message: `"${key}" is not something this accepts`, path: key ? [...path, key] : path };
  }
  const text = fieldText(method, path);
  const value = valueAt(input, path);
  const blank = value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
  const tooShortText = issue.code === 'too_small' && issue.origin === 'string' && Number(issue.minimum) <= 1;
  if (text.empty && (tooShortText || (blank && (issue.code === 'invalid_type' || issue.code === 'too_small'))))
    return { message: text.empty, path };
  if (text.rule) return { message: `${text.label} ${text.rule}`, path };
  if (value === undefined && issue.code === 'invalid_type') return { message: `${text.label} ${is(text.label)} missing`, path };
  if (path.length === 0 && issue.code === 'invalid_type') return { message: 'The request must be a set of fields', path };
  // The schema's own message: "must …" follows the label; a whole sentence (core/common's checks) stands as it is.
  if (!ZOD_DEFAULT.test(issue.message)) {
    const own = /^[a-z]/.test(issue.message) ? `${text.label} ${issue.message}` : issue.message;
    return { message: own, path };
  }
  return { message: `${text.label} ${ruleOf(issue, value, is(text.label))}`, path };
}

/** What a zod issue without a message of ours asks for, after the label. */
function ruleOf(issue: z.core.$ZodIssue, value: unknown, verb: string): string {
  switch (issue.code) {
    case 'invalid_type':
      return value === undefined ? `${verb} missing` : `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
    case 'too_small': {
      const at = issue.inclusive === false ? 'more than' : 'at least';
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'must not be empty' : `must be ${at} ${issue.minimum} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have ${at} ${issue.minimum}`;
      return `must be ${at} ${issue.minimum}`;
    }
    case 'too_big': {
      const at = issue.inclusive === false ? 'less than' : 'at most';
      if (issue.origin === 'string') return `must be ${at} ${issue.maximum} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have ${at} ${issue.maximum}`;
      return `must be ${at} ${issue.maximum}`;
    }
    case 'invalid_value':
      return `must be ${issue.values
        .map((v) => String(v))
        .join(', ')
        .replace(/, ([^,]*)$/, ' or $1')}`;
    case 'invalid_format':
      return issue.format === 'url' ? 'must be an address like http://127.0.0.1:8080/v1' : `${verb} not written as expected`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return `${verb} not valid`;
  }
}
