import fs from 'node:fs';
import {
  ApiError,
  invalidInput,
  isMethod,
  requests,
  OnbrandError,
  toApiError,
  type AppInfo,
  BRAND_LOOP_PRESET,
  type Method,
  type ParsedInput,
  type RequestOutput,
} from './api/index.js';
import { aggregatePalettes, checkSections } from './color/index.js';
import { generationFromText, imageHistogram } from './images/index.js';
import { OpenWork } from './open-work.js';
import { lintSettings } from './prompt/index.js';
import type { Services } from './services.js';
import { appPackage } from './util/index.js';

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
  // Thumbnail repair and scoring of an opened project, out of the way of the calls and images the grid waits on.
  const openWork = new OpenWork(services);
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
      // Missing thumbnails and focus scores are made in the background; the grid hears of each one.
      void openWork.start(projectId);
      return images;
    },
    'images.page': ({ projectId, offset, limit }) => {
      services.projects.get(projectId);
      const page = { total: services.images.count(projectId), offset, images: services.images.page(projectId, offset, limit) };
      // The first page opens the project: its background work starts once the app is quiet.
      if (offset === 0) void openWork.start(projectId);
      return page;
    },
    'images.mark': async ({ projectId, changes }) => {
      services.projects.get(projectId);
      const changed = await services.curation.mark(projectId, changes);
      services.timelog.activity(projectId, 'curate');
      return changed;
    },
    'images.info': async ({ imageId }) => {
      const image = services.images.get(imageId);
      if (!image) throw new ApiError('not_found', `No image with id ${imageId}: it is no longer in the catalogue.`, 'imageId');
      // Read only inside the catalogue's folders, as the image routes do.
      const file = await services.media.resolve(image.path);
      let histogram;
      try {
        histogram = await imageHistogram(file.path);
      } catch {
        throw new ApiError('io', `${image.fileName} could not be read as an image, so it has no histogram.`, 'imageId');
      }
      const parameters = services.images.parameters(imageId);
      return { imageId, histogram, generation: parameters === null ? null : generationFromText(parameters) };
    },
    'images.import': async ({ projectId, paths }) => {
      services.projects.get(projectId);
      services.timelog.activity(projectId, 'mood');
      const report = await services.importer.import(projectId, paths);
      services.timelog.activity(projectId, 'mood');
      return report;
    },
    'models.list': () => services.models.list(),
    'models.catalog': () => services.models.catalog(),
    'models.tasks': () => services.models.listTasks(),
    'models.pull': ({ source, name }) => services.models.startPull(source, name),
    'models.import': ({ path: source, name, configDir, predictionType }) =>
      services.models.startImport({ source, name, ...(configDir ? { configDir } : {}), ...(predictionType ? { predictionType } : {}) }),
    'models.cancel': ({ taskId, discard }) => services.models.cancel(taskId, discard === true),
    'models.resume': ({ taskId }) => services.models.resume(taskId),
    'models.clear': ({ taskId }) => services.models.clear(taskId),
    'models.hub': () => services.models.hubSettings(),
    'models.remove': ({ name }) => {
      const waiting = services.queue.list().filter((j) => (j.state === 'queued' || j.state === 'running') && j.settings.model === name);
      if (waiting.length > 0)
        throw new ApiError(
          'conflict',
          `"${name}" has ${waiting.length} job${waiting.length === 1 ? '' : 's'} queued or running; cancel ${waiting.length === 1 ? 'it' : 'them'} first, then remove the model.`,
        );
      services.models.remove(name);
      return { removed: name };
    },
    'models.setToken': ({ token }) => {
      services.secrets.set('hf.token', token || null);
      return { hasToken: Boolean(token) };
    },
    'engine.status': () => services.queue.engineStatus(),
    'queue.add': ({ projectId, prompt, negativePrompt, settings, batches, seed, draft, refines, init }) =>
      services.queue.add(projectId, prompt, negativePrompt, settings, batches, seed, {
        ...(draft !== undefined ? { draft } : {}),
        ...(refines !== undefined ? { refines } : {}),
        ...(init !== undefined ? { init } : {}),
      }),
    'queue.list': ({ projectId }) => services.queue.list(projectId),
    'queue.cancel': ({ jobId }) => services.queue.cancel(jobId),
    'queue.retry': ({ jobId }) => services.queue.retry(jobId),
    'queue.move': ({ jobId, position }) => services.queue.move(jobId, position),
    'queue.pause': () => services.queue.pause(),
    'queue.resume': () => services.queue.resume(),
    'backends.list': () => services.queue.backendViews(),
    'backends.save': async (input) => {
      const saved = services.backends.registry.save(input);
      const remote = services.backends.get(saved.name)!;
      // Asked at once what it has (its answer lets the queue send it images); a failure is its reason.
      await remote.refresh(() => undefined, true);
      services.queue.backendsChanged();
      return remote.view();
    },
    'backends.remove': ({ name }) => {
      const remote = services.backends.get(name);
      if (remote && remote.running > 0)
        throw new ApiError(
          'conflict',
          `${remote.label()} is making ${remote.running} image${remote.running === 1 ? '' : 's'}; switch it off first, then remove it.`,
          'name',
        );
      const removed = services.backends.registry.remove(name);
      services.queue.backendsChanged();
      return { removed };
    },
    'backends.test': ({ name }) => services.backends.test(name),
    'backends.resume': async ({ name }) => {
      services.backends.registry.require(name);
      const remote = services.backends.get(name)!;
      remote.resume();
      await remote.refresh(() => undefined, true);
      services.queue.backendsChanged();
      return remote.view();
    },
    'backends.local': ({ enabled }) => {
      services.backends.registry.setLocalEnabled(enabled);
      services.queue.backendsChanged();
      return services.queue.backendViews()[0]!;
    },
    'presets.list': ({ projectId }) => {
      services.projects.get(projectId);
      return services.presets.list(projectId);
    },
    'presets.save': ({ projectId, name, settings, negativePrompt }) => {
      services.projects.get(projectId);
      if (name.toLowerCase() === BRAND_LOOP_PRESET.name.toLowerCase()) {
        throw new ApiError('conflict', `"${BRAND_LOOP_PRESET.name}" is the built-in preset; save under another name.`, 'name');
      }
      return services.presets.save(projectId, name, settings, negativePrompt);
    },
    'settings.hints': ({ prompt, settings }) => lintSettings(prompt, settings),
    'timelog.get': ({ projectId }) => {
      services.projects.get(projectId);
      return services.timelog.snapshot(projectId);
    },
    'timelog.activity': ({ projectId, phase }) => {
      services.projects.get(projectId);
      services.timelog.activity(projectId, phase);
      return { ok: true as const };
    },
    'timelog.correct': ({ projectId, phase, minutes }) => {
      services.projects.get(projectId);
      services.timelog.correct(projectId, phase, minutes);
      return services.timelog.snapshot(projectId);
    },
    'timelog.export': ({ projectId, format }) => {
      const project = services.projects.get(projectId);
      const slug = project.name.replace(/[^\w-]+/g, '-').toLowerCase();
      return { text: services.timelog.export(projectId, format), fileName: `${slug}-time-cost.${format === 'csv' ? 'csv' : 'md'}` };
    },
    'refs.list': ({ projectId }) => {
      services.projects.get(projectId);
      return services.refs.list(projectId);
    },
    'refs.add': async ({ projectId, items }) => {
      services.projects.get(projectId);
      services.timelog.activity(projectId, 'mood');
      const report = await services.references.add(projectId, items);
      services.timelog.activity(projectId, 'mood');
      return report;
    },
    'refs.remove': async ({ projectId, refIds }) => {
      services.projects.get(projectId);
      const removed = services.refs.remove(projectId, refIds);
      // The cached copies go with them (the originals, wherever they came from, are untouched).
      await Promise.all(removed.map((r) => fs.promises.rm(r.path, { force: true })));
      if (removed.length) services.events.emit('refs.changed', { projectId });
      return { removed: removed.length };
    },
    'refs.move': ({ refId, position }) => {
      const ref = services.refs.get(refId);
      if (!ref) throw new ApiError('not_found', `No reference with id ${refId}.`, 'refId');
      const list = services.refs.move(refId, position);
      services.events.emit('refs.changed', { projectId: ref.projectId });
      return list;
    },
    'refs.palette': ({ projectId }) => {
      services.projects.get(projectId);
      return aggregatePalettes(services.refs.list(projectId).map((r) => r.palette));
    },
    'projects.update': ({ projectId, mood, palette }) => services.projects.update(projectId, { mood, palette }),
    'unsplash.search': ({ query, page }) => services.unsplash.search(query, page ?? 1),
    'unsplash.import': async ({ projectId, photoId }) => {
      services.projects.get(projectId);
      const outcome = await services.unsplash.import(services.references, projectId, photoId);
      if ('reason' in outcome) return { added: [], skipped: [outcome] };
      services.events.emit('refs.changed', { projectId });
      return { added: [outcome], skipped: [] };
    },
    'settings.setUnsplashKey': ({ key }) => {
      services.secrets.set('unsplash.key', key || null);
      return { configured: !!key };
    },
    'settings.get': () => ({ unsplashConfigured: services.unsplash.configured, gpuCostPerHour: services.timelog.gpuCostPerHour }),
    'settings.testUnsplash': ({ key }) => services.unsplash.test(key),
    'sections.list': ({ projectId }) => {
      services.projects.get(projectId);
      return services.sections.list(projectId);
    },
    'sections.save': ({ projectId, sectionId, name, backgroundHex, slotWidth, slotHeight }) => {
      services.projects.get(projectId);
      const clash = services.sections.findByName(projectId, name);
      if (clash && clash.id !== sectionId) throw new ApiError('conflict', `A section named "${name}" already exists.`, 'name');
      const fields = { name, backgroundHex, slotWidth, slotHeight };
      let section;
      if (sectionId === undefined) section = services.sections.insert(projectId, fields);
      else {
        const existing = services.sections.get(sectionId);
        if (!existing || existing.projectId !== projectId)
          throw new ApiError('not_found', `No section with id ${sectionId} in this project.`, 'sectionId');
        section = services.sections.update(sectionId, fields)!;
      }
      services.events.emit('sections.changed', { projectId });
      return section;
    },
    'sections.remove': ({ sectionId }) => {
      const section = services.sections.get(sectionId);
      if (!section) throw new ApiError('not_found', `No section with id ${sectionId}.`, 'sectionId');
      services.sections.remove(sectionId);
      services.events.emit('sections.changed', { projectId: section.projectId });
      return { removed: true };
    },
    'sections.move': ({ sectionId, position }) => {
      const section = services.sections.get(sectionId);
      if (!section) throw new ApiError('not_found', `No section with id ${sectionId}.`, 'sectionId');
      const list = services.sections.move(sectionId, position);
      services.events.emit('sections.changed', { projectId: section.projectId });
      return list;
    },
    'sections.pair': ({ sectionId, imageId }) => {
      const section = services.sections.get(sectionId);
      if (!section) throw new ApiError('not_found', `No section with id ${sectionId}.`, 'sectionId');
      if (imageId !== null && services.images.get(imageId)?.projectId !== section.projectId) {
        throw new ApiError('not_found', `No image with id ${imageId} in this project.`, 'imageId');
      }
      const paired = services.sections.pair(sectionId, imageId)!;
      services.events.emit('sections.changed', { projectId: section.projectId });
      return paired;
    },
    'sections.check': async ({ projectId, tolerance }) => {
      services.projects.get(projectId);
      const images = services.images.list(projectId);
      // Paired images and picks need their colour analysis: make it now if the background has not yet.
      const needed = new Set(services.sections.list(projectId).map((s) => s.imageId));
      const missing = images.filter((i) => i.colour === null && (needed.has(i.id) || i.flag === 'pick'));
      if (missing.length) await services.curation.scoreSharpness(projectId, missing);
      return checkSections(services.sections.list(projectId), services.images.list(projectId), tolerance);
    },
    'export.run': async (input) => {
      services.projects.get(input.projectId);
      const report = await services.exporter.run(input);
      services.timelog.activity(input.projectId, 'curate');
      return report;
    },
    'export.targets': ({ projectId }) => services.exporter.targets(projectId),
    'export.setTarget': ({ projectId, target, dir }) => services.exporter.setTarget(projectId, target, dir),
    'prompt.skeleton': ({ projectId }) => services.composer.skeleton(projectId),
    'prompt.saveSkeleton': ({ projectId, mood, subjects, aspect }) => {
      const skeleton = services.composer.saveSkeleton(projectId, mood, subjects, aspect);
      services.timelog.activity(projectId, 'prompt');
      services.events.emit('projects.changed', { projectId });
      return skeleton;
    },
    'prompt.expand': ({ template, mode, count, seed, lists, projectId }) =>
      services.composer.expand(template, { mode, count, seed, lists, projectId }),
    'prompt.draft': async ({ projectId, n, seed, llm }) => {
      const drafts = await services.composer.draft(projectId, n ?? 5, seed ?? Date.now() >>> 0, llm ?? false);
      services.timelog.activity(projectId, 'prompt');
      return drafts;
    },
    'prompt.drafts': ({ projectId }) => services.composer.drafts(projectId),
    'prompt.star': ({ draftId, starred }) => services.composer.star(draftId, starred),
    'prompt.llm': () => services.composer.llm(),
    'prompt.setLlm': ({ baseUrl, model, apiKey }) => services.composer.setLlm(baseUrl, model, apiKey),
    'prompt.testLlm': (given) => services.composer.testLlm(given),
    'prompt.queue': ({ projectId, prompts, negativePrompt, settings, batches, seed, draft }) => {
      services.projects.get(projectId);
      // The contract read every prompt's `--ar`; the composer checks each prompt's LoRAs before it queues any.
      const family = services.models.list().models.find((m) => m.name === settings.model)?.family ?? null;
      return services.composer.queuePrompts(projectId, prompts, negativePrompt, settings, batches, seed, {
        family,
        ...(draft !== undefined ? { draft } : {}),
      });
    },
    'settings.setCost': ({ gpuCostPerHour }) => {
      services.timelog.setGpuCostPerHour(gpuCostPerHour);
      return { gpuCostPerHour };
    },
  };

  return {
    async invoke(method, input) {
      if (!isMethod(method)) throw new ApiError('unknown_method', `Unknown method: ${String(method)}`);
      const parsed = requests[method].input.safeParse(input ?? {});
      if (!parsed.success) {
        const refused = invalidInput(method, parsed.error, input);
        // The designer reads the message; the log keeps the technical form (the CLI prints the message alone).
        if (shell !== 'cli') console.warn(`onbrand: refused ${refused.detail}`);
        throw refused;
      }
      const done = openWork.busy();
      try {
        const handler = handlers[method] as (input: unknown) => unknown;
        return await handler(parsed.data);
      } catch (error) {
        // An error nobody meant to throw: the log keeps its stack for the bug report.
        if (shell !== 'cli' && !(error instanceof OnbrandError)) console.error(`onbrand: ${method} failed unexpectedly:`, error);
        throw toApiError(error);
      } finally {
        done();
      }
    },
  };
}
