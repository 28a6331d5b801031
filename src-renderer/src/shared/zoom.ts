/** Zoom to 100 % around the pointer: where the pointer last was over an image, in image and view terms. */
import { useStore } from '../store';

export interface PointerSpot {
  /** The image point under the pointer (0..1 of its width and height). */
  fx: number;
  fy: number;
  /** The pointer in the view (CSS pixels) and the view's size. */
  px: number;
  py: number;
  width: number;
  height: number;
  /** The image's full size. */
  naturalWidth: number;
  naturalHeight: number;
}

let lastSpot: PointerSpot | null = null;

export function rememberPointer(spot: PointerSpot): void {
  lastSpot = spot;
}

const clamp01 = (v: number): number => Math.max(0, Math.min(1, v));

/**
 * Toggles 100 %. Zooming keeps the image point under the pointer where it is (Lightroom's Z);
 * without a pointer over the image it zooms on the last point, else the centre.
 */
export function zoomAtPointer(): void {
  const { zoom, setZoom } = useStore.getState();
  if (zoom.on) {
    setZoom({ on: false });
    return;
  }
  if (!lastSpot) {
    setZoom({ on: true });
    return;
  }
  const s = lastSpot;
  setZoom({
    on: true,
    cx: clamp01(s.fx + (s.width / 2 - s.px) / s.naturalWidth),
    cy: clamp01(s.fy + (s.height / 2 - s.py) / s.naturalHeight),
  });
}

/** Where the image point `f` is in a view of `size` at 100 % centred on `c`: the CSS offset of the image's corner. */
export function zoomOffset(size: number, natural: number, c: number): number {
  return Math.round(size / 2 - c * natural);
}

export { clamp01 };
