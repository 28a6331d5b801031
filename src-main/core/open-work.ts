import type { ImageSummary } from './api/index.js';

/** What the background pass needs from the services. */
export interface OpenWorkDeps {
  images: { page(projectId: number, offset: number, limit: number): ImageSummary[] };
  thumbnails: { repair(projectId: number, images: readonly ImageSummary[]): Promise<number> };
  curation: { scoreSharpness(projectId: number, images: readonly ImageSummary[]): Promise<void> };
  /** When an image was last served (ms since the epoch): the grid is loading thumbnails. */
  media: { readonly lastServedAt: number };
}

export interface OpenWorkOptions {
  /** How long the API and the image route must have been quiet before a chunk runs. */
  quietMs?: number;
  /**
   * Images per chunk; the pass looks again whether the app is quiet between chunks. Small, so a
   * chunk started just before the grid asks for something ends soon (the scoring awaits between
   * images, so a request waits for one image's colour analysis at most, tens of ms); not one, as
   * each chunk's scores reach the grid as one `images.updated` event, and each event re-sorts it.
   */
  chunk?: number;
  /** Rows read from the catalogue at a time. */
  read?: number;
  /** The longest a chunk waits for quiet: an app that is never quiet still gets its work done, slowly. */
  maxWaitMs?: number;
}

/** A call in flight longer than this (an import, a download) no longer holds the pass back. */
const LONG_CALL_MS = 3000;

interface Pass {
  projectId: number;
  cancelled: boolean;
  done: Promise<void>;
}

/**
 * The work a project asks for when it is opened: thumbnails missing from the cache are made again
 * and focus and colour scores computed, for every image. It runs once per opening, in the
 * background, in small chunks, and only while the app is quiet (no API call in flight, no API call
 * or image served in the last `quietMs`), so it never competes with the grid's first paint or with
 * scrolling. Opening another project stops the pass of the previous one.
 */
export class OpenWork {
  private current: Pass | null = null;
  /** Calls in flight and when each started. */
  private readonly inFlight = new Map<object, number>();
  private lastCallAt = 0;
  private readonly quietMs: number;
  private readonly chunk: number;
  private readonly read: number;
  private readonly maxWaitMs: number;

  constructor(
    private readonly deps: OpenWorkDeps,
    options: OpenWorkOptions = {},
  ) {
    this.quietMs = options.quietMs ?? 500;
    this.chunk = options.chunk ?? 4;
    this.read = options.read ?? 250;
    this.maxWaitMs = options.maxWaitMs ?? 5000;
  }

  /** Marks an API call in flight until the returned function is called: the pass waits meanwhile. */
  busy(): () => void {
    const call = {};
    this.inFlight.set(call, Date.now());
    this.lastCallAt = Date.now();
    return () => {
      if (!this.inFlight.delete(call)) return;
      this.lastCallAt = Date.now();
    };
  }

  /**
   * Starts the pass for a project that was opened (a running pass of the same project goes on; one
   * of another project stops). Resolves when the pass ends, finished or stopped.
   */
  start(projectId: number): Promise<void> {
    if (this.current && this.current.projectId === projectId && !this.current.cancelled) return this.current.done;
    this.stop();
    const pass: Pass = { projectId, cancelled: false, done: Promise.resolve() };
    pass.done = this.run(pass).finally(() => {
      if (this.current === pass) this.current = null;
    });
    this.current = pass;
    return pass.done;
  }

  /** Stops the running pass, if any (it ends after the chunk in hand). */
  stop(): void {
    if (this.current) this.current.cancelled = true;
    this.current = null;
  }

  /** The project whose pass is running, or null. */
  get running(): number | null {
    return this.current?.projectId ?? null;
  }

  private async run(pass: Pass): Promise<void> {
    try {
      let offset = 0;
      for (;;) {
        await this.quiet(pass);
        if (pass.cancelled) return;
        const rows = this.deps.images.page(pass.projectId, offset, this.read);
        if (rows.length === 0) return;
        offset += rows.length;
        for (let i = 0; i < rows.length; i += this.chunk) {
          await this.quiet(pass);
          if (pass.cancelled) return;
          const chunk = rows.slice(i, i + this.chunk);
          await this.deps.thumbnails.repair(pass.projectId, chunk);
          const unscored = chunk.filter((image) => image.sharpness === null || image.colour === null);
          if (unscored.length > 0) await this.deps.curation.scoreSharpness(pass.projectId, unscored);
        }
      }
    } catch {
      // The catalogue closed (the app quit) or the project went away: the next opening does the rest.
    }
  }

  /** Waits until nothing has been asked of the app for `quietMs` (or the pass is stopped, or `maxWaitMs` passed). */
  private async quiet(pass: Pass): Promise<void> {
    const since = Date.now();
    for (;;) {
      if (pass.cancelled) return;
      const now = Date.now();
      if (now - since >= this.maxWaitMs) return;
      const idle = now - Math.max(this.lastCallAt, this.deps.media.lastServedAt);
      // A long call (an import, a download) does not hold the pass back for ever: only fresh ones count.
      const waiting = [...this.inFlight.values()].some((started) => now - started < LONG_CALL_MS);
      if (!waiting && idle >= this.quietMs) return;
      const wait = waiting ? this.quietMs : Math.max(1, this.quietMs - idle);
      await new Promise<void>((resolve) => setTimeout(resolve, wait).unref());
    }
  }
}
