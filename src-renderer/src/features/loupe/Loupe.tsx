import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { ImageSummary } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
import { BrandBadge } from '../../shared/BrandBadge';
import { Marks } from '../../shared/Marks';
import { zoomTo } from '../../shared/zoom';
import { useStore } from '../../store';
import { LabelMark } from '../curation/ColourLabel';
import { DraftMark } from '../generation/DraftMark';
import { ZOOM_SCALES } from '../curation/slice';
import { selectedImage } from '../grid/slice';
import { reportActivity } from '../timecost/actions';
import { isHolding, loupeCache, noteKey, onHoldingChange, type DecodeRequest } from './decode-cache';
import { InfoPanel } from './InfoPanel';
import { fitRequest, ZoomImage, type BoxSize } from './ZoomImage';

/** Neighbours decoded ahead, in the order they are wanted: ahead in the direction of travel first, then behind. */
const AHEAD = [1, 2, -1, 3, -2];

/** Thumbnails kept loaded ahead (the page's memory cache), so a held key shows each one the frame it lands on. */
const warmThumbs = new Map<string, HTMLImageElement>();
const WARM_THUMBS = 32;
/** How far ahead, in the direction of travel, thumbnails are kept loaded. */
const THUMBS_AHEAD = 12;

function warmThumbnail(url: string): void {
  const held = warmThumbs.get(url);
  warmThumbs.delete(url);
  if (held) {
    warmThumbs.set(url, held);
    return;
  }
  const img = new Image();
  img.decoding = 'async';
  img.src = url;
  warmThumbs.set(url, img);
  if (warmThumbs.size > WARM_THUMBS) warmThumbs.delete(warmThumbs.keys().next().value!);
}

/**
 * Keeps the loupe's image and its neighbours decoded: the next three in the direction of travel
 * and the previous two (and the thumbnails of the next dozen loaded). While a key is held down (auto-repeat) nothing new is decoded and decodes
 * under way are cancelled: the images flown past are not decoded, only where the key lands (on
 * its release, or once the selection rests).
 */
function useDecodeAhead(box: BoxSize): void {
  const selected = useStore((s) => s.selected);
  const images = useStore((s) => s.images);
  const moving = useStore((s) => s.moving);
  const client = getClient();
  const { width, height } = box;
  const last = useRef(selected);
  const direction = useRef(1);
  if (selected !== last.current) {
    direction.current = selected > last.current ? 1 : -1;
    last.current = selected;
  }
  useEffect(() => {
    window.addEventListener('keydown', noteKey, true);
    window.addEventListener('keyup', noteKey, true);
    return () => {
      window.removeEventListener('keydown', noteKey, true);
      window.removeEventListener('keyup', noteKey, true);
    };
  }, []);
  useEffect(() => {
    // Thumbnails (small files) ahead even while a key is held: they are what it flips through.
    for (let by = THUMBS_AHEAD; by >= 1; by--) {
      const thumbPath = images[selected + by * direction.current]?.thumbPath;
      if (thumbPath) warmThumbnail(client.mediaUrl(thumbPath));
    }
  }, [selected, images, client]);
  useEffect(() => {
    const update = (): void => {
      if (isHolding()) {
        loupeCache.cancelAll();
        return;
      }
      const wanted: DecodeRequest[] = [];
      const add = (image: ImageSummary | undefined): void => {
        const request = image && !moving.includes(image.id) ? fitRequest(image, client.mediaUrl, { width, height }) : null;
        if (request) wanted.push(request);
      };
      add(images[selected]);
      for (const by of AHEAD) add(images[selected + by * direction.current]);
      loupeCache.want(wanted);
    };
    update();
    return onHoldingChange(update);
  }, [selected, images, moving, client, width, height]);
  // The loupe closed: nothing more is decoded (what is decoded stays for its return).
  useEffect(() => () => loupeCache.cancelAll(), []);
}

const subscribeCache = (listener: () => void): (() => void) => loupeCache.subscribe(listener);

function cacheSnapshot(): string {
  const s = loupeCache.stats();
  return `${s.count} ${s.bytes} ${s.maxCount} ${s.maxBytes}`;
}

/** The decode cache's size, for the tests and the benchmark (window.__onbrandLoupeCache gives the same). */
function CacheMeter() {
  const [count, bytes, maxCount, maxBytes] = useSyncExternalStore(subscribeCache, cacheSnapshot).split(' ');
  return (
    <span hidden data-testid="loupe-cache" data-count={count} data-bytes={bytes} data-max-count={maxCount} data-max-bytes={maxBytes} />
  );
}

/**
 * One image fit to the window (its rendition, decoded ahead) or at 50, 100 or 200 % (the
 * full-resolution original); its neighbours are decoded ahead for instant stepping.
 */
export function Loupe() {
  const image = useStore(selectedImage);
  const images = useStore((s) => s.images);
  const selected = useStore((s) => s.selected);
  const select = useStore((s) => s.select);
  const setMode = useStore((s) => s.setMode);
  const zoom = useStore((s) => s.zoom);
  const [box, setBox] = useState<BoxSize>({ width: 0, height: 0 });
  useDecodeAhead(box);

  if (!image) return <div className="empty">No image in this view.</div>;
  const step = (by: number): void => {
    select(selected + by);
    reportActivity('curate');
  };
  return (
    <div className="loupe" data-testid="loupe" data-image-id={image.id}>
      <div className="loupe-stage">
        <ZoomImage
          image={image}
          testId="loupe-image"
          onSize={(size) => setBox((old) => (old.width === size.width && old.height === size.height ? old : size))}
        />
        <CacheMeter />
        <div className="loupe-marks">
          <Marks image={image} />
          <LabelMark image={image} />
          <DraftMark image={image} />
          <BrandBadge image={image} />
        </div>
        <InfoPanel image={image} />
      </div>
      <div className="loupe-bar">
        <button type="button" onClick={() => setMode('grid')} title="Back to the grid (G or Esc)">
          ▦ Grid
        </button>
        <button type="button" onClick={() => step(-1)} disabled={selected <= 0} title="Previous (←)">
          ‹ Prev
        </button>
        <button type="button" onClick={() => step(1)} disabled={selected >= images.length - 1} title="Next (→)">
          Next ›
        </button>
        <div className="segmented" role="group" aria-label="Zoom" data-testid="zoom-levels">
          <button type="button" aria-pressed={!zoom.on} onClick={() => zoomTo(null)} title="Fit to the window (Ctrl+- or - down to it)">
            Fit
          </button>
          {ZOOM_SCALES.map((scale) => (
            <button
              key={scale}
              type="button"
              aria-pressed={zoom.on && zoom.scale === scale}
              onClick={() => zoomTo(scale)}
              title={`Zoom to ${scale * 100} % (${scale === 1 ? 'Z or Space; ' : ''}= and - step); drag to pan`}
            >
              {scale * 100} %
            </button>
          ))}
        </div>
        <span className="loupe-info" data-testid="loupe-info">
          {image.fileName} · {image.width}×{image.height} · {selected + 1} of {images.length}
        </span>
      </div>
    </div>
  );
}
