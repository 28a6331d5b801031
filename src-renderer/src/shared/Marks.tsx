import type { ImageSummary } from '../../../src-main/core/api/index';

const FLAG_LABEL = { pick: 'Pick', reject: 'Maybe Later', none: '' } as const;

/** An image's stars and flag (and, on demand, its sharpness), as cells, the loupe and compare show them. */
export function Marks({ image, sharpness = false }: { image: ImageSummary; sharpness?: boolean }) {
  return (
    <span className="marks" data-testid="marks" data-rating={image.rating} data-flag={image.flag}>
      {image.flag !== 'none' && (
        <span className={`flag ${image.flag}`} title={FLAG_LABEL[image.flag]}>
          {image.flag === 'pick' ? '⚑' : '✕'}
        </span>
      )}
      {image.rating > 0 && (
        <span className="stars" aria-label={`${image.rating} star${image.rating === 1 ? '' : 's'}`}>
          {'★'.repeat(image.rating)}
        </span>
      )}
      {sharpness && (
        <span className="sharpness" data-testid="sharpness" title="Sharpness (variance of the Laplacian, centre): higher is crisper">
          {image.sharpness === null ? '…' : Math.round(image.sharpness).toLocaleString()}
        </span>
      )}
    </span>
  );
}
