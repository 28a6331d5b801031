import { useEffect, useState } from 'react';
import { getClient } from '../../api/client';
import { BrandBadge } from '../../shared/BrandBadge';
import { Marks } from '../../shared/Marks';
import { zoomAtPointer } from '../../shared/zoom';
import { useStore } from '../../store';
import { selectedImage } from '../grid/slice';
import { reportActivity } from '../timecost/actions';
import { InfoPanel } from './InfoPanel';
import { ZoomImage } from './ZoomImage';

/** One image at full resolution, fit to the window or at 100 %, with its neighbours preloaded for instant stepping. */
export function Loupe() {
  const image = useStore(selectedImage);
  const images = useStore((s) => s.images);
  const selected = useStore((s) => s.selected);
  const select = useStore((s) => s.select);
  const setMode = useStore((s) => s.setMode);
  const zoomed = useStore((s) => s.zoom.on);
  const [loadedId, setLoadedId] = useState<number | null>(null);
  const client = getClient();

  useEffect(() => {
    // Decoded ahead, so stepping shows the full image at once.
    for (const i of [selected + 1, selected - 1, selected + 2]) {
      const neighbour = images[i];
      if (!neighbour) continue;
      const img = new Image();
      img.src = client.mediaUrl(neighbour.path);
      img.decode().catch(() => undefined);
    }
  }, [selected, images, client]);

  if (!image) return <div className="empty">No image in this view.</div>;
  const step = (by: number): void => {
    select(selected + by);
    reportActivity('curate');
  };
  return (
    <div className="loupe" data-testid="loupe" data-image-id={image.id}>
      <div className="loupe-stage">
        <ZoomImage image={image} testId="loupe-image" loaded={loadedId === image.id} onLoaded={setLoadedId} />
        <div className="loupe-marks">
          <Marks image={image} />
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
        <button type="button" aria-pressed={zoomed} onClick={zoomAtPointer} title="Zoom to 100 % (Z or Space); drag to pan">
          100 %
        </button>
        <span className="loupe-info" data-testid="loupe-info">
          {image.fileName} · {image.width}×{image.height} · {selected + 1} of {images.length}
        </span>
      </div>
    </div>
  );
}
