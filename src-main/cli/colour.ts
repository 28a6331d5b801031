/** `onbrand palette` and `onbrand lut`: the colour tools on single files. */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { DEFAULT_PALETTE, type BrandColour } from '../core/api/index.js';
import { analyseColour, applyLutToImage, formatCube, paletteSnap, parseCube, plainColourName } from '../core/color/index.js';
import { writeAtomically } from '../core/util/fs-atomic.js';

export const PALETTE_HELP = `Usage: onbrand palette IMAGE [--brand HEX,…] [--threshold N] [--json]

Dominant colours of IMAGE with their shares, each brand colour's coverage (share of pixels within
CIEDE2000 N, default 12) and whether it is clearly present (coverage ≥ 8 %), and the dominant
brand colour. --brand defaults to #FE2C54 (magenta), #00E0FF (teal), #FFD500 (yellow).`;

export const LUT_HELP = `Usage: onbrand lut apply --cube FILE.cube IN OUT
       onbrand lut snap [--brand HEX,…] [--lift 1.0] [--crush-greens 0.05] --out FILE.cube

apply  applies a 3D LUT (.cube, tetrahedral interpolation) to IN and writes OUT (never over an existing file)
snap   writes the brand "palette snap" LUT: lifts the brand magenta, crushes greens (5 % by default)`;

export class ColourUsageError extends Error {}

export interface ColourArgs {
  brand?: string | undefined;
  threshold?: string | undefined;
  cube?: string | undefined;
  lift?: string | undefined;
  'crush-greens'?: string | undefined;
  out?: string | undefined;
}

function brandPalette(raw: string | undefined): BrandColour[] {
  if (!raw) return [...DEFAULT_PALETTE];
  return raw.split(',').map((part) => {
    const hex = part.trim().toUpperCase();
    if (!/^#?[0-9A-F]{6}$/.test(hex)) throw new ColourUsageError(`--brand: "${part}" is not a colour like #FE2C54`);
    const full = hex.startsWith('#') ? hex : `#${hex}`;
    return { name: DEFAULT_PALETTE.find((c) => c.hex === full)?.name ?? plainColourName(full), hex: full };
  });
}

function number(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) throw new ColourUsageError(`--${name} must be a number from ${min} to ${max}, not "${raw}"`);
  return value;
}

export async function paletteCommand(args: string[], values: ColourArgs, json: boolean, print: (text: string) => void): Promise<number> {
  if (args.length !== 1) throw new ColourUsageError('give exactly one IMAGE');
  const file = path.resolve(args[0]!);
  if (!fs.existsSync(file)) throw new ColourUsageError(`no such file: ${args[0]}`);
  const result = await analyseColour(file, brandPalette(values.brand), { threshold: number('threshold', values.threshold, 12, 0.5, 100) }).catch((error: unknown) => {
    throw new Error(`${args[0]} cannot be read as an image: ${(error as Error).message.split('\n')[0]}`);
  });
  const output = {
    dominant: result.dominant.map((c) => ({ hex: c.hex, share: c.share })),
    brand: result.brand.map((b) => ({ hex: b.hex, name: b.name, coverage: b.coverage, present: b.present })),
    dominantBrand: result.dominantBrand,
  };
  if (json) print(JSON.stringify(output, null, 2));
  else {
    print(`Dominant: ${output.dominant.map((c) => `${c.hex} ${(c.share * 100).toFixed(0)} %`).join(', ')}`);
    for (const b of output.brand) print(`${b.present ? '✓' : ' '} ${b.name.padEnd(10)} ${b.hex}  ${(b.coverage * 100).toFixed(1)} %`);
    print(`Colour name: ${result.colourName}`);
  }
  return 0;
}

export async function lutCommand(args: string[], values: ColourArgs, print: (text: string) => void): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'apply') {
    if (!values.cube) throw new ColourUsageError('--cube FILE.cube is required');
    if (rest.length !== 2) throw new ColourUsageError('give IN and OUT');
    const [input, output] = rest.map((p) => path.resolve(p)) as [string, string];
    if (!fs.existsSync(input)) throw new ColourUsageError(`no such file: ${rest[0]}`);
    if (fs.existsSync(output)) throw new ColourUsageError(`${rest[1]} exists; Onbrand never overwrites a file`);
    const lut = parseCube(fs.readFileSync(path.resolve(values.cube), 'utf8'));
    const started = performance.now();
    const { data, width, height, channels } = await applyLutToImage(input, lut);
    await writeAtomically(
      output,
      async (temp) => {
        const image = sharp(data, { raw: { width, height, channels: channels as 3 | 4 } });
        const ext = path.extname(output).toLowerCase();
        await (ext === '.jpg' || ext === '.jpeg' ? image.jpeg({ quality: 92 }) : ext === '.webp' ? image.webp({ quality: 92 }) : image.png()).toFile(temp);
      },
      { overwrite: false },
    );
    print(`Applied ${lut.title || path.basename(values.cube)} (${lut.size}³) to ${rest[0]} → ${rest[1]} in ${(performance.now() - started).toFixed(0)} ms`);
    return 0;
  }
  if (sub === 'snap') {
    if (!values.out) throw new ColourUsageError('--out FILE.cube is required');
    const out = path.resolve(values.out);
    if (fs.existsSync(out)) throw new ColourUsageError(`${values.out} exists; Onbrand never overwrites a file`);
    const lut = paletteSnap(brandPalette(values.brand), { lift: number('lift', values.lift, 1, 0, 5), crushGreens: number('crush-greens', values['crush-greens'], 0.05, 0, 0.9) });
    await writeAtomically(out, (temp) => fs.promises.writeFile(temp, formatCube(lut)), { overwrite: false });
    print(`Wrote ${values.out} (${lut.title})`);
    return 0;
  }
  throw new ColourUsageError(`unknown subcommand "${sub ?? ''}" (apply, snap)`);
}
