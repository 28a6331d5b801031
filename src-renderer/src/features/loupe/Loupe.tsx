import { useEffect, useState } from 'react';
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
import { InfoPanel } from './InfoPanel';
import { ZoomImage } from './ZoomImage';

/** One image at full resolution, fit to the window or at 50, 100 or 200 %, with its neighbours preloaded for instant stepping. */
export function Loupe() {
  const image = useStore(selectedImage);
  const images = useStore((s) => s.images);
  const selected = useStore((s) => s.selected);
  const select = useStore((s) => s.select);
  const setMode = useStore((s) => s.setMode);
  const zoom = useStore((s) => s.zoom);
  const [loadedId, setLoadedId] = useState<number | null>(null);
  const moving = useStore((s) => s.moving);
  const client = getClient();

  useEffect(() => {
    // Decoded ahead, so stepping shows the full image at once.
    for (const i of [selected + 1, selected - 1, selected + 2]) {
      const neighbour = images[i];
      if (!neighbour || moving.includes(neighbour.id)) continue;
      const img = new Image();
      img.src = client.mediaUrl(neighbour.path);
      img.decode().catch(() => undefined);
    }
  }, [selected, images, client, moving]);

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
