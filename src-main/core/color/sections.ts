/**
 * The section check: each page section's background colour against the dominant colour of its
 * paired image (CIEDE2000 within a tolerance), naming the pick that would match better.
 */
import type { ImageSummary, Section, SectionCheck } from '../api/index.js';
import { ciede2000, rgbToLab } from './ciede2000.js';
import { hexToRgb } from './oklab.js';

/** Background and image read as "the same colour" below this ΔE00 (a red section with a red-tinted shot). */
export const DEFAULT_SECTION_TOLERANCE = 10;

const deltaE = (a: string, b: string): number => Math.round(ciede2000(rgbToLab(...hexToRgb(a)), rgbToLab(...hexToRgb(b))) * 10) / 10;

export function checkSections(
  sections: readonly Section[],
  images: readonly ImageSummary[],
  tolerance = DEFAULT_SECTION_TOLERANCE,
): SectionCheck[] {
  const byId = new Map(images.map((i) => [i.id, i]));
  const picks = images.filter((i) => i.flag === 'pick' && i.colour?.dominant[0]);
  return sections.map((section) => {
    const base = {
      sectionId: section.id,
      name: section.name,
      backgroundHex: section.backgroundHex,
      imageId: section.imageId,
      dominantHex: null,
      deltaE: null,
      suggestion: null,
    };
    if (!section.backgroundHex) return { ...base, status: 'no_background', message: `${section.name}: no background colour set` };
    const image = section.imageId === null ? undefined : byId.get(section.imageId);
    const best = (): SectionCheck['suggestion'] => {
      const ranked = picks
        .map((p) => ({
          imageId: p.id,
          fileName: p.fileName,
          dominantHex: p.colour!.dominant[0]!.hex,
          deltaE: deltaE(section.backgroundHex!, p.colour!.dominant[0]!.hex),
        }))
        .sort((a, b) => a.deltaE - b.deltaE);
      return ranked[0] && ranked[0].imageId !== section.imageId ? ranked[0] : null;
    };
    if (!image) {
      const suggestion = best();
      return {
        ...base,
        status: 'unpaired',
        suggestion,
        message: `${section.name}: no image paired${suggestion ? `; ${suggestion.fileName} matches ${section.backgroundHex} best (ΔE ${suggestion.deltaE})` : ''}`,
      };
    }
    const dominant = image.colour?.dominant[0]?.hex ?? null;
    if (!dominant) return { ...base, status: 'warn', message: `${section.name}: ${image.fileName} has not been analysed yet` };
    const d = deltaE(section.backgroundHex, dominant);
    if (d <= tolerance)
      return {
        ...base,
        status: 'pass',
        dominantHex: dominant,
        deltaE: d,
        message: `${section.name}: ${image.fileName} matches its background (ΔE ${d})`,
      };
    const suggestion = best();
    return {
      ...base,
      status: 'warn',
      dominantHex: dominant,
      deltaE: d,
      suggestion,
      message:
        `${section.name}: ${image.fileName}'s dominant colour ${dominant} is ΔE ${d} from the background ${section.backgroundHex}; ` +
        `the background would need ${dominant}` +
        (suggestion && suggestion.deltaE < d ? `, or pair ${suggestion.fileName} (ΔE ${suggestion.deltaE})` : ''),
    };
  });
}
