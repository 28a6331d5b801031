/** `onbrand import PROJECT PATH...`: image files and folders into a project. */
import path from 'node:path';
import type { ImportReport } from '../../core/api/index.js';
import type { Command } from '../context.js';
import { plural, seconds } from '../format.js';
import { UsageError } from '../usage.js';

export const importCommand: Command = {
  name: 'import',
  summary: ['import PROJECT PATH...        import image files or folders (PNG, JPEG, WebP) into a project'],
  help: `Usage: onbrand import PROJECT PATH...

Imports image files and folders (searched recursively) into PROJECT. Files are copied into the
project's imports/ folder and get thumbnails. Files that are not PNG, JPEG or WebP images, are
damaged, or are already in the project are reported by name and skipped.

Exit status: 0 all imported, 3 finished but some files were skipped, 1 error.`,

  async run(ctx, args) {
    const { services, rpc } = ctx.services();
    const { json, print, err } = ctx;
    if (args.length < 2) throw new UsageError('give a PROJECT and at least one PATH');
    const [projectName, ...paths] = args;
    const project = services.projects.find(projectName!);
    const interactive = !json && ctx.tty;
    const stop = services.events.subscribe((event) => {
      if (event.type === 'import.progress' && interactive) {
        const { done, total, current } = event.payload;
        err.write(`\r${done}/${total} ${path.basename(current)}`.padEnd(70).slice(0, 79));
      }
    });
    let report: ImportReport;
    try {
      report = (await rpc.invoke('images.import', { projectId: project.id, paths: paths.map((p) => path.resolve(p)) })) as ImportReport;
    } finally {
      stop();
      if (interactive) err.write('\r'.padEnd(80) + '\r');
    }
    if (json) {
      print(JSON.stringify(report, null, 2));
    } else {
      print(
        `Imported ${plural(report.imported.length, 'image')} into "${project.name}" in ${seconds(report.elapsedMs)}` +
          (report.duplicates.length ? `; ${report.duplicates.length} already there` : '') +
          (report.skipped.length ? `; ${report.skipped.length} skipped:` : '.'),
      );
      for (const s of report.skipped) print(`  skipped ${s.message}`);
    }
    return report.skipped.length > 0 ? 3 : 0;
  },
};
