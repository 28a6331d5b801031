/**
 * The browser host's first screenful, in the page itself. Opening a large project used to wait for
 * the app's bundle, its first page and then its thumbnails, one after the other (about a second on
 * 2 cores, for 10,000 images). When the page is asked for with the token (the address Onbrand
 * prints and opens), the host writes the opening project's first thumbnails into index.html as
 * plain `<img>` cells: the browser fetches and paints them while the bundle still loads. The view
 * is what the app will show first (the default view: capture order, rejected images hidden, the
 * first image selected), at the same places (the grid's columns come from the same widths in
 * styles.css, `.boot-view`); the app removes it once its own grid has painted (features/grid/
 * painted.ts). It is only a picture: nothing in it reacts (clicks go through to the app beneath;
 * keys pressed on it are kept by boot.ts and given to the app's grid when it takes over),
 * its cells are `.boot-cell`, not the grid's `.cell`, and a reload without the token in the
 * address shows the app alone. Electron loads the page from its files and has no such view.
 */
import type { ImageSummary, Project } from '../core/api/index.js';
import { formatCount, hostMediaUrl } from '../core/common/index.js';

/** Cells written into the page: a 1920×1080 window's screenful at the default thumbnail size (10 × 6). */
export const BOOT_CELLS = 60;

/**
 * Thumbnails travel inside the page (data: addresses) up to this many bytes in all: one response
 * instead of 60 requests over the browser's 6 connections, which on a busy 2-core machine took
 * longer than the page itself. Past it, cells load their thumbnail by address as the grid does.
 */
export const BOOT_INLINE_BYTES = 1536 * 1024;

/** The cookie the app sets when a project opens (features/projects/actions.ts), for the host to know which opens next. */
export const LAST_PROJECT_COOKIE = 'onbrand.lastProject';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** The project id in the app's cookie, or null. */
export function lastProjectFromCookie(header: string | undefined): number | null {
  for (const part of (header ?? '').split(';')) {
    const [name, value] = part.trim().split('=');
    if (name === LAST_PROJECT_COOKIE && value && /^\d{1,12}$/.test(value)) return Number(value);
  }
  return null;
}

/** The project that opens: the last one opened, else the first of the list (as boot.ts picks it). */
export function openingProject(projects: readonly Project[], last: number | null): Project | null {
  return projects.find((p) => p.id === last) ?? projects[0] ?? null;
}

/** The images drawn: the app's default view (rejected images are in "Maybe Later", not in the grid), a screenful. */
export function shownImages(images: readonly ImageSummary[]): ImageSummary[] {
  return images.filter((image) => image.flag !== 'reject').slice(0, BOOT_CELLS);
}

export interface BootViewInput {
  project: Project;
  /** Images in the project (the status bar's count). */
  total: number;
  /** The project's first images in capture order (images.page from 0). */
  images: readonly ImageSummary[];
  token: string;
  /** Thumbnails carried in the page, by thumbnail path (data: addresses). */
  inline?: ReadonlyMap<string, string>;
}

/** The view's markup: a top bar, an empty filter bar, the grid's first cells and the status bar. */
export function bootViewHtml({ project, total, images, token, inline }: BootViewInput): string {
  const shown = shownImages(images);
  const cells = shown.map((image, index) => {
    const name = escapeHtml(image.fileName);
    const thumb = image.thumbPath
      ? `<img class="thumb" src="${escapeHtml(inline?.get(image.thumbPath) ?? hostMediaUrl(image.thumbPath, token))}" alt="${name}" decoding="async" fetchpriority="high" draggable="false">`
      : '<div class="thumb pending"></div>';
    return `<div class="boot-slot"><div class="boot-cell${index === 0 ? ' selected' : ''}">${thumb}<span class="cell-name">${name}</span></div></div>`;
  });
  // A scroll bar where the app's grid will have one (more images than fit), so the columns match.
  const more = total > shown.length ? ' boot-more' : '';
  return (
    `<div id="boot-view" class="boot-view" aria-hidden="true" data-project="${project.id}">` +
    `<header class="topbar"><span class="brand">Onbrand</span><span class="boot-project">${escapeHtml(project.name)}</span></header>` +
    `<div class="curation-bar boot-bar"></div>` +
    `<div class="boot-grid${more}">${cells.join('')}</div>` +
    `<footer class="statusbar"><span>${formatCount(total)} image${total === 1 ? '' : 's'}</span></footer>` +
    `</div>`
  );
}

/** index.html with the view after the app's root element (unchanged when the page has none). */
export function withBootView(indexHtml: string, view: string): string {
  const root = '<div id="root"></div>';
  return indexHtml.includes(root) ? indexHtml.replace(root, `${root}\n    ${view}`) : indexHtml;
}
