/** `onbrand projects [list] | create | rename`. */
import path from 'node:path';
import type { Project } from '../../core/api/index.js';
import type { Command } from '../context.js';
import { table } from '../format.js';
import { UsageError } from '../usage.js';

export const projects: Command = {
  name: 'projects',
  summary: [
    'projects                      list projects',
    'projects create NAME          create a project (--folder DIR, --mood TEXT, --aspect W:H)',
    'projects rename PROJECT NAME  rename a project',
  ],
  help: `Usage: onbrand projects [list]
       onbrand projects create NAME [--folder DIR] [--mood TEXT] [--aspect W:H]
       onbrand projects rename PROJECT NEW_NAME

Lists, creates or renames projects. A new project's folder defaults to PROJECTS-DIR/NAME.`,

  async run(ctx, args) {
    const { services, rpc } = ctx.services();
    const { values, json, print } = ctx;
    const [sub = 'list', ...rest] = args;
    if (sub === 'list') {
      if (rest.length) throw new UsageError(`"projects list" takes no arguments`);
      const list = (await rpc.invoke('projects.list', {})) as Project[];
      if (json) print(JSON.stringify(list, null, 2));
      else if (list.length === 0) print('No projects yet. Create one with: onbrand projects create NAME');
      else
        print(
          table(
            ['ID', 'NAME', 'IMAGES', 'FOLDER'],
            list.map((p) => [String(p.id), p.name, String(p.imageCount), p.folder]),
          ),
        );
      return 0;
    }
    if (sub === 'create') {
      if (rest.length !== 1) throw new UsageError('give exactly one NAME (quote names with spaces)');
      const project = (await rpc.invoke('projects.create', {
        name: rest[0],
        ...(values.folder ? { folder: path.resolve(values.folder) } : {}),
        ...(values.mood !== undefined ? { mood: values.mood } : {}),
        ...(values.aspect ? { aspect: values.aspect } : {}),
      })) as Project;
      print(json ? JSON.stringify(project, null, 2) : `Created project "${project.name}" (id ${project.id}) in ${project.folder}`);
      return 0;
    }
    if (sub === 'rename') {
      if (rest.length !== 2) throw new UsageError('give PROJECT and NEW_NAME');
      const project = services.projects.find(rest[0]!);
      const renamed = (await rpc.invoke('projects.rename', { projectId: project.id, name: rest[1] })) as Project;
      print(json ? JSON.stringify(renamed, null, 2) : `Renamed "${project.name}" to "${renamed.name}"`);
      return 0;
    }
    throw new UsageError(`unknown subcommand "${sub}" (list, create, rename)`);
  },
};
