/**
 * `POST /api/upload`: the browser host's stand-in for a dropped or chosen file's path (a browser
 * cannot tell a page where a file lives). The body is streamed to disk and imported by the core
 * (`core/uploads`); this adapter checks who is asking and what the query says, and forwards.
 *
 * Protection, beyond the host's own (the Host header check of every request): the per-run token
 * in the `x-onbrand-token` header only (never the query, so a link or a form of another page cannot
 * carry it), the upload content type (a cross-site form cannot send it without a CORS preflight,
 * which this host never grants), and a same-origin `Origin` when the browser sends one.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidInput, toApiError, uploadQuery, type ApiError } from '../core/api/index.js';
import { UPLOAD_CONTENT_TYPE, type UploadLimits } from '../core/common/index.js';
import type { Services } from '../core/services.js';
import { UploadService } from '../core/uploads/index.js';

export interface UploadRouteOptions {
  services: Services;
  tokenOk(given: unknown): boolean;
  sendError(reply: FastifyReply, error: ApiError): FastifyReply;
  /** Smaller limits for tests; the defaults are core/common's UPLOAD_LIMITS. */
  limits?: Partial<UploadLimits> | undefined;
}

export async function registerUploadRoute(app: FastifyInstance, options: UploadRouteOptions): Promise<void> {
  const { services, tokenOk, sendError } = options;
  const uploads = new UploadService(
    {
      projectExists: (projectId) => services.projects.list().some((p) => p.id === projectId),
      importer: services.importer,
      references: services.references,
      timelog: services.timelog,
      dataDir: services.config.dataDir,
    },
    options.limits,
  );

  // In its own scope: the body parser that leaves the stream unread applies to this route alone.
  await app.register(async (scope) => {
    scope.addContentTypeParser(UPLOAD_CONTENT_TYPE, (_req, _payload, done) => done(null, undefined));

    scope.post('/api/upload', async (req: FastifyRequest, reply) => {
      if (!tokenOk(req.headers['x-onbrand-token'])) {
        return reply.code(401).send({ error: { code: 'unauthorized', message: 'Missing or wrong Onbrand token.' } });
      }
      const origin = req.headers.origin;
      if (origin !== undefined && (!URL.canParse(origin) || new URL(origin).host !== req.headers.host)) {
        return reply
          .code(403)
          .send({ error: { code: 'unauthorized', message: `Uploads are taken only from Onbrand's own page, not from ${origin}.` } });
      }
      if (req.headers['content-type']?.split(';')[0]?.trim().toLowerCase() !== UPLOAD_CONTENT_TYPE) {
        return reply.code(415).send({ error: { code: 'invalid_input', message: `An upload is sent as ${UPLOAD_CONTENT_TYPE}.` } });
      }
      const query = uploadQuery.safeParse(req.query);
      if (!query.success) return sendError(reply, invalidInput('upload', query.error));
      const length = req.headers['content-length'];
      if (length === undefined || !/^\d+$/.test(length)) {
        return reply.code(411).send({ error: { code: 'invalid_input', message: 'An upload needs its length (Content-Length) up front.' } });
      }
      try {
        return { result: await uploads.receive(query.data, req.raw, Number(length)) };
      } catch (error) {
        return sendError(reply, toApiError(error));
      }
    });
  });
}
