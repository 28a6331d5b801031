import path from 'node:path';
import type { ProviderChoice } from './common/index.js';
import {
  AppSettings,
  ImageRepository,
  PresetRepository,
  ProjectRepository,
  RefRepository,
  SectionRepository,
  openCatalog,
  type CatalogDb,
} from './catalog/index.js';
import { prepareDataDir, type OnbrandConfig } from './config.js';
import { Curation } from './curation/index.js';
import { Exporter } from './export/index.js';
import { Upscaler } from './upscale/index.js';
import { EventBus } from './events.js';
import { ModelStore } from './models/index.js';
import { ImageImporter, MediaAccess, ThumbnailRepair } from './images/index.js';
import { GenerationQueue, JobRepository, OwnerLease } from './jobs/index.js';
import { BackendPool, BackendRegistry } from './backends/index.js';
import { ProjectService } from './projects.js';
import { Composer } from './prompt/index.js';
import { ReferenceImporter, UnsplashClient } from './references/index.js';
import { moveSecretsOutOfCatalogue, SecretStore, type SecretCodec } from './secrets.js';
import { TimeLog } from './timelog/index.js';

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
  jobs: JobRepository;
  queue: GenerationQueue;
  /** ComfyUI servers the queue sends images to, beside the local engine (issue 21). */
  backends: BackendPool;
  presets: PresetRepository;
  settings: AppSettings;
  /** API keys and tokens: never in the catalogue. */
  secrets: SecretStore;
  /** Installed models, the curated list, downloads and imports. */
  models: ModelStore;
  timelog: TimeLog;
  curation: Curation;
  refs: RefRepository;
  references: ReferenceImporter;
  unsplash: UnsplashClient;
  sections: SectionRepository;
  exporter: Exporter;
  composer: Composer;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Execution provider for generation (default auto). */
  provider?: ProviderChoice;
  /** Seals stored keys with the system keychain (the Electron host passes safeStorage's). */
  secretCodec?: SecretCodec | null;
  /** The engine worker script (tests); defaults to the built one. */
  workerFile?: string;
}

/** The composition root: every service, built from one config. Nothing runs until a shell starts the queue. */
export function createServices(config: OnbrandConfig, options: ServiceOptions = {}): Services {
  const catalogPath = path.join(config.dataDir, 'catalog.sqlite');
  prepareDataDir(config.dataDir);
  const db = openCatalog(catalogPath);
  const events = new EventBus();
  const projectRepo = new ProjectRepository(db);
  const images = new ImageRepository(db, config.dataDir);
  const projects = new ProjectService(projectRepo, events, config.projectsDir);
  const importer = new ImageImporter(projectRepo, images, events, config.dataDir);
  const thumbnails = new ThumbnailRepair(images, events, config.dataDir);
  const media = new MediaAccess(() => [
    ...projectRepo.folders(),
    path.join(config.dataDir, 'thumbnails'),
    path.join(config.dataDir, 'previews'),
  ]);
  const settings = new AppSettings(db);
  const secrets = new SecretStore(config.dataDir, options.secretCodec ?? null);
  try {
    moveSecretsOutOfCatalogue(db, secrets);
  } catch (error) {
    // The keys stay where they were until the next start; everything else works.
    console.warn(`onbrand: the keys in the catalogue could not be moved to ${secrets.file}: ${(error as Error).message}`);
  }
  const timelog = new TimeLog(db, settings, events);
  const jobs = new JobRepository(db);
  // One owner of the queue across processes (the app, `serve`, `queue run`); see owner-lease.ts.
  const lease = new OwnerLease(db, 'queue');
  const curation = new Curation(images, events, (projectId) => projectRepo.get(projectId)?.palette);
  const backends = new BackendPool(new BackendRegistry(settings, secrets), {
    modelsDir: config.modelsDir,
    loraDir: path.join(config.modelsDir, 'loras'),
  });
  const queue = new GenerationQueue(jobs, images, projectRepo, settings, events, timelog, {
    backends,
    lease,
    // The owner finishes moves a crash interrupted; other processes never touch a move in flight.
    onOwnership: () => curation.reconcile(),
    exportFolders: () => [
      ...new Set((db.prepare('SELECT DISTINCT path FROM exports').all() as { path: string }[]).map((r) => path.dirname(r.path))),
    ],
    modelsDir: config.modelsDir,
    loraDir: path.join(config.modelsDir, 'loras'),
    dataDir: config.dataDir,
    ...(options.provider ? { provider: options.provider } : {}),
    ...(options.workerFile ? { workerFile: options.workerFile } : {}),
  });
  const refs = new RefRepository(db);
  const references = new ReferenceImporter(projectRepo, refs, events);
  // Search results' thumbnails go to the thumbnail cache, which the image routes serve.
  const unsplash = new UnsplashClient(
    () => secrets.get('unsplash.key'),
    undefined,
    undefined,
    path.join(config.dataDir, 'thumbnails', 'unsplash'),
  );
  // Moves into or out of "_Rejected/Maybe Later" that a crash interrupted are finished first, here
  // when no other process owns the queue (else by that owner, whose moves may be in flight).
  if (!lease.holder()) curation.reconcile();
  // New images (imported or generated) get their focus score in the background.
  events.subscribe((event) => {
    if (event.type === 'images.added') void curation.scoreSharpness(event.payload.projectId, event.payload.images);
    // A new brand palette makes every cached colour analysis of the project stale.
    if (event.type === 'projects.changed') {
      const stale = images.list(event.payload.projectId).filter((i) => i.colour === null);
      if (stale.length) void curation.scoreSharpness(event.payload.projectId, stale);
    }
  });
  const sections = new SectionRepository(db);
  let upscaler: Upscaler | undefined;
  const exporter = new Exporter(
    db,
    projectRepo,
    images,
    sections,
    settings,
    events,
    () => (upscaler ??= new Upscaler(path.join(config.modelsDir, 'upscalers'), options.provider ?? 'auto')),
  );
  const models = new ModelStore({
    modelsDir: config.modelsDir,
    dataDir: config.dataDir,
    graphCacheDir: path.join(config.dataDir, 'graph-cache'),
    // A token this process cannot unseal (saved by the app, read by the CLI) counts as none here.
    token: () => tryGet(() => secrets.get('hf.token')) ?? undefined,
    onTask: (task) => events.emit('models.task', task),
    onChanged: (name) => events.emit('models.changed', { name }),
  });
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
    jobs,
    queue,
    backends,
    presets: new PresetRepository(db),
    settings,
    secrets,
    models,
    timelog,
    curation,
    refs,
    references,
    unsplash,
    sections,
    exporter,
    composer: new Composer(db, projectRepo, settings, queue, secrets),
    async close() {
      if (closed) return;
      closed = true;
      await models.close();
      await queue.close();
      backends.close();
      await curation.close();
      await upscaler?.dispose();
      db.close();
    },
  };
}

function tryGet<T>(get: () => T): T | null {
  try {
    return get();
  } catch {
    return null;
  }
}
