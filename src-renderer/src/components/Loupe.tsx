import { useEffect, useState } from 'react';
import { getClient } from '../api/client';
import { selectedImage, useStore } from '../store';
import { reportActivity } from '../time-actions';

/** One image at full resolution, fit to the window, with its neighbours preloaded for instant stepping. */
export function Loupe() {
  const image = useStore(selectedImage);
  const images = useStore((s) => s.images);
  const selected = useStore((s) => s.selected);
  const select = useStore((s) => s.select);
  const setMode = useStore((s) => s.setMode);
  const [loadedId, setLoadedId] = useState<number | null>(null);
  const client = getClient();

  useEffect(() => {
    for (const i of [selected + 1, selected - 1]) {
      const neighbour = images[i];
      if (neighbour) new Image().src = client.mediaUrl(neighbour.path);
    }
  }, [selected, images, client]);

  if (!image) return <div className="empty">No image selected.</div>;
  const step = (by: number): void => {
    select(selected + by);
    reportActivity('curate');
  };
  return (
    <div className="loupe" data-testid="loupe" data-image-id={image.id}>
      <div className="loupe-stage">
        {image.thumbPath && loadedId !== image.id && (
          <img className="loupe-image loupe-placeholder" src={client.mediaUrl(image.thumbPath)} alt="" draggable={false} />
        )}
        <img
          key={image.id}
          className="loupe-image"
          data-testid="loupe-image"
          data-loaded={loadedId === image.id ? 'true' : 'false'}
          src={client.mediaUrl(image.path)}
          alt={image.fileName}
          draggable={false}
          onLoad={() => setLoadedId(image.id)}
        />
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
        <span className="loupe-info" data-testid="loupe-info">
          {image.fileName} · {image.width}×{image.height} · {selected + 1} of {images.length}
        </span>
      </div>
    </div>
  );
}
