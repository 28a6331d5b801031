import { useLayoutEffect, useRef, useState, type PointerEvent } from 'react';
import type { ImageSummary } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
import { clamp01, rememberPointer, zoomOffset } from '../../shared/zoom';
import { useStore } from '../../store';

interface ZoomImageProps {
  image: ImageSummary;
  testId?: string;
  /** Called once the full-resolution file is decoded. */
  onLoaded?(imageId: number): void;
  loaded: boolean;
}

/**
 * An image fit to its box, or at 100 % centred on the shared zoom point (so compare panes zoom
 * and pan together). Dragging pans while zoomed.
 */
export function ZoomImage({ image, testId, onLoaded, loaded }: ZoomImageProps) {
  const zoom = useStore((s) => s.zoom);
  const setZoom = useStore((s) => s.setZoom);
  const box = useRef<HTMLDivElement>(null);
  const drag = useRef<{ x: number; y: number; cx: number; cy: number } | null>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  const client = getClient();

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setSize({ width: el.clientWidth, height: el.clientHeight }));
    observer.observe(el);
    setSize({ width: el.clientWidth, height: el.clientHeight });
    return () => observer.disconnect();
  }, []);

  const nw = image.width;
  const nh = image.height;
  const onPointerMove = (event: PointerEvent<HTMLDivElement>): void => {
    const rect = event.currentTarget.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    const start = drag.current;
    if (start && zoom.on) {
      setZoom({ cx: clamp01(start.cx - (event.clientX - start.x) / nw), cy: clamp01(start.cy - (event.clientY - start.y) / nh) });
      return;
    }
    let fx: number;
    let fy: number;
    if (zoom.on) {
      fx = zoom.cx + (px - rect.width / 2) / nw;
      fy = zoom.cy + (py - rect.height / 2) / nh;
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

  const style = zoom.on
    ? { objectFit: 'none' as const, objectPosition: `${zoomOffset(size.width, nw, zoom.cx)}px ${zoomOffset(size.height, nh, zoom.cy)}px` }
    : undefined;

  return (
    <div
      ref={box}
      className={zoom.on ? 'zoom-box zoomed' : 'zoom-box'}
      data-zoom={zoom.on ? '100' : 'fit'}
      onPointerMove={onPointerMove}
      onPointerDown={(event) => {
        if (!zoom.on || event.button !== 0) return;
        event.currentTarget.setPointerCapture(event.pointerId);
        drag.current = { x: event.clientX, y: event.clientY, cx: zoom.cx, cy: zoom.cy };
      }}
      onPointerUp={() => (drag.current = null)}
      onPointerCancel={() => (drag.current = null)}
    >
      {image.thumbPath && !loaded && !zoom.on && (
        <img className="loupe-image loupe-placeholder" src={client.mediaUrl(image.thumbPath)} alt="" draggable={false} />
      )}
      <img
        key={image.id}
        className="loupe-image"
        data-testid={testId}
        data-image-id={image.id}
        data-loaded={loaded ? 'true' : 'false'}
        src={client.mediaUrl(image.path)}
        alt={image.fileName}
        draggable={false}
        style={style}
        onLoad={() => onLoaded?.(image.id)}
      />
    </div>
  );
}
