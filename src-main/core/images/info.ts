/**
 * What the loupe's info panel shows: the histogram of an image (computed here with sharp, from
 * the file the catalogue records) and its generation parameters (the A1111 text the catalogue
 * stores for generated images and imported generations, read back into its parts).
 */
import sharp from 'sharp';
import type { Histogram, ImageGeneration } from '../api/index.js';
import { HISTOGRAM_BINS } from '../api/index.js';
import { loraTags } from '../common/index.js';
import { parseParameters, readSampler } from '../diffusion/index.js';

/** Long side of the copy the histogram counts: the shape of a histogram does not change with size; the time does. */
const HISTOGRAM_SIZE = 512;

/** The red, green, blue and luminance (Rec. 709 weights on the stored values, as editors draw it) histograms of an image file. */
export async function imageHistogram(input: string | Buffer): Promise<Histogram> {
  const { data, info } = await sharp(input)
    .rotate()
    .resize(HISTOGRAM_SIZE, HISTOGRAM_SIZE, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const r = new Array<number>(HISTOGRAM_BINS).fill(0);
  const g = new Array<number>(HISTOGRAM_BINS).fill(0);
  const b = new Array<number>(HISTOGRAM_BINS).fill(0);
  const luma = new Array<number>(HISTOGRAM_BINS).fill(0);
  const channels = info.channels;
  // Grey (1, or 2 with alpha) has one value for all three; colour (3, or 4 with alpha) its own.
  const grey = channels < 3;
  const pixels = info.width * info.height;
  for (let p = 0, i = 0; p < pixels; p++, i += channels) {
    const red = data[i]!;
    const green = grey ? red : data[i + 1]!;
    const blue = grey ? red : data[i + 2]!;
    r[red]!++;
    g[green]!++;
    b[blue]!++;
    luma[Math.min(255, Math.round(0.2126 * red + 0.7152 * green + 0.0722 * blue))]!++;
  }
  return { r, g, b, luma, pixels };
}

/** A1111 parameter text in its parts; null when it is not A1111 text (no `Steps:` line). */
export function generationFromText(text: string): ImageGeneration | null {
  const { prompt, negativePrompt, values } = parseParameters(text.replace(/\r\n?/g, '\n'));
  if (values.Steps === undefined) return null;
  let loras: ImageGeneration['loras'] = loraTags(prompt);
  if (loras.length === 0 && values['Lora hashes']) {
    loras = values['Lora hashes']
      .split(',')
      .map((entry) => entry.split(':')[0]!.trim())
      .filter(Boolean)
      .map((name) => ({ name, weight: null }));
  }
  const size = /^\s*(\d+)\s*x\s*(\d+)\s*$/.exec(values.Size ?? '');
  return {
    prompt,
    negativePrompt,
    seed: seedOf(values.Seed),
    ...readSampler(values),
    steps: numberOf(values.Steps),
    cfg: numberOf(values['CFG scale']),
    width: size ? Number(size[1]) : null,
    height: size ? Number(size[2]) : null,
    model: values.Model ?? null,
    loras,
    denoisingStrength: numberOf(values['Denoising strength']),
    parameters: text,
  };
}

function numberOf(value: string | undefined): number | null {
  const n = value !== undefined && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : null;
}

/** A seed the catalogue can hold exactly: a whole number from 0 to 2^53 − 1. */
function seedOf(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,20}$/.test(value.trim())) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}
