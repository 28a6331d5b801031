/**
 * The loupe's decode-ahead cache: images fetched and decoded off the main thread
 * (`fetch` + `createImageBitmap`) before they are shown, so a step draws pixels that are already
 * decoded. A small LRU bounded by count and by bytes (width × height × 4); an evicted bitmap is
 * closed. Decodes the loupe no longer wants (the user skipped past) are cancelled.
 */

export const DEFAULT_MAX_COUNT = 8;
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
/** Decodes at once: the rest wait in the order they were wanted (two cores are shared with the app). */
const CONCURRENCY = 2;

/**
 * What to decode: a file's URL and the pixel size to decode it at (scaled while decoding, off the
 * main thread, with high-quality filtering; its natural size when absent). `key` names the result
 * in the cache: the URL at that size.
 */
export interface DecodeRequest {
  key: string;
  url: string;
  width?: number;
  height?: number;
}

export function decodeRequest(url: string, size?: { width: number; height: number }): DecodeRequest {
  return size ? { key: `${url}#${size.width}x${size.height}`, url, width: size.width, height: size.height } : { key: url, url };
}

export interface CacheStats {
  count: number;
  bytes: number;
  maxCount: number;
  maxBytes: number;
  /** Decodes running or waiting. */
  pending: number;
  /** Decodes started since the cache was made (a test sees that a shown image needed none). */
  started: number;
  /** The median time of the last decodes (fetch and decode, milliseconds); null before the first. */
  decodeMs: number | null;
}

interface Pending {
  request: DecodeRequest;
  controller: AbortController;
  promise: Promise<ImageBitmap | null>;
  running: boolean;
  resolve(bitmap: ImageBitmap | null): void;
}

async function decode(request: DecodeRequest, signal: AbortSignal): Promise<ImageBitmap> {
  const options: ImageBitmapOptions =
    request.width && request.height ? { resizeWidth: request.width, resizeHeight: request.height, resizeQuality: 'high' } : {};
  let blob: Blob;
  try {
    const response = await fetch(request.url, { signal });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    blob = await response.blob();
  } catch (error) {
    if (signal.aborted) throw error;
    // Where fetch may not reach the image (a protocol the page may only show as an image), an
    // element decodes it off the main thread instead.
    const img = new Image();
    img.src = request.url;
    await img.decode();
    if (signal.aborted) throw new DOMException('Aborted', 'AbortError');
    return createImageBitmap(img, options);
  }
  if (signal.aborted) throw new DOMException('Aborted', 'AbortError');
  return createImageBitmap(blob, options);
}

