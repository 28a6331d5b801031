/** Comparing generated images in tests: the largest difference of any channel of any pixel, in 8-bit levels. */
import sharp from 'sharp';

export async function maxPixelDiff(a: { png: Buffer }, b: { png: Buffer }): Promise<number> {
  const [pa, pb] = [await sharp(a.png).raw().toBuffer(), await sharp(b.png).raw().toBuffer()];
  if (pa.length !== pb.length) throw new Error(`the images differ in size (${pa.length} and ${pb.length} bytes of pixels)`);
  let m = 0;
  for (let i = 0; i < pa.length; i++) m = Math.max(m, Math.abs(pa[i]! - pb[i]!));
  return m;
}
