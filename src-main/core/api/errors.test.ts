/** One error family: every core error is an OnbrandError, and toApiError maps its code 1:1. */
import { describe, expect, it } from 'vitest';
import { CatalogOpenError } from '../catalog/index.js';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CubeError } from '../color/index.js';
import { GenerationError, PromptSyntaxError } from '../diffusion/index.js';
import { DownloadError, ModelImportError } from '../models/index.js';
import { FetchError } from '../references/index.js';
import { LlmError, TemplateError } from '../prompt/index.js';
import { ApiError, OnbrandError, toApiError } from './index.js';

describe('toApiError', () => {
  it('maps an OnbrandError by its code, message and field', () => {
    const error = toApiError(new OnbrandError('not_found', 'No such project.', 'projectId'));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.toJSON()).toEqual({ code: 'not_found', message: 'No such project.', field: 'projectId' });
  });

  it('passes an ApiError through and marks anything else internal', () => {
    const api = new ApiError('conflict', 'Taken.');
    expect(toApiError(api)).toBe(api);
    expect(toApiError(new Error('boom')).toJSON()).toEqual({ code: 'internal', message: 'boom' });
    expect(toApiError('odd').toJSON()).toEqual({ code: 'internal', message: 'odd' });
  });

  it('keeps a core error its own detail and the code the boundary sees', () => {
    const error = new CatalogOpenError('/data/onbrand.db', 'locked', 'SQLITE_BUSY');
    expect(error).toBeInstanceOf(OnbrandError);
    expect([error.reason, error.code, error.name]).toEqual(['locked', 'io', 'CatalogOpenError']);
    expect(toApiError(error).toJSON()).toEqual({ code: 'io', message: error.message });
    expect(toApiError(new CubeError(3, 'bad size')).code).toBe('invalid_input');
    expect(toApiError(new PromptSyntaxError('"(" is never closed', 4)).toJSON()).toMatchObject({ code: 'invalid_input', field: 'prompt' });
    expect(toApiError(new FetchError('timeout', 'no answer in 20 s')).code).toBe('io');
    expect(toApiError(new FetchError('refused', '10.0.0.1 is an internal address')).code).toBe('unauthorized');
  });

  it('gives the errors a caller always converts the code it converts them to', () => {
    expect(toApiError(new TemplateError(3, '"{" is never closed')).toJSON()).toEqual({
      code: 'invalid_input',
      message: 'Template, character 4: "{" is never closed',
      field: 'template',
    });
    expect(toApiError(new LlmError('The language model at http://x answered HTTP 500')).code).toBe('io');
  });

  it('maps the generation, download and import failures to the contract, keeping their own reason', () => {
    const cases: [OnbrandError & { reason: string }, string][] = [
      [new GenerationError('Width must be a multiple of 8', 'invalid_settings'), 'invalid_input'],
      [new GenerationError('Out of memory at 576×1024', 'out_of_memory'), 'io'],
      [new DownloadError('auth', 'needs a token'), 'unauthorized'],
      [new DownloadError('not_found', 'no such repo'), 'not_found'],
      [new DownloadError('network', 'connection reset', { retryable: true }), 'io'],
      [new DownloadError('bad_request', 'not a model reference'), 'invalid_input'],
      [new ModelImportError('exists', 'a model of that name exists'), 'conflict'],
      [new ModelImportError('pickle', 'pickle checkpoints are not read'), 'invalid_input'],
    ];
    for (const [error, code] of cases) {
      expect(error, error.reason).toBeInstanceOf(OnbrandError);
      expect(toApiError(error).toJSON(), error.reason).toEqual({ code, message: error.message });
    }
    expect(toApiError(new ModelImportError('bad_name', '"../x" cannot be a model name')).field).toBe('name');
    const cause = new Error('ECONNRESET');
    expect(new DownloadError('network', 'connection reset', { cause }).cause).toBe(cause);
  });
});

describe('the error family', () => {
  it('has no core error class outside it', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const outside: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        // testing/ holds test helpers (an imitation server's own errors are not the core's).
        if (entry.isDirectory()) {
          if (entry.name !== 'testing') walk(file);
        } else if (/\.ts$/.test(entry.name) && !entry.name.endsWith('.test.ts')) {
          for (const m of fs.readFileSync(file, 'utf8').matchAll(/class (\w+) extends (\w*Error)\b/g)) {
            if (m[2] === 'Error' && m[1] !== 'OnbrandError') outside.push(`${path.relative(root, file)}: ${m[1]}`);
          }
        }
      }
    };
    walk(root);
    expect(outside).toEqual([]);
  });
});