export class DecodeCache {
  /** Decoded bitmaps, least recently used first. */
  private readonly entries = new Map<string, ImageBitmap>();
  private readonly pending = new Map<string, Pending>();
  private bytes = 0;
  /** The most wanted key (the image on screen) while it is not decoded: it decodes before any other. */
  private first: string | null = null;
  private started = 0;
  /** Durations of the last decodes, for the figures. */
  private readonly durations: number[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(
    private maxCount = DEFAULT_MAX_COUNT,
    private maxBytes = DEFAULT_MAX_BYTES,
  ) {}

  /** Changes the bounds (the tests narrow them); bitmaps over the new bounds are evicted at once. */
  setBounds(maxCount: number, maxBytes: number): void {
    this.maxCount = Math.max(1, maxCount);
    this.maxBytes = Math.max(0, maxBytes);
    this.shrink(null);
    this.changed();
  }

  /** The keys decoded (URL and size), least recently used first. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** The decoded bitmap of a request's key (made the most recently used), or undefined while it is not decoded. */
  get(key: string): ImageBitmap | undefined {
    const bitmap = this.entries.get(key);
    if (bitmap) {
      this.entries.delete(key);
      this.entries.set(key, bitmap);
    }
    return bitmap;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Decodes now (ahead of those waiting), or joins the decode under way; null when it was cancelled or failed. */
  request(request: DecodeRequest): Promise<ImageBitmap | null> {
    const cached = this.get(request.key);
    if (cached) return Promise.resolve(cached);
    const pending = this.enqueue(request);
    if (!pending.running) this.run(pending);
    return pending.promise;
  }

  /**
   * The images to hold decoded, most wanted first (the current image, then its neighbours in the
   * direction of travel): those not decoded are decoded in that order, decodes of any other image
   * are cancelled, and the wanted ones become the most recently used (evicted last).
   */
  want(requests: DecodeRequest[]): void {
    this.first = requests[0]?.key ?? null;
    const keys = new Set(requests.map((r) => r.key));
    for (const [key, pending] of this.pending) if (!keys.has(key)) this.cancel(key, pending);
    for (const request of [...requests].reverse()) this.get(request.key);
    for (const request of requests) if (!this.entries.has(request.key)) this.enqueue(request);
    this.pump();
    this.changed();
  }

  /** Cancels every decode (the loupe closed or a key is held down). */
  cancelAll(): void {
    for (const [key, pending] of this.pending) this.cancel(key, pending);
    this.changed();
  }

  stats(): CacheStats {
    return {
      count: this.entries.size,
      bytes: this.bytes,
      maxCount: this.maxCount,
      maxBytes: this.maxBytes,
      pending: this.pending.size,
      started: this.started,
      decodeMs: this.durations.length === 0 ? null : [...this.durations].sort((a, b) => a - b)[Math.floor(this.durations.length / 2)]!,
    };
  }

  /** Called after every change of what is decoded or pending; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Closes every bitmap and cancels every decode. */
  clear(): void {
    this.cancelAll();
    for (const bitmap of this.entries.values()) bitmap.close();
    this.entries.clear();
    this.bytes = 0;
    this.changed();
  }

  private enqueue(request: DecodeRequest): Pending {
    const existing = this.pending.get(request.key);
    if (existing) return existing;
    let resolve!: (bitmap: ImageBitmap | null) => void;
    const promise = new Promise<ImageBitmap | null>((r) => (resolve = r));
    const pending: Pending = { request, controller: new AbortController(), promise, running: false, resolve };
    this.pending.set(request.key, pending);
    return pending;
  }

  private pump(): void {
    let running = 0;
    for (const pending of this.pending.values()) if (pending.running) running++;
    // The image on screen first, alone: a neighbour decoding beside it would halve its share of the CPU.
    const first = this.first === null ? undefined : this.pending.get(this.first);
    if (first) {
      if (!first.running) this.run(first);
      return;
    }
    for (const pending of this.pending.values()) {
      if (running >= CONCURRENCY) break;
      if (pending.running) continue;
      this.run(pending);
      running++;
    }
  }

  private run(pending: Pending): void {
    pending.running = true;
    this.started++;
    const key = pending.request.key;
    const signal = pending.controller.signal;
    const start = performance.now();
    decode(pending.request, signal).then(
      (bitmap) => {
        if (this.pending.get(key) === pending) this.pending.delete(key);
        this.durations.push(performance.now() - start);
        if (this.durations.length > 32) this.durations.shift();
        if (signal.aborted) {
          bitmap.close();
          pending.resolve(null);
        } else {
          this.store(key, bitmap);
          pending.resolve(bitmap);
        }
        this.pump();
        this.changed();
      },
      () => {
        if (this.pending.get(key) === pending) this.pending.delete(key);
        pending.resolve(null);
        this.pump();
        this.changed();
      },
    );
  }

  private cancel(key: string, pending: Pending): void {
    pending.controller.abort();
    this.pending.delete(key);
    if (!pending.running) pending.resolve(null);
  }

  private store(key: string, bitmap: ImageBitmap): void {
    const old = this.entries.get(key);
    if (old) this.evict(key, old);
    this.entries.set(key, bitmap);
    this.bytes += bitmap.width * bitmap.height * 4;
    this.shrink(key);
  }

  /** Evicts the least recently used until within the bounds; `keep` (just decoded, to be shown) stays even alone over the byte bound. */
  private shrink(keep: string | null): void {
    for (const [key, bitmap] of this.entries) {
      if (this.entries.size <= this.maxCount && this.bytes <= this.maxBytes) break;
      if (key === keep) continue;
      this.evict(key, bitmap);
    }
  }

  private evict(key: string, bitmap: ImageBitmap): void {
    this.entries.delete(key);
    this.bytes -= bitmap.width * bitmap.height * 4;
    bitmap.close();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

/** The loupe's cache (and the compare view's): 8 images or 256 MB of decoded pixels. */
export const loupeCache = new DecodeCache();

/** A key held down (auto-repeat): decodes wait until it is released or the selection rests. */
let holding = false;
let restTimer: ReturnType<typeof setTimeout> | undefined;
const holdListeners = new Set<() => void>();
/** Without a key-up (the focus left the window), the selection counts as rested after this long without a step. */
const REST_MS = 250;

function setHolding(value: boolean): void {
  if (holding === value) return;
  holding = value;
  for (const listener of holdListeners) listener();
}

/** True while an arrow key is held down and the selection flies past: skipped images are not decoded. */
export function isHolding(): boolean {
  return holding;
}

/** Called when holding starts or ends; returns the unsubscribe. */
export function onHoldingChange(listener: () => void): () => void {
  holdListeners.add(listener);
  return () => holdListeners.delete(listener);
}

/** Notes a key press (auto-repeat or not) and a key release, so a held key decodes only where it lands. */
export function noteKey(event: KeyboardEvent): void {
  clearTimeout(restTimer);
  if (event.type === 'keyup') {
    setHolding(false);
    return;
  }
  if (!event.repeat) {
    setHolding(false);
    return;
  }
  setHolding(true);
  restTimer = setTimeout(() => setHolding(false), REST_MS);
}

/** The loupe cache as the benchmark and the tests see it (window.__onbrandLoupeCache). */
export interface LoupeCacheProbe {
  stats(): CacheStats;
  keys(): string[];
  setBounds(maxCount: number, maxBytes: number): void;
}

declare global {
  interface Window {
    __onbrandLoupeCache?: LoupeCacheProbe;
  }
}
if (typeof window !== 'undefined') {
  window.__onbrandLoupeCache = {
    stats: () => loupeCache.stats(),
    keys: () => loupeCache.keys(),
    setBounds: (maxCount, maxBytes) => loupeCache.setBounds(maxCount, maxBytes),
  };
}
