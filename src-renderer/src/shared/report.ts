/** Errors in the user's view: a failed call as one line, and the notice line. */
import { ApiCallError } from '../api/client';
import { useStore } from '../store';

/** An error as one line for a panel or form: the field (when the core names one) and the message. */
export function errorText(error: unknown): string {
  if (error instanceof ApiCallError && error.field) return `${error.field}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** Shows a failed call's message on the notice line. */
export function reportError(error: unknown): void {
  useStore.getState().notify('error', error instanceof Error ? error.message : String(error));
}
