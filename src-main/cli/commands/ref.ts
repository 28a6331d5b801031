/** `onbrand ref add|list`: a project's mood board. */
import path from 'node:path';
import type { Reference, ReferenceReport } from '../../core/api/index.js';
import type { Command } from '../context.js';
import { plural, table } from '../format.js';
import { UsageError } from '../usage.js';

export const ref: Command = {
  name: 'ref',
  summary: [
    "ref add PROJECT URL|PATH...    add references to a project's mood board (files, folders, image URLs, Unsplash pages)",
    'ref list PROJECT               list the mood board with attribution and palettes',
  ],
  help: `Usage: onbrand ref add PROJECT URL|PATH...
       onbrand ref list PROJECT

add   copies each file (PNG, JPEG, WebP), folder (searched recursively), image URL or web page
      (an Unsplash photo page is resolved through its Open Graph image, with the photographer
      credited) into the project's references/ folder with its palette. Each item that fails
      (unreachable, no image, not an image, too large, already there) is named and skipped.
      Exit status: 0 all added, 3 some skipped, 1 error.
list  the mood board in order: file, size, dominant colours, author, licence, source.`,

  async run(ctx, args) {
    const { services, rpc } = ctx.services();
    const { json, print } = ctx;
    const [sub, projectName, ...items] = args;
    if (sub !== 'add' && sub !== 'list') throw new UsageError(`unknown subcommand "${sub ?? ''}" (add, list)`);
    if (!projectName) throw new UsageError('give a PROJECT');
    const project = services.projects.find(projectName);
    if (sub === 'list') {
      const refs = (await rpc.invoke('refs.list', { projectId: project.id })) as Reference[];
      if (json) print(JSON.stringify(refs, null, 2));
      else if (refs.length === 0) {
        print(`The mood board of "${project.name}" is empty. Add references with: onbrand ref add "${project.name}" URL|PATH…`);
      } else {
        const rows = refs.map((r, i) => {
          const colours = r.palette
            .slice(0, 3)
            .map((c) => c.hex)
            .join(' ');
          return [String(i + 1), r.fileName, `${r.width}×${r.height}`, colours, r.author ?? '', r.licence ?? '', r.sourceUrl ?? ''];
        });
        print(table(['#', 'FILE', 'SIZE', 'COLOURS', 'AUTHOR', 'LICENCE', 'SOURCE'], rows));
      }
      return 0;
    }
    if (items.length === 0) throw new UsageError('give at least one URL or PATH');
    const report = (await rpc.invoke('refs.add', {
      projectId: project.id,
      items: items.map((i) => (/^https?:\/\//i.test(i) ? i : path.resolve(i))),
    })) as ReferenceReport;
    if (json) print(JSON.stringify(report, null, 2));
    else {
      const skipped = report.skipped.length ? `; ${report.skipped.length} skipped:` : '.';
      print(`Added ${plural(report.added.length, 'reference')} to "${project.name}"${skipped}`);
      for (const r of report.added) print(`  ${r.fileName}${r.author ? ` — ${r.author}` : ''}${r.licence ? ` (${r.licence})` : ''}`);
      for (const s of report.skipped) print(`  skipped ${s.message}`);
    }
    return report.skipped.length > 0 ? 3 : 0;
  },
};
