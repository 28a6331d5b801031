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

/** Toggles 100 % (Z, Space): from fit or another level to 100 % around the pointer, from 100 % back to fit. */
export function zoomAtPointer(): void {
  // Z and Space mean 100 %: from fit or another level (50 %, 200 %) to 100 %, from 100 % back to fit.
  const { zoom } = useStore.getState();
  zoomTo(zoom.on && zoom.scale === 1 ? null : 1);
}

/**
 * Zooms to `scale` (0.5, 1, 2; null fits the window). From fit, the image point under the pointer
 * stays where it is (Lightroom's Z); without a pointer over the image it zooms on the last point,
 * else the centre. From another level, the centre stays.
 */
export function zoomTo(scale: number | null): void {
  const { zoom, setZoom } = useStore.getState();
  if (scale === null) {
    setZoom({ on: false });
    return;
  }
  if (zoom.on || !lastSpot) {
    setZoom({ on: true, scale });
    return;
  }
  const s = lastSpot;
  setZoom({
    on: true,
    scale,
    cx: clamp01(s.fx + (s.width / 2 - s.px) / (s.naturalWidth * scale)),
    cy: clamp01(s.fy + (s.height / 2 - s.py) / (s.naturalHeight * scale)),
  });
}

/** Where the image point `f` is in a view of `size` at 100 % centred on `c`: the CSS offset of the image's corner. */
export function zoomOffset(size: number, natural: number, c: number): number {
  return Math.round(size / 2 - c * natural);
}

export { clamp01 };
