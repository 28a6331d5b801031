import type { ImageSummary } from '../../../src-main/core/api/index';
import { formatCount, readSharpness } from '../../../src-main/core/common/index';

const FLAG_LABEL = { pick: 'Pick', reject: 'Maybe Later', none: '' } as const;

/**
 * An image's sharpness as a person reads it: 0–100 and soft / ok / crisp (core/common's scale of
 * the core's focus score), the raw score in the tooltip.
 */
export function SharpnessMark({ sharpness }: { sharpness: number | null }) {
  if (sharpness === null)
    return (
      <span className="sharpness" data-testid="sharpness" title="Sharpness: being measured">
        …
      </span>
    );
  const { score, word } = readSharpness(sharpness);
  return (
    <span
      className={`sharpness ${word}`}
      data-testid="sharpness"
      data-score={score}
      data-word={word}
      title={`Sharpness ${score} of 100: ${word} (soft below 50, crisp from 75; focus measured at the centre, raw ${formatCount(sharpness)})`}
    >
      {score} <span className="sharpness-word">{word}</span>
    </span>
  );
}

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
      {sharpness && <SharpnessMark sharpness={image.sharpness} />}
    </span>
  );
}
