import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { type ApiError, toApiError, type ApiErrorCode, type ImagePage, type Project } from '../core/api/index.js';
import { mediaCacheControl, mediaEtag } from '../core/images/index.js';
import { createRpc } from '../core/rpc.js';
import type { UploadLimits } from '../core/common/index.js';
import { contentSecurityPolicy } from '../core/security.js';
import type { Services } from '../core/services.js';
import {
  BOOT_CELLS,
  BOOT_INLINE_BYTES,
  bootViewHtml,
  lastProjectFromCookie,
  openingProject,
  shownImages,
  withBootView,
} from './boot-view.js';
import { registerUploadRoute } from './upload-route.js';

export interface HostOptions {
  services: Services;
  /** Interface to bind; 127.0.0.1 unless the user asks otherwise. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The per-run token; generated when absent. */
  token?: string;
  /** The built renderer (dist/renderer). */
  rendererDir: string;
  logger?: boolean;
  /** Smaller upload limits (tests); see core/common's UPLOAD_LIMITS. */
  uploadLimits?: Partial<UploadLimits>;
}

export interface RunningHost {
  url: string;
  /** The URL to open: carries the token once; the page keeps it for the session. */
  urlWithToken: string;
  token: string;
  port: number;
  app: FastifyInstance;
  close(): Promise<void>;
}

const STATUS: Record<ApiErrorCode, number> = {
  invalid_input: 400,
  unknown_method: 404,
  not_found: 404,
  conflict: 409,
  unauthorized: 403,
  io: 500,
  internal: 500,
};

/**
 * The browser host: the same API as the Electron shell, over HTTP (POST /api/<method>) and a
 * WebSocket of events (/api/events), plus the renderer's files and an image route (/media).
 * Everything but /api/health and the static UI needs the per-run token.
 */
