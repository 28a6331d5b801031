/**
 * Tiled super-resolution: the image goes through the model tile by tile with an overlap, and the
 * tiles are blended with linear ramps across the overlap so no seam shows. Memory is bounded by
 * the tile size: only one band of tile rows is held in float, the result in 8-bit. Progress per
 * tile; cancel between tiles.
 */
import sharp from 'sharp';

export interface TileRunner {
  /** Runs the model on one NCHW float tile in 0..1; returns NCHW float in 0..1 at `scale`. */
  run(tile: Float32Array, height: number, width: number): Promise<Float32Array>;
  scale: number;
}

export interface TiledOptions {
  /** Tile side in input pixels (default 192). */
  tile?: number;
  /** Overlap between tiles in input pixels (default 16). */
  overlap?: number;
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
}

export interface RgbImage {
  data: Buffer;
  width: number;
  height: number;
}

/** Upscales interleaved RGB pixels. */
export async function upscaleRgb(image: RgbImage, runner: TileRunner, options: TiledOptions = {}): Promise<RgbImage> {
  const { width: W, height: H } = image;
  const s = runner.scale;
  const tile = Math.max(16, options.tile ?? 192);
  const overlap = Math.min(Math.floor(tile / 4), options.overlap ?? 16);
  const step = tile - overlap;
  const cols = W <= tile ? 1 : Math.ceil((W - overlap) / step);
  const rows = H <= tile ? 1 : Math.ceil((H - overlap) / step);
  const OW = W * s;
  const out = Buffer.alloc(OW * H * s * 3);
  const total = cols * rows;
  let done = 0;

  for (let row = 0; row < rows; row++) {
    const y0 = row === rows - 1 ? Math.max(0, H - tile) : row * step;
    const th = Math.min(tile, H - y0);
    // The band accumulates this row of tiles (weighted) in float.
    const band = new Float32Array(OW * th * s * 3);
    const weight = new Float32Array(OW * th * s);
    for (let col = 0; col < cols; col++) {
      options.signal?.throwIfAborted();
      const x0 = col === cols - 1 ? Math.max(0, W - tile) : col * step;
      const tw = Math.min(tile, W - x0);
      const input = new Float32Array(3 * th * tw);
      for (let y = 0; y < th; y++)
        for (let x = 0; x < tw; x++) {
          const p = ((y0 + y) * W + x0 + x) * 3;
          for (let c = 0; c < 3; c++) input[(c * th + y) * tw + x] = image.data[p + c]! / 255;
        }
      const result = await runner.run(input, th, tw);
      const rh = th * s;
      const rw = tw * s;
      // Ramps: full weight inside, falling linearly to ~0 across the overlap on sides that have a neighbour.
      const ramp = overlap * s;
      for (let y = 0; y < rh; y++) {
        const wy = Math.min(row > 0 ? (y + 0.5) / ramp : 1, row < rows - 1 ? (rh - y - 0.5) / ramp : 1, 1);
        for (let x = 0; x < rw; x++) {
          const wx = Math.min(col > 0 ? (x + 0.5) / ramp : 1, col < cols - 1 ? (rw - x - 0.5) / ramp : 1, 1);
          const w = Math.max(1e-4, wx * wy);
          const o = y * OW + x0 * s + x;
          weight[o] += w;
          for (let c = 0; c < 3; c++) band[o * 3 + c] += w * result[(c * rh + y) * rw + x]!;
        }
      }
      options.onProgress?.(++done, total);
    }
    // Blend this band with the previous one over their vertical overlap, then write it out.
    for (let y = 0; y < th * s; y++) {
      const oy = y0 * s + y;
      for (let x = 0; x < OW; x++) {
        const o = y * OW + x;
        const value = (c: number): number => band[o * 3 + c]! / weight[o]!;
        const target = (oy * OW + x) * 3;
        if (row > 0 && y < overlap * s) {
          // Already written by the previous band: cross-fade.
          const t = (y + 0.5) / (overlap * s);
          for (let c = 0; c < 3; c++)
            out[target + c] = Math.round((1 - t) * out[target + c]! + t * Math.min(255, Math.max(0, value(c) * 255)));
        } else {
          for (let c = 0; c < 3; c++) out[target + c] = Math.round(Math.min(255, Math.max(0, value(c) * 255)));
        }
      }
    }
  }
  return { data: out, width: OW, height: H * s };
}

/** Reads any image sharp can decode as RGB. */
export async function readRgb(input: string | Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(input).autoOrient().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
