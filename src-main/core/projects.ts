import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiError, DEFAULT_PALETTE, type BrandColour, type Project } from './api/index.js';
import type { ProjectRepository } from './catalog/index.js';
import type { EventBus } from './events.js';

export interface CreateProject {
  name: string;
  folder?: string | undefined;
  mood?: string | undefined;
  aspect?: string | undefined;
  palette?: BrandColour[] | undefined;
}

/** Creating and renaming projects, with their folders on disk. */
export class ProjectService {
  constructor(
    private readonly repo: ProjectRepository,
    private readonly events: EventBus,
    private readonly projectsDir: string,
  ) {}

  list(): Project[] {
    return this.repo.list();
  }

  get(id: number): Project {
    const project = this.repo.get(id);
    if (!project) throw new ApiError('not_found', `No project with id ${id}.`, 'projectId');
    return project;
  }

  /** Finds a project by id or (case-insensitive) name, for the CLI. */
  find(idOrName: string): Project {
    const byName = this.repo.findByName(idOrName);
    if (byName) return byName;
    if (/^\d+$/.test(idOrName)) {
      const byId = this.repo.get(Number(idOrName));
      if (byId) return byId;
    }
    const names = this.repo.list().map((p) => p.name);
    throw new ApiError(
      'not_found',
      `No project named "${idOrName}".` + (names.length ? ` Projects: ${names.join(', ')}.` : ' There are no projects yet.'),
      'project',
    );
  }

  create(input: CreateProject): Project {
    const name = input.name.trim();
    if (this.repo.findByName(name)) throw new ApiError('conflict', `A project named "${name}" already exists.`, 'name');
    const folder = input.folder ? path.resolve(input.folder) : this.defaultFolder(name);
    this.checkFolder(folder);
    const owner = this.repo.findByFolder(folder);
    if (owner) throw new ApiError('conflict', `The folder ${folder} already belongs to the project "${owner.name}".`, 'folder');
    try {
      fs.mkdirSync(folder, { recursive: true });
    } catch (error) {
      throw new ApiError('io', `Cannot create the project folder ${folder}: ${(error as Error).message}`, 'folder');
    }
    const project = this.repo.create({
      name,
      folder,
      palette: input.palette ?? DEFAULT_PALETTE,
      mood: input.mood ?? '',
      aspect: input.aspect ?? '9:16',
    });
    this.events.emit('projects.changed', { projectId: project.id });
    return project;
  }

  /**
   * A project folder is served to the UI (its images) and written into: never a disk's root, the
   * home folder or a folder above it, nor the projects folder or a folder above it (any of these
   * would hand every image below to the media route).
   */
  private checkFolder(folder: string): void {
    const above = (child: string): boolean => {
      const relative = path.relative(folder, child);
      return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
    };
    const reason =
      path.parse(folder).root === folder
        ? 'the root of a disk'
        : above(os.homedir())
          ? 'the home folder or a folder above it'
          : above(this.projectsDir)
            ? 'the projects folder or a folder above it'
            : null;
    if (reason)
      throw new ApiError(
        'invalid_input',
        `${folder} cannot be a project folder: it is ${reason}. Choose a folder of its own (for example ${path.join(this.projectsDir, 'My project')}).`,
        'folder',
      );
  }

  /**
   * `<projects dir>/<name>`, or `<name> (2)`, … when a renamed project still owns that folder:
   * a project keeps its folder when renamed, so a new project under the old name needs another.
   */
  private defaultFolder(name: string): string {
    for (let n = 1; ; n++) {
      const folder = path.join(this.projectsDir, n === 1 ? name : `${name} (${n})`);
      if (!this.repo.findByFolder(folder)) return folder;
    }
  }

  /** Sets the mood text and/or the brand palette. */
  update(id: number, fields: { mood?: string | undefined; palette?: BrandColour[] | undefined }): Project {
    this.get(id);
    // One spelling of a colour (#FE2C54), so a palette saved twice the same way is the same palette (and its analyses stay).
    const palette = fields.palette?.map((c) => ({ name: c.name.trim(), hex: c.hex.toUpperCase() }));
    const project = this.repo.update(id, { mood: fields.mood, palette })!;
    this.events.emit('projects.changed', { projectId: id });
    return project;
  }

  /** Renames the project in the catalogue; its folder stays where it is (links to it keep working). */
  rename(id: number, name: string): Project {
    this.get(id);
    const clash = this.repo.findByName(name.trim());
    if (clash && clash.id !== id) throw new ApiError('conflict', `A project named "${name.trim()}" already exists.`, 'name');
    const project = this.repo.rename(id, name.trim())!;
    this.events.emit('projects.changed', { projectId: id });
    return project;
  }
}
