/**
 * One-click export: the chosen images, post-treated for their slot (ESRGAN ×4 only when the slot
 * is wider than 1920 px or larger than the source, else a high-quality resize; cropped to the
 * slot like `object-fit: cover` but centred on what draws attention; optional palette snap),
 * encoded as progressive JPEG 90 with the generation parameters in EXIF and XMP, named by the
 * template, written to a temporary name and renamed (never over a file), and recorded.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import {
  ApiError,
  DEFAULT_NAME_TEMPLATE,
  type ExportedFile,
  type ExportReport,
  type ExportSkip,
  type ExportTarget,
  type ImageSummary,
  type Project,
} from '../api/index.js';
import type { AppSettings, CatalogDb, ImageRepository, ProjectRepository, SectionRepository } from '../catalog/index.js';
import { analyseColour, applyLut, paletteSnap } from '../color/index.js';
import { fillNameTemplate, nameTemplateProblem, problemText } from '../common/index.js';
import type { EventBus } from '../events.js';
import type { Upscaler } from '../upscale/index.js';
import { appPackage, beingWritten, freeFileName, sweepTempFiles, writeAtomically } from '../util/index.js';
import { exifSegment, withExifSegment, xmpPacket } from './jpeg-metadata.js';

export type ExportSelection = { kind: 'picks' } | { kind: 'min-rating'; rating: number } | { kind: 'images'; imageIds: number[] };

export interface ExportRequest {
  projectId: number;
  target: ExportTarget;
  selection: ExportSelection;
  dir?: string | undefined;
  width?: number | undefined;
  height?: number | undefined;
  paletteSnap?: boolean | undefined;
  nameTemplate?: string | undefined;
  again?: boolean | undefined;
  signal?: AbortSignal;
}

/** Slots wider than this get the ESRGAN ×4 pass (a hero slot). */
export const UPSCALE_ABOVE = 1920;
export const UPSCALER_MODEL = 'esrgan-slim';

interface Item {
  image: ImageSummary;
  section: string | null;
  width: number;
  height: number;
  index: number;
}

export class Exporter {
  constructor(
    private readonly db: CatalogDb,
    private readonly projects: ProjectRepository,
    private readonly images: ImageRepository,
    private readonly sections: SectionRepository,
    private readonly settings: AppSettings,
    private readonly events: EventBus,
    private readonly upscaler: () => Upscaler,
  ) {}

  /** Names this process is publishing right now (recorded, not yet on disk). */
  private readonly inFlight = new Set<string>();

  targets(projectId: number): Record<ExportTarget, string> {
    const project = this.project(projectId);
    const dir = (t: ExportTarget): string =>
      this.settings.get<string | null>(`export.dir.${projectId}.${t}`, null) ?? path.join(project.folder, 'exports', t);
    return { framer: dir('framer'), sora: dir('sora'), folder: dir('folder'), 'maybe-later': dir('maybe-later') };
  }

  setTarget(projectId: number, target: ExportTarget, dir: string): Record<ExportTarget, string> {
    this.project(projectId);
    this.settings.set(`export.dir.${projectId}.${target}`, dir);
    return this.targets(projectId);
  }

