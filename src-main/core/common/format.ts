/** Sizes and names as both sides write them: pure functions, so the core's messages and the UI agree. */

/** 1536 → "1.5 KB": decimal units, as the Hub and file managers write them ("512 bytes", "1 byte", "2.1 GB"). */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/**
 * A name for a model from its source file or folder ("DreamShaper_8_pruned.safetensors" →
 * "DreamShaper_8_pruned"). Splits on both separators, so a Windows path reads the same
 * anywhere; `fallback` when nothing usable is left (the import dialog passes '' to leave the
 * field empty).
 */
export function suggestModelName(source: string, fallback = 'model'): string {
  const file =
    source
      .trim()
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() ?? '';
  const base = file
    .replace(/\.(safetensors|ckpt|pt|pth|bin)$/i, '')
    .replace(/[^\w .()+-]+/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[. ]+$/, '');
  return base.slice(0, 64) || fallback;
}

/**
 * A whole number with thousands separators ("10,000"). Not `toLocaleString`: its first call loads
 * the number formatting data, about 90 ms on the grid's first paint.
 */
export function formatCount(value: number): string {
  const whole = Math.round(value);
  const digits = String(Math.abs(whole));
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return whole < 0 ? `-${out}` : out;
}
