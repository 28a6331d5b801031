/** Test images made by the tests themselves: real PNG/JPEG/WebP files with visible content. */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

const PALETTE = ['#FE2C54', '#00E0FF', '#FFD500', '#7A3CFF', '#18C964', '#FF8A00', '#2B2D42', '#F4F1DE'];

/** A 9:16 poster-like image: a coloured background with shapes, so thumbnails are recognisable. */
export function posterSvg(index: number, width = 540, height = 960): Buffer {
  const bg = PALETTE[index % PALETTE.length]!;
  const fg = PALETTE[(index + 3) % PALETTE.length]!;
  const accent = PALETTE[(index + 5) % PALETTE.length]!;
  const r = Math.round(width * (0.18 + 0.04 * (index % 4)));
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="${bg}"/>
    <circle cx="${width / 2}" cy="${height * 0.38}" r="${r}" fill="${fg}"/>
    <rect x="${width * 0.15}" y="${height * 0.68}" width="${width * 0.7}" height="${height * 0.08}" rx="12" fill="${accent}"/>
    <rect x="${width * 0.15 + index * 20}" y="${height * 0.82}" width="${width * 0.25}" height="${height * 0.05}" fill="${fg}"/>
  </svg>`);
}

export interface ImageFolder {
  dir: string;
  good: string[];
  broken: string;
  text: string;
}

/** A folder of `count` images (PNG, with a JPEG and a WebP among them), one truncated PNG and a text file. */
export async function makeImageFolder(dir: string, count = 8): Promise<ImageFolder> {
  fs.mkdirSync(dir, { recursive: true });
  const good: string[] = [];
  for (let i = 0; i < count; i++) {
    const ext = i === 3 ? 'jpg' : i === 5 ? 'webp' : 'png';
    const file = path.join(dir, `shot_${String(i + 1).padStart(2, '0')}.${ext}`);
    const image = sharp(posterSvg(i));
    await (ext === 'jpg' ? image.jpeg({ quality: 90 }) : ext === 'webp' ? image.webp() : image.png()).toFile(file);
    good.push(file);
  }
  const whole = fs.readFileSync(good[0]!);
  const broken = path.join(dir, 'broken.png');
  fs.writeFileSync(broken, whole.subarray(0, Math.floor(whole.length / 3)));
  const text = path.join(dir, 'notes.txt');
  fs.writeFileSync(text, 'Shot list: portrait, device close-up, abstract shape\n');
  return { dir, good, broken, text };
}

/** One PNG per colour, `<name>.png`: a field of the colour with a small white mark near the top, 9:16. */
export async function colourShots(dir: string, colours: Readonly<Record<string, string>>, width = 270, height = 480): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const d = Math.round((width * 2) / 9);
  const mark = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${d}" height="${d}"><circle cx="${d / 2}" cy="${d / 2}" r="${d / 2}" fill="#ffffff"/></svg>`,
  );
  for (const [name, hex] of Object.entries(colours)) {
    await sharp({ create: { width, height, channels: 3, background: hex } })
      .composite([{ input: mark, top: Math.round(height / 8), left: Math.round((width - d) / 2) }])
      .png()
      .toFile(path.join(dir, `${name}.png`));
  }
}
