/**
 * Ratings, flags, colour labels and the "_Rejected/Maybe Later" collection. Every change is stored at once.
 * Rejecting moves the file into `<project>/_Rejected/Maybe Later/`; un-rejecting moves it back:
 * never deleted, never overwriting another file. The catalogue is updated before the move and
 * remembers the other location until the move is done, so a crash in between is finished on the
 * next start (`reconcile`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, type BrandColour, type ImageSummary, type MarkChange } from '../api/index.js';
import type { ImageRepository } from '../catalog/index.js';
import type { EventBus } from '../events.js';
import { freeFileName } from '../util/index.js';
import { ImageAnalyser } from './analysis.js';

export const MAYBE_LATER_FOLDER = path.join('_Rejected', 'Maybe Later');

export class Curation {
  private scoring: Promise<void> = Promise.resolve();
  private readonly pendingScores = new Set<number>();
  /** The last mark call waiting or running for each image: marks of one image run one at a time. */
  private readonly marking = new Map<number, Promise<unknown>>();

  constructor(
    private readonly images: ImageRepository,
    private readonly events: EventBus,
    /** The project's brand palette (colour analysis is made for it). */
    private readonly paletteOf: (projectId: number) => BrandColour[] | undefined = () => undefined,
    /** Focus scores and colour analyses run here: in a worker thread, off the event loop that answers the UI. */
    private readonly analyser = new ImageAnalyser(),
  ) {}

  /** Stops the analysis worker (the app is closing); analyses under way are made again on the next start. */
  close(): Promise<void> {
    return this.analyser.close();
  }

  /**
   * Applies rating/flag/label changes in order; returns the changed images. Calls that touch the same
   * image run in the order they came, each after the one before has finished: a reject moves the
   * file across awaits, and an undo read while it moved would see the old flag and be lost.
   */
  mark(projectId: number, changes: readonly MarkChange[]): Promise<ImageSummary[]> {
    const ids = [...new Set(changes.map((c) => c.imageId))];
    const before = ids.flatMap((id) => this.marking.get(id) ?? []);
    const run = Promise.allSettled(before).then(() => this.markNow(projectId, changes));
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    for (const id of ids) this.marking.set(id, settled);
    void settled.then(() => {
      for (const id of ids) if (this.marking.get(id) === settled) this.marking.delete(id);
    });
    return run;
  }

  private async markNow(projectId: number, changes: readonly MarkChange[]): Promise<ImageSummary[]> {
    const changed: ImageSummary[] = [];
    for (const change of changes) {
      const row = this.images.marks(change.imageId);
      if (!row || row.projectId !== projectId)
        throw new ApiError('not_found', `No image with id ${change.imageId} in this project.`, 'changes.imageId');
      const rating = change.rating ?? row.rating;
      const flag = change.flag ?? row.flag;
      if (flag === 'reject' && row.flag !== 'reject') {
        const dir = path.join(row.folder, MAYBE_LATER_FOLDER);
        await fs.promises.mkdir(dir, { recursive: true });
        const target = path.join(MAYBE_LATER_FOLDER, await freeFileName(dir, path.basename(row.path)));
        await this.move(row.id, { rating, flag, path: target, originalPath: row.path }, row.folder, row.path, target, row);
      } else if (row.flag === 'reject' && flag !== 'reject') {
        const wanted = row.originalPath ?? path.basename(row.path);
        const dir = path.join(row.folder, path.dirname(wanted));
        await fs.promises.mkdir(dir, { recursive: true });
        const target = path.join(path.dirname(wanted), await freeFileName(dir, path.basename(wanted)));
        await this.move(row.id, { rating, flag, path: target, originalPath: row.path }, row.folder, row.path, target, row);
        this.images.setMarks(row.id, { rating, flag, path: target, originalPath: null });
      } else {
        this.images.setMarks(row.id, { rating, flag, path: row.path, originalPath: row.originalPath });
      }
      // The label is no file matter: stored once the rating and flag (and any move) are.
      if (change.label !== undefined) this.images.setLabel(row.id, change.label);
      changed.push(this.images.get(row.id)!);
    }
    if (changed.length) this.events.emit('images.updated', { projectId, images: changed });
    return changed;
  }

  /** Records the new location first (remembering the old one), then moves the file; undone if the move fails. */
  private async move(
    id: number,
    marks: { rating: number; flag: ImageSummary['flag']; path: string; originalPath: string | null },
    folder: string,
    from: string,
    to: string,
    before: { rating: number; flag: ImageSummary['flag']; path: string; originalPath: string | null },
  ): Promise<void> {
    this.images.setMarks(id, marks);
    try {
      await fs.promises.rename(path.join(folder, from), path.join(folder, to));
    } catch (error) {
      // Already where it is going (another Onbrand process finished this move): done, not undone.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync(path.join(folder, to))) return;
      this.images.setMarks(id, before);
      throw new ApiError('io', `Could not move ${from} to ${to}: ${(error as Error).message}`);
    }
  }

  /** The images as stored now: a rating made while they were analysed is never sent back stale. */
  private fresh(batch: readonly ImageSummary[]): ImageSummary[] {
    return batch.map((i) => this.images.get(i.id)).filter((i): i is ImageSummary => i !== undefined);
  }

  /** Finishes moves that a crash interrupted: the file goes where the catalogue says it is. */
  reconcile(): number {
    let fixed = 0;
    for (const row of this.images.withOriginalPath()) {
      const at = path.join(row.folder, row.path);
      const other = path.join(row.folder, row.originalPath);
      try {
        if (!fs.existsSync(at) && fs.existsSync(other)) {
          fs.mkdirSync(path.dirname(at), { recursive: true });
          fs.renameSync(other, at);
          fixed++;
        }
        if (row.flag !== 'reject') {
          const current = this.images.marks(row.id)!;
          this.images.setMarks(row.id, { rating: current.rating, flag: current.flag, path: current.path, originalPath: null });
        }
      } catch (error) {
        // One move that cannot be finished now (a folder gone read-only) stays for the next start.
        console.warn(`onbrand: could not finish moving ${other} to ${at}: ${(error as Error).message}`);
      }
    }
    return fixed;
  }

  /**
   * Analyses images in the background: the focus score, and the colour analysis for the project's
   * brand palette, where missing (or made for an older palette). `images.updated` as they come.
   */
  scoreSharpness(projectId: number, images: readonly ImageSummary[]): Promise<void> {
    const todo = images.filter((i) => (i.sharpness === null || i.colour === null) && !this.pendingScores.has(i.id));
    for (const image of todo) this.pendingScores.add(image.id);
    this.scoring = this.scoring
      .then(async () => {
        let batch: ImageSummary[] = [];
        let last = performance.now();
        const palette = this.paletteOf(projectId);
        const paletteKey = palette ? JSON.stringify(palette) : '';
        for (const image of todo) {
          // The app is closing: what is left is analysed on the next start.
          if (this.analyser.isClosed) break;
          try {
            const current = this.images.get(image.id);
            const wantColour = current !== undefined && current.colour === null && palette !== undefined;
            if (current && (current.sharpness === null || wantColour)) {
              const result = await this.analyser.analyse({
                path: current.path,
                sharpness: current.sharpness === null,
                palette: wantColour ? palette! : null,
              });
              if (result.sharpness !== undefined) this.images.setSharpness(image.id, result.sharpness);
              if (result.colour) this.images.setColour(image.id, result.colour, paletteKey);
            }
            if (current) batch.push(this.images.get(image.id)!);
          } catch {
            // A file that cannot be read keeps no score; the grid still shows it.
          } finally {
            this.pendingScores.delete(image.id);
          }
          if (batch.length && performance.now() - last > 250) {
            this.events.emit('images.updated', { projectId, images: this.fresh(batch) });
            batch = [];
            last = performance.now();
          }
        }
        if (batch.length) this.events.emit('images.updated', { projectId, images: this.fresh(batch) });
      })
      // The catalogue closed while analysing (the app quit): the rest is done on the next start.
      .catch(() => undefined);
    return this.scoring;
  }
}
