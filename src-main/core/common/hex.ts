/**
 * Colours as designers type them: `#FE2C54`, `fe2c54`, `#F2C`, `f2c`. The palette editor reads a
 * field or a pasted list with these, and the core's messages name the same forms.
 */

/** `#RRGGBB` (upper case) for a typed colour (`#RGB` or `#RRGGBB`, with or without `#`, spaces around), or null. */
export function normaliseHex(text: string): string | null {
  const match = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(text.trim());
  if (!match) return null;
  const digits = match[1]!.length === 3 ? [...match[1]!].map((d) => d + d).join('') : match[1]!;
  return `#${digits.toUpperCase()}`;
}

export interface HexList {
  /** The colours read, as `#RRGGBB`, in order, each once. */
  colours: string[];
  /** What could not be read as a colour, as typed. */
  invalid: string[];
}

/** A pasted list of colours: separated by commas, semicolons, spaces or new lines ("#FE2C54, #00E0FF #FFD500"). */
export function parseHexList(text: string): HexList {
  const colours: string[] = [];
  const invalid: string[] = [];
  for (const item of text.split(/[\s,;]+/).filter(Boolean)) {
    const hex = normaliseHex(item);
    if (!hex) invalid.push(item);
    else if (!colours.includes(hex)) colours.push(hex);
  }
  return { colours, invalid };
}
