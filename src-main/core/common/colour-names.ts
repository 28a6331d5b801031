/**
 * Plain colour names ("teal", "brown"): the export's file names when no brand colour is present,
 * the CLI's palette, and the names new brand colours get in the mood board. One list, so a
 * colour has the same name everywhere.
 */

/** A plain name for a colour (`#RRGGBB`) from a small fixed list, by its lightness, saturation and hue. */
export function plainColourName(hex: string): string {
  const n = Number.parseInt(hex.replace('#', ''), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => v / 255) as [number, number, number];
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const l = (max + min) / 2;
  const d = max - min;
  const s = d === 0 ? 0 : d / (1 - Math.abs(2 * l - 1));
  if (l < 0.12) return 'black';
  if (l > 0.92 && s < 0.5) return 'white';
  if (s < 0.15 || d < 0.08) return 'grey';
  let h = 0;
  if (max === r) h = ((g - b) / d) % 6;
  else if (max === g) h = (b - r) / d + 2;
  else h = (r - g) / d + 4;
  h = (h * 60 + 360) % 360;
  if ((h < 45 || h >= 345) && l < 0.35 && h > 10 && h < 45) return 'brown';
  if (h >= 15 && h < 45 && l < 0.45) return 'brown';
  if (h < 15 || h >= 345) return l > 0.75 ? 'pink' : 'red';
  if (h < 45) return 'orange';
  if (h < 70) return 'yellow';
  if (h < 160) return 'green';
  if (h < 200) return 'teal';
  if (h < 255) return 'blue';
  if (h < 290) return 'purple';
  if (h < 330) return 'magenta';
  return 'pink';
}
