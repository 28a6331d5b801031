/** `onbrand palette IMAGE`: dominant colours and brand-colour coverage of one file. */
import fs from 'node:fs';
import path from 'node:path';
import { analyseColour } from '../../core/color/index.js';
import type { Command } from '../context.js';
import { brandPalette, decimal, UsageError } from '../usage.js';

export const palette: Command = {
  name: 'palette',
  summary: ['palette IMAGE [--brand HEX,…]  dominant colours and brand-colour coverage of an image'],
  help: `Usage: onbrand palette IMAGE [--brand HEX,…] [--threshold N] [--json]

Dominant colours of IMAGE with their shares, each brand colour's coverage (share of pixels within
CIEDE2000 N, default 12) and whether it is clearly present (coverage ≥ 8 %), and the dominant
brand colour. --brand defaults to #FE2C54 (magenta), #00E0FF (teal), #FFD500 (yellow).`,

  async run(ctx, args) {
    const { values, json, print } = ctx;
    if (args.length !== 1) throw new UsageError('give exactly one IMAGE');
    const file = path.resolve(args[0]!);
    if (!fs.existsSync(file)) throw new UsageError(`no such file: ${args[0]}`);
    const brand = brandPalette(values.brand);
    const threshold = decimal('threshold', values.threshold, 12, 0.5, 100);
    const result = await analyseColour(file, brand, { threshold }).catch((error: unknown) => {
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
  },
};
