import path from 'node:path';
import { ImageRepository, ProjectRepository, openCatalog, type CatalogDb } from './catalog/index.js';
import type { OnbrandConfig } from './config.js';
import { EventBus } from './events.js';
import { ImageImporter, MediaAccess, ThumbnailRepair } from './images/index.js';
import { ProjectService } from './projects.js';

export interface Services {
  config: OnbrandConfig;
  catalogPath: string;
  db: CatalogDb;
  events: EventBus;
  projects: ProjectService;
  images: ImageRepository;
  importer: ImageImporter;
  thumbnails: ThumbnailRepair;
  media: MediaAccess;
  close(): void;
}

/** The composition root: every service, built from one config. */
export function createServices(config: OnbrandConfig): Services {
  const catalogPath = path.join(config.dataDir, 'catalog.sqlite');
  const db = openCatalog(catalogPath);
  const events = new EventBus();
  const projectRepo = new ProjectRepository(db);
  const images = new ImageRepository(db, config.dataDir);
  const projects = new ProjectService(projectRepo, events, config.projectsDir);
  const importer = new ImageImporter(projectRepo, images, events, config.dataDir);
  const thumbnails = new ThumbnailRepair(images, events, config.dataDir);
  const media = new MediaAccess(() => [...projectRepo.folders(), path.join(config.dataDir, 'thumbnails')]);
  let closed = false;
  return {
    config,
    catalogPath,
    db,
    events,
    projects,
    images,
    importer,
    thumbnails,
    media,
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
