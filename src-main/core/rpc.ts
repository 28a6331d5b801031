import {
  ApiError,
  invalidInput,
  isMethod,
  requests,
  toApiError,
  type AppInfo,
  type Method,
  type ParsedInput,
  type RequestOutput,
} from './api/index.js';
import type { Services } from './services.js';
import { appPackage } from './util/app-root.js';

type Handlers = { [M in Method]: (input: ParsedInput<M>) => RequestOutput<M> | Promise<RequestOutput<M>> };

export interface Rpc {
  /**
   * Validates `input` against the method's schema and runs it. Throws ApiError only: unknown
   * method, invalid input (naming the field), or the handler's own failure.
   */
  invoke(method: string, input: unknown): Promise<unknown>;
}

/** Binds the API contract to the services. Every shell (IPC, HTTP, CLI) calls through this. */
export function createRpc(services: Services, shell: AppInfo['shell']): Rpc {
  const handlers: Handlers = {
    'app.info': () => ({
      version: appPackage().version,
      shell,
      dataDir: services.config.dataDir,
      projectsDir: services.config.projectsDir,
      catalogPath: services.catalogPath,
    }),
    'projects.list': () => services.projects.list(),
    'projects.get': ({ projectId }) => services.projects.get(projectId),
    'projects.create': (input) => services.projects.create(input),
    'projects.rename': ({ projectId, name }) => services.projects.rename(projectId, name),
    'images.list': ({ projectId }) => {
      services.projects.get(projectId);
      const images = services.images.list(projectId);
      // Missing thumbnails are re-made in the background; the grid hears of each one.
      void services.thumbnails.repair(projectId, images);
      return images;
    },
    'images.import': ({ projectId, paths }) => services.importer.import(projectId, paths),
  };

  return {
    async invoke(method, input) {
      if (!isMethod(method)) throw new ApiError('unknown_method', `Unknown method: ${String(method)}`);
      const parsed = requests[method].input.safeParse(input ?? {});
      if (!parsed.success) throw invalidInput(method, parsed.error);
      try {
        const handler = handlers[method] as (input: unknown) => unknown;
        return await handler(parsed.data);
      } catch (error) {
        throw toApiError(error);
      }
    },
  };
}
