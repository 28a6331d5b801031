/**
 * The Content-Security-Policy of every Onbrand window and browser-host page: scripts and styles
 * only from the app itself, images from the app and its image route/protocol, no plugins, no
 * framing, no remote connections (the loupe fetches images from the image route to decode them ahead).
 */
export function contentSecurityPolicy(options: { mediaOrigin?: string } = {}): string {
  const media = options.mediaOrigin ? ` ${options.mediaOrigin}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob:${media}`,
    "font-src 'self'",
    `connect-src 'self'${media}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
