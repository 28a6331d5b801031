export { openCatalog, migrate, schemaVersion, type CatalogDb, type OpenCatalogOptions } from './database.js';
export { CatalogCorruptError, CatalogFromFutureError, CatalogOpenError, classifyCatalogError, type CatalogOpenReason } from './errors.js';
export { LATEST_VERSION, migrations, type Migration } from './migrations/index.js';
export { ProjectRepository, type NewProject } from './projects.js';
export { ImageRepository, type NewImage } from './images.js';
export { AppSettings } from './app-settings.js';
export { PresetRepository } from './presets.js';
export { RefRepository, type NewReference } from './refs.js';
export { SectionRepository } from './sections.js';
