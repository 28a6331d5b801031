import { useLayoutEffect, useRef, useState, type PointerEvent, type RefObject } from 'react';
import type { ImageSummary } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
import { clamp01, rememberPointer, zoomOffset } from '../../shared/zoom';
import { useStore } from '../../store';
import { decodeRequest, isHolding, loupeCache, onHoldingChange, type DecodeRequest } from './decode-cache';

export interface BoxSize {
  width: number;
  height: number;
}

interface ZoomImageProps {
  image: ImageSummary;
  testId?: string;
  /** Told the size of the box the image fits in (the loupe decodes its neighbours at that size). */
  onSize?(size: BoxSize): void;
}

/** The loupe rendition's long side (the core's PREVIEW_SIZE): fit to the window, nothing is decoded larger. */
const RENDITION_SIZE = 2048;

/**
 * What the loupe decodes to show an image fit to a box: its rendition or, until the core has made
 * one, the original; decoded at the size it shows at (the box's, in device pixels, never larger
 * than the rendition), so the scaling is done once, off the main thread and with good filtering.
 * Null while the box has no size yet.
 */
export function fitRequest(image: ImageSummary, mediaUrl: (path: string) => string, box: BoxSize): DecodeRequest | null {
  const { width, height } = image;
  const dpr = window.devicePixelRatio || 1;
  const scale = Math.min((box.width * dpr) / width, (box.height * dpr) / height, RENDITION_SIZE / Math.max(width, height), 1);
  if (!(scale > 0)) return null;
  const url = mediaUrl(image.previewPath ?? image.path);
  return decodeRequest(url, { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) });
}

/**
 * Draws the fit image's decoded pixels on the canvas once they are decoded, at most once per
 * frame and only for the latest image (keys pressed faster than frames draw once). Until then the
 * canvas is hidden (`data-loaded="false"`) and the thumbnail beneath shows. While a key is held
 * down no decode starts here: the loupe decodes where the key lands.
 */
function useFitCanvas(canvas: RefObject<HTMLCanvasElement | null>, imageId: number, request: DecodeRequest | null, active: boolean): void {
  const key = request?.key ?? null;
  const latest = useRef(request);
  latest.current = request;
  useLayoutEffect(() => {
    const el = canvas.current;
    if (!el || !active || key === null) return;
    const id = String(imageId);
    let frame = 0;
    let live = true;
    const drawn = (): boolean => el.dataset.key === key && el.dataset.drawnId === id;
    const paint = (bitmap: ImageBitmap): void => {
      const context = el.getContext('2d');
      // A bitmap evicted meanwhile is closed (no pixels): the next frame asks for it again.
      if (!context || bitmap.width === 0) return;
      if (el.width !== bitmap.width || el.height !== bitmap.height) {
        el.width = bitmap.width;
        el.height = bitmap.height;
      } else context.clearRect(0, 0, el.width, el.height);
      context.drawImage(bitmap, 0, 0);
      el.dataset.key = key;
      el.dataset.src = latest.current?.url ?? '';
      el.dataset.drawnId = id;
      el.dataset.loaded = 'true';
    };
    const draw = (): void => {
      frame = 0;
      if (drawn()) return;
      const bitmap = loupeCache.get(key);
      if (bitmap) paint(bitmap);
      else if (!isHolding() && latest.current) void loupeCache.request(latest.current).then((b) => b && live && !drawn() && paint(b));
    };
    const schedule = (): void => {
      if (live && !frame) frame = requestAnimationFrame(draw);
    };
    // Another image's pixels never show for this one: hidden until drawn, the thumbnail shows. The
    // same image's pixels stay while a better file for it (its new rendition) is decoded.
    if (el.dataset.drawnId !== id) el.dataset.loaded = 'false';
    schedule();
    const offCache = loupeCache.subscribe(() => {
      if (!drawn() && loupeCache.has(key)) schedule();
    });
    const offHolding = onHoldingChange(() => {
      if (!drawn() && !isHolding()) schedule();
    });
    return () => {
      live = false;
      cancelAnimationFrame(frame);
      offCache();
      offHolding();
    };
  }, [canvas, imageId, key, active]);
}

/**
 * An image fit to its box (its rendition, decoded ahead, drawn on a canvas), or at 50, 100 or
 * 200 % (the full-resolution original) centred on the shared zoom point (so compare panes zoom
 * and pan together). Dragging pans while zoomed.
 */
