import type { ImageSummary } from '../../../src-main/core/api/index';
import { bestBrandColour } from '../features/grid/view';

/** The brand colour most present in an image, with its coverage ("● 34 %"); nothing when none is present. */
export function BrandBadge({ image }: { image: ImageSummary }) {
  const best = bestBrandColour(image);
  if (!best) return null;
  const percent = Math.round(best.coverage * 100);
  return (
    <span
      className="brand-badge"
      data-testid="brand-badge"
      data-hex={best.hex}
      data-coverage={percent}
      title={`Brand colour ${best.name} ${best.hex}: ${percent} % of the image`}
    >
      <Swatch hex={best.hex} /> {percent} %
    </span>
  );
}

/** A colour chip. Its colour goes through the CSSOM (a style prop), which the page's CSP allows. */
export function Swatch({ hex, title, size = 'small' }: { hex: string; title?: string; size?: 'small' | 'large' }) {
  return <span className={`swatch ${size}`} style={{ backgroundColor: hex }} title={title ?? hex} aria-hidden={title ? undefined : true} />;
}
