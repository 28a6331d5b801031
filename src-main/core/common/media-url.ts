/**
 * The browser host's address for a catalogue image (host/server.ts `/media`). The grid, the boot
 * script and the host's picture of the first screenful ask for the very same one, so each finds
 * what the others loaded in the browser's cache (boot.ts writes it out: it imports nothing).
 */
export function hostMediaUrl(path: string, token: string): string {
  return `/media?path=${encodeURIComponent(path)}&token=${encodeURIComponent(token)}`;
}
