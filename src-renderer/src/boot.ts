/**
 * Start-up's head start (browser host only). This small script runs as soon as the page is parsed,
 * while the app's bundle is still loading and compiling: it asks for the project list and the
 * first page of the project that will open (the last one, else the first), and loads that page's
 * first thumbnails into the browser's cache, so the grid paints the moment the app renders it.
 * The app takes the answers over (`takeBoot` in features/projects/actions.ts); in Electron, whose
 * IPC has no connection limit, it does nothing. It is the page's entry: the app's bundle is imported
 * at its end, so the requests leave first. No other runtime imports: it must stay tiny.
 */
import type { ImagePage, Project } from '../../src-main/core/api/index';
// The app's styles, linked in the page's head: the host's picture of the first screenful
// (host/boot-view.ts) is drawn with them before the bundle has loaded.
import './styles.css';

/** What the boot script started, for the app to take over. */
export interface BootStart {
  projects: Promise<Project[]>;
  /** The first page of the project that opens, or null when there is none (or it failed). */
  firstPage: Promise<{ projectId: number; page: ImagePage } | null>;
  /** The thumbnails being loaded: kept referenced so the cache keeps them. */
  thumbnails: HTMLImageElement[];
}

/** Keys pressed while only the host's picture was up, before the app listened: the app takes them when its grid takes over. */
export interface BootKeys {
  pressed: KeyboardEventInit[];
  /** The app listens now: no more keys are kept here. */
  stop(): void;
}

declare global {
  interface Window {
    __onbrandBoot?: BootStart | undefined;
    __onbrandBootKeys?: BootKeys | undefined;
  }
}

/** The size of the first page (features/projects' FIRST_PAGE), and how many of its thumbnails are loaded at once. */
const FIRST_PAGE = 200;
/** More than a screenful of the grid at its default size with the rows above and below it (3 × 176 px beyond a 1440×900 view). */
const WARM_THUMBNAILS = 72;

function start(): BootStart | undefined {
  if ((window as { onbrand?: unknown }).onbrand) return undefined;
  const token = new URL(window.location.href).searchParams.get('token') ?? sessionStorage.getItem('onbrand.token');
  if (!token) return undefined;
  const post = async <T>(method: string, input: object): Promise<T> => {
    const response = await fetch(`/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-onbrand-token': token },
      body: JSON.stringify(input),
    });
    const body = (await response.json()) as { result?: T; error?: { message: string } };
    if (!response.ok || body.error) throw new Error(body.error?.message ?? `${method}: HTTP ${response.status}`);
    return body.result as T;
  };
  const page = (projectId: number): Promise<{ projectId: number; page: ImagePage }> =>
    post<ImagePage>('images.page', { projectId, offset: 0, limit: FIRST_PAGE }).then((p) => ({ projectId, page: p }));
  const last = Number(localStorage.getItem('onbrand.lastProject'));
  const projects = post<Project[]>('projects.list', {});
  // The last project's page need not wait for the list; another project's does.
  const early = last > 0 ? page(last).catch(() => null) : null;
  const firstPage = projects
    .then(async (list) => {
      const pick = list.find((p) => p.id === last) ?? list[0];
      // The host drew another project's first screenful (its cookie and this storage disagree): not this one's.
      const drawn = document.getElementById('boot-view');
      if (drawn && drawn.dataset.project !== String(pick?.id)) drawn.remove();
      if (!pick) return null;
      return pick.id === last && early ? await early : await page(pick.id);
    })
    .catch(() => null);
  const boot: BootStart = { projects, firstPage, thumbnails: [] };
  projects.catch(() => undefined);
  void firstPage.then((first) => {
    for (const image of first?.page.images.slice(0, WARM_THUMBNAILS) ?? []) {
      if (!image.thumbPath) continue;
      const img = new Image();
      img.decoding = 'async';
      // The very URL the grid asks for (core/common hostMediaUrl, written out here: this script
      // takes nothing from core/common's index), so the grid's images come from the cache.
      img.src = `/media?path=${encodeURIComponent(image.thumbPath)}&token=${encodeURIComponent(token)}`;
      boot.thumbnails.push(img);
    }
  });
  return boot;
}

window.__onbrandBoot = start();
// The app itself: its bundle loads and compiles while the requests above are answered. Where the
// host drew the first screenful (host/boot-view.ts), its thumbnails are decoded and shown first:
// running the bundle takes the main thread for a while, and no frame is painted meanwhile.
const app = (): void => void import('./main');
const drawn = document.getElementById('boot-view');
if (drawn) {
  // The grid is on screen before the app listens: a designer who starts culling at once loses no key.
  const pressed: KeyboardEventInit[] = [];
  const keep = (event: KeyboardEvent): void => {
    if (pressed.length < 32)
      pressed.push({
        key: event.key,
        code: event.code,
        shiftKey: event.shiftKey,
        ctrlKey: event.ctrlKey,
        altKey: event.altKey,
        metaKey: event.metaKey,
      });
  };
  window.addEventListener('keydown', keep, true);
  window.__onbrandBootKeys = { pressed, stop: () => window.removeEventListener('keydown', keep, true) };
}
// A page opened behind others paints no frames (and runs no frame callbacks) until it is shown.
if (drawn && document.visibilityState === 'visible') {
  const decoded = Promise.all(Array.from(drawn.querySelectorAll('img'), (img) => img.decode().catch(() => undefined)));
  void Promise.race([decoded, new Promise((resolve) => setTimeout(resolve, 400))]).then(() =>
    requestAnimationFrame(() => setTimeout(app, 0)),
  );
} else app();
