import sharp from 'sharp';

/** Side of the grey copy the score is computed on: stable across image sizes, fast. */
const ANALYSIS_SIZE = 512;

/**
 * A focus score: the variance of the Laplacian of a grey copy (long side 512 px), over the
 * central region (the middle 60 %, where the subject of a portrait or close-up sits). Crisp
 * images score high; soft or smeared ones low. Without a face detector, the centre stands in
 * for "faces first".
 */
export async function sharpnessScore(input: string | Buffer): Promise<number> {
  const { data, info } = await sharp(input)
    .greyscale()
    .resize(ANALYSIS_SIZE, ANALYSIS_SIZE, { fit: 'inside', withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return laplacianVariance(data, info.width, info.height, 0.2);
}

/** Variance of the 4-neighbour Laplacian over the region inside `margin` (a fraction of each side). */
export function laplacianVariance(grey: Uint8Array, width: number, height: number, margin = 0): number {
  const x0 = Math.max(1, Math.floor(width * margin));
  const x1 = Math.min(width - 1, Math.ceil(width * (1 - margin)));
  const y0 = Math.max(1, Math.floor(height * margin));
  const y1 = Math.min(height - 1, Math.ceil(height * (1 - margin)));
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = y0; y < y1; y++) {
    const row = y * width;
    for (let x = x0; x < x1; x++) {
      const i = row + x;
      const lap = grey[i - 1]! + grey[i + 1]! + grey[i - width]! + grey[i + width]! - 4 * grey[i]!;
      sum += lap;
      sumSq += lap * lap;
      n++;
    }
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return Math.round((sumSq / n - mean * mean) * 100) / 100;
}
