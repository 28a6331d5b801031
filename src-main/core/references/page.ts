/** What a web page says about its main image: Open Graph / Twitter card tags, the photographer, the licence. */

export interface PageImage {
  imageUrl: string | null;
  author: string | null;
  authorUrl: string | null;
  licence: string | null;
  canonicalUrl: string | null;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };

/** A numeric character reference's character; one outside Unicode (`&#99999999;`) is U+FFFD, as browsers do. */
function codePoint(value: number): string {
  return Number.isInteger(value) && value > 0 && value <= 0x10ffff && !(value >= 0xd800 && value <= 0xdfff)
    ? String.fromCodePoint(value)
    : '\uFFFD';
}

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,8}|#\d{1,10}|\w+);/gi, (whole, name: string) => {
    if (name.toLowerCase().startsWith('#x')) return codePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return codePoint(Number(name.slice(1)));
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** How much of a web page is downloaded and read for its tags: its head, where they are, with room to spare. */
export const PAGE_LIMIT = 2 * 1024 * 1024;
const MAX_HTML = PAGE_LIMIT;
/** A tag longer than this is not a real `<meta>` tag. */
const MAX_TAG = 8192;

/** Every `<meta>` tag's property/name → content, found in one pass (a page of unclosed `<meta` costs linear time). */
function metaTags(page: string): Map<string, string> {
  const html = page.length > MAX_HTML ? page.slice(0, MAX_HTML) : page;
  const lower = html.toLowerCase();
  const tags = new Map<string, string>();
  for (let at = lower.indexOf('<meta'); at >= 0; at = lower.indexOf('<meta', at + 5)) {
    const end = lower.indexOf('>', at);
    if (end < 0) break; // No tag closes after this: none can be complete.
    if (end - at > MAX_TAG || !/[\s/>]/.test(lower[at + 5] ?? '')) continue;
    const tag = html.slice(at, end + 1);
    const attributes = new Map<string, string>();
    for (const attr of tag.matchAll(/([\w:-]+)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/g))
      attributes.set(attr[1]!.toLowerCase(), decode(attr[3] ?? attr[4] ?? attr[5] ?? ''));
    const key = attributes.get('property') ?? attributes.get('name');
    const content = attributes.get('content');
    if (key && content !== undefined && !tags.has(key.toLowerCase())) tags.set(key.toLowerCase(), content);
  }
  return tags;
}

export function readPage(html: string, pageUrl: string): PageImage {
  const meta = metaTags(html);
  const raw =
    meta.get('og:image:secure_url') ??
    meta.get('og:image') ??
    meta.get('og:image:url') ??
    meta.get('twitter:image') ??
    meta.get('twitter:image:src') ??
    null;
  let imageUrl: string | null = null;
  if (raw && URL.canParse(raw, pageUrl)) imageUrl = new URL(raw, pageUrl).toString();
  const title = meta.get('og:title') ?? decode(/<title[^>]{0,256}>([^<]{0,4096})<\/title>/i.exec(html.slice(0, MAX_HTML))?.[1] ?? '');
  // Unsplash titles its photo pages "… photo by NAME on Unsplash" / "Photo by NAME on Unsplash".
  const byline = /photo by (.+?) on unsplash/i.exec(title)?.[1] ?? null;
  const author = byline ?? meta.get('author') ?? meta.get('article:author') ?? null;
  // Unsplash links the photographer as href="/@name" (a pattern without backtracking: linear on any page).
  const authorLink = /href="(\/@[\w.-]+)"/i.exec(html.slice(0, MAX_HTML))?.[1];
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
