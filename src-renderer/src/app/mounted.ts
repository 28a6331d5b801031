/**
 * Whether the app has mounted (its keys are listened to): the page says it is ready only then, not
 * merely once the projects have loaded, which the boot script's head start can make happen first.
 */
let resolveMounted: () => void = () => undefined;

export const appMounted = new Promise<void>((resolve) => (resolveMounted = resolve));

/** Called by the App once its keyboard listener is on. */
export function markMounted(): void {
  // Keys pressed from now on reach the app itself (boot.ts kept those before).
  window.__onbrandBootKeys?.stop();
  resolveMounted();
}
