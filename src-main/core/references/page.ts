/** What a web page says about its main image: Open Graph / Twitter card tags, the photographer, the licence. */

export interface PageImage {
  imageUrl: string | null;
  author: string | null;
  authorUrl: string | null;
  licence: string | null;
  canonicalUrl: string | null;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number(name.slice(1)));
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** Every `<meta>` tag's property/name → content. */
function metaTags(html: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const match of html.matchAll(/<meta\b[^>]*>/gi)) {
    const attributes = new Map<string, string>();
    for (const attr of match[0].matchAll(/([\w:-]+)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/g)) attributes.set(attr[1]!.toLowerCase(), decode(attr[3] ?? attr[4] ?? attr[5] ?? ''));
    const key = attributes.get('property') ?? attributes.get('name');
    const content = attributes.get('content');
    if (key && content !== undefined && !tags.has(key.toLowerCase())) tags.set(key.toLowerCase(), content);
  }
  return tags;
}

export function readPage(html: string, pageUrl: string): PageImage {
  const meta = metaTags(html);
  const raw = meta.get('og:image:secure_url') ?? meta.get('og:image') ?? meta.get('og:image:url') ?? meta.get('twitter:image') ?? meta.get('twitter:image:src') ?? null;
  const imageUrl = raw ? new URL(raw, pageUrl).toString() : null;
  const title = meta.get('og:title') ?? decode(/<title[^>]*>([^<]*)<\/title>/i.exec(html)?.[1] ?? '');
  // Unsplash titles its photo pages "… photo by NAME on Unsplash" / "Photo by NAME on Unsplash".
  const byline = /photo by (.+?) on unsplash/i.exec(title)?.[1] ?? null;
  const author = byline ?? meta.get('author') ?? meta.get('article:author') ?? null;
  const authorLink = /<a\b[^>]*href="(\/@[\w.-]+)"/i.exec(html)?.[1];
  const host = new URL(pageUrl).hostname;
  const unsplash = host === 'unsplash.com' || host.endsWith('.unsplash.com');
  return {
    imageUrl,
    author: author ? author.trim() : null,
    authorUrl: authorLink ? new URL(authorLink, pageUrl).toString() : null,
    licence: unsplash ? 'Unsplash License' : (meta.get('license') ?? null),
    canonicalUrl: meta.get('og:url') ?? null,
  };
}
