import type { z } from 'zod';
import { issueText } from './field-text.js';

/** What kind of failure an API call had; the UI and the CLI switch on this, never on messages. */
export type ApiErrorCode = 'invalid_input' | 'unknown_method' | 'not_found' | 'conflict' | 'io' | 'unauthorized' | 'internal';

export interface ApiErrorShape {
  code: ApiErrorCode;
  message: string;
  /** Dotted path of the offending input field, when one field is to blame. */
  field?: string;
}

/**
 * The base of every error the core throws on purpose: one code vocabulary (the contract's
 * `ApiErrorCode`), so `toApiError` maps it 1:1 instead of guessing. A subclass keeps its own
 * detail (`kind`, `reason`, `file`, …) for callers inside the core; the code is what the
 * boundary (HTTP status, UI, CLI) sees when the error reaches it unconverted.
 */
export class OnbrandError extends Error {
  readonly code: ApiErrorCode;
  readonly field: string | undefined;

  constructor(code: ApiErrorCode, message: string, field?: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OnbrandError';
    this.code = code;
    this.field = field;
  }
}

/** The one error type that crosses the API boundary (IPC, HTTP, CLI). */
export class ApiError extends OnbrandError {
  constructor(code: ApiErrorCode, message: string, field?: string) {
    super(code, message, field);
    this.name = 'ApiError';
  }

  toJSON(): ApiErrorShape {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }

  static is(value: unknown): value is ApiError {
    return value instanceof ApiError;
  }

  /** Rebuilds an ApiError from its JSON form (HTTP and IPC transports). */
  static fromShape(shape: ApiErrorShape): ApiError {
    return new ApiError(shape.code, shape.message, shape.field);
  }
}

/**
 * A refused input: `message` in the designer's words ("Give the project a name"), `field` the
 * dotted path the UI places it by, `detail` the technical form for the log
 * ("projects.create: name: must not be empty"). Only code, message and field cross the boundary.
 */
export class InvalidInputError extends ApiError {
  readonly detail: string;

  constructor(message: string, field: string | undefined, detail: string) {
    super('invalid_input', message, field);
    this.name = 'InvalidInputError';
    this.detail = detail;
  }
}

/**
 * Turns a zod failure of `method`'s input into an error that names the first wrong field as the
 * app does (field-text.ts); `input` (what was sent) tells a missing or empty value from a wrong one.
 */
export function invalidInput(method: string, error: z.ZodError, input?: unknown): InvalidInputError {
  const issue = error.issues[0];
  if (!issue) return new InvalidInputError('Something in the request is not valid', undefined, `${method}: invalid input`);
  const { message, path } = issueText(method, issue, input);
  const field = path.length > 0 ? path.map(String).join('.') : undefined;
  return new InvalidInputError(message, field, field ? `${method}: ${field}: ${issue.message}` : `${method}: ${issue.message}`);
}

/** Any thrown value as an ApiError; unexpected errors keep their message but are marked internal. */
export function toApiError(value: unknown): ApiError {
  if (value instanceof ApiError) return value;
  if (value instanceof OnbrandError) return new ApiError(value.code, value.message, value.field);
  if (value instanceof Error) return new ApiError('internal', value.message);
  return new ApiError('internal', String(value));
}
