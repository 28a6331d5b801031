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
 * An image fit to its box, or at 50, 100 or 200 % centred on the shared zoom point (so compare
 * panes zoom and pan together). Dragging pans while zoomed.
 */
export function ZoomImage({ image, testId, onLoaded, loaded }: ZoomImageProps) {
  const zoom = useStore((s) => s.zoom);
  const setZoom = useStore((s) => s.setZoom);
  // A file being moved (a reject undone) is loaded once the core says where it is now.
  const moving = useStore((s) => s.moving.includes(image.id));
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
      {image.thumbPath && (!loaded || moving) && !zoom.on && (
        <img className="loupe-image loupe-placeholder" src={client.mediaUrl(image.thumbPath)} alt="" draggable={false} />
      )}
      {!moving && (
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
      )}
    </div>
  );
}
