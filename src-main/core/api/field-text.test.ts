/**
 * Every refused input reads as the app speaks: walking each method of the contract with missing,
 * wrong-typed, empty, huge and unknown values, no message a designer sees starts with a method
 * name ("projects.create: …"), carries a field path or zod's own wording; the technical form stays
 * on the error for the log.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { requests, type Method } from './contract.js';
import { InvalidInputError, invalidInput } from './errors.js';
import { issueText } from './field-text.js';

/** The leaf field paths of a schema (list items as `*`). */
function leaves(schema: unknown, path: string[] = [], out: string[][] = []): string[][] {
  const def = (schema as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
  if (!def) return out;
  switch (def.type) {
    case 'object':
      for (const [key, value] of Object.entries(def.shape as Record<string, unknown>)) leaves(value, [...path, key], out);
      return out;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'readonly':
      return leaves(def.innerType, path, out);
    case 'pipe':
      return leaves(def.in, path, out);
    case 'array':
      return leaves(def.element, [...path, '*'], out);
    case 'record':
      out.push(path);
      return leaves(def.valueType, [...path, 'list name', '*'], out);
    case 'union':
      for (const option of def.options as unknown[]) leaves(option, path, out);
      return out;
    default:
      out.push(path);
      return out;
  }
}

/** An input with `value` at `path` (list items become one-item lists). */
function inputWith(path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const inner = inputWith(rest, value);
  return head === '*' ? [inner] : { [head!]: inner };
}

const WRONG: unknown[] = [undefined, null, '', '   ', 'x'.repeat(5000), -1e12, 1e12, 1.5, 0, true, [], {}, 'wide', '{nope}_{seed}.jpg'];

const methods = Object.keys(requests) as Method[];
const dotted = [...new Set(methods.flatMap((m) => leaves(requests[m].input).map((p) => p.filter((k) => k !== '*').join('.'))))].filter(
  (p) => p.includes('.'),
);

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** What a message a designer reads must not hold, each with why. */
const FORBIDDEN: [RegExp, string][] = [
  [/^[a-z]+\.[a-zA-Z]+:/, 'starts with a method'],
  [new RegExp(methods.map(escape).join('|')), 'names a method'],
  [/Invalid input|Too small|Too big|expected \w+, received|Unrecognized key/, "zod's wording"],
  [/^[^"A-Z-]/, 'does not start as a sentence'],
  [new RegExp(dotted.map(escape).join('|')), 'a field path'],
];

/** Why a message is not in the app's words, or null. */
function fault(message: string): string | null {
  for (const [pattern, why] of FORBIDDEN) if (pattern.test(message)) return why;
  // A camelCase key ("projectId", "slotWidth") is the contract's name, not the app's.
  if (/\b[a-z]+[A-Z]\w*/.test(message.replace(/"[^"]*"/g, ''))) return 'a camelCase key';
  return null;
}

describe('invalid_input messages', () => {
  it('never name a method, a field path or zod in any method of the contract', () => {
    let checked = 0;
    const faults: string[] = [];
    for (const method of methods) {
      const schema = requests[method].input as z.ZodType;
      const inputs: unknown[] = ['text', 42, [], {}, { bogusKey: 1 }];
      for (const path of leaves(schema)) for (const value of WRONG) inputs.push(inputWith(path, value));
      for (const input of inputs) {
        const parsed = schema.safeParse(input);
        if (parsed.success) continue;
        const error = invalidInput(method, parsed.error, input);
        if (!(error instanceof InvalidInputError) || error.code !== 'invalid_input') faults.push(`${method}: not an InvalidInputError`);
        if (!error.detail.startsWith(`${method}: `)) faults.push(`${method}: detail "${error.detail}"`);
        // Every issue of the input, not only the first one shown, reads the same way.
        const messages = [error.message, ...parsed.error.issues.map((issue) => issueText(method, issue, input).message)];
        for (const message of messages) {
          const why = fault(message);
          if (why) faults.push(`${method} ${JSON.stringify(input)?.slice(0, 60)}: ${why}: "${message}"`);
        }
        checked++;
      }
    }
    expect([...new Set(faults)]).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  });

  it('say what the designer sees in the app, keeping code and field, and the technical form as detail', () => {
    const refuse = (method: Method, input: unknown): InvalidInputError => {
      const parsed = (requests[method].input as z.ZodType).safeParse(input);
      expect(parsed.success, `${method} should refuse ${JSON.stringify(input)}`).toBe(false);
      return invalidInput(method, parsed.error!, input);
    };
    const project = refuse('projects.create', { name: '' });
    expect(project.toJSON()).toEqual({ code: 'invalid_input', message: 'Give the project a name', field: 'name' });
    expect(project.detail).toBe('projects.create: name: must not be empty');
    expect(refuse('projects.create', {}).message).toBe('Give the project a name');

    const section = { projectId: 1, name: 'Hero', backgroundHex: null, slotWidth: 1080, slotHeight: 1920 };
    expect(refuse('sections.save', { ...section, slotWidth: 99999 }).toJSON()).toEqual({
      code: 'invalid_input',
      message: 'Slot width must be 64–8192 px',
      field: 'slotWidth',
    });
    expect(refuse('sections.save', { ...section, name: ' ' }).message).toBe('Give the section a name');

    const settings = {
      model: 'tiny',
      sampler: 'Euler',
      steps: 4,
      cfg: 7,
      width: 576,
      height: 1024,
      batchSize: 1,
      loraWeight: 0.8,
      aspect: '9:16',
    };
    const add = { projectId: 1, prompt: 'teal', negativePrompt: '', settings, batches: 1 };
    expect(refuse('queue.add', { ...add, settings: { ...settings, width: 577 } }).toJSON()).toEqual({
      code: 'invalid_input',
      message: 'Width must be a multiple of 64 from 64 to 2048 px — use 576?',
      field: 'settings.width',
    });
    expect(refuse('queue.add', { ...add, settings: { ...settings, height: 99999 } }).message).toBe(
      'Height must be a multiple of 64 from 64 to 2048 px — use 2048?',
    );
    expect(refuse('queue.add', { ...add, settings: { ...settings, width: -64 } }).message).toMatch(/— use 64\?$/);
    expect(refuse('queue.add', { ...add, prompt: '' }).message).toBe('Write a prompt');
    expect(refuse('queue.add', { ...add, settings: { ...settings, steps: 500 } }).message).toBe('Steps must be at most 150');
    expect(refuse('queue.add', { ...add, settings: { ...settings, sampler: 'Heun' } }).message).toMatch(/^Sampler must be one of Euler/);

    expect(refuse('prompt.queue', { ...add, prompts: ['teal', 'glass --ar 1:99'] }).toJSON()).toEqual({
      code: 'invalid_input',
      message: 'Prompt 2 ("glass --ar 1:99"): --ar 1:99 makes 64×5120 px; the height must be at most 2048 px — use --ar 1:16?',
      field: 'prompts.1',
    });

    const exportRun = { projectId: 1, target: 'folder', selection: { kind: 'picks' } };
    const name = refuse('export.run', { ...exportRun, nameTemplate: '{nope}_{seed}.jpg' });
    expect(name.field).toBe('nameTemplate');
    expect(name.message).toBe(
      'Name template: {nope} is not a token; the tokens are {yyyymmdd}, {section}, {colour}, {seed}, {rating}, {index}, {project}',
    );
    expect(refuse('export.run', { ...exportRun, width: 10 }).message).toBe('Export width must be 64–8192 px');
    expect(refuse('projects.create', { name: 'Spring', colour: 'red' }).message).toBe('"colour" is not something this accepts');
  });
});
