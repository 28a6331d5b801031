import { Marks } from '../../shared/Marks';
import { useStore } from '../../store';
import { LabelMark } from '../curation/ColourLabel';
import { DraftMark } from '../generation/DraftMark';
import { ZoomImage } from './ZoomImage';

/** Two to four images side by side; zoom (Z) and panning apply to all of them at once. */
export function Compare() {
  const compareIds = useStore((s) => s.compareIds);
  const images = useStore((s) => s.images);
  const allImages = useStore((s) => s.allImages);
  const selected = useStore((s) => s.selected);
  const select = useStore((s) => s.select);
  const activeId = images[selected]?.id;
  // From the whole catalogue: an image rated out of the filter stays in the comparison.
  const shown = compareIds.map((id) => allImages.find((i) => i.id === id)).filter((i) => i !== undefined);

  return (
    <div className="compare" data-testid="compare" style={{ gridTemplateColumns: `repeat(${shown.length}, minmax(0, 1fr))` }}>
      {shown.map((image) => (
        <div
          key={image.id}
          className={image.id === activeId ? 'compare-pane active' : 'compare-pane'}
          data-testid="compare-pane"
          data-image-id={image.id}
          onClick={() => {
            const index = images.findIndex((i) => i.id === image.id);
            if (index >= 0) select(index);
          }}
        >
          <ZoomImage image={image} testId="compare-image" />
          <div className="compare-info">
            <span>{image.fileName}</span>
            <Marks image={image} />
            <LabelMark image={image} />
            <DraftMark image={image} />
          </div>
        </div>
      ))}
    </div>
  );
}
