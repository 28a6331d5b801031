import type { ColourLabel, ImageSummary } from '../../../../src-main/core/api/index';

/** Lightroom's colour labels, in key order: 6 red, 7 yellow, 8 green, 9 blue. */
export const LABELS: { label: Exclude<ColourLabel, 'none'>; name: string; key: string }[] = [
  { label: 'red', name: 'Red', key: '6' },
  { label: 'yellow', name: 'Yellow', key: '7' },
  { label: 'green', name: 'Green', key: '8' },
  { label: 'blue', name: 'Blue', key: '9' },
];

/** An image's colour label as a small swatch (cells, the loupe, compare); nothing without one. */
export function LabelMark({ image }: { image: ImageSummary }) {
  if (image.label === 'none') return null;
  const name = LABELS.find((l) => l.label === image.label)?.name ?? image.label;
  return <span className={`colour-label ${image.label}`} data-testid="colour-label" data-label={image.label} title={`${name} label`} />;
}
