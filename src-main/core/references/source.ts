/**
 * Where a mood-board reference came from, read from what the catalogue keeps of it: no source URL
 * is a file from this machine (a file or folder named by path, dropped, or uploaded from the
 * browser); an unsplash.com page (or the Unsplash licence) is Unsplash; an address whose last part
 * names an image file is an image link; any other address is a web page (its Open Graph image).
 */
export type ReferenceSource = 'local' | 'unsplash' | 'image-link' | 'web-page';

export function referenceSource(ref: { sourceUrl: string | null; licence?: string | null }): ReferenceSource {
  if (!ref.sourceUrl) return 'local';
  if (ref.licence === 'Unsplash License') return 'unsplash';
  if (!URL.canParse(ref.sourceUrl)) return 'web-page';
  const url = new URL(ref.sourceUrl);
  if (url.hostname === 'unsplash.com' || url.hostname.endsWith('.unsplash.com')) return 'unsplash';
  return /\.(png|jpe?g|webp|gif|avif)$/i.test(url.pathname) ? 'image-link' : 'web-page';
}

const NAMES: Record<ReferenceSource, [string, string]> = {
  local: ['local file', 'local files'],
  'web-page': ['web page', 'web pages'],
  'image-link': ['image link', 'image links'],
  unsplash: ['Unsplash photo', 'Unsplash photos'],
};

/** "3 local files, 1 web page, 2 Unsplash photos" (in that order; empty without references). */
export function describeReferenceSources(refs: readonly { sourceUrl: string | null; licence?: string | null }[]): string {
  const counts = new Map<ReferenceSource, number>();
  for (const ref of refs) counts.set(referenceSource(ref), (counts.get(referenceSource(ref)) ?? 0) + 1);
  return (Object.keys(NAMES) as ReferenceSource[])
    .filter((kind) => counts.has(kind))
    .map((kind) => {
      const n = counts.get(kind)!;
      return `${n} ${NAMES[kind][n === 1 ? 0 : 1]}`;
    })
    .join(', ');
}
