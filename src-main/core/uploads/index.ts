// Files a browser sends (dropped or chosen in the browser host), streamed to disk and imported
// like files named by path: into the grid or onto the mood board.
export { UploadService, UPLOADS_FOLDER, type UploadDeps } from './service.js';
export { stageUpload, type StagedFile } from './stage.js';
