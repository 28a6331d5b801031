/**
 * What the Electron window's web content may do, as plain functions (no Electron import) so that
 * they are tested under Node: where a frame may navigate, which web permissions the app gets,
 * and what a native open dialog offers. main.ts only wires them to Electron's hooks.
 */
import { z } from 'zod';
import type { OpenDialogOptions } from 'electron';
import type { PickRequest } from '../core/api/index.js';
import { APP_SCHEME } from './bridge.js';

export const APP_ORIGIN = `${APP_SCHEME}://app`;

/** True for a page of the app itself (`onbrand://app/…`), the only thing a window may show. */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === 'app';
  } catch {
    return false;
  }
}

/**
 * The web permissions the app's own pages use: copying text (the time log, the models folder)
 * and full screen (lights-out culling). Everything else (camera, location, notifications, USB,
 * the File System Access API, …) is refused, and nothing is granted to any other origin.
 */
const APP_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write', 'fullscreen']);

export function permits(permission: string, origin: string | null | undefined): boolean {
  return APP_PERMISSIONS.has(permission) && typeof origin === 'string' && isAppUrl(origin);
}

const pickRequestSchema = z
  .object({
    select: z.enum(['files', 'folder']),
    multiple: z.boolean().optional(),
    filter: z.enum(['images', 'checkpoints']).optional(),
    title: z.string().max(120).optional(),
  })
  .strict();

const FILTERS: Record<NonNullable<PickRequest['filter']>, Electron.FileFilter[]> = {
  images: [{ name: 'Images', extensions: ['png', 'jpg', 'jpeg', 'webp'] }],
  checkpoints: [{ name: 'Checkpoints', extensions: ['safetensors'] }],
};

/** The native dialog for a renderer's pick request; throws, naming the field, on a request that is not one. */
export function openDialogOptions(request: unknown): OpenDialogOptions {
  const parsed = pickRequestSchema.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`pickPaths: ${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'invalid'}`);
  }
  const { select, multiple, filter, title } = parsed.data;
  // Files and folders cannot be offered in one dialog on Windows and Linux: the UI asks for one kind.
  const properties: OpenDialogOptions['properties'] =
    select === 'folder' ? ['openDirectory', 'createDirectory', 'dontAddToRecent'] : ['openFile', 'dontAddToRecent'];
  if (multiple) properties.push('multiSelections');
  return {
    properties,
    ...(title ? { title } : {}),
    ...(select === 'files' && filter ? { filters: FILTERS[filter] } : {}),
  };
}
