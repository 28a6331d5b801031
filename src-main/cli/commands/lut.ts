/** `onbrand lut apply|snap`: a .cube LUT on one file, or the brand palette-snap LUT written out. */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { applyLutToImage, formatCube, paletteSnap, parseCube } from '../../core/color/index.js';
import { writeAtomically } from '../../core/util/index.js';
import type { Command, CommandContext } from '../context.js';
import { brandPalette, decimal, UsageError } from '../usage.js';

async function apply(ctx: CommandContext, args: string[]): Promise<number> {
  const cube = ctx.values.cube;
  if (!cube) throw new UsageError('--cube FILE.cube is required');
  if (args.length !== 2) throw new UsageError('give IN and OUT');
  const [input, output] = args.map((p) => path.resolve(p)) as [string, string];
  if (!fs.existsSync(input)) throw new UsageError(`no such file: ${args[0]}`);
  if (fs.existsSync(output)) throw new UsageError(`${args[1]} exists; Onbrand never overwrites a file`);
  const lut = parseCube(fs.readFileSync(path.resolve(cube), 'utf8'));
  const started = performance.now();
  const { data, width, height, channels } = await applyLutToImage(input, lut);
  await writeAtomically(
    output,
    async (temp) => {
      const image = sharp(data, { raw: { width, height, channels: channels as 3 | 4 } });
      const ext = path.extname(output).toLowerCase();
      const jpeg = ext === '.jpg' || ext === '.jpeg';
      await (jpeg ? image.jpeg({ quality: 92 }) : ext === '.webp' ? image.webp({ quality: 92 }) : image.png()).toFile(temp);
    },
    { overwrite: false },
  );
  const took = `${(performance.now() - started).toFixed(0)} ms`;
  ctx.print(`Applied ${lut.title || path.basename(cube)} (${lut.size}³) to ${args[0]} → ${args[1]} in ${took}`);
  return 0;
}

async function snap(ctx: CommandContext): Promise<number> {
  const { values } = ctx;
  if (!values.out) throw new UsageError('--out FILE.cube is required');
  const out = path.resolve(values.out);
  if (fs.existsSync(out)) throw new UsageError(`${values.out} exists; Onbrand never overwrites a file`);
  const lut = paletteSnap(brandPalette(values.brand), {
    lift: decimal('lift', values.lift, 1, 0, 5),
    crushGreens: decimal('crush-greens', values['crush-greens'], 0.05, 0, 0.9),
  });
  await writeAtomically(out, (temp) => fs.promises.writeFile(temp, formatCube(lut)), { overwrite: false });
  ctx.print(`Wrote ${values.out} (${lut.title})`);
  return 0;
}

export const lut: Command = {
  name: 'lut',
  summary: ['lut apply|snap                 apply a .cube LUT, or write the brand palette-snap LUT'],
  help: `Usage: onbrand lut apply --cube FILE.cube IN OUT
       onbrand lut snap [--brand HEX,…] [--lift 1.0] [--crush-greens 0.05] --out FILE.cube

apply  applies a 3D LUT (.cube, tetrahedral interpolation) to IN and writes OUT (never over an existing file)
snap   writes the brand "palette snap" LUT: lifts the brand magenta, crushes greens (5 % by default)`,

  async run(ctx, args) {
    const [sub, ...rest] = args;
    if (sub === 'apply') return apply(ctx, rest);
    if (sub === 'snap') return snap(ctx);
    throw new UsageError(`unknown subcommand "${sub ?? ''}" (apply, snap)`);
  },
};
