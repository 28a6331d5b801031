import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as bridge from './bridge.js';
import { isAppUrl, openDialogOptions, permits } from './web-policy.js';

describe('isAppUrl', () => {
  it('is true only for pages of onbrand://app', () => {
    expect(isAppUrl('onbrand://app/index.html')).toBe(true);
    expect(isAppUrl('onbrand://app/')).toBe(true);
    for (const url of [
      'onbrand://app.evil.com/index.html',
      'onbrand://apps/index.html',
      'onbrand-media://local/file?path=/x.png',
      'https://app/index.html',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'about:blank',
      'not a url',
      '',
    ]) {
      expect(isAppUrl(url), url).toBe(false);
    }
  });
});

describe('permits', () => {
  it('gives the app copying and full screen, and nothing else to anyone', () => {
    expect(permits('clipboard-sanitized-write', 'onbrand://app')).toBe(true);
    expect(permits('fullscreen', 'onbrand://app/index.html')).toBe(true);
    for (const permission of [
      'media',
      'geolocation',
      'notifications',
      'clipboard-read',
      'fileSystem',
      'openExternal',
      'hid',
      'usb',
      'serial',
      'unknown',
    ]) {
      expect(permits(permission, 'onbrand://app'), permission).toBe(false);
    }
    expect(permits('fullscreen', 'https://example.com')).toBe(false);
    expect(permits('clipboard-sanitized-write', undefined)).toBe(false);
    expect(permits('clipboard-sanitized-write', '')).toBe(false);
  });
});

describe('openDialogOptions', () => {
  it('offers files or a folder as asked, with the filter', () => {
    expect(openDialogOptions({ select: 'folder' })).toEqual({ properties: ['openDirectory', 'createDirectory', 'dontAddToRecent'] });
    expect(openDialogOptions({ select: 'files', multiple: true, filter: 'images', title: 'Import' })).toEqual({
      properties: ['openFile', 'dontAddToRecent', 'multiSelections'],
      title: 'Import',
      filters: [{ name: 'Images', extensions: ['png', 'jpg', 'jpeg', 'webp'] }],
    });
  });

  it('refuses a request that is not one, naming the field', () => {
    expect(() => openDialogOptions({ select: 'anything' })).toThrow(/select/);
    expect(() => openDialogOptions({ select: 'files', defaultPath: '/etc' })).toThrow(/pickPaths/);
    expect(() => openDialogOptions(null)).toThrow(/pickPaths/);
  });
});

describe('preload', () => {
  it('uses the same channel names as main (it keeps literal copies: a sandboxed preload cannot require files)', () => {
    const preload = fs.readFileSync(path.join(import.meta.dirname, 'preload.cts'), 'utf8');
    const channels = Object.entries(bridge).filter(([name]) => name.startsWith('CHANNEL_'));
    expect(channels.length).toBeGreaterThanOrEqual(5);
    for (const [name, value] of channels) expect(preload, name).toContain(`const ${name} = '${String(value)}';`);
  });
});
