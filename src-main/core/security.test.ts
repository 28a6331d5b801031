import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from './security.js';

describe('contentSecurityPolicy', () => {
  it('lets the page fetch from the image protocol (the loupe decodes ahead with fetch) and nowhere else', () => {
    const directives = contentSecurityPolicy({ mediaOrigin: 'onbrand-media:' }).split('; ');
    expect(directives).toContain("connect-src 'self' onbrand-media:");
    expect(directives).toContain("img-src 'self' data: blob: onbrand-media:");
  });

  it('keeps connections to the app itself where images come from its own route (the browser host)', () => {
    expect(contentSecurityPolicy().split('; ')).toContain("connect-src 'self'");
  });
});
