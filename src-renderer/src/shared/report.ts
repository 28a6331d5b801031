/** Errors in the user's view: a failed call as one line, and the notice line. */
import { ApiCallError } from '../api/client';
import { useStore } from '../store';

/**
 * An error as one line for a panel or form: the core's message, which names the field in the
 * app's words ("Give the project a name"); `error.field` is for placing it beside that field.
 */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The contract's field path a failed call blames (to place its message beside that field), if any. */
export function errorField(error: unknown): string | undefined {
  return error instanceof ApiCallError ? error.field : undefined;
}

/** Shows a failed call's message on the notice line. */
export function reportError(error: unknown): void {
  useStore.getState().notify('error', error instanceof Error ? error.message : String(error));
}
