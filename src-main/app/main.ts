/**
 * The Electron shell: one window, the renderer served from the `onbrand://` scheme, images from
 * `onbrand-media://`, and the API over one IPC channel whose sender is checked. All behaviour
 * lives in src-main/core; this file only adapts it.
 *
 * The page is treated as untrusted: it may call any method of the contract (the contract is the
 * allow-list), but every file or folder it names must lie in the catalogue's folders or be one
 * the user chose in a native dialog or dropped onto the window (core/path-grants.ts). It may not
 * navigate away from the app, open windows, attach webviews, or use web permissions beyond
 * copying text and full screen (web-policy.ts).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  nativeImage,
  net,
  protocol,
  session,
  shell,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
  type WebContents,
} from 'electron';
import { toApiError } from '../core/api/index.js';
import { resolveConfig } from '../core/config.js';
import { isInside } from '../core/images/index.js';
import { catalogueFolders, confinePaths, PathGrants } from '../core/path-grants.js';
import { createRpc, type Rpc } from '../core/rpc.js';
import { contentSecurityPolicy } from '../core/security.js';
import { createServices, type Services } from '../core/services.js';
import { appPackage } from '../core/util/index.js';
import { keychainCodec } from './keychain.js';
import {
  APP_SCHEME,
  CHANNEL_DRAG,
  CHANNEL_EVENT,
  CHANNEL_GRANT,
  CHANNEL_INVOKE,
  CHANNEL_PICK,
  MEDIA_SCHEME,
  type BridgeResult,
} from './bridge.js';
import { APP_ORIGIN, isAppUrl, openDialogOptions, permits } from './web-policy.js';

const rendererDir = path.join(appPackage().root, 'dist', 'renderer');
const preloadPath = path.join(appPackage().root, 'dist', 'main', 'app', 'preload.cjs');

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  { scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);

let services: Services | undefined;
let rpc: Rpc | undefined;
/** Files and folders the user chose (dialog) or dropped in this session. */
const grants = new PathGrants();

function isTrustedSender(event: IpcMainInvokeEvent | IpcMainEvent): boolean {
  const url = event.senderFrame?.url;
  return typeof url === 'string' && url.startsWith(`${APP_ORIGIN}/`);
}

/**
 * Every web contents (the window, and anything else Electron creates) only ever shows the app:
 * no navigation of any frame elsewhere, no new windows (https links open in the user's browser),
 * no <webview>.
 */
function guardContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-frame-navigate', (details) => {
    if (!isAppUrl(details.url)) details.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 960,
    minWidth: 800,
    minHeight: 560,
    backgroundColor: '#111214',
    title: 'Onbrand',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

async function start(): Promise<void> {
  services = createServices(resolveConfig(), { secretCodec: keychainCodec() });
  const recovered = services.queue.start();
  // Downloads that were running when Onbrand last stopped go on from where they stopped: in the
  // process that owns the queue (now, or when the one that owns it stops), never in two at once.
  void services.queue.whenOwner().then(() => services?.models.resumePending());
  for (const bad of recovered.unreadable)
    console.warn(`onbrand: job ${bad.id} cannot be read (${bad.reason}); kept as failed, with its prompt.`);
  rpc = createRpc(services, 'electron');
  const csp = contentSecurityPolicy({ mediaOrigin: `${MEDIA_SCHEME}:` });

  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback, details) =>
    callback(permits(permission, details.requestingUrl)),
  );
  session.defaultSession.setPermissionCheckHandler((_wc, permission, requestingOrigin) => permits(permission, requestingOrigin));

  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const file = path.join(rendererDir, decodeURIComponent(url.pathname));
    if (url.host !== 'app' || !isInside(rendererDir, file)) return new Response('Not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', csp);
    return new Response(response.body, { status: response.status, headers });
  });

  protocol.handle(MEDIA_SCHEME, async (request) => {
    try {
      const requested = new URL(request.url).searchParams.get('path') ?? '';
      const file = await services!.media.resolve(requested);
      return net.fetch(pathToFileURL(file.path).toString());
    } catch (error) {
      const apiError = toApiError(error);
      return new Response(apiError.message, { status: apiError.code === 'not_found' ? 404 : 403 });
    }
  });

  ipcMain.handle(CHANNEL_INVOKE, async (event, method: unknown, input: unknown): Promise<BridgeResult> => {
    if (!isTrustedSender(event)) return { ok: false, error: { code: 'unauthorized', message: 'Untrusted sender.' } };
    try {
      const confined = await confinePaths(String(method), input, grants, () => catalogueFolders(services!));
      return { ok: true, result: await rpc!.invoke(String(method), confined) };
    } catch (error) {
      return { ok: false, error: toApiError(error).toJSON() };
    }
  });

  // A native open dialog; what the user chooses, the renderer may name from then on.
  ipcMain.handle(CHANNEL_PICK, async (event, request: unknown): Promise<string[]> => {
    if (!isTrustedSender(event)) return [];
    const options = openDialogOptions(request);
    const win = BrowserWindow.fromWebContents(event.sender);
    const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
    if (result.canceled) return [];
    for (const chosen of result.filePaths) grants.grant(chosen);
    return result.filePaths;
  });

  // The preload reports the path of a real File the user dropped (see preload.cts).
  ipcMain.on(CHANNEL_GRANT, (event, dropped: unknown) => {
    if (isTrustedSender(event) && typeof dropped === 'string') grants.grant(dropped);
  });

  // Drag out: the renderer names catalogue files; only files the media rules allow leave the window.
  ipcMain.on(CHANNEL_DRAG, (event, paths: unknown) => {
    if (!isTrustedSender(event) || !Array.isArray(paths) || paths.length === 0) return;
    void Promise.all(
      paths
        .filter((p): p is string => typeof p === 'string')
        .map((p) =>
          services!.media.resolve(p).then(
            (f) => f.path,
            () => null,
          ),
        ),
    ).then((files) => {
      const allowed = files.filter((f): f is string => f !== null);
      if (allowed.length === 0) return;
      const icon = nativeImage.createFromPath(allowed[0]!).resize({ width: 96 });
      event.sender.startDrag({ file: allowed[0]!, files: allowed, icon });
    });
  });

  services.events.subscribe((event) => {
    for (const win of BrowserWindow.getAllWindows()) {
      if (!win.isDestroyed()) win.webContents.send(CHANNEL_EVENT, event);
    }
  });

  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

app.on('web-contents-created', (_event, contents) => guardContents(contents));

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => BrowserWindow.getAllWindows()[0]?.focus());
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', () => void services?.close());
  app
    .whenReady()
    .then(start)
    .catch((error: unknown) => {
      // A catalogue from a newer Onbrand or a corrupt one: say so plainly, touch nothing.
      dialog.showErrorBox('Onbrand cannot start', (error as Error).message);
      app.exit(1);
    });
}
