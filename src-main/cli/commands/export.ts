/** `onbrand export PROJECT --target T`: picks or ⭐N+ into a target's folder. */
import path from 'node:path';
import type { ExportReport } from '../../core/api/index.js';
import type { Command } from '../context.js';
import { plural, seconds } from '../format.js';
import { UsageError } from '../usage.js';

export const exportCommand: Command = {
  name: 'export',
  summary: ['export PROJECT --target T      export picks or ⭐N+ to the Framer, Sora, folder or Maybe Later target'],
  help: `Usage: onbrand export PROJECT --target framer|sora|folder|maybe-later [--dir DIR] [--min-rating N | --picks]
                      [--width W --height H] [--lut snap] [--name TEMPLATE] [--again] [--json]

Exports as progressive JPEG 90 with the generation parameters in EXIF (UserComment) and XMP, named by
TEMPLATE (default {yyyymmdd}_{section}_{colour}_{seed}.jpg; tokens: yyyymmdd, section, colour, seed,
rating, index, project), never over an existing file. framer: each section's paired image at its slot
size (cropped like object-fit: cover, centred on the subject; ESRGAN ×4 for slots wider than 1920 px);
sora: 1080×1920 portraits numbered in order; folder: the chosen size; maybe-later: rejected images.
--dir defaults to the project's target folder (PROJECT/exports/TARGET unless set in the app).
Exit status: 0 all exported, 3 some skipped, 1 error.`,

  async run(ctx, args) {
    const { services, rpc } = ctx.services();
    const { values, json, print } = ctx;
    if (args.length !== 1) throw new UsageError('give exactly one PROJECT');
    if (!values.target) throw new UsageError('--target is required (framer, sora, folder, maybe-later)');
    if (values.picks && values['min-rating']) throw new UsageError('give either --picks or --min-rating, not both');
    if (values.lut && values.lut !== 'snap') throw new UsageError('--lut takes "snap" (the brand palette snap)');
    const project = services.projects.find(args[0]!);
    const rawRating = values['min-rating'];
    const minRating = rawRating === undefined ? undefined : Number(rawRating);
    if (minRating !== undefined && !(Number.isInteger(minRating) && minRating >= 1 && minRating <= 5)) {
      throw new UsageError(`--min-rating must be 1 to 5, not "${rawRating}"`);
    }
    const report = (await rpc.invoke('export.run', {
      projectId: project.id,
      target: values.target,
      selection: minRating !== undefined ? { kind: 'min-rating', rating: minRating } : { kind: 'picks' },
      ...(values.dir ? { dir: path.resolve(values.dir) } : {}),
      ...(values.width ? { width: Number(values.width) } : {}),
      ...(values.height ? { height: Number(values.height) } : {}),
      ...(values.lut ? { paletteSnap: true } : {}),
      ...(values.name ? { nameTemplate: values.name } : {}),
      ...(values.again ? { again: true } : {}),
    })) as ExportReport;
    if (json) print(JSON.stringify(report, null, 2));
    else {
      const skipped = report.skipped.length ? `; ${report.skipped.length} skipped:` : '.';
      print(`Exported ${plural(report.files.length, 'file')} to ${report.dir} in ${seconds(report.elapsedMs)}${skipped}`);
      for (const f of report.files) {
        print(`  ${f.fileName}  ${f.width}×${f.height}  ${Math.round(f.bytes / 1024)} KB${f.upscaled ? '  (ESRGAN ×4)' : ''}`);
      }
      for (const s of report.skipped) print(`  skipped ${s.message}`);
    }
    return report.skipped.length > 0 ? 3 : 0;
  },
};