export function ZoomImage({ image, testId, onSize }: ZoomImageProps) {
  const zoom = useStore((s) => s.zoom);
  const setZoom = useStore((s) => s.setZoom);
  // A file being moved (a reject undone) is loaded once the core says where it is now.
  const moving = useStore((s) => s.moving.includes(image.id));
  const box = useRef<HTMLDivElement>(null);
  const drag = useRef<{ x: number; y: number; cx: number; cy: number } | null>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  const [zoomLoaded, setZoomLoaded] = useState<number | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const client = getClient();
  useFitCanvas(canvas, image.id, fitRequest(image, client.mediaUrl, size), !zoom.on && !moving);
  const sizeListener = useRef(onSize);
  sizeListener.current = onSize;

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = (): void => {
      const next = { width: el.clientWidth, height: el.clientHeight };
      setSize((old) => (old.width === next.width && old.height === next.height ? old : next));
      sizeListener.current?.(next);
    };
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    measure();
    return () => observer.disconnect();
  }, []);

  const nw = image.width;
  const nh = image.height;
  const scale = zoom.on ? zoom.scale : 1;
  const onPointerMove = (event: PointerEvent<HTMLDivElement>): void => {
    const rect = event.currentTarget.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    const start = drag.current;
    if (start && zoom.on) {
      setZoom({
        cx: clamp01(start.cx - (event.clientX - start.x) / (nw * scale)),
        cy: clamp01(start.cy - (event.clientY - start.y) / (nh * scale)),
      });
      return;
    }
    let fx: number;
    let fy: number;
    if (zoom.on) {
      fx = zoom.cx + (px - rect.width / 2) / (nw * scale);
      fy = zoom.cy + (py - rect.height / 2) / (nh * scale);
    } else {
      const scale = Math.min(rect.width / nw, rect.height / nh);
      fx = (px - (rect.width - nw * scale) / 2) / (nw * scale);
      fy = (py - (rect.height - nh * scale) / 2) / (nh * scale);
    }
    rememberPointer({
      fx: clamp01(fx),
      fy: clamp01(fy),
      px,
      py,
      width: rect.width,
      height: rect.height,
      naturalWidth: nw,
      naturalHeight: nh,
    });
  };

  // Zoomed: the image at its natural size in a box 1/scale the view's size, centred, then scaled,
  // so the box fills the view and the image shows at `scale` (100 % is the plain natural size).
  const boxWidth = size.width / scale;
  const boxHeight = size.height / scale;
  const style = zoom.on
    ? {
        objectFit: 'none' as const,
        objectPosition: `${zoomOffset(boxWidth, nw, zoom.cx)}px ${zoomOffset(boxHeight, nh, zoom.cy)}px`,
        ...(scale === 1
          ? {}
          : {
              left: (size.width - boxWidth) / 2,
              top: (size.height - boxHeight) / 2,
              width: boxWidth,
              height: boxHeight,
              transform: `scale(${scale})`,
            }),
      }
    : undefined;

  return (
    <div
      ref={box}
      className={zoom.on ? 'zoom-box zoomed' : 'zoom-box'}
      data-zoom={zoom.on ? String(Math.round(scale * 100)) : 'fit'}
      onPointerMove={onPointerMove}
      onPointerDown={(event) => {
        if (!zoom.on || event.button !== 0) return;
        event.currentTarget.setPointerCapture(event.pointerId);
        drag.current = { x: event.clientX, y: event.clientY, cx: zoom.cx, cy: zoom.cy };
      }}
      onPointerUp={() => (drag.current = null)}
      onPointerCancel={() => (drag.current = null)}
    >
      {image.thumbPath && !zoom.on && (
        <img className="loupe-image loupe-placeholder" src={client.mediaUrl(image.thumbPath)} alt="" draggable={false} />
      )}
      {!zoom.on && !moving && (
        <canvas
          ref={canvas}
          className="loupe-image loupe-canvas"
          data-testid={testId}
          data-image-id={image.id}
          role="img"
          aria-label={image.fileName}
        />
      )}
      {zoom.on && !moving && (
        <img
          key={image.id}
          className="loupe-image"
          data-testid={testId}
          data-image-id={image.id}
          data-loaded={zoomLoaded === image.id ? 'true' : 'false'}
          data-src={client.mediaUrl(image.path)}
          src={client.mediaUrl(image.path)}
          alt={image.fileName}
          draggable={false}
          style={style}
          onLoad={() => setZoomLoaded(image.id)}
        />
      )}
    </div>
  );
}