  async run(request: ExportRequest): Promise<ExportReport> {
    const started = performance.now();
    const project = this.project(request.projectId);
    const dir = request.dir ?? this.targets(project.id)[request.target];
    const { items, skipped } = this.plan(project, request);
    const files: ExportedFile[] = [];
    const template = request.nameTemplate ?? DEFAULT_NAME_TEMPLATE;
    // The contract checks it too; an unknown token is never written into a name ("{nope}" became "nope-").
    const problem = nameTemplateProblem(template);
    if (problem) throw new ApiError('invalid_input', problemText(problem), 'nameTemplate');
    const lut = request.paletteSnap ? paletteSnap(project.palette) : null;
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw new ApiError(
        'io',
        `Cannot create the export folder ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        'dir',
      );
    }
    // Temporary files an export killed midway left here (its process is gone): removed, never shown.
    await sweepTempFiles(dir).catch(() => 0);
    let done = 0;
    for (const item of items) {
      this.events.emit('export.progress', { projectId: project.id, done, total: items.length, current: item.image.fileName });
      // Stopping between files: what was written is complete, nothing half-written remains.
      request.signal?.throwIfAborted();
      if (!request.again && this.alreadyExported(item.image.id, request.target, dir)) {
        skipped.push({
          imageId: item.image.id,
          reason: 'already_exported',
          message: `${item.image.fileName} was already exported to ${dir} (tick "again" to export it anew)`,
        });
        done++;
        continue;
      }
      let rendered: { jpeg: Buffer; upscaled: boolean };
      try {
        rendered = await this.render(project, item, lut, request.target);
      } catch (error) {
        skipped.push({
          imageId: item.image.id,
          reason: 'unreadable',
          message: `${item.image.fileName} could not be processed: ${(error as Error).message.split('\n')[0]}`,
        });
        done++;
        continue;
      }
      const colour =
        item.image.colour?.colourName ??
        (await analyseColour(item.image.path, project.palette).then(
          (a) => a.colourName,
          () => 'colour',
        ));
      const name = fileName(template, { project, image: item.image, section: item.section ?? request.target, colour, index: item.index });
      // Recorded first, then published. A kill between the two leaves a record whose file is
      // missing: the next run exports the image again under the same name. The other order would
      // leave a file without a record, which the next run could only take for the user's and
      // avoid with a "_2" duplicate. A name on disk is taken; so is one being published now (by
      // this process, or by another whose temporary file is there); a record without its file
      // and without a writer is a killed export's, and its name is used again.
      let target = '';
      let failure: string | null = null;
      for (let attempt = 0; ; attempt++) {
        const busy = new Set<string>();
        const taken = (candidate: string): boolean => busy.has(candidate) || this.inFlight.has(path.join(dir, candidate));
        let chosen = await freeFileName(dir, name, taken);
        while (await beingWritten(path.join(dir, chosen))) {
          busy.add(chosen);
          chosen = await freeFileName(dir, name, taken);
        }
        target = path.join(dir, chosen);
        let exportId: number;
        try {
          exportId = this.db.transaction(() => {
            // A record from such a kill: its file does not exist and nobody publishes it (checked above); it goes.
            this.db.prepare('DELETE FROM exports WHERE path = ?').run(target);
            return Number(
              this.db
                .prepare(
                  'INSERT INTO exports (project_id, image_id, target, path, byte_size, width, height, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
                )
                .run(
                  project.id,
                  item.image.id,
                  request.target,
                  target,
                  rendered.jpeg.length,
                  item.width,
                  item.height,
                  new Date().toISOString(),
                ).lastInsertRowid,
            );
          })();
        } catch (error) {
          failure = `The export of ${path.basename(target)} could not be recorded in the catalogue: ${(error as Error).message}`;
          break;
        }
        this.inFlight.add(target);
        try {
          await writeAtomically(target, (temp) => fs.promises.writeFile(temp, rendered.jpeg), { overwrite: false });
          break;
        } catch (error) {
          this.db.prepare('DELETE FROM exports WHERE id = ?').run(exportId);
          // Another export took the name between the check and the publish: the next name.
          if ((error as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 20) continue;
          // A full disk or a read-only folder: say which file, list what was written, stop.
          failure = `${target} could not be written: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
          break;
        } finally {
          this.inFlight.delete(target);
        }
      }
      if (failure !== null) {
        skipped.push({ imageId: item.image.id, reason: 'write_failed', message: failure });
        break;
      }
      files.push({
        imageId: item.image.id,
        path: target,
        fileName: path.basename(target),
        bytes: rendered.jpeg.length,
        width: item.width,
        height: item.height,
        upscaled: rendered.upscaled,
        section: item.section,
      });
      done++;
    }
    this.events.emit('export.progress', { projectId: project.id, done, total: items.length, current: '' });
    return { target: request.target, dir, files, skipped, elapsedMs: Math.round(performance.now() - started) };
  }

  private project(projectId: number): Project {
    const project = this.projects.get(projectId);
    if (!project) throw new ApiError('not_found', `No project with id ${projectId}.`, 'projectId');
    return project;
  }

  private alreadyExported(imageId: number, target: ExportTarget, dir: string): boolean {
    const rows = this.db.prepare('SELECT path FROM exports WHERE image_id = ? AND target = ?').all(imageId, target) as { path: string }[];
    return rows.some((r) => path.dirname(r.path) === dir && fs.existsSync(r.path));
  }

  /** Which images go out, at which size, under which section name. */
  private plan(project: Project, request: ExportRequest): { items: Item[]; skipped: ExportSkip[] } {
    const all = this.images.list(project.id);
    const skipped: ExportSkip[] = [];
    if (request.target === 'framer') {
      const items: Item[] = [];
      for (const section of this.sections.list(project.id)) {
        const image = section.imageId === null ? undefined : all.find((i) => i.id === section.imageId);
        if (!image) {
          skipped.push({ imageId: null, reason: 'unpaired', message: `Section ${section.name} has no image paired` });
          continue;
        }
        items.push({ image, section: section.name, width: section.slotWidth, height: section.slotHeight, index: items.length + 1 });
      }
      return { items, skipped };
    }
    let chosen: ImageSummary[];
    const selection = request.selection;
    if (request.target === 'maybe-later' && selection.kind !== 'images') chosen = all.filter((i) => i.flag === 'reject');
    else if (selection.kind === 'picks') chosen = all.filter((i) => i.flag === 'pick');
    else if (selection.kind === 'min-rating') chosen = all.filter((i) => i.rating >= selection.rating && i.flag !== 'reject');
    else chosen = selection.imageIds.map((id) => all.find((i) => i.id === id)).filter((i): i is ImageSummary => !!i);
    const size = (image: ImageSummary): [number, number] => {
      if (request.target === 'sora') return [request.width ?? 1080, request.height ?? 1920];
      if (request.width && request.height) return [request.width, request.height];
      if (request.width) return [request.width, Math.round((request.width * image.height) / image.width)];
      return [image.width, image.height];
    };
    return {
      items: chosen.map((image, i) => {
        const [width, height] = size(image);
        const section = request.target === 'sora' ? `storyboard-${String(i + 1).padStart(2, '0')}` : null;
        return { image, section, width, height, index: i + 1 };
      }),
      skipped,
    };
  }

  private async render(
    project: Project,
    item: Item,
    lut: ReturnType<typeof paletteSnap> | null,
    target: ExportTarget,
  ): Promise<{ jpeg: Buffer; upscaled: boolean }> {
    const { image, width, height } = item;
    const upscale = width > UPSCALE_ABOVE || width > image.width || height > image.height;
    let source: Sharp;
    if (upscale) {
      const rgb = await sharp(image.path).autoOrient().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      const { image: up } = await this.upscaler().upscaleImage(
        { data: rgb.data, width: rgb.info.width, height: rgb.info.height },
        UPSCALER_MODEL,
        4,
      );
      source = sharp(up.data, { raw: { width: up.width, height: up.height, channels: 3 } });
    } else source = sharp(image.path).autoOrient().removeAlpha();
    const { data, info } = await source
      .resize(width, height, { fit: 'cover', position: sharp.strategy.attention, kernel: 'lanczos3' })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (lut) applyLut(data, info.channels, lut);
    const params = this.images.parameters(image.id);
    const xmp = xmpPacket({
      description: image.prompt,
      rating: image.flag === 'reject' ? -1 : image.rating,
      // Lightroom, Bridge and Photo Mechanic read the colour label by these names.
      label: image.label === 'none' ? null : image.label.charAt(0).toUpperCase() + image.label.slice(1),
      onbrand: {
        seed: image.seed,
        loras: params ? (/Lora hashes: "([^"]*)"/.exec(params)?.[1] ?? null) : null,
        rng: image.seed === null ? null : 'CPU',
        brandMatch: image.colour
          ? image.colour.brand
              .filter((b) => b.present)
              .map((b) => `${b.name} ${Math.round(b.coverage * 100)}%`)
              .join(', ')
          : null,
        section: item.section,
        target,
        project: project.name,
      },
    });
    const jpeg = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels as 3 } })
      .withXmp(xmp)
      .jpeg({ quality: 90, mozjpeg: true, progressive: true })
      .toBuffer();
    return { jpeg: withExifSegment(jpeg, exifSegment(`Onbrand ${appPackage().version}`, params)), upscaled: upscale };
  }
}

/** Fills the name template (core/common's, which the Export dialog's preview uses); unsafe characters become "-", always .jpg. */
export function fileName(
  template: string,
  v: { project: Project; image: ImageSummary; section: string; colour: string; index: number },
  now = new Date(),
): string {
  return fillNameTemplate(
    template,
    { projectName: v.project.name, section: v.section, colour: v.colour, seed: v.image.seed, rating: v.image.rating, index: v.index },
    now,
  );
}