export async function startHost(options: HostOptions): Promise<RunningHost> {
  const { services } = options;
  const token = options.token ?? crypto.randomBytes(24).toString('hex');
  const rpc = createRpc(services, 'browser');
  const csp = contentSecurityPolicy();
  // Keep-alive: the grid's thumbnails reuse the browser's few connections instead of opening new ones.
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 8 * 1024 * 1024, keepAliveTimeout: 72_000 });
  // Cache files are recognised by their place in the (real) data folder; see mediaCacheControl.
  const realDataDir = (() => {
    try {
      return fs.realpathSync(services.config.dataDir);
    } catch {
      return path.resolve(services.config.dataDir);
    }
  })();

  const tokenOk = (given: unknown): boolean => {
    if (typeof given !== 'string') return false;
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && crypto.timingSafeEqual(a, b);
  };
  const requestToken = (req: FastifyRequest): unknown => {
    const header = req.headers['x-onbrand-token'];
    if (typeof header === 'string') return header;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return auth.slice(7);
    return (req.query as Record<string, unknown> | undefined)?.token;
  };
  const sendError = (reply: FastifyReply, error: ApiError): FastifyReply => reply.code(STATUS[error.code]).send({ error: error.toJSON() });

  // DNS rebinding: a page of another site whose name resolves to 127.0.0.1 reaches this port with
  // its own name in Host. Only this machine's names for the bound address are answered.
  let port = 0;
  const bound = options.host ?? '127.0.0.1';
  const hostAllowed = (header: string | undefined): boolean => {
    if (!header) return false;
    const names = new Set(['127.0.0.1', 'localhost', '[::1]', bound.includes(':') ? `[${bound}]` : bound]);
    if (bound === '0.0.0.0' || bound === '::') {
      // Listening on every interface (the user asked for it): any of this machine's addresses.
      for (const list of Object.values(os.networkInterfaces()))
        for (const a of list ?? []) names.add(a.family === 'IPv6' ? `[${a.address}]` : a.address);
      names.add(os.hostname().toLowerCase());
    }
    const lower = header.toLowerCase();
    return [...names].some((name) => lower === `${name}:${port}`);
  };
  app.addHook('onRequest', async (req, reply) => {
    if (!hostAllowed(req.headers.host)) {
      return reply.code(421).send({
        error: {
          code: 'unauthorized',
          message: `This Onbrand answers only as 127.0.0.1:${port} or localhost:${port}, not as "${req.headers.host ?? ''}".`,
        },
      });
    }
    return undefined;
  });

  app.addHook('onSend', async (_req, reply) => {
    reply.header('Content-Security-Policy', csp);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
  });

  // Fastify's own failures (a body that is not JSON, too large) in the contract's error shape.
  app.setErrorHandler((error: { statusCode?: number; message: string }, _req, reply) => {
    const status = error.statusCode ?? 500;
    const code: ApiErrorCode = status === 413 || (status >= 400 && status < 500) ? 'invalid_input' : 'internal';
    return reply.code(status).send({ error: { code, message: `Bad request: ${error.message}` } });
  });

  app.get('/api/health', async () => ({ ok: true, version: ((await rpc.invoke('app.info', {})) as { version: string }).version }));

  app.post<{ Params: { method: string } }>('/api/:method', async (req, reply) => {
    if (!tokenOk(requestToken(req))) {
      return reply.code(401).send({ error: { code: 'unauthorized', message: 'Missing or wrong Onbrand token.' } });
    }
    try {
      return { result: await rpc.invoke(req.params.method, req.body ?? {}) };
    } catch (error) {
      return sendError(reply, toApiError(error));
    }
  });

  // Dropped and chosen files from the page (upload-route.ts): same token, header only.
  await registerUploadRoute(app, { services, tokenOk, sendError, limits: options.uploadLimits });

  app.get<{ Querystring: { path?: string; token?: string; download?: string } }>('/media', async (req, reply) => {
    if (!tokenOk(req.query.token)) {
      return reply.code(401).send({ error: { code: 'unauthorized', message: 'Missing or wrong Onbrand token.' } });
    }
    try {
      const file = await services.media.resolve(req.query.path ?? '');
      // `download=1`: the browser host's stand-in for dragging files out of the window.
      if (req.query.download === '1')
        reply.header('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(path.basename(file.path))}`);
      const etag = mediaEtag(file);
      reply.header('Cache-Control', mediaCacheControl(file.path, realDataDir)).header('ETag', etag);
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.header('Content-Type', file.contentType).header('Content-Length', file.size).send(fs.createReadStream(file.path));
    } catch (error) {
      return sendError(reply, toApiError(error));
    }
  });

  if (fs.existsSync(path.join(options.rendererDir, 'index.html'))) {
    // The page, with the opening project's first screenful in it when asked for with the token (boot-view.ts).
    const indexFile = path.join(options.rendererDir, 'index.html');
    const bootView = async (last: number | null): Promise<string | null> => {
      const project = openingProject((await rpc.invoke('projects.list', {})) as Project[], last);
      if (!project) return null;
      const page = (await rpc.invoke('images.page', { projectId: project.id, offset: 0, limit: 2 * BOOT_CELLS })) as ImagePage;
      // An empty project opens on the app's own "import or generate" page: nothing to draw ahead.
      if (page.images.length === 0) return null;
      // The thumbnails ride in the page (confined to the catalogue's folders like /media), in order, up to a budget.
      const inline = new Map<string, string>();
      const files = await Promise.all(
        shownImages(page.images).map(async (image) => {
          if (!image.thumbPath) return null;
          try {
            const file = await services.media.resolve(image.thumbPath);
            return file.size <= BOOT_INLINE_BYTES ? { image, file, data: await fs.promises.readFile(file.path) } : null;
          } catch {
            return null; // the cell asks for it by address, as the grid would
          }
        }),
      );
      let budget = BOOT_INLINE_BYTES;
      for (const entry of files) {
        if (!entry || entry.data.length > budget) continue;
        budget -= entry.data.length;
        inline.set(entry.image.thumbPath!, `data:${entry.file.contentType};base64,${entry.data.toString('base64')}`);
      }
      return bootViewHtml({ project, total: page.total, images: page.images, token, inline });
    };
    app.get<{ Querystring: { token?: string } }>('/', async (req, reply) => {
      let html = await fs.promises.readFile(indexFile, 'utf8');
      if (tokenOk(req.query.token)) {
        // Without it (a failure of the catalogue, say) the app starts alone and says what is wrong.
        const view = await bootView(lastProjectFromCookie(req.headers.cookie)).catch(() => null);
        if (view) html = withBootView(html, view);
      }
      return reply.header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(html);
    });
    await app.register(fastifyStatic, {
      root: options.rendererDir,
      index: false,
      wildcard: false,
      // The bundles are named by their content (Vite's hashes): kept for a year; the page itself is asked for again.
      setHeaders: (reply, file) => {
        if (file.includes(`${path.sep}assets${path.sep}`)) reply.header('Cache-Control', 'public, max-age=31536000, immutable');
      },
    });
  } else {
    app.get('/', async (_req, reply) =>
      reply.code(503).type('text/plain').send(`The UI is not built (${options.rendererDir} is missing). Run: npm run build`),
    );
  }

  // Events over a WebSocket; the token comes as a query parameter (browsers cannot set headers).
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const sockets = new Set<WebSocket>();
  const unsubscribe = services.events.subscribe((event) => {
    const data = JSON.stringify(event);
    for (const socket of sockets) if (socket.readyState === socket.OPEN) socket.send(data);
  });
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const origin = req.headers.origin;
    const sameOrigin = origin === undefined || (URL.canParse(origin) && new URL(origin).host === req.headers.host);
    if (url.pathname !== '/api/events' || !tokenOk(url.searchParams.get('token')) || !sameOrigin || !hostAllowed(req.headers.host)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.send(JSON.stringify({ type: 'hello' }));
    });
  });

  const host = bound;
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}/`;
  return {
    url,
    urlWithToken: `${url}?token=${token}`,
    token,
    port,
    app,
    async close() {
      unsubscribe();
      for (const socket of sockets) socket.terminate();
      wss.close();
      // Requests in flight get two seconds; connections that never sent one (a browser's
      // preconnect) would otherwise hold the close until the server's header timeout, a minute.
      const grace = setTimeout(() => app.server.closeAllConnections(), 2000);
      try {
        await app.close();
      } finally {
        clearTimeout(grace);
      }
    },
  };
}
