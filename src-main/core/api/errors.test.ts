/** One error family: every core error is an OnbrandError, and toApiError maps its code 1:1. */
import { describe, expect, it } from 'vitest';
import { CatalogOpenError } from '../catalog/index.js';
import { CubeError } from '../color/index.js';
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
    expect([error.reason, error.code, error.name]).toEqual(['locked', 'internal', 'CatalogOpenError']);
    expect(toApiError(error).toJSON()).toEqual({ code: 'internal', message: error.message });
    expect(new CubeError(3, 'bad size')).toBeInstanceOf(OnbrandError);
  });

  it('gives the errors a caller always converts the code it converts them to', () => {
    expect(toApiError(new TemplateError(3, '"{" is never closed')).toJSON()).toEqual({
      code: 'invalid_input',
      message: 'Template, character 4: "{" is never closed',
      field: 'template',
    });
    expect(toApiError(new LlmError('The language model at http://x answered HTTP 500')).code).toBe('io');
  });
});
